//! Why a webhook or callback was not accepted, and which HTTP answer says so.
//!
//! Every failure becomes a JSON `{"error", "message"}` body with a status the
//! caller can act on: 4xx means "do not send this again", 5xx means "try again
//! later" (forges and the job manager redeliver on 5xx).

use lambda_http::{Body, Response};
use tx_shared::api;
use tx_shared::forges::Unconfigured;
use tx_shared::ports::{JobApiError, StoreError, TableError};

use crate::unpack::UnpackError;

/// A request the client could not (or would not) handle.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The signature header is missing or does not match the body.
    #[error("{0}")]
    BadSignature(String),
    /// The body is larger than the client accepts.
    #[error("body of {size} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// Size of the body received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// No forge event header names the forge and the event.
    #[error("{0}")]
    UnknownForge(String),
    /// The body is not the JSON the event header promises.
    #[error("{0}")]
    Malformed(String),
    /// The delivery's repository is on a host no registry entry names.
    #[error(transparent)]
    NotConfigured(Unconfigured),
    /// A callback for a job that is not finished.
    #[error("{0}")]
    NotFinished(String),
    /// The forge's API did not answer a lookup the build needs (a
    /// release's tag): 502, the forge may redeliver.
    #[error("{0}")]
    ForgeApi(String),
    /// The job manager could not be reached or did not answer in time.
    #[error(transparent)]
    JobApi(#[from] JobApiError),
    /// The CDN bucket refused a read or write.
    #[error("CDN bucket: {0}")]
    Store(#[from] StoreError),
    /// The manifest table refused a write.
    #[error("manifest table: {0}")]
    Table(#[from] TableError),
    /// Unpacking failed for a reason worth retrying (storage, temp files).
    #[error("unpacking the output: {0}")]
    Unpack(UnpackError),
}

impl ClientError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            ClientError::BadSignature(_) => 401,
            ClientError::TooLarge { .. } => 413,
            ClientError::UnknownForge(_) | ClientError::Malformed(_) | ClientError::NotFinished(_) => 400,
            ClientError::NotConfigured(_) => 403,
            ClientError::ForgeApi(_) => 502,
            ClientError::JobApi(e) => e.status(),
            ClientError::Store(_) | ClientError::Table(_) | ClientError::Unpack(_) => 500,
        }
    }

    /// The machine-readable `error` code of the answer.
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::BadSignature(_) => "bad_signature",
            ClientError::TooLarge { .. } => "payload_too_large",
            ClientError::UnknownForge(_) => "unknown_forge",
            ClientError::Malformed(_) => "malformed_payload",
            ClientError::NotConfigured(_) => "forge_not_configured",
            ClientError::NotFinished(_) => "job_not_finished",
            ClientError::ForgeApi(_) => "forge_api_failed",
            ClientError::JobApi(e) => e.code(),
            ClientError::Store(_) => "storage_unavailable",
            ClientError::Table(_) => "table_unavailable",
            ClientError::Unpack(_) => "unpack_failed",
        }
    }

    /// The JSON answer. A delivery from an unconfigured forge also names the
    /// host and the entry to add, so whoever set up the hook can tell the
    /// operator exactly what is missing.
    pub fn into_response(self) -> Response<Body> {
        if let ClientError::NotConfigured(u) = &self {
            return api::json(
                403,
                &serde_json::json!({
                    "error": self.code(),
                    "message": self.to_string(),
                    "host": u.host,
                    "configure": {
                        "where": u.origin,
                        "entry": {
                            "id": "<a name>",
                            "kind": "gitea|gogs|github|gitlab",
                            "url": u.url,
                            "secret": "<the webhook's secret>",
                        },
                    },
                }),
            );
        }
        api::error(self.status(), self.code(), self.to_string())
    }
}
