//! The test kit: what the integration tests of several crates share, so no
//! test binary carries its own copy.
//!
//! - [`browser`]: Debian's chromium driven through chromedriver (W3C
//!   WebDriver over loopback HTTP), and a static file server on 127.0.0.1
//!   that serves a site the way an S3 website does.

pub mod browser;

use std::path::{Path, PathBuf};

/// The shared corpus (`../shared/corpus` beside the project), or `None`
/// with a note when it is absent; under `CI=true` an absent corpus fails
/// the test, so a test never passes for want of its data there.
pub fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "corpus missing under CI=true: {}",
        dir.display()
    );
    eprintln!("skipping: corpus {} is absent", dir.display());
    None
}
