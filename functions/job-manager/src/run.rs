//! Running one job: claim it (`requested → started`), invoke its converter
//! (and, on the first attempt, set the commit's pending status meanwhile),
//! record the result (`started → finished`), post the callback.
//!
//! The claim is a conditional write on the version the stream record carried,
//! so a redelivered or duplicated record finds the job already moved and does
//! nothing. The claim is leased, and the lease renewed while the converter
//! runs ([`crate::lease`]): if this runner stops, the sweep runs the job
//! again within seconds. The finish is conditional too: if the sweep gave up on this
//! attempt meanwhile, this late result is dropped rather than overwriting the
//! newer state.

use chrono::Duration;
use tx_shared::domain::convert::ConvertRequest;
use tx_shared::domain::convert::ConvertResult;
use tx_shared::domain::job::{Job, JobStatus, output_key};
use tx_shared::ports::{InvokeError, TableError};

use crate::announce;
use crate::callback::{Retry, deliver};
use crate::deps::ManagerDeps;
use crate::lease::holding;
use crate::registry::ConverterModule;

/// What became of a stream record's job.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// Another delivery or writer had already moved the job: nothing done.
    NotClaimed,
    /// Converted (or failed) and recorded.
    Finished(Box<Job>),
    /// Converter unavailable: returned to `requested` for another attempt.
    Requeued(Box<Job>),
    /// Converter unavailable, and a newer commit of the ref was queued
    /// meanwhile: cancelled as superseded rather than run again.
    Superseded(Box<Job>),
    /// Finished, but the sweep had moved on: the result was dropped.
    Stale,
}

/// Claims and runs `job`, which the caller read at `job.version`.
pub async fn run_job(job: Job, deps: &ManagerDeps) -> Result<RunOutcome, TableError> {
    if job.status != JobStatus::Requested {
        return Ok(RunOutcome::NotClaimed);
    }
    let now = deps.clock.now();
    let module = deps
        .registry
        .pick(&job.resource_type, &job.input_format, &job.output_format)
        .cloned();
    let timeout = Duration::from_std(deps.config.job_timeout).unwrap_or(Duration::minutes(15));
    let claim = job.claimed(
        now,
        timeout,
        module.as_ref().map(|m| m.name.as_str()),
        &deps.runner,
    );
    let started = match deps.jobs.update(&claim, job.version).await {
        Ok(j) => j,
        Err(TableError::Conflict(_)) => return Ok(RunOutcome::NotClaimed),
        Err(e) => return Err(e),
    };

    // The forge hears of the build while it converts, and before the
    // callback tells it the outcome (that status must come last).
    let announced = async {
        if started.attempts == 1 {
            announce::pending(&started, deps).await;
        }
    };
    let (attempt, ()) = tokio::join!(convert(&started, module.as_ref(), timeout, deps), announced);
    match attempt {
        Attempt::Done(result) => finish(started, result, deps).await,
        Attempt::Unavailable(reason) => requeue(started, &reason, deps).await,
    }
}

/// What one converter invocation came to.
enum Attempt {
    /// A result to record (a failure included).
    Done(ConvertResult),
    /// The converter could not run; the job may be tried again.
    Unavailable(String),
}

/// Invokes the converter `module` names for `started`, holding its lease.
async fn convert(
    started: &Job,
    module: Option<&ConverterModule>,
    timeout: Duration,
    deps: &ManagerDeps,
) -> Attempt {
    let Some(module) = module else {
        let message = format!(
            "no converter for resource type {:?}, input {:?}, output {:?}",
            started.resource_type, started.input_format, started.output_format
        );
        return Attempt::Done(failed(message));
    };

    let request = ConvertRequest {
        job_id: started.job_id.clone(),
        identifier: started.identifier.clone(),
        repo_name: started.repo_name.to_string(),
        resource_type: started.resource_type.clone(),
        input_format: started.input_format.clone(),
        output_format: started.output_format.clone(),
        source: started.source.clone(),
        output_key: output_key(&started.job_id),
        assets: started.assets.clone(),
    };
    let payload = match serde_json::to_value(&request) {
        Ok(p) => p,
        Err(e) => return Attempt::Done(failed(format!("cannot encode converter request: {e}"))),
    };
    let invoke = deps.invoker.invoke(&module.function, payload);
    let answer = holding(started, started.attempt_ends(timeout), deps, invoke).await;
    Attempt::Done(match answer {
        Ok(value) => match serde_json::from_value::<ConvertResult>(value) {
            Ok(r) => r,
            Err(e) => failed(format!("converter answered something that is not a result: {e}")),
        },
        Err(e @ (InvokeError::Throttled(_) | InvokeError::Backend(_)))
            if started.attempts < deps.config.max_attempts =>
        {
            return Attempt::Unavailable(e.to_string());
        }
        Err(e) => failed(format!("converter {} failed: {e}", module.function)),
    })
}

