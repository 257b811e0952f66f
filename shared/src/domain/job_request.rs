//! The job API (`POST /tx/job`): how the webhook client (or any API client)
//! asks the job manager for a build, and what it gets back.
//!
//! Requests are signed with the callback secret (`X-Tx-Signature`), so only
//! parts of this stack can create jobs.

use serde::{Deserialize, Serialize};

use super::job::{CommitInfo, Job};

/// Body of `POST /tx/job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    /// Forge user or organisation.
    pub repo_owner: String,
    /// Repository name.
    pub repo_name: String,
    /// Browse URL of the repository.
    #[serde(default)]
    pub repo_url: Option<String>,
    /// The pushed ref (`refs/heads/master`).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit to build.
    #[serde(flatten)]
    pub commit: CommitInfo,
    /// The forge's delivery id (redeliveries carry the same one).
    #[serde(default)]
    pub delivery_id: Option<String>,
    /// Resource type if known.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Input format if known.
    #[serde(default)]
    pub input_format: Option<String>,
    /// Output format (default `html`).
    #[serde(default)]
    pub output_format: Option<String>,
    /// Archive URL of the commit, or `s3://<preconvert>/<key>`.
    pub source: String,
    /// Where to POST the finished job.
    #[serde(default)]
    pub callback: Option<String>,
}

impl JobRequest {
    /// `owner/repo/ref`: requested jobs with the same key are coalesced.
    pub fn coalesce_key(&self) -> String {
        format!("{}/{}/{}", self.repo_owner, self.repo_name, self.git_ref)
    }
}

/// How the manager dealt with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobDisposition {
    /// A new job was created.
    Created,
    /// A still-requested job of the same ref now builds this commit instead.
    Coalesced,
    /// The same delivery or commit already has a job; that one is returned.
    Existing,
}

/// A build that a newer commit replaced before it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Superseded {
    /// `owner/repo/commit10` of the replaced build.
    pub identifier: String,
    /// Its full commit id.
    pub commit_id: String,
}

/// Answer of `POST /tx/job` (202) and `GET /tx/job/{id}` (200, no disposition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResponse {
    /// What happened.
    pub disposition: JobDisposition,
    /// The job as stored.
    pub job: Job,
    /// The build this request replaced, if it was coalesced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded: Option<Superseded>,
}

/// Body of every 4xx/5xx answer of the HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code (`bad_signature`, `malformed_payload`, …).
    pub error: String,
    /// What a person should know.
    pub message: String,
}
