//! The durable event log: stream records and bucket notifications, appended in
//! the same transaction as the write they describe, read by consumers from
//! their checkpoint on. At-least-once: a consumer that stops before it saves
//! its checkpoint gets the same records again after a restart.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::Value;

use super::db::{Cached, Db, backend};
use crate::ports::TableError;

/// Source name of the job table's stream.
pub const JOB_STREAM: &str = "tx-job";

/// Source name of the CDN bucket's notifications.
pub const CDN_NOTIFICATIONS: &str = "s3:cdn";

/// One logged event.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// Position in the log (increasing, never reused).
    pub seq: i64,
    /// The record exactly as AWS would deliver it inside `Records`.
    pub record: Value,
}

/// Reader/writer of the event log.
#[derive(Clone)]
pub struct EventLog {
    db: Db,
}

impl EventLog {
    /// The log in `db`.
    pub fn new(db: Db) -> EventLog {
        EventLog { db }
    }

    /// Appends a record inside the caller's transaction. The record is built
    /// from its sequence number, which real records carry (`SequenceNumber`,
    /// `sequencer`). Callers hold the connection lock, so the next number is
    /// theirs alone.
    pub(crate) fn append_in(
        tx: &Transaction<'_>,
        source: &str,
        record_for: impl FnOnce(i64) -> Value,
    ) -> Result<i64, TableError> {
        let seq: i64 = tx
            .row("SELECT COALESCE(MAX(seq), 0) + 1 FROM events", [], |r| r.get(0))
            .map_err(backend)?;
        tx.run(
            "INSERT INTO events (seq, source, record) VALUES (?1, ?2, ?3)",
            params![seq, source, record_for(seq).to_string()],
        )
        .map_err(backend)?;
        Ok(seq)
    }

    /// Appends a record on its own (bucket notifications).
    pub fn append(&self, source: &str, record_for: impl FnOnce(i64) -> Value) -> Result<i64, TableError> {
        let seq = {
            let mut conn = self.db.lock()?;
            let tx = conn.transaction().map_err(backend)?;
            let seq = Self::append_in(&tx, source, record_for)?;
            tx.commit().map_err(backend)?;
            seq
        };
        self.db.ring();
        Ok(seq)
    }

    /// Up to `limit` records of `source` after `consumer`'s checkpoint.
    pub fn pending(
        &self,
        source: &str,
        consumer: &str,
        limit: usize,
    ) -> Result<Vec<LoggedEvent>, TableError> {
        let after = self.checkpoint_of(consumer)?;
        self.after(source, after, limit)
    }

    /// Up to `limit` records of `source` after `seq`, oldest first: what a
    /// consumer that already holds the records up to `seq` reads next.
    pub fn after(&self, source: &str, after: i64, limit: usize) -> Result<Vec<LoggedEvent>, TableError> {
        let conn = self.db.lock()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, record FROM events WHERE source = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![source, after, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, text) = row.map_err(backend)?;
            let record = serde_json::from_str(&text)
                .map_err(|e| TableError::Malformed(format!("event {seq}: {e}")))?;
            out.push(LoggedEvent { seq, record });
        }
        Ok(out)
    }

    /// Records that `consumer` has handled everything up to `seq`.
    pub fn checkpoint(&self, consumer: &str, seq: i64) -> Result<(), TableError> {
        let conn = self.db.lock()?;
        conn.run(
            "INSERT INTO checkpoints (consumer, seq) VALUES (?1, ?2)
             ON CONFLICT (consumer) DO UPDATE SET seq = max(seq, excluded.seq)",
            params![consumer, seq],
        )
        .map_err(backend)?;
        Ok(())
    }

    /// `consumer`'s checkpoint (0 before its first).
    pub fn checkpoint_of(&self, consumer: &str) -> Result<i64, TableError> {
        let conn = self.db.lock()?;
        checkpoint_of(&conn, consumer)
    }

    /// Parks a record a consumer gave up on (the local twin of a Lambda
    /// on-failure destination), so it is visible rather than lost.
    pub fn dead_letter(&self, consumer: &str, event: &LoggedEvent, reason: &str) -> Result<(), TableError> {
        let conn = self.db.lock()?;
        conn.run(
            "INSERT OR REPLACE INTO dead_letters (seq, consumer, reason, record) VALUES (?1, ?2, ?3, ?4)",
            params![event.seq, consumer, reason, event.record.to_string()],
        )
        .map_err(backend)?;
        Ok(())
    }

    /// Number of parked records of `consumer`.
    pub fn dead_letter_count(&self, consumer: &str) -> Result<i64, TableError> {
        let conn = self.db.lock()?;
        conn.row(
            "SELECT count(*) FROM dead_letters WHERE consumer = ?1",
            params![consumer],
            |r| r.get(0),
        )
        .map_err(backend)
    }

    /// Waits until something is appended.
    pub async fn wait(&self) {
        self.db.wait_for_events().await
    }
}

fn checkpoint_of(conn: &rusqlite::Connection, consumer: &str) -> Result<i64, TableError> {
    conn.row(
        "SELECT seq FROM checkpoints WHERE consumer = ?1",
        params![consumer],
        |r| r.get(0),
    )
    .optional()
    .map_err(backend)
    .map(|s| s.unwrap_or(0))
}
