//! How a job moves through its life: every state change is a method here,
//! so what a claim, a finish, a requeue or a cancellation sets (and clears)
//! is written once. Each returns the changed copy; the caller writes it
//! conditionally on the version it read ([`JobTable::update`]), so a change
//! made here is never half applied.
//!
//! [`JobTable::update`]: crate::ports::JobTable::update

use chrono::{DateTime, Duration, Utc};

use super::convert::ConvertResult;
use super::job::{Job, JobResult, JobStatus, LEASE, callback_backoff};
use crate::time::format;

impl Job {
    /// Claimed by `runner`: `started`, one more attempt, with `module` (the
    /// converter picked, if any), leased for [`LEASE`] (or `timeout`, the
    /// whole attempt's limit, if that is shorter).
    pub fn claimed(&self, now: DateTime<Utc>, timeout: Duration, module: Option<&str>, runner: &str) -> Job {
        let mut claim = self.clone();
        claim.status = JobStatus::Started;
        claim.attempts += 1;
        claim.started_at = Some(now);
        claim.runner = Some(runner.to_string());
        claim.lease_until = Some(now + LEASE.min(timeout));
        claim.convert_module = module.map(str::to_string);
        claim.log.push(format!(
            "{}: started attempt {} with {} on {runner}",
            format(&now),
            claim.attempts,
            module.unwrap_or("no converter")
        ));
        claim
    }

    /// When the running attempt must be over, renewed or not: `started_at`
    /// plus the job timeout. A runner stops renewing its lease there.
    pub fn attempt_ends(&self, timeout: Duration) -> Option<DateTime<Utc>> {
        self.started_at.map(|t| t + timeout)
    }

    /// Whether the lease lapsed at `now` (a job without one has none to keep).
    pub fn lease_lapsed(&self, now: DateTime<Utc>) -> bool {
        self.lease_until.is_none_or(|until| until <= now)
    }

    /// Finished with what the converter reported; its callback becomes owed.
    pub fn finished(&self, now: DateTime<Utc>, result: ConvertResult) -> Job {
        let outcome = JobResult::from_counts(result.success, result.warnings.len(), result.errors.len());
        let mut done = self.ended(now, JobStatus::Finished);
        done.result = Some(outcome);
        done.log.extend(result.log);
        done.log
            .push(format!("{}: finished: {}", format(&now), outcome.as_str()));
        done.warnings = result.warnings;
        done.errors = result.errors;
        done.output = if result.success { result.output } else { None };
        done.stages = result.stages;
        if let Some(rt) = result.resource_type {
            done.resource_type = rt;
        }
        if let Some(f) = result.input_format {
            done.input_format = f;
        }
        done.message = Some(match outcome {
            JobResult::Failed => done
                .errors
                .first()
                .cloned()
                .unwrap_or_else(|| "conversion failed".into()),
            JobResult::Errors => format!("converted with {} error(s)", done.errors.len()),
            JobResult::Warnings => format!("converted with {} warning(s)", done.warnings.len()),
            JobResult::Success => "converted".into(),
        });
        done
    }

    /// Finished as failed, for `message` (the sweep's or the manager's last word).
    pub fn failed(&self, now: DateTime<Utc>, message: String) -> Job {
        let mut done = self.ended(now, JobStatus::Finished);
        done.result = Some(JobResult::Failed);
        done.errors.push(message.clone());
        done.log.push(format!("{}: failed: {message}", format(&now)));
        done.message = Some(message);
        done
    }

    /// Cancelled (superseded by a newer commit of its ref), for `message`.
    pub fn cancelled(&self, now: DateTime<Utc>, message: String) -> Job {
        let mut done = self.ended(now, JobStatus::Cancelled);
        done.log.push(format!("{}: {message}", format(&now)));
        done.message = Some(message);
        done
    }

    /// Cancelled by the operator (`POST /api/builds/{id}/cancel`): a
    /// `requested` or `started` job stops here; its callback becomes owed
    /// like any other cancellation's, and a converter result that arrives
    /// later loses its conditional write and is dropped.
    pub fn cancelled_by_operator(&self, now: DateTime<Utc>) -> Job {
        let message = match self.status {
            super::job::JobStatus::Started => {
                format!("cancelled by the operator during attempt {}", self.attempts)
            }
            _ => "cancelled by the operator before it started".to_string(),
        };
        self.cancelled(now, message)
    }

    /// Back to `requested` after an attempt that could not run, `note` logged.
    pub fn requeued(&self, note: String) -> Job {
        let mut again = self.clone();
        again.status = JobStatus::Requested;
        again.runner = None;
        again.lease_until = None;
        again.log.push(note);
        again
    }

    /// A waiting job of a tag given the release's `assets` (the release
    /// arrived after the tag's push had queued the same commit), `note` logged.
    pub fn with_assets(&self, assets: Vec<super::job_request::ReleaseAsset>, note: String) -> Job {
        let mut job = self.clone();
        job.assets = assets;
        job.log.push(note);
        job
    }

    /// The callback was answered for good: nothing is owed any more.
    pub fn callback_settled(&self) -> Job {
        let mut settled = self.clone();
        settled.callback_pending = false;
        settled.lease_until = None;
        settled
    }

    /// The owed callback taken over by `runner` (the sweep) to post it again:
    /// leased, so a second sweep running at the same time leaves it alone.
    pub fn callback_claimed(&self, now: DateTime<Utc>, runner: &str) -> Job {
        let mut claimed = self.clone();
        claimed.runner = Some(runner.to_string());
        claimed.lease_until = Some(now + LEASE);
        claimed
    }

    /// The owed callback posted again without an answer: one more try
    /// counted, the next one not before [`callback_backoff`] of them.
    pub fn callback_retry_later(&self, now: DateTime<Utc>) -> Job {
        let mut later = self.clone();
        later.callback_tries += 1;
        later.runner = None;
        later.lease_until = Some(now + callback_backoff(later.callback_tries));
        later
    }

    /// The callback is no longer retried, `note` logged.
    pub fn callback_given_up(&self, note: String) -> Job {
        let mut given_up = self.callback_settled();
        given_up.log.push(note);
        given_up
    }

    /// Over at `now` in `status`, callback owed when there is one. The
    /// writer posts it at once and holds a fresh [`LEASE`] on it while it
    /// does; if that lapses (the writer stopped), the sweep posts it.
    fn ended(&self, now: DateTime<Utc>, status: JobStatus) -> Job {
        let mut done = self.clone();
        done.status = status;
        done.ended_at = Some(now);
        done.callback_pending = done.callback.is_some();
        done.lease_until = done.callback_pending.then(|| now + LEASE);
        done
    }
}
