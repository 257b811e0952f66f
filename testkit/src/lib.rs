//! The test kit: what the integration tests of several crates share, so no
//! test binary carries its own copy.
//!
//! - [`browser`]: Debian's chromium driven through chromedriver (W3C
//!   WebDriver over loopback HTTP), and a static file server on 127.0.0.1
//!   that serves a site the way an S3 website does.

pub mod browser;
