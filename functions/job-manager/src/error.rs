//! The job manager's typed errors.

use tx_shared::ports::TableError;

/// Why a job request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    /// The request is not something a job can be made of (HTTP 400).
    #[error("invalid job request: {0}")]
    Invalid(String),
    /// The table failed or kept losing races (HTTP 503: the caller retries).
    #[error(transparent)]
    Table(#[from] TableError),
}
