//! The signed callback to whoever asked for the job (the webhook client).
//!
//! Signed with the callback secret so the client can refuse forged "finished"
//! jobs; retried a bounded number of times with backoff, because a lost
//! callback means a site that never appears.

use std::time::Duration;

use tx_shared::domain::job::Job;
use tx_shared::signature::{CALLBACK_SIGNATURE_HEADER, sign_hex};

use crate::deps::ManagerDeps;

/// Attempts before giving up.
const ATTEMPTS: u32 = 4;

/// Per-attempt timeout.
const TIMEOUT: Duration = Duration::from_secs(30);

/// POSTs `job` to its callback URL, if it has one. Returns whether it was
/// delivered (2xx); failures are logged, never raised: the job row already
/// holds the result.
pub async fn post_callback(job: &Job, deps: &ManagerDeps) -> bool {
    let Some(url) = job.callback.as_deref() else {
        return true;
    };
    let body = match serde_json::to_vec(job) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(job_id = %job.job_id, "cannot encode callback: {e}");
            return false;
        }
    };
    let signature = format!(
        "sha256={}",
        sign_hex(deps.config.callback_secret.as_bytes(), &body)
    );
    let mut delay = Duration::from_millis(250);
    for attempt in 1..=ATTEMPTS {
        let sent = deps
            .http
            .post(url)
            .timeout(TIMEOUT)
            .header("content-type", "application/json")
            .header(CALLBACK_SIGNATURE_HEADER, &signature)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) if r.status().is_client_error() => {
                tracing::error!(job_id = %job.job_id, status = %r.status(), "callback refused; not retried");
                return false;
            }
            Ok(r) => tracing::warn!(job_id = %job.job_id, attempt, status = %r.status(), "callback failed"),
            Err(e) => tracing::warn!(job_id = %job.job_id, attempt, "callback failed: {e}"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    tracing::error!(job_id = %job.job_id, url, "callback not delivered after {ATTEMPTS} attempts");
    false
}
