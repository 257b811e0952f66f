//! The operator's controls: `POST /api/builds/{job_id}/rebuild` and
//! `POST /api/builds/{job_id}/cancel` (operator token, checked in `http`).
//!
//! - A rebuild queues a new job of the same repo, ref and commit, with the
//!   original's source, callback and release assets, through the ref's queue
//!   slot ([`JobTable::enqueue`]), so a ref still never has two `requested`
//!   jobs. It is never answered `existing` because an older job of that
//!   commit exists (that is what a rebuild is for); only a job of that very
//!   commit still waiting in the slot is answered instead (200), since it is
//!   about to build exactly that. A waiting job of another commit of the ref
//!   is not rewritten to an older commit: the rebuild is refused (409) until
//!   that job has started.
//! - A cancel moves a `requested` or `started` job to `cancelled`
//!   ([`Job::cancelled_by_operator`]), conditional on the version read, and
//!   posts its callback like every cancellation. A converter result that
//!   arrives later finds the version moved and is dropped (`run::finish`).
//!   A finished or cancelled job is a 409.
//!
//! [`JobTable::enqueue`]: tx_shared::ports::JobTable::enqueue

use chrono::Duration;
use lambda_http::{Body, Response};
use tx_shared::api::{error, json};
use tx_shared::domain::job::{JOB_RETENTION, Job, JobStatus};
use tx_shared::domain::job_request::{JobDisposition, JobResponse};
use tx_shared::ports::TableError;

use crate::callback::{Retry, deliver};
use crate::deps::ManagerDeps;

/// Tries before a rebuild or cancel racing other writers gives up (503).
const TRIES: usize = 10;

fn unavailable(e: TableError) -> Response<Body> {
    tracing::error!("job table: {e}");
    error(503, "unavailable", "the job table is unavailable; retry later")
}

/// `POST /api/builds/{job_id}/rebuild`.
pub async fn rebuild(job_id: &str, deps: &ManagerDeps) -> Response<Body> {
    let original = match deps.jobs.get(job_id).await {
        Ok(Some(j)) => j,
        Ok(None) => return error(404, "not_found", format!("no job {job_id}")),
        Err(e) => return unavailable(e),
    };
    for _ in 0..TRIES {
        let slot = match deps.jobs.queue_slot(&original.coalesce_key).await {
            Ok(s) => s,
            Err(e) => return unavailable(e),
        };
        if let Some(waiting) = slot.queued() {
            if waiting.commit.commit_id == original.commit.commit_id {
                let answer = JobResponse {
                    disposition: JobDisposition::Existing,
                    job: waiting.clone(),
                    superseded: None,
                };
                return json(200, &answer);
            }
            return error(
                409,
                "ref_queued",
                format!(
                    "job {} (commit {}) is queued for {}; rebuild once it has started",
                    waiting.job_id,
                    waiting.commit10(),
                    original.git_ref
                ),
            );
        }
        let fresh = rebuild_of(&original, deps);
        match deps.jobs.enqueue(&fresh, None, &slot).await {
            Ok(stored) => {
                let answer = JobResponse {
                    disposition: JobDisposition::Created,
                    job: stored,
                    superseded: None,
                };
                return json(202, &answer);
            }
            Err(TableError::Conflict(_)) => continue,
            Err(e) => return unavailable(e),
        }
    }
    error(
        503,
        "unavailable",
        format!("{}: too many concurrent requests; retry", original.coalesce_key),
    )
}

/// A new `requested` job building what `original` built.
fn rebuild_of(original: &Job, deps: &ManagerDeps) -> Job {
    let now = deps.clock.now();
    let mut job = original.clone();
    job.job_id = uuid::Uuid::now_v7().simple().to_string();
    job.delivery_id = None;
    job.convert_module = None;
    job.status = JobStatus::Requested;
    job.attempts = 0;
    job.created_at = now;
    job.started_at = None;
    job.ended_at = None;
    job.runner = None;
    job.lease_until = None;
    job.callback_tries = 0;
    job.expires_at = (now + JOB_RETENTION + Duration::days(1)).timestamp();
    job.version = 0;
    job.result = None;
    job.message = None;
    job.log = vec![format!(
        "{}: rebuild of job {} requested by the operator",
        tx_shared::time::format(&now),
        original.job_id
    )];
    job.warnings = Vec::new();
    job.errors = Vec::new();
    job.output = None;
    job.callback_pending = false;
    job
}

/// `POST /api/builds/{job_id}/cancel`.
pub async fn cancel(job_id: &str, deps: &ManagerDeps) -> Response<Body> {
    for _ in 0..TRIES {
        let job = match deps.jobs.get(job_id).await {
            Ok(Some(j)) => j,
            Ok(None) => return error(404, "not_found", format!("no job {job_id}")),
            Err(e) => return unavailable(e),
        };
        if job.is_terminal() {
            return error(
                409,
                "not_cancellable",
                format!("job {job_id} is {} already", job.status.as_str()),
            );
        }
        let done = job.cancelled_by_operator(deps.clock.now());
        match deps.jobs.update(&done, job.version).await {
            Ok(stored) => {
                // One short try here; the sweep re-sends what is still owed.
                let (_, stored) = deliver(stored, Retry::FROM_SWEEP, deps).await;
                return json(200, &serde_json::json!({ "job": stored }));
            }
            // Claimed, coalesced or finished meanwhile: look again.
            Err(TableError::Conflict(_)) => continue,
            Err(e) => return unavailable(e),
        }
    }
    error(503, "unavailable", format!("job {job_id} keeps changing; retry"))
}
