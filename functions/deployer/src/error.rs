//! The deployer's one error type.
//!
//! The split that matters is [`DeployError::is_retryable`]: a store or table
//! that could not be reached is worth another delivery of the S3 event, while a
//! bad build log or a broken template never gets better by retrying, so the
//! handler logs those and lets the event go.

use tx_shared::ports::{StoreError, TableError};

/// Why a deployment (or a local render) failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A bucket could not be read or written.
    #[error("object store: {0}")]
    Store(#[from] StoreError),
    /// The job or manifest table could not be read.
    #[error("table: {0}")]
    Table(#[from] TableError),
    /// `build_log.json` is missing or not a build log.
    #[error("build log {key}: {reason}")]
    BuildLog {
        /// Where it was read from.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The prefix or key does not name a build (`u/<owner>/<repo>/<commit10>/`).
    #[error("not a build prefix: {0:?}")]
    NotABuild(String),
    /// A template did not compile or render.
    #[error("template {name}: {source}")]
    Template {
        /// Template name.
        name: String,
        /// What minijinja said.
        #[source]
        source: minijinja::Error,
    },
    /// The converted output handed to a local render is not usable.
    #[error("converted output {path}: {reason}")]
    Converted {
        /// The zip or folder.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A document the deployer writes could not be serialised.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Local file I/O failed (local renders).
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl DeployError {
    /// Whether the same event is worth delivering again: only when a backend
    /// could not be reached. Everything else is a property of the input.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DeployError::Store(StoreError::Backend(_) | StoreError::Io(_))
                | DeployError::Table(TableError::Backend(_))
        )
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> DeployError {
        DeployError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
