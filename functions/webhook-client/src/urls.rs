//! The public addresses of a build, in one place so the webhook answer, the
//! commit status and the callback always agree.

pub use tx_shared::domain::build_log::{build_log_key, build_log_url};

/// Public URL of a build's site.
pub fn site_url(site_url: &str, prefix: &str) -> String {
    format!("{}/{prefix}", site_url.trim_end_matches('/'))
}

/// The job manager's job endpoint.
pub fn job_endpoint(api_url: &str) -> String {
    format!("{}/tx/job", api_url.trim_end_matches('/'))
}

/// Where the job manager posts the finished job. Which forge its commit
/// status goes to is found again from the job's repository URL (built from
/// the registry), so the URL carries nothing else.
pub fn callback_url(api_url: &str) -> String {
    format!("{}/client/callback", api_url.trim_end_matches('/'))
}
