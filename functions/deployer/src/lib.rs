//! tx-deployer: thread 3 of the pipeline. When a build's `build_log.json`
//! lands in the CDN bucket, the deployer turns the converter's HTML fragments
//! into the static website readers see: a placeholder that follows a running
//! build, every page of a finished one in its resource type's layout, the
//! repo's `project.json` and landing page, and the site-wide index.
//!
//! [`render_local`] does the same templating offline for `tx build`.

pub mod config;
pub mod converted;
pub mod diagnostics;
pub mod error;
pub mod handler;
pub mod keys;
pub mod landing;
pub mod local;
pub mod nav;
pub mod placeholder;
pub mod project;
pub mod render;
pub mod site_index;
pub mod site_links;
pub mod templates;

pub use config::SiteConfig;
pub use error::DeployError;
pub use handler::{DeployReport, DeployerDeps, Outcome, deploy_build, handle_s3};
pub use local::{LocalSite, render_local, render_local_with};
pub use site_links::{Sibling, SiteLinks};
