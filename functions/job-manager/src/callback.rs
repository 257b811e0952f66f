//! The signed callback to whoever asked for the job (the webhook client).
//!
//! Signed with the callback secret so the client can refuse forged "finished"
//! jobs. A lost callback means a site that never appears, so delivery is
//! durable: the job is stored finished with [`Job::callback_pending`] set, the
//! manager posts at once (retrying with backoff), and the flag is cleared only
//! when the client answered for good. Whatever is still pending when its
//! lease lapses, the sweep posts again, with backoff.

use std::time::Duration;

use tx_shared::domain::job::Job;
use tx_shared::ports::TableError;
use tx_shared::signature::{CALLBACK_SIGNATURE_HEADER, sign_hex};

use crate::deps::ManagerDeps;
use crate::lease::holding;

/// How hard one round of delivery tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Posts before giving up for this round.
    pub attempts: u32,
    /// Per-post timeout.
    pub timeout: Duration,
}

impl Retry {
    /// Right after the job finished: the client is most likely up, and a
    /// blip should not leave the site waiting for the next sweep.
    pub const ON_FINISH: Retry = Retry {
        attempts: 4,
        timeout: Duration::from_secs(30),
    };
    /// From the sweep: one short try per job, so a client that is still down
    /// cannot make a sweep outlive its schedule.
    pub const FROM_SWEEP: Retry = Retry {
        attempts: 1,
        timeout: Duration::from_secs(10),
    };
}

/// What became of one round of delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The client answered 2xx.
    Delivered,
    /// The client answered 4xx: it will not take this job (a bad signature,
    /// an unknown job); sending it again cannot help.
    Refused,
    /// No answer, or 5xx, on every attempt: worth another round later.
    Failed,
}

impl Delivery {
    /// Whether the callback is done with, one way or the other.
    pub fn is_settled(self) -> bool {
        !matches!(self, Delivery::Failed)
    }
}

/// Posts `job` (as stored, finished) and clears its pending flag when the
/// client has answered for good. Returns the row as last written. Table
/// failures are logged, not raised: the job's result is already stored, and
/// a flag left set only means the sweep posts once more. While it posts it
/// holds the job's lease, so the sweep does not post beside it; if this
/// process stops, the lease lapses and the sweep posts within seconds.
pub async fn deliver(job: Job, retry: Retry, deps: &ManagerDeps) -> (Delivery, Job) {
    let delivery = holding(&job, None, deps, post_callback(&job, retry, deps)).await;
    if !delivery.is_settled() || !job.callback_pending {
        return (delivery, job);
    }
    let settled = job.callback_settled();
    match deps.jobs.update(&settled, job.version).await {
        Ok(stored) => (delivery, stored),
        Err(TableError::Conflict(_)) => (delivery, job),
        Err(e) => {
            tracing::warn!(job_id = %job.job_id, "callback settled but not recorded: {e}");
            (delivery, job)
        }
    }
}

/// POSTs `job` to its callback URL, if it has one (a job without one counts
/// as delivered). Failures are logged, never raised.
pub async fn post_callback(job: &Job, retry: Retry, deps: &ManagerDeps) -> Delivery {
    let Some(url) = job.callback.as_deref() else {
        return Delivery::Delivered;
    };
    let body = match serde_json::to_vec(job) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(job_id = %job.job_id, "cannot encode callback: {e}");
            return Delivery::Refused;
        }
    };
    let signature = format!(
        "sha256={}",
        sign_hex(deps.config.callback_secret.as_bytes(), &body)
    );
    let mut delay = Duration::from_millis(250);
    for attempt in 1..=retry.attempts {
        let sent = deps
            .http
            .post(url)
            .timeout(retry.timeout)
            .header("content-type", "application/json")
            .header(CALLBACK_SIGNATURE_HEADER, &signature)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return Delivery::Delivered,
            Ok(r) if r.status().is_client_error() => {
                tracing::error!(job_id = %job.job_id, status = %r.status(), "callback refused; not retried");
                return Delivery::Refused;
            }
            Ok(r) => tracing::warn!(job_id = %job.job_id, attempt, status = %r.status(), "callback failed"),
            Err(e) => tracing::warn!(job_id = %job.job_id, attempt, "callback failed: {e}"),
        }
        if attempt < retry.attempts {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    tracing::warn!(job_id = %job.job_id, url, attempts = retry.attempts, "callback not delivered yet");
    Delivery::Failed
}
