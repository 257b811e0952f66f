//! The job API (`POST /tx/job`): how the webhook client (or any API client)
//! asks the job manager for a build, and what it gets back.
//!
//! Requests are signed with the callback secret (`X-Tx-Signature`), so only
//! parts of this stack can create jobs.

use serde::{Deserialize, Serialize};

use super::job::{CommitInfo, Job, commit10};
use crate::identity::{GitRef, Segment};

/// Body of `POST /tx/job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    /// Forge user or organisation.
    pub repo_owner: Segment,
    /// Repository name.
    pub repo_name: Segment,
    /// Browse URL of the repository.
    #[serde(default)]
    pub repo_url: Option<String>,
    /// The pushed ref (`refs/heads/master`, `refs/tags/v1`, `refs/pull/7/head`).
    #[serde(rename = "ref")]
    pub git_ref: GitRef,
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
    /// The repository's default branch as the forge named it (the landing
    /// page follows it); `None` when the payload did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    /// A release's assets, to publish as downloads (or, for a prebuilt site
    /// bundle, as the site). Their URLs were built from the registry entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<ReleaseAsset>,
}

/// One file attached to a release, as the converter fetches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseAsset {
    /// File name as the release shows it (a single path segment).
    pub name: String,
    /// Download URL, built from the forge registry entry and the asset id.
    pub url: String,
    /// Size the forge reported, if any (checked against the limits before download).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl JobRequest {
    /// `owner/repo/ref`: requested jobs with the same key are coalesced.
    pub fn coalesce_key(&self) -> String {
        format!("{}/{}/{}", self.repo_owner, self.repo_name, self.git_ref.full())
    }
}

/// What a request sets on the job that builds it: all of a new job's
/// request fields, and what a newer push of a ref changes in the job
/// still waiting for that ref. One value, so a job made by a request and a
/// job coalesced into by one carry the same fields, and so the job table
/// can apply it in one conditional write
/// ([`JobTable::coalesce`](crate::ports::JobTable::coalesce)) instead of
/// a read, a change and a versioned write that a burst of pushes would
/// retry many times.
#[derive(Debug, Clone, PartialEq)]
pub struct NewerCommit {
    /// `owner/repo/commit10`.
    pub identifier: String,
    /// The commit.
    pub commit: CommitInfo,
    /// The delivery that asked for it.
    pub delivery_id: Option<String>,
    /// Browse URL of the repository; `None` keeps the job's.
    pub repo_url: Option<String>,
    /// Resource type (`unknown` when the request did not say).
    pub resource_type: String,
    /// Input format (`unknown` when the request did not say).
    pub input_format: String,
    /// Output format (`html` when the request did not say).
    pub output_format: String,
    /// Where the converter fetches the source.
    pub source: String,
    /// Where the finished job is posted.
    pub callback: Option<String>,
    /// The repository's default branch; `None` keeps the job's.
    pub default_branch: Option<String>,
    /// The release's assets.
    pub assets: Vec<ReleaseAsset>,
    /// The line appended to the job's log.
    pub note: String,
}

impl NewerCommit {
    /// What `req` sets, with `note` for the log.
    pub fn of(req: &JobRequest, note: String) -> NewerCommit {
        NewerCommit {
            identifier: format!(
                "{}/{}/{}",
                req.repo_owner,
                req.repo_name,
                commit10(&req.commit.commit_id)
            ),
            commit: req.commit.clone(),
            delivery_id: req.delivery_id.clone(),
            repo_url: req.repo_url.clone(),
            resource_type: req.resource_type.clone().unwrap_or_else(|| "unknown".into()),
            input_format: req.input_format.clone().unwrap_or_else(|| "unknown".into()),
            output_format: req.output_format.clone().unwrap_or_else(|| "html".into()),
            source: req.source.clone(),
            callback: req.callback.clone(),
            default_branch: req.default_branch.clone(),
            assets: req.assets.clone(),
            note,
        }
    }

    /// Sets these fields on `job` and appends the note to its log (the
    /// version is the table's to bump).
    pub fn apply(&self, job: &mut Job) {
        job.identifier = self.identifier.clone();
        job.commit = self.commit.clone();
        job.delivery_id = self.delivery_id.clone();
        if self.repo_url.is_some() {
            job.repo_url = self.repo_url.clone();
        }
        job.resource_type = self.resource_type.clone();
        job.input_format = self.input_format.clone();
        job.output_format = self.output_format.clone();
        job.source = self.source.clone();
        job.callback = self.callback.clone();
        if self.default_branch.is_some() {
            job.default_branch = self.default_branch.clone();
        }
        job.assets = self.assets.clone();
        job.log.push(self.note.clone());
    }
}

/// A coalesced job, before and after ([`JobTable::coalesce`](crate::ports::JobTable::coalesce)).
#[derive(Debug, Clone, PartialEq)]
pub struct Coalesced {
    /// The job as it was: the commit it no longer builds.
    pub superseded: Job,
    /// The job as written.
    pub job: Job,
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
