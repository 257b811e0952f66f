//! Holding a job's lease while working on it.
//!
//! A claim (and an owed callback) is leased for [`LEASE`]; the runner renews
//! it every [`RENEW_EVERY`] for as long as the work runs, so the sweep finds
//! a lapsed lease only when the runner stopped — killed, crashed, cut off —
//! and runs the job again within seconds instead of after the job timeout.
//! Renewals leave the job's version alone: the runner's own conditional
//! write at the end still holds, and a renewal that conflicts tells it that
//! the job moved on (cancelled, requeued), after which it stops renewing.

use std::future::Future;

use chrono::{DateTime, Utc};
use tx_shared::domain::job::{Job, LEASE, RENEW_EVERY};
use tx_shared::ports::TableError;

use crate::deps::ManagerDeps;

/// Runs `work` while renewing the lease of `job` (as stored, at its
/// version), until `work` ends, the job moves on, or `until_at_most` (the
/// attempt's time limit) is reached: past it the lease is left to lapse.
pub(crate) async fn holding<F: Future>(
    job: &Job,
    until_at_most: Option<DateTime<Utc>>,
    deps: &ManagerDeps,
    work: F,
) -> F::Output {
    let renew = keep_renewing(job, until_at_most, deps);
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => out,
        () = renew => work.await,
    }
}

/// Renews every [`RENEW_EVERY`]; returns when renewing is over (the job
/// moved on, or its time is up).
async fn keep_renewing(job: &Job, until_at_most: Option<DateTime<Utc>>, deps: &ManagerDeps) {
    let every = RENEW_EVERY.to_std().unwrap_or(std::time::Duration::from_secs(5));
    loop {
        tokio::time::sleep(every).await;
        let now = deps.clock.now();
        let mut until = now + LEASE;
        if let Some(limit) = until_at_most {
            if now >= limit {
                tracing::warn!(job_id = %job.job_id, "attempt past its time limit; its lease is left to lapse");
                return;
            }
            until = until.min(limit);
        }
        match deps.jobs.renew_lease(&job.job_id, job.version, until).await {
            Ok(()) => {}
            Err(TableError::Conflict(_)) => {
                tracing::info!(job_id = %job.job_id, "job moved on; lease no longer renewed");
                return;
            }
            // A blip: the lease has two more renewals before it lapses.
            Err(e) => tracing::warn!(job_id = %job.job_id, "lease not renewed: {e}"),
        }
    }
}
