//! The scheduled sweep: no job is lost.
//!
//! - A `started` job whose lease lapsed (its runner was killed or stopped, or
//!   the attempt reached the job timeout, past which it is not renewed) goes
//!   back to `requested` — its MODIFY record starts
//!   it again — until `max_attempts`, then it is finished as failed with the
//!   reason, and its callback is posted. It goes back through its ref's queue
//!   slot: if a newer commit of the ref was queued meanwhile, it is cancelled
//!   as superseded instead (callback posted), never queued beside it.
//! - A `requested` job older than [`STALE_REQUESTED`] whose stream record was
//!   lost (or filtered by a failed mapping) is touched: rewritten unchanged but
//!   for its version, which emits a fresh MODIFY record. A job that was only
//!   slow is safe: the claim is conditional, so it still runs once. The pass
//!   decides on one read of the table, so a job it requeues (which has its
//!   fresh MODIFY record) is not also touched: at most one record per job.
//! - A finished (or cancelled) job whose callback is still pending
//!   ([`Job::callback_pending`](tx_shared::domain::job::Job::callback_pending))
//!   once its lease lapsed (the writer that finished it stopped before it
//!   posted, or the client was down) is posted again: leased to this sweep,
//!   one short try, then the next one after
//!   [`callback_backoff`](tx_shared::domain::job::callback_backoff) (5 s,
//!   doubling, at most 5 minutes), until [`CALLBACK_GIVE_UP`]; then the
//!   job's log says it was given up on.

use chrono::Duration;
use serde::Serialize;
use tx_shared::domain::job::{Job, JobStatus};
use tx_shared::ports::TableError;

use crate::callback::{Delivery, Retry, deliver};
use crate::deps::ManagerDeps;
use crate::run::{Requeued, fail_job, return_to_queue};

/// How long a requested job may wait before the sweep re-announces it.
pub const STALE_REQUESTED: Duration = Duration::minutes(2);

/// How long the sweep keeps re-sending a callback.
pub const CALLBACK_GIVE_UP: Duration = Duration::days(1);

/// Callbacks posted per sweep at most: with a client down, each costs up to
/// [`Retry::FROM_SWEEP`]'s timeout, and a sweep must end before the next.
pub const CALLBACK_RESENDS_PER_SWEEP: usize = 10;

/// What a sweep did (logged, and returned to the schedule's invocation).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct SweepReport {
    /// Started jobs returned to `requested`.
    pub requeued: Vec<String>,
    /// Started jobs given up on.
    pub failed: Vec<String>,
    /// Started jobs whose lease lapsed not run again because a newer commit
    /// of their ref was queued meanwhile: cancelled as superseded.
    pub superseded: Vec<String>,
    /// Requested jobs re-announced.
    pub touched: Vec<String>,
    /// Finished jobs whose callback was posted again and answered (2xx, or a
    /// 4xx refusal that another post cannot change).
    pub callbacks_answered: Vec<String>,
    /// Finished jobs whose callback was posted again, still without answer.
    pub callbacks_failed: Vec<String>,
    /// Finished jobs whose callback was given up on after [`CALLBACK_GIVE_UP`].
    pub callbacks_given_up: Vec<String>,
    /// Jobs still held under a lease, whose lapse a later pass must catch:
    /// started jobs, and owed callbacks waiting for their next try.
    pub leased: usize,
}

impl SweepReport {
    /// Whether the sweep did anything worth a log line.
    pub fn is_empty(&self) -> bool {
        self.requeued.is_empty()
            && self.failed.is_empty()
            && self.superseded.is_empty()
            && self.touched.is_empty()
            && self.callbacks_answered.is_empty()
            && self.callbacks_failed.is_empty()
            && self.callbacks_given_up.is_empty()
    }

    /// Adds what a later pass did.
    fn extend(&mut self, later: SweepReport) {
        self.requeued.extend(later.requeued);
        self.failed.extend(later.failed);
        self.superseded.extend(later.superseded);
        self.touched.extend(later.touched);
        self.callbacks_answered.extend(later.callbacks_answered);
        self.callbacks_failed.extend(later.callbacks_failed);
        self.callbacks_given_up.extend(later.callbacks_given_up);
        self.leased = later.leased;
    }
}

/// How long one scheduled invocation keeps sweeping while leases are held
/// (the schedule fires every minute; this ends before the next one).
pub const SCHEDULED_WINDOW: std::time::Duration = std::time::Duration::from_secs(50);

/// How often a scheduled invocation sweeps again within its window.
pub const SCHEDULED_PASS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The schedule's invocation (AWS: EventBridge fires at most once a minute):
/// one pass, and while any lease is held, another every
/// [`SCHEDULED_PASS_EVERY`] for [`SCHEDULED_WINDOW`], so a job whose runner
/// stopped runs again within its lease plus ten seconds, not a minute later.
/// An idle table costs one pass.
pub async fn handle_scheduled_sweep(deps: &ManagerDeps) -> Result<SweepReport, TableError> {
    let began = std::time::Instant::now();
    let mut report = handle_sweep(deps).await?;
    while report.leased > 0 && began.elapsed() + SCHEDULED_PASS_EVERY < SCHEDULED_WINDOW {
        tokio::time::sleep(SCHEDULED_PASS_EVERY).await;
        report.extend(handle_sweep(deps).await?);
    }
    Ok(report)
}