fn failed(message: String) -> ConvertResult {
    ConvertResult {
        success: false,
        errors: vec![message],
        ..ConvertResult::default()
    }
}

/// Records the converter's result on the started job (with its callback
/// pending, in the same write), then delivers the callback.
async fn finish(started: Job, result: ConvertResult, deps: &ManagerDeps) -> Result<RunOutcome, TableError> {
    let done = started.finished(deps.clock.now(), result);
    let stored = match deps.jobs.update(&done, started.version).await {
        Ok(j) => j,
        Err(TableError::Conflict(_)) => {
            tracing::warn!(job_id = %started.job_id, "job moved on while converting; result dropped");
            return Ok(RunOutcome::Stale);
        }
        Err(e) => return Err(e),
    };
    let (_, stored) = deliver(stored, Retry::ON_FINISH, deps).await;
    Ok(RunOutcome::Finished(Box::new(stored)))
}

/// Returns a started job to `requested` after an attempt that could not run.
async fn requeue(started: Job, reason: &str, deps: &ManagerDeps) -> Result<RunOutcome, TableError> {
    let note = format!(
        "{}: attempt {} could not run ({reason}); requeued",
        tx_shared::time::format(&deps.clock.now()),
        started.attempts
    );
    Ok(match return_to_queue(&started, note, deps).await? {
        Requeued::Queued(j) => RunOutcome::Requeued(Box::new(j)),
        Requeued::Superseded(j) => RunOutcome::Superseded(Box::new(j)),
        Requeued::Lost => RunOutcome::Stale,
    })
}

/// What became of a started job sent back to the queue.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Requeued {
    /// `requested` again, holding its key's queue slot: its MODIFY record
    /// starts it again.
    Queued(Job),
    /// A newer commit of its ref was queued while it ran, so it is not run
    /// again: cancelled as superseded, callback posted (the client writes
    /// its final build log, so its page does not wait for ever).
    Superseded(Job),
    /// The job moved on meanwhile: nothing written.
    Lost,
}

/// How often the queue slot is read again when it moved under a requeue.
const REQUEUE_TRIES: usize = 3;

/// Returns `started` to `requested` with `note` in its log, through its key's
/// queue slot ([`JobTable::enqueue`](tx_shared::ports::JobTable::enqueue)), so
/// it never waits beside another job of its ref. Conditional on
/// `started.version`.
pub(crate) async fn return_to_queue(
    started: &Job,
    note: String,
    deps: &ManagerDeps,
) -> Result<Requeued, TableError> {
    let again = started.requeued(note);
    for _ in 0..REQUEUE_TRIES {
        let slot = deps.jobs.queue_slot(&started.coalesce_key).await?;
        if let Some(newer) = slot.queued().filter(|q| q.job_id != started.job_id) {
            return cancel_superseded(started, newer, deps).await;
        }
        match deps.jobs.enqueue(&again, Some(started.version), &slot).await {
            Ok(j) => return Ok(Requeued::Queued(j)),
            Err(TableError::Conflict(_)) => {
                // Either the job moved (then it is not ours to requeue) or the
                // slot did (then look at it again).
                let now = deps.jobs.get(&started.job_id).await?;
                if now.is_none_or(|j| j.version != started.version) {
                    return Ok(Requeued::Lost);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Requeued::Lost)
}

/// Cancels `started` because `newer` (another commit of its ref) is queued,
/// and posts its callback. Conditional on `started.version`.
async fn cancel_superseded(started: &Job, newer: &Job, deps: &ManagerDeps) -> Result<Requeued, TableError> {
    let now = deps.clock.now();
    let message = format!(
        "superseded by {}, queued while attempt {} ran; not run again",
        newer.commit10(),
        started.attempts
    );
    let done = started.cancelled(now, message);
    match deps.jobs.update(&done, started.version).await {
        Ok(stored) => Ok(Requeued::Superseded(
            deliver(stored, Retry::ON_FINISH, deps).await.1,
        )),
        Err(TableError::Conflict(_)) => Ok(Requeued::Lost),
        Err(e) => Err(e),
    }
}

/// Marks a job finished/failed with `message` (the sweep's last word) and
/// posts its callback. Conditional on `job.version`.
pub async fn fail_job(job: &Job, message: String, deps: &ManagerDeps) -> Result<Option<Job>, TableError> {
    let done = job.failed(deps.clock.now(), message);
    match deps.jobs.update(&done, job.version).await {
        Ok(stored) => Ok(Some(deliver(stored, Retry::ON_FINISH, deps).await.1)),
        Err(TableError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
