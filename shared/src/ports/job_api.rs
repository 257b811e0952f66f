//! The job API as a port: how the webhook client asks for a job. Behind API
//! Gateway it is the job manager's signed `POST /tx/job`; in one process
//! (`tx serve`) it is the job manager's own function, with no HTTP round
//! trip to itself. Both answer the same [`JobResponse`] or [`JobApiError`].

use async_trait::async_trait;

use crate::domain::job_request::{JobRequest, JobResponse};

/// Why no job was obtained. Every variant is a 5xx for the forge, so it
/// redelivers later; nothing has been written by then.
#[derive(Debug, thiserror::Error)]
pub enum JobApiError {
    /// The manager could not be reached or did not answer in time.
    #[error("job manager at {url} is unavailable: {reason}")]
    Unavailable {
        /// The endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The manager answered with an error.
    #[error("job manager refused the job ({status}): {message}")]
    Refused {
        /// Its HTTP status.
        status: u16,
        /// Its error message (or the start of its body).
        message: String,
    },
    /// The manager answered 2xx with something that is not a job response.
    #[error("job manager answered something that is not a job: {0}")]
    BadAnswer(String),
}

impl JobApiError {
    /// 503 when the manager is down or busy (the forge should retry), 502 when
    /// it answered wrongly.
    pub fn status(&self) -> u16 {
        match self {
            JobApiError::Unavailable { .. } => 503,
            JobApiError::Refused { status, .. } if *status == 503 || *status == 429 => 503,
            JobApiError::Refused { .. } | JobApiError::BadAnswer(_) => 502,
        }
    }

    /// Machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            JobApiError::Unavailable { .. } => "job_manager_unavailable",
            JobApiError::Refused { .. } => "job_manager_refused",
            JobApiError::BadAnswer(_) => "job_manager_bad_answer",
        }
    }
}

/// Creates, coalesces or finds the job for a request (DESIGN.md thread 1).
#[async_trait]
pub trait JobApi: Send + Sync {
    /// Asks for the job `request` describes.
    async fn request_job(&self, request: &JobRequest) -> Result<JobResponse, JobApiError>;
}