/// Runs one sweep.
pub async fn handle_sweep(deps: &ManagerDeps) -> Result<SweepReport, TableError> {
    let now = deps.clock.now();
    let mut report = SweepReport::default();
    // One read of the table; every decision below is about this snapshot, so
    // a job requeued in this pass is not also taken for a stale request.
    let candidates = deps.jobs.sweep_candidates().await?;
    for job in candidates.iter().filter(|j| j.status == JobStatus::Started) {
        if !job.lease_lapsed(now) {
            report.leased += 1;
            continue;
        }
        let (why, note) = lapsed(job, now, deps);
        run_again(job, &why, note, deps, &mut report).await?;
    }
    for job in candidates.iter().filter(|j| j.status == JobStatus::Requested) {
        let waiting_since = job.started_at.unwrap_or(job.created_at);
        if now - waiting_since < STALE_REQUESTED {
            continue;
        }
        match deps.jobs.update(job, job.version).await {
            Ok(_) => report.touched.push(job.job_id.clone()),
            Err(TableError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let owed = candidates
        .into_iter()
        .filter(|j| j.is_terminal() && j.callback_pending);
    resend_callbacks(owed, deps, &mut report).await?;
    if !report.is_empty() {
        tracing::info!(?report, "sweep");
    }
    Ok(report)
}

/// Why `job`'s lease lapsed at `now`, for its errors and for its log.
fn lapsed(job: &Job, now: chrono::DateTime<chrono::Utc>, deps: &ManagerDeps) -> (String, String) {
    let timeout = Duration::from_std(deps.config.job_timeout).unwrap_or(Duration::minutes(15));
    let runner = job.runner.as_deref().unwrap_or("its runner");
    let why = if job.attempt_ends(timeout).is_some_and(|end| end <= now) {
        format!("the converter did not finish within {} s", timeout.num_seconds())
    } else {
        format!("{runner} stopped renewing its lease")
    };
    let note = format!(
        "{}: attempt {}: {why}; requeued",
        tx_shared::time::format(&now),
        job.attempts
    );
    (why, note)
}

/// Runs again a `started` job whose attempt will never end: back to
/// `requested` through its ref's queue slot, or failed with `why` once it
/// has had `max_attempts`.
async fn run_again(
    job: &Job,
    why: &str,
    note: String,
    deps: &ManagerDeps,
    report: &mut SweepReport,
) -> Result<(), TableError> {
    if job.attempts >= deps.config.max_attempts {
        let message = format!("gave up after {} attempt(s): {why}", job.attempts);
        if fail_job(job, message, deps).await?.is_some() {
            report.failed.push(job.job_id.clone());
        }
        return Ok(());
    }
    match return_to_queue(job, note, deps).await? {
        Requeued::Queued(_) => report.requeued.push(job.job_id.clone()),
        Requeued::Superseded(_) => report.superseded.push(job.job_id.clone()),
        Requeued::Lost => {}
    }
    Ok(())
}

/// At the start of a runtime that is the only one using its tables (`tx
/// serve` holds its data directory): every `started` job was claimed by a
/// previous instance that stopped (a crash, a SIGKILL) and will never
/// finish it, so it is run again now instead of waiting for its lease to
/// lapse.
pub async fn requeue_claimed(deps: &ManagerDeps) -> Result<SweepReport, TableError> {
    let now = deps.clock.now();
    let mut report = SweepReport::default();
    let candidates = deps.jobs.sweep_candidates().await?;
    for job in candidates.iter().filter(|j| j.status == JobStatus::Started) {
        let note = format!(
            "{}: attempt {} was running when tx stopped; requeued at start-up",
            tx_shared::time::format(&now),
            job.attempts
        );
        run_again(job, "tx stopped during each one", note, deps, &mut report).await?;
    }
    if !report.is_empty() {
        tracing::info!(?report, "start-up requeue");
    }
    Ok(report)
}

/// Posts again the callbacks of `owed` (finished or cancelled, callback
/// pending) whose lease lapsed, oldest job first.
async fn resend_callbacks(
    owed: impl Iterator<Item = Job>,
    deps: &ManagerDeps,
    report: &mut SweepReport,
) -> Result<(), TableError> {
    let now = deps.clock.now();
    let mut posted = 0;
    for job in owed {
        if !job.lease_lapsed(now) {
            report.leased += 1;
            continue;
        }
        let age = now - job.ended_at.unwrap_or(job.created_at);
        if age >= CALLBACK_GIVE_UP {
            let given_up = job.callback_given_up(format!(
                "{}: callback not delivered within {} h; given up",
                tx_shared::time::format(&now),
                CALLBACK_GIVE_UP.num_hours()
            ));
            match deps.jobs.update(&given_up, job.version).await {
                Ok(_) => report.callbacks_given_up.push(job.job_id.clone()),
                Err(TableError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
            continue;
        }
        if posted == CALLBACK_RESENDS_PER_SWEEP {
            continue;
        }
        posted += 1;
        resend(&job, deps, report).await?;
    }
    Ok(())
}

/// Takes the owed callback of `job` over (a conditional write, so of two
/// sweeps one posts), posts it once, and on no answer sets when to try next.
async fn resend(job: &Job, deps: &ManagerDeps, report: &mut SweepReport) -> Result<(), TableError> {
    let claimed = match deps
        .jobs
        .update(&job.callback_claimed(deps.clock.now(), &deps.runner), job.version)
        .await
    {
        Ok(j) => j,
        Err(TableError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let id = job.job_id.clone();
    match deliver(claimed, Retry::FROM_SWEEP, deps).await {
        (Delivery::Failed, stored) => {
            let later = stored.callback_retry_later(deps.clock.now());
            match deps.jobs.update(&later, stored.version).await {
                Ok(_) | Err(TableError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
            report.callbacks_failed.push(id);
        }
        (Delivery::Delivered | Delivery::Refused, _) => report.callbacks_answered.push(id),
    }
    Ok(())
}
