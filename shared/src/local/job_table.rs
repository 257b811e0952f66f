//! `tx-job` on SQLite. Every write appends its DynamoDB-Streams-shaped record
//! to the event log in the same transaction: a job row is never written
//! without the event that starts it, and never announced without being written.
//! The queue slots (`queue_slots`, one row per coalescing key) are written in
//! the same transaction as the job they name, and emit no record: they are
//! not jobs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::Value;

use super::db::{Cached, Db, backend, query_items};
use super::event_log::{EventLog, JOB_STREAM};
use super::stream_record::dynamodb_record;
use crate::domain::job::{Job, JobStatus};
use crate::domain::job_request::{Coalesced, NewerCommit};
use crate::dynamo_json::{key_image, to_image};
use crate::ports::job_table::{JobCursor, JobPage, check_enqueue, page_of};
use crate::ports::{Clock, JobTable, QueueSlot, SystemClock, TableError};

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
        let stored = {
            let mut conn = self.db.lock()?;
            let tx = conn.transaction().map_err(backend)?;
            let stored = self.write_in(&tx, job, expected_version)?;
            tx.commit().map_err(backend)?;
            stored
        };
        self.db.ring();
        Ok(stored)
    }

    /// Writes `job` inside `tx` if its stored version is `expected_version`
    /// (`None`: the id is new), with its stream record.
    fn write_in(
        &self,
        tx: &Transaction<'_>,
        job: &Job,
        expected_version: Option<u64>,
    ) -> Result<Job, TableError> {
        let mut stored = job.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        let text = serde_json::to_string(&stored).map_err(|e| TableError::Malformed(e.to_string()))?;
        let new_image = to_image(&stored).map_err(|e| TableError::Malformed(e.to_string()))?;
        let old: Option<(u64, String)> = tx
            .row(
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
        tx.run(
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
        EventLog::append_in(tx, JOB_STREAM, |seq| {
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
        Ok(stored)
    }

    /// [`JobTable::enqueue`]: in place, a plain versioned write; otherwise one
    /// transaction that checks the slot and its holder, then writes the job
    /// (with its stream record) and the slot.
    fn enqueue_now(
        &self,
        job: &Job,
        expected_version: Option<u64>,
        slot: &QueueSlot,
    ) -> Result<Job, TableError> {
        check_enqueue(job, expected_version, slot)?;
        if let Some(v) = expected_version
            && slot.is_held_by(&job.job_id)
        {
            // In place: the holder's own version decides, the slot is unchanged.
            return self.write(job, Some(v));
        }
        let stored = {
            let mut conn = self.db.lock()?;
            let tx = conn.transaction().map_err(backend)?;
            let now: Option<(u64, String)> = tx
                .row(
                    "SELECT version, job_id FROM queue_slots WHERE coalesce_key = ?1",
                    params![slot.key],
                    |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
                )
                .optional()
                .map_err(backend)?;
            let (version, holder_id) = now.map_or((0, None), |(v, id)| (v, Some(id)));
            if version != slot.version || holder_id != slot.holder_id {
                return Err(TableError::Conflict(format!("queue slot {}", slot.key)));
            }
            if let Some(holder) = &holder_id {
                let status: Option<String> = tx
                    .row(
                        "SELECT status FROM jobs WHERE job_id = ?1",
                        params![holder],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(backend)?;
                if status.as_deref() == Some(JobStatus::Requested.as_str()) {
                    return Err(TableError::Conflict(format!(
                        "queue slot {}: job {holder} is still requested",
                        slot.key
                    )));
                }
            }
            let stored = self.write_in(&tx, job, expected_version)?;
            tx.run(
                "INSERT INTO queue_slots (coalesce_key, job_id, version) VALUES (?1, ?2, ?3)
                 ON CONFLICT (coalesce_key) DO UPDATE SET job_id = excluded.job_id, version = excluded.version",
                params![slot.key, stored.job_id, (version + 1) as i64],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            stored
        };
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

    async fn renew_lease(&self, job_id: &str, version: u64, until: DateTime<Utc>) -> Result<(), TableError> {
        // A lease is no event: the row changes in place, without a stream record.
        let changed = self
            .db
            .lock()?
            .run(
                "UPDATE jobs SET item = json_set(item, '$.lease_until', ?3)
                 WHERE job_id = ?1 AND version = ?2",
                params![job_id, version as i64, crate::time::format(&until)],
            )
            .map_err(backend)?;
        if changed == 0 {
            return Err(TableError::Conflict(job_id.to_string()));
        }
        Ok(())
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

    async fn by_repo_page(
        &self,
        repo: &str,
        limit: usize,
        after: Option<&JobCursor>,
    ) -> Result<JobPage, TableError> {
        let want = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let jobs = match after {
            None => self.query(
                "SELECT item FROM jobs WHERE repo = ?1 ORDER BY created_at DESC, job_id DESC LIMIT ?2",
                &[&repo, &want],
            )?,
            Some(c) => self.query(
                "SELECT item FROM jobs WHERE repo = ?1
                   AND (created_at < ?2 OR (created_at = ?2 AND job_id < ?3))
                 ORDER BY created_at DESC, job_id DESC LIMIT ?4",
                &[&repo, &c.created_at, &c.job_id, &want],
            )?,
        };
        Ok(page_of(jobs, limit))
    }

    async fn repos(&self) -> Result<Vec<String>, TableError> {
        let conn = self.db.lock()?;
        let mut stmt = conn
            .prepare_cached("SELECT DISTINCT repo FROM jobs ORDER BY repo")
            .map_err(backend)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(backend)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(backend)
    }

    async fn sweep_candidates(&self) -> Result<Vec<Job>, TableError> {
        self.query(
            "SELECT item FROM jobs
             WHERE status IN (?1, ?2)
                OR (status IN (?3, ?4) AND json_extract(item, '$.callback_pending') = 1)
             ORDER BY created_at, job_id",
            &[
                &JobStatus::Requested.as_str(),
                &JobStatus::Started.as_str(),
                &JobStatus::Finished.as_str(),
                &JobStatus::Cancelled.as_str(),
            ],
        )
    }

    async fn remember_delivery(
        &self,
        delivery_id: &str,
        job_id: &str,
        expires_at: i64,
    ) -> Result<(), TableError> {
        let conn = self.db.lock()?;
        conn.run(
            "INSERT INTO deliveries (delivery_id, job_id, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (delivery_id) DO UPDATE SET job_id = excluded.job_id, expires_at = excluded.expires_at",
            params![delivery_id, job_id, expires_at],
        )
        .map_err(backend)?;
        Ok(())
    }

    async fn delivery(&self, delivery_id: &str) -> Result<Option<String>, TableError> {
        let conn = self.db.lock()?;
        // Expired rows are ignored (no TTL process here, as DynamoDB's is lazy).
        conn.row(
            "SELECT job_id FROM deliveries WHERE delivery_id = ?1 AND expires_at > ?2",
            params![delivery_id, chrono::Utc::now().timestamp()],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)
    }

    async fn queue_slot(&self, key: &str) -> Result<QueueSlot, TableError> {
        let conn = self.db.lock()?;
        let row: Option<(u64, String)> = conn
            .row(
                "SELECT version, job_id FROM queue_slots WHERE coalesce_key = ?1",
                params![key],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
            .map_err(backend)?;
        let Some((version, holder_id)) = row else {
            return Ok(QueueSlot::empty(key));
        };
        let item: Option<String> = conn
            .row(
                "SELECT item FROM jobs WHERE job_id = ?1",
                params![holder_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        let holder = item
            .map(|text| serde_json::from_str::<Job>(&text))
            .transpose()
            .map_err(|e| TableError::Malformed(e.to_string()))?;
        Ok(QueueSlot {
            key: key.to_string(),
            version,
            holder_id: Some(holder_id),
            holder,
        })
    }

    async fn coalesce(&self, job_id: &str, change: &NewerCommit) -> Result<Coalesced, TableError> {
        let coalesced = {
            let mut conn = self.db.lock()?;
            let tx = conn.transaction().map_err(backend)?;
            let item: Option<String> = tx
                .row("SELECT item FROM jobs WHERE job_id = ?1", params![job_id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(backend)?;
            let Some(item) = item else {
                return Err(TableError::Conflict(job_id.to_string()));
            };
            let before: Job =
                serde_json::from_str(&item).map_err(|e| TableError::Malformed(e.to_string()))?;
            if before.status != JobStatus::Requested || before.commit.commit_id == change.commit.commit_id {
                return Err(TableError::Conflict(job_id.to_string()));
            }
            let mut after = before.clone();
            change.apply(&mut after);
            let job = self.write_in(&tx, &after, Some(before.version))?;
            tx.commit().map_err(backend)?;
            Coalesced {
                superseded: before,
                job,
            }
        };
        self.db.ring();
        Ok(coalesced)
    }

    async fn enqueue(
        &self,
        job: &Job,
        expected_version: Option<u64>,
        slot: &QueueSlot,
    ) -> Result<Job, TableError> {
        self.enqueue_now(job, expected_version, slot)
    }
}

/// Reads a job out of a stream image (`NewImage`/`OldImage`).
pub fn job_from_image(image: &Value) -> Result<Job, TableError> {
    let item: serde_dynamo::Item =
        serde_json::from_value(image.clone()).map_err(|e| TableError::Malformed(e.to_string()))?;
    crate::dynamo_json::from_item(item).map_err(|e| TableError::Malformed(e.to_string()))
}
