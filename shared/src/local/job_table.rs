//! `tx-job` on SQLite. Every write appends its DynamoDB-Streams-shaped record
//! to the event log in the same transaction: a job row is never written
//! without the event that starts it, and never announced without being written.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::db::{Db, backend, query_items};
use super::event_log::{EventLog, JOB_STREAM};
use super::stream_record::dynamodb_record;
use crate::domain::job::{Job, JobStatus};
use crate::dynamo_json::{key_image, to_image};
use crate::ports::{Clock, JobTable, SystemClock, TableError};

/// The job table of the embedded runtime.
#[derive(Clone)]
pub struct SqliteJobTable {
    db: Db,
    table: String,
}

impl SqliteJobTable {
    /// The table `table` (its name appears in stream ARNs) in `db`.
    pub fn new(db: Db, table: impl Into<String>) -> SqliteJobTable {
        SqliteJobTable {
            db,
            table: table.into(),
        }
    }

    fn write(&self, job: &Job, expected_version: Option<u64>) -> Result<Job, TableError> {
        let mut stored = job.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        let text = serde_json::to_string(&stored).map_err(|e| TableError::Malformed(e.to_string()))?;
        let new_image = to_image(&stored).map_err(|e| TableError::Malformed(e.to_string()))?;
        {
            let mut conn = self.db.lock()?;
            let tx = conn.transaction().map_err(backend)?;
            let old: Option<(u64, String)> = tx
                .query_row(
                    "SELECT version, item FROM jobs WHERE job_id = ?1",
                    params![job.job_id],
                    |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
                )
                .optional()
                .map_err(backend)?;
            let old_image = match (expected_version, &old) {
                (None, None) => None,
                (Some(expected), Some((version, item))) if *version == expected => {
                    let old_job: Job =
                        serde_json::from_str(item).map_err(|e| TableError::Malformed(e.to_string()))?;
                    Some(to_image(&old_job).map_err(|e| TableError::Malformed(e.to_string()))?)
                }
                _ => return Err(TableError::Conflict(job.job_id.clone())),
            };
            tx.execute(
                "INSERT INTO jobs (job_id, repo, created_at, status, version, item)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (job_id) DO UPDATE SET repo = excluded.repo, created_at = excluded.created_at,
                   status = excluded.status, version = excluded.version, item = excluded.item",
                params![
                    stored.job_id,
                    stored.repo,
                    crate::time::format(&stored.created_at),
                    stored.status.as_str(),
                    stored.version as i64,
                    text
                ],
            )
            .map_err(backend)?;
            let event_name = if old_image.is_some() { "MODIFY" } else { "INSERT" };
            let keys = key_image("job_id", &stored.job_id);
            let now = SystemClock.now();
            EventLog::append_in(&tx, JOB_STREAM, |seq| {
                dynamodb_record(
                    &self.table,
                    event_name,
                    keys,
                    Some(new_image),
                    old_image,
                    seq,
                    now,
                )
            })?;
            tx.commit().map_err(backend)?;
        }
        self.db.ring();
        Ok(stored)
    }

    fn query(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Job>, TableError> {
        query_items(&self.db, sql, args)
    }
}

#[async_trait]
impl JobTable for SqliteJobTable {
    async fn insert(&self, job: &Job) -> Result<Job, TableError> {
        self.write(job, None)
    }

    async fn update(&self, job: &Job, expected_version: u64) -> Result<Job, TableError> {
        self.write(job, Some(expected_version))
    }

    async fn get(&self, job_id: &str) -> Result<Option<Job>, TableError> {
        Ok(self
            .query("SELECT item FROM jobs WHERE job_id = ?1", &[&job_id])?
            .into_iter()
            .next())
    }

    async fn by_repo(&self, repo: &str, limit: usize) -> Result<Vec<Job>, TableError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            "SELECT item FROM jobs WHERE repo = ?1 ORDER BY created_at DESC, job_id DESC LIMIT ?2",
            &[&repo, &limit],
        )
    }

    async fn sweep_candidates(&self) -> Result<Vec<Job>, TableError> {
        self.query(
            "SELECT item FROM jobs
             WHERE status IN (?1, ?2) OR (status = ?3 AND json_extract(item, '$.callback_pending') = 1)
             ORDER BY created_at, job_id",
            &[
                &JobStatus::Requested.as_str(),
                &JobStatus::Started.as_str(),
                &JobStatus::Finished.as_str(),
            ],
        )
    }
}

/// Reads a job out of a stream image (`NewImage`/`OldImage`).
pub fn job_from_image(image: &Value) -> Result<Job, TableError> {
    let item: serde_dynamo::Item =
        serde_json::from_value(image.clone()).map_err(|e| TableError::Malformed(e.to_string()))?;
    crate::dynamo_json::from_item(item).map_err(|e| TableError::Malformed(e.to_string()))
}
