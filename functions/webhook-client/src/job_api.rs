//! The job manager's `POST /tx/job`, from the client's side: a signed request,
//! short timeouts, and an error that says whether the forge should redeliver.
//! This is the [`JobApi`] the Lambda uses; `tx serve` calls the job manager
//! in process instead.

use std::time::Duration;

use async_trait::async_trait;
use tx_shared::config::Config;
use tx_shared::domain::job_request::{ApiError, JobRequest, JobResponse};
use tx_shared::ports::{JobApi, JobApiError};
use tx_shared::signature::{CALLBACK_SIGNATURE_HEADER, sign_hex};

use crate::urls::job_endpoint;

/// How long the whole job request may take. The forge waits 10 s at most for
/// our answer and the manager only writes one row, so 5 s is generous.
pub const JOB_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The job manager's API over HTTP, signed with the callback secret
/// (`x-tx-signature: sha256=<hex>`), which only this stack knows.
#[derive(Clone)]
pub struct HttpJobApi {
    http: reqwest::Client,
    url: String,
    secret: String,
}

impl HttpJobApi {
    /// The job API of `config.api_url`, reached with `http`.
    pub fn new(http: reqwest::Client, config: &Config) -> HttpJobApi {
        HttpJobApi {
            http,
            url: job_endpoint(&config.api_url),
            secret: config.callback_secret.clone(),
        }
    }

    fn unavailable(&self, e: &reqwest::Error) -> JobApiError {
        JobApiError::Unavailable {
            url: self.url.clone(),
            reason: error_chain(e),
        }
    }
}

#[async_trait]
impl JobApi for HttpJobApi {
    async fn request_job(&self, request: &JobRequest) -> Result<JobResponse, JobApiError> {
        let body = serde_json::to_vec(request)
            .map_err(|e| JobApiError::BadAnswer(format!("cannot encode request: {e}")))?;
        let signature = format!("sha256={}", sign_hex(self.secret.as_bytes(), &body));
        let response = self
            .http
            .post(&self.url)
            .timeout(JOB_REQUEST_TIMEOUT)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(CALLBACK_SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| self.unavailable(&e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.unavailable(&e))?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<ApiError>(&bytes)
                .map(|e| format!("{}: {}", e.error, e.message))
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned());
            return Err(JobApiError::Refused { status, message });
        }
        serde_json::from_slice(&bytes).map_err(|e| JobApiError::BadAnswer(e.to_string()))
    }
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
