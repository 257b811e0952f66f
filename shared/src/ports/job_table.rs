//! Job table port (`tx-job`): conditional writes, the `repo` index, the sweep
//! scan, and the queue slots that keep one queued job per coalescing key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::job::{Job, JobStatus};
use crate::domain::job_request::{Coalesced, NewerCommit};

/// Why a table operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A conditional write lost: the row is not as the writer read it. Callers
    /// treat this as "someone else got there first", never as a crash.
    #[error("conditional write lost the race on {0}")]
    Conflict(String),
    /// The backend could not be reached or refused the call.
    #[error("table backend: {0}")]
    Backend(String),
    /// A stored row could not be read back into the domain type.
    #[error("stored row is malformed: {0}")]
    Malformed(String),
    /// The caller asked for a write the table never makes (a bug in the
    /// caller, not a race): see [`check_enqueue`].
    #[error("refused write: {0}")]
    Invalid(String),
}

/// A coalescing key's queue slot (`owner/repo/ref`), as read by
/// [`JobTable::queue_slot`] just before a write conditional on it
/// ([`JobTable::enqueue`]).
///
/// The slot is one item per key naming the last job queued under it. Making
/// a job `requested` goes through it, so two writers racing for one key
/// conflict on that item instead of both inserting (a read of recent jobs
/// followed by an insert lets them both win); a newer commit for the job it
/// names while that job waits is [`JobTable::coalesce`]. It lives apart from the jobs
/// (its own SQLite table, its own DynamoDB table), so neither the job stream
/// nor the sweep's scan ever sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueSlot {
    /// The coalescing key.
    pub key: String,
    /// How often the slot was written; 0 when it never was (or expired).
    pub version: u64,
    /// The job the slot names.
    pub holder_id: Option<String>,
    /// That job's row as read after the slot (`None` if it expired).
    pub holder: Option<Job>,
}

impl QueueSlot {
    /// The slot of a key nothing was ever queued under.
    pub fn empty(key: impl Into<String>) -> QueueSlot {
        QueueSlot {
            key: key.into(),
            ..QueueSlot::default()
        }
    }

    /// The job waiting under the key: the holder while it is `requested`.
    /// Only the holder can be: every write that makes a job `requested`
    /// takes the slot ([`JobTable::enqueue`]).
    pub fn queued(&self) -> Option<&Job> {
        self.holder.as_ref().filter(|j| j.status == JobStatus::Requested)
    }

    /// Whether `job_id` is the job the slot names.
    pub fn is_held_by(&self, job_id: &str) -> bool {
        self.holder_id.as_deref() == Some(job_id)
    }
}

/// What both adapters refuse before [`JobTable::enqueue`] writes anything:
/// a job that is not `requested`, one of another key, a "new" job that is
/// the slot's holder already.
pub fn check_enqueue(job: &Job, expected_version: Option<u64>, slot: &QueueSlot) -> Result<(), TableError> {
    if job.status != JobStatus::Requested {
        return Err(TableError::Invalid(format!(
            "job {} is {}: only a requested job is queued",
            job.job_id,
            job.status.as_str()
        )));
    }
    if job.coalesce_key != slot.key {
        return Err(TableError::Invalid(format!(
            "job {} has coalescing key {:?}, not the slot's {:?}",
            job.job_id, job.coalesce_key, slot.key
        )));
    }
    if expected_version.is_none() && slot.is_held_by(&job.job_id) {
        return Err(TableError::Invalid(format!(
            "job {} holds the slot already: it is not new",
            job.job_id
        )));
    }
    Ok(())
}

/// Where a page of a repository's jobs ended: the sort key of its last job
/// (`created_at` in the stored fixed-width form, then `job_id`). The next
/// page starts just after it, so a walk sees every job once even while new
/// ones are added (they sort before the walk's start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCursor {
    /// [`crate::time::format`] of the last job's `created_at`.
    pub created_at: String,
    /// The last job's id.
    pub job_id: String,
}

impl JobCursor {
    /// The cursor just after `job`.
    pub fn after(job: &Job) -> JobCursor {
        JobCursor {
            created_at: crate::time::format(&job.created_at),
            job_id: job.job_id.clone(),
        }
    }
}

/// One page of [`JobTable::by_repo_page`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobPage {
    /// Newest first.
    pub jobs: Vec<Job>,
    /// Where the next page starts; `None` when this one is the last.
    pub next: Option<JobCursor>,
}

/// Keeps the first `limit` of `jobs` (read as `limit + 1`) and sets the
/// cursor when there were more.
pub fn page_of(mut jobs: Vec<Job>, limit: usize) -> JobPage {
    let more = jobs.len() > limit;
    jobs.truncate(limit);
    let next = if more {
        jobs.last().map(JobCursor::after)
    } else {
        None
    };
    JobPage { jobs, next }
}

