//! The scheduled sweep: no job is lost.
//!
//! - A `started` job past its deadline (its converter died, timed out, or its
//!   manager was stopped) goes back to `requested` — its MODIFY record starts
//!   it again — until `max_attempts`, then it is finished as failed with the
//!   reason, and its callback is posted.
//! - A `requested` job older than [`STALE_REQUESTED`] whose stream record was
//!   lost (or filtered by a failed mapping) is touched: rewritten unchanged but
//!   for its version, which emits a fresh MODIFY record. A job that was only
//!   slow is safe: the claim is conditional, so it still runs once. A job
//!   requeued by this same pass already has its fresh MODIFY record and is
//!   left alone, so one pass writes at most one record per job.

use chrono::Duration;
use serde::Serialize;
use tx_shared::domain::job::JobStatus;
use tx_shared::ports::TableError;

use crate::deps::ManagerDeps;
use crate::run::fail_job;

/// How long a requested job may wait before the sweep re-announces it.
pub const STALE_REQUESTED: Duration = Duration::minutes(2);

/// What a sweep did (logged, and returned to the schedule's invocation).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct SweepReport {
    /// Started jobs returned to `requested`.
    pub requeued: Vec<String>,
    /// Started jobs given up on.
    pub failed: Vec<String>,
    /// Requested jobs re-announced.
    pub touched: Vec<String>,
}

/// Runs one sweep.
pub async fn handle_sweep(deps: &ManagerDeps) -> Result<SweepReport, TableError> {
    let now = deps.clock.now();
    let mut report = SweepReport::default();
    for job in deps.jobs.by_status(JobStatus::Started).await? {
        if job.deadline.is_none_or(|d| d > now) {
            continue;
        }
        if job.attempts >= deps.config.max_attempts {
            let message = format!(
                "gave up after {} attempt(s): the converter did not finish within {} s",
                job.attempts,
                deps.config.job_timeout.as_secs()
            );
            if fail_job(&job, message, deps).await?.is_some() {
                report.failed.push(job.job_id.clone());
            }
            continue;
        }
        let mut again = job.clone();
        again.status = JobStatus::Requested;
        again.deadline = None;
        again.log.push(format!(
            "{}: attempt {} passed its deadline; requeued",
            tx_shared::time::format(&now),
            job.attempts
        ));
        match deps.jobs.update(&again, job.version).await {
            Ok(_) => report.requeued.push(job.job_id.clone()),
            Err(TableError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    for job in deps.jobs.by_status(JobStatus::Requested).await? {
        if report.requeued.contains(&job.job_id) {
            continue;
        }
        let waiting_since = job.started_at.unwrap_or(job.created_at);
        if now - waiting_since < STALE_REQUESTED {
            continue;
        }
        match deps.jobs.update(&job, job.version).await {
            Ok(_) => report.touched.push(job.job_id.clone()),
            Err(TableError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    if !(report.requeued.is_empty() && report.failed.is_empty() && report.touched.is_empty()) {
        tracing::info!(?report, "sweep");
    }
    Ok(report)
}
