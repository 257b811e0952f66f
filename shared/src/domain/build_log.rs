//! `build_log.json`: what a translator reads about a build.
//!
//! Written by the webhook client under `u/<owner>/<repo>/<commit10>/` in the
//! CDN bucket (first at request time, last at callback time, where its write
//! triggers the deployer), and copied to the website by the deployer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::job::{Job, JobResult, JobStatus};

/// Door43's display values of a build's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DisplayStatus {
    /// Waiting for a converter.
    Requested,
    /// Converting.
    Started,
    /// Published, nothing to report.
    Success,
    /// Published with warnings.
    Warnings,
    /// Published with errors.
    Errors,
    /// Not published.
    Failed,
    /// Replaced by a newer push before it ran.
    Cancelled,
}

impl DisplayStatus {
    /// The display value of a job in its current state.
    pub fn of(job: &Job) -> DisplayStatus {
        match (job.status, job.result) {
            (JobStatus::Requested, _) => DisplayStatus::Requested,
            (JobStatus::Started, _) => DisplayStatus::Started,
            (JobStatus::Cancelled, _) => DisplayStatus::Cancelled,
            (JobStatus::Finished, Some(JobResult::Success)) => DisplayStatus::Success,
            (JobStatus::Finished, Some(JobResult::Warnings)) => DisplayStatus::Warnings,
            (JobStatus::Finished, Some(JobResult::Errors)) => DisplayStatus::Errors,
            (JobStatus::Finished, _) => DisplayStatus::Failed,
        }
    }

    /// Whether the build is over (the deployer publishes pages only then).
    pub fn is_final(self) -> bool {
        !matches!(self, DisplayStatus::Requested | DisplayStatus::Started)
    }

    /// Stable lower-case value.
    pub fn as_str(self) -> &'static str {
        match self {
            DisplayStatus::Requested => "requested",
            DisplayStatus::Started => "started",
            DisplayStatus::Success => "success",
            DisplayStatus::Warnings => "warnings",
            DisplayStatus::Errors => "errors",
            DisplayStatus::Failed => "failed",
            DisplayStatus::Cancelled => "cancelled",
        }
    }
}

/// The contents of `build_log.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildLog {
    /// The job.
    pub job_id: String,
    /// `owner/repo/commit10`.
    pub identifier: String,
    /// Forge user or organisation.
    pub repo_owner: String,
    /// Repository name.
    pub repo_name: String,
    /// Browse URL of the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,
    /// The pushed ref.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Full commit id.
    pub commit_id: String,
    /// Who committed.
    #[serde(default)]
    pub committed_by: Option<String>,
    /// Link to the commit.
    #[serde(default)]
    pub commit_url: Option<String>,
    /// Link to the push's comparison.
    #[serde(default)]
    pub compare_url: Option<String>,
    /// The commit message.
    #[serde(default)]
    pub commit_message: Option<String>,
    /// Resource type (as requested, or as detected once converted).
    pub resource_type: String,
    /// Input format.
    pub input_format: String,
    /// Output format.
    pub output_format: String,
    /// Display status.
    pub status: DisplayStatus,
    /// Whether readers get a site out of this build (so far).
    pub success: bool,
    /// One line to read first.
    #[serde(default)]
    pub message: Option<String>,
    /// When requested.
    #[serde(with = "crate::time::millis")]
    pub created_at: DateTime<Utc>,
    /// When conversion started.
    #[serde(default, with = "crate::time::millis_opt")]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    #[serde(default, with = "crate::time::millis_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Converter attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// What was done.
    #[serde(default)]
    pub log: Vec<String>,
    /// Odd input, with file and line.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Input that failed, with file and line.
    #[serde(default)]
    pub errors: Vec<String>,
}

impl BuildLog {
    /// The build log of a job as it stands.
    pub fn of(job: &Job) -> BuildLog {
        let status = DisplayStatus::of(job);
        BuildLog {
            job_id: job.job_id.clone(),
            identifier: job.identifier.clone(),
            repo_owner: job.repo_owner.to_string(),
            repo_name: job.repo_name.to_string(),
            repo_url: job.repo_url.clone(),
            git_ref: job.git_ref.full(),
            commit_id: job.commit.commit_id.clone(),
            committed_by: job.commit.committed_by.clone(),
            commit_url: job.commit.commit_url.clone(),
            compare_url: job.commit.compare_url.clone(),
            commit_message: job.commit.commit_message.clone(),
            resource_type: job.resource_type.clone(),
            input_format: job.input_format.clone(),
            output_format: job.output_format.clone(),
            status,
            success: matches!(
                status,
                DisplayStatus::Success | DisplayStatus::Warnings | DisplayStatus::Errors
            ) || !status.is_final(),
            message: job.message.clone(),
            created_at: job.created_at,
            started_at: job.started_at,
            ended_at: job.ended_at,
            attempts: job.attempts,
            log: job.log.clone(),
            warnings: job.warnings.clone(),
            errors: job.errors.clone(),
        }
    }
}

/// Name of the build log object (and the deployer's trigger suffix).
pub const BUILD_LOG: &str = "build_log.json";

/// Key of a build's `build_log.json` in the CDN bucket (`prefix` is
/// `u/<owner>/<repo>/<commit10>/`).
pub fn build_log_key(prefix: &str) -> String {
    format!("{prefix}{BUILD_LOG}")
}

/// Public URL of a build's `build_log.json` on the CDN: what the webhook
/// answers and commit statuses link to, so they always agree.
pub fn build_log_url(cdn_url: &str, prefix: &str) -> String {
    format!("{}/{}", cdn_url.trim_end_matches('/'), build_log_key(prefix))
}
