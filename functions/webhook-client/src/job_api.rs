//! The job manager's `POST /tx/job`, from the client's side: a signed request,
//! short timeouts, and an error that says whether the forge should redeliver.

use std::time::Duration;

use tx_shared::config::Config;
use tx_shared::domain::job_request::{ApiError, JobRequest, JobResponse};
use tx_shared::signature::{CALLBACK_SIGNATURE_HEADER, sign_hex};

use crate::urls::job_endpoint;

/// How long the whole job request may take. The forge waits 10 s at most for
/// our answer and the manager only writes one row, so 5 s is generous.
pub const JOB_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Asks the job manager for a job. The body is signed with the callback
/// secret (`x-tx-signature: sha256=<hex>`), which only this stack knows.
pub async fn request_job(
    http: &reqwest::Client,
    config: &Config,
    request: &JobRequest,
) -> Result<JobResponse, JobApiError> {
    let url = job_endpoint(&config.api_url);
    let body = serde_json::to_vec(request)
        .map_err(|e| JobApiError::BadAnswer(format!("cannot encode request: {e}")))?;
    let signature = format!("sha256={}", sign_hex(config.callback_secret.as_bytes(), &body));
    let response = http
        .post(&url)
        .timeout(JOB_REQUEST_TIMEOUT)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(CALLBACK_SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .map_err(|e| JobApiError::Unavailable {
            url: url.clone(),
            reason: error_chain(&e),
        })?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| JobApiError::Unavailable {
        url: url.clone(),
        reason: error_chain(&e),
    })?;
    if !(200..300).contains(&status) {
        let message = serde_json::from_slice::<ApiError>(&bytes)
            .map(|e| format!("{}: {}", e.error, e.message))
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned());
        return Err(JobApiError::Refused { status, message });
    }
    serde_json::from_slice(&bytes).map_err(|e| JobApiError::BadAnswer(e.to_string()))
}

/// An error with its causes (reqwest's top-level message alone hides
/// "connection refused" and "timed out").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    let mut depth = 0;
    while let Some(s) = source
        && depth < 8
    {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
        depth += 1;
    }
    text
}
