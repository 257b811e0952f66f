//! Local adapters for the embedded runtime (`tx serve`): SQLite tables whose
//! writes append DynamoDB-Streams records, directory buckets whose puts append
//! S3 notifications, and an in-process invoker — the same events AWS would
//! produce, from a durable log.

pub mod db;
pub mod dir_bucket;
pub mod event_log;
pub mod invoker;
pub mod job_table;
pub mod manifest_table;
pub mod stream_record;

use std::path::Path;
use std::sync::Arc;

pub use db::Db;
pub use dir_bucket::DirBucket;
pub use event_log::{CDN_NOTIFICATIONS, EventLog, JOB_STREAM, LoggedEvent};
pub use invoker::{InProcessInvoker, LocalFunction};
pub use job_table::SqliteJobTable;
pub use manifest_table::SqliteManifestTable;

use crate::config::Config;
use crate::filter::cdn_notification_matches;
use crate::ports::{StoreError, TableError};

/// Why the local backend could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database.
    #[error(transparent)]
    Table(#[from] TableError),
    /// A bucket directory.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everything the embedded runtime stores, under one data directory:
/// `tx.sqlite` and `buckets/<name>/`.
#[derive(Clone)]
pub struct LocalBackend {
    /// The event log (stream records and notifications).
    pub events: EventLog,
    /// `tx-job`.
    pub jobs: Arc<SqliteJobTable>,
    /// `tx-manifest`.
    pub manifests: Arc<SqliteManifestTable>,
    /// Sources uploaded by API clients.
    pub preconvert: Arc<DirBucket>,
    /// Converter output and build logs; notifies on `u/…/build_log.json`.
    pub cdn: Arc<DirBucket>,
    /// The published site.
    pub website: Arc<DirBucket>,
}

impl LocalBackend {
    /// Opens (or creates) the backend in `dir`, named as `config` says.
    pub fn open(dir: &Path, config: &Config) -> Result<LocalBackend, OpenError> {
        std::fs::create_dir_all(dir).map_err(StoreError::from)?;
        let db = Db::open(&dir.join("tx.sqlite"))?;
        let events = EventLog::new(db.clone());
        let buckets = dir.join("buckets");
        let cdn = DirBucket::open(&config.cdn_bucket, buckets.join(&config.cdn_bucket))?.with_notification(
            events.clone(),
            CDN_NOTIFICATIONS,
            cdn_notification_matches,
        );
        Ok(LocalBackend {
            jobs: Arc::new(SqliteJobTable::new(db.clone(), &config.job_table)),
            manifests: Arc::new(SqliteManifestTable::new(db)),
            preconvert: Arc::new(DirBucket::open(
                &config.preconvert_bucket,
                buckets.join(&config.preconvert_bucket),
            )?),
            cdn: Arc::new(cdn),
            website: Arc::new(DirBucket::open(
                &config.website_bucket,
                buckets.join(&config.website_bucket),
            )?),
            events,
        })
    }
}
