//! Job table port (`tx-job`): conditional writes, the `repo` index, the sweep scan.

use async_trait::async_trait;

use crate::domain::job::Job;

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
}

/// The job table. Every write bumps `version`; every update names the version
/// it read, so two writers can never both think they moved a job.
#[async_trait]
pub trait JobTable: Send + Sync {
    /// Creates a job; [`TableError::Conflict`] if the id exists.
    async fn insert(&self, job: &Job) -> Result<Job, TableError>;

    /// Replaces a job if its stored `version` is still `expected_version`;
    /// returns the row as written (version bumped).
    async fn update(&self, job: &Job, expected_version: u64) -> Result<Job, TableError>;

    /// Reads a job.
    async fn get(&self, job_id: &str) -> Result<Option<Job>, TableError>;

    /// Jobs of one repository (`owner/repo`), newest first, at most `limit`.
    async fn by_repo(&self, repo: &str, limit: usize) -> Result<Vec<Job>, TableError>;

    /// What the sweep looks at, oldest first, read in one pass over the
    /// table: every `requested` and `started` job, and the finished jobs whose
    /// callback is still pending ([`Job::callback_pending`]). Filtered by the
    /// backend, so the sweep neither reads every finished job with its logs
    /// nor scans the table once per status.
    async fn sweep_candidates(&self) -> Result<Vec<Job>, TableError>;
}
