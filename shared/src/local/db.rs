//! The embedded runtime's SQLite database: tables, the durable event log and
//! the consumers' checkpoints live in one file, so a row and the stream record
//! of its change are committed in the same transaction.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;
use tokio::sync::Notify;

use crate::ports::TableError;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS jobs (
    job_id     TEXT PRIMARY KEY,
    repo       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    item       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_repo_created ON jobs (repo, created_at);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
-- One row per coalescing key (owner/repo/ref): the job last queued under it.
-- Not a job and not streamed; see tx_shared::ports::QueueSlot.
CREATE TABLE IF NOT EXISTS queue_slots (
    coalesce_key TEXT PRIMARY KEY,
    job_id       TEXT NOT NULL,
    version      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS manifests (
    repo TEXT PRIMARY KEY,
    item TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_source_seq ON events (source, seq);
CREATE TABLE IF NOT EXISTS checkpoints (
    consumer TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq      INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    reason   TEXT NOT NULL,
    record   TEXT NOT NULL,
    PRIMARY KEY (consumer, seq)
);
";

/// A shared handle on the database, plus a bell rung after every appended
/// event so the router delivers at once instead of at its next poll.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    bell: Arc<Notify>,
}

impl Db {
    /// Opens (creating if needed) the database file and its schema.
    pub fn open(path: &Path) -> Result<Db, TableError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            bell: Arc::new(Notify::new()),
        })
    }

    /// Locks the connection. SQLite calls here are short (single rows, small
    /// batches), so a plain mutex held across one call is enough.
    pub fn lock(&self) -> Result<MutexGuard<'_, Connection>, TableError> {
        self.conn
            .lock()
            .map_err(|_| TableError::Backend("database mutex poisoned".into()))
    }

    /// Wakes whoever waits for new events.
    pub fn ring(&self) {
        self.bell.notify_waiters();
        self.bell.notify_one();
    }

    /// Waits until an event is appended (or returns at once if one was
    /// appended since the last wait).
    pub async fn wait_for_events(&self) {
        self.bell.notified().await;
    }
}

/// Statements through each connection's prepared-statement cache: a
/// webhook runs the same dozen statements every time, so each SQL text is
/// parsed once per connection instead of once per call.
pub(crate) trait Cached {
    /// `execute` of a cached statement.
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize>;
    /// `query_row` of a cached statement.
    fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Maps SQLite errors to the ports' backend error.
pub(crate) fn backend(e: rusqlite::Error) -> TableError {
    TableError::Backend(format!("sqlite: {e}"))
}

/// Runs a query whose first column is a row stored as JSON, and reads each
/// row back into `T` (both local tables store their items this way).
pub(crate) fn query_items<T: serde::de::DeserializeOwned>(
    db: &Db,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<T>, TableError> {
    let conn = db.lock()?;
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(args, |r| r.get::<_, String>(0)).map_err(backend)?;
    rows.map(|row| {
        let text = row.map_err(backend)?;
        serde_json::from_str(&text).map_err(|e| TableError::Malformed(e.to_string()))
    })
    .collect()
}
