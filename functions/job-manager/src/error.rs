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

impl ManagerError {
    /// The HTTP status `POST /tx/job` answers (and the in-process job API
    /// reports), so both callers see the same refusal.
    pub fn status(&self) -> u16 {
        match self {
            ManagerError::Invalid(_) => 400,
            ManagerError::Table(_) => 503,
        }
    }

    /// Machine-readable code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            ManagerError::Invalid(_) => "invalid_request",
            ManagerError::Table(_) => "unavailable",
        }
    }

    /// What the caller is told (a table failure's details stay in the log).
    pub fn public_message(&self) -> String {
        match self {
            ManagerError::Invalid(m) => m.clone(),
            ManagerError::Table(_) => "the job table is unavailable; retry later".into(),
        }
    }
}