/// The job table. Every write bumps `version`; every update names the version
/// it read, so two writers can never both think they moved a job.
#[async_trait]
pub trait JobTable: Send + Sync {
    /// Creates a job; [`TableError::Conflict`] if the id exists. It does not
    /// take the key's queue slot: the job manager queues jobs with
    /// [`JobTable::enqueue`] (this is for rows made some other way).
    async fn insert(&self, job: &Job) -> Result<Job, TableError>;

    /// Replaces a job if its stored `version` is still `expected_version`;
    /// returns the row as written (version bumped).
    async fn update(&self, job: &Job, expected_version: u64) -> Result<Job, TableError>;

    /// Extends the lease of job `job_id` to `until`, if its stored `version`
    /// is still `version` (the runner's own write). The version is not
    /// bumped, so the runner's next conditional write still holds; a
    /// [`TableError::Conflict`] tells it the job moved on (cancelled,
    /// requeued by the sweep) and is no longer its to finish.
    async fn renew_lease(&self, job_id: &str, version: u64, until: DateTime<Utc>) -> Result<(), TableError>;

    /// Reads a job.
    async fn get(&self, job_id: &str) -> Result<Option<Job>, TableError>;

    /// Jobs of one repository (`owner/repo`), newest first, at most `limit`.
    async fn by_repo(&self, repo: &str, limit: usize) -> Result<Vec<Job>, TableError>;

    /// One page of the jobs of `repo`, newest first (by `created_at`, then
    /// `job_id`, descending): at most `limit` jobs sorting after `after`.
    async fn by_repo_page(
        &self,
        repo: &str,
        limit: usize,
        after: Option<&JobCursor>,
    ) -> Result<JobPage, TableError>;

    /// Every repository (`owner/repo`) with at least one job, sorted: the
    /// read API lists a project whatever its builds' results, and only
    /// published builds write a manifest row.
    async fn repos(&self) -> Result<Vec<String>, TableError>;

    /// What the sweep looks at, oldest first, read in one pass over the
    /// table: every `requested` and `started` job, and the finished or
    /// cancelled jobs whose callback is still pending ([`Job::callback_pending`];
    /// a started job cancelled as superseded has one too). Filtered by the
    /// backend, so the sweep neither reads every finished job with its logs
    /// nor scans the table once per status.
    async fn sweep_candidates(&self) -> Result<Vec<Job>, TableError>;

    /// Reads the queue slot of coalescing key `key`, then the job it names,
    /// both strongly consistent (never an index), so a write conditional on
    /// what was read only loses to a write made since.
    async fn queue_slot(&self, key: &str) -> Result<QueueSlot, TableError>;

    /// Rewrites the waiting job `job_id` to a newer commit of its ref
    /// (`change`), in one write conditional on the stored job, not on a read
    /// of it: it must still be `requested` and build another commit. So `n`
    /// simultaneous pushes to a ref make `n` writes, not `n²` versioned
    /// tries. Bumps the version; returns the job before and after.
    /// [`TableError::Conflict`] when the job is missing, no longer
    /// `requested`, or already builds that commit; nothing is then written.
    async fn coalesce(&self, job_id: &str, change: &NewerCommit) -> Result<Coalesced, TableError>;

    /// Remembers that the forge's delivery `delivery_id` was answered with
    /// `job_id`, until `expires_at` (Unix seconds, the job's own expiry): a
    /// replay of it is known however many builds came after, with one read.
    async fn remember_delivery(
        &self,
        delivery_id: &str,
        job_id: &str,
        expires_at: i64,
    ) -> Result<(), TableError>;

    /// The job the delivery `delivery_id` was answered with, if remembered
    /// and not expired.
    async fn delivery(&self, delivery_id: &str) -> Result<Option<String>, TableError>;

    /// Writes `job` (status `requested`) as the one queued job of its
    /// coalescing key, conditional on the slot still being as `slot` read it:
    ///
    /// - the slot's holder: `job` replaces it in place at `expected_version`
    ///   (the holder returned to the queue after an attempt that could not
    ///   run); the holder's version decides, the slot is unchanged;
    /// - another job (`expected_version` `None` inserts a new one, `Some`
    ///   returns an existing job to the queue): in one transaction the slot
    ///   is pointed at `job`, provided it still names what was read and its
    ///   holder is not `requested` any more.
    ///
    /// [`TableError::Conflict`] when the slot, its holder or `job` moved since
    /// they were read, or when the holder is still waiting; nothing is then
    /// written. Returns the row as written (version bumped).
    async fn enqueue(
        &self,
        job: &Job,
        expected_version: Option<u64>,
        slot: &QueueSlot,
    ) -> Result<Job, TableError>;
}
