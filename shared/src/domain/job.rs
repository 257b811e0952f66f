//! The job row: the one record that follows a build from webhook to website.
//!
//! Its fields are DESIGN.md's contract for table `tx-job`. The same struct is
//! written to SQLite (as JSON) and to DynamoDB (through `serde_dynamo`), and it
//! is what stream records carry in `NewImage`/`OldImage`, so every field has a
//! stable serde name and absent options are left out rather than written null.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::convert::ConvertStages;
use super::job_request::ReleaseAsset;
use crate::identity::{GitRef, Segment};

/// Where a job is in its life. Only the job manager moves it forward, and only
/// with a conditional write, so a redelivered event can never run a job twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for the stream to start it; may still be coalesced with a newer commit.
    Requested,
    /// Claimed by a runner, which keeps its lease (`lease_until`) while it
    /// converts.
    Started,
    /// Done, whatever the result.
    Finished,
    /// Replaced by a newer commit of the same ref before it started.
    Cancelled,
}

impl JobStatus {
    /// The value stored in the `status` attribute (and matched by stream filters).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Requested => "requested",
            JobStatus::Started => "started",
            JobStatus::Finished => "finished",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

/// How a finished job went, in Door43's terms (the build log shows these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobResult {
    /// Converted with nothing to report.
    Success,
    /// Converted; some input was odd and the log says where.
    Warnings,
    /// Some files could not be converted; the rest were published.
    Errors,
    /// Nothing was published (bad source, unknown resource, crash, timeout).
    Failed,
}

impl JobResult {
    /// The value used in build logs and project.json.
    pub fn as_str(self) -> &'static str {
        match self {
            JobResult::Success => "success",
            JobResult::Warnings => "warnings",
            JobResult::Errors => "errors",
            JobResult::Failed => "failed",
        }
    }

    /// Whether readers get a site out of it.
    pub fn is_published(self) -> bool {
        !matches!(self, JobResult::Failed)
    }

    /// Derives the result from what a conversion reported.
    pub fn from_counts(success: bool, warnings: usize, errors: usize) -> JobResult {
        match (success, errors, warnings) {
            (false, _, _) => JobResult::Failed,
            (true, e, _) if e > 0 => JobResult::Errors,
            (true, 0, w) if w > 0 => JobResult::Warnings,
            _ => JobResult::Success,
        }
    }
}

/// The commit a job builds, as the forge described it. Carried on the job so the
/// build log can show who pushed what without asking the forge again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full commit SHA.
    pub commit_id: String,
    /// Display name of the committer (or pusher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_by: Option<String>,
    /// Link to the commit on the forge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
    /// Link to the forge's comparison of this push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_url: Option<String>,
    /// First line (or all) of the commit message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_message: Option<String>,
}

/// One row of `tx-job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    // identity
    /// Primary key.
    pub job_id: String,
    /// `owner/repo/commit10`: names the published folder.
    pub identifier: String,
    /// `owner/repo`: partition key of the `repo` index.
    pub repo: String,
    /// Forge user or organisation.
    pub repo_owner: Segment,
    /// Repository name.
    pub repo_name: Segment,
    /// The pushed ref (`refs/heads/master`, `refs/tags/v1`, `refs/pull/7/head`).
    #[serde(rename = "ref")]
    pub git_ref: GitRef,
    /// The commit being built, with what the forge said about it.
    #[serde(flatten)]
    pub commit: CommitInfo,
    /// `owner/repo/ref`: requested jobs with the same key are coalesced.
    pub coalesce_key: String,
    /// The forge's delivery id of the webhook that asked for this job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<String>,
    /// Browse URL of the repository on the forge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,

    // request
    /// Resource type if the requester knew it; the converter detects it otherwise.
    pub resource_type: String,
    /// Input format if known (`usfm`, `md`, `tsv`), else `unknown`.
    pub input_format: String,
    /// Output format; `html` is the only one published.
    pub output_format: String,
    /// Where the converter fetches the source (an archive URL, or `s3://bucket/key`).
    pub source: String,
    /// Where the manager POSTs the finished job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
    /// The repository's default branch, as the forge named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    /// A release's assets (see [`ReleaseAsset`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<ReleaseAsset>,
    /// The converter function chosen by the module registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convert_module: Option<String>,

    // lifecycle
    /// See [`JobStatus`].
    pub status: JobStatus,
    /// How many times a converter was started for this job.
    #[serde(default)]
    pub attempts: u32,
    /// When the job was first requested (sort key of the `repo` index).
    #[serde(with = "crate::time::millis")]
    pub created_at: DateTime<Utc>,
    /// When the latest attempt started.
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at: Option<DateTime<Utc>>,
    /// When the job finished or was cancelled.
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ended_at: Option<DateTime<Utc>>,
    /// Who holds the job's lease: the runner (a `tx serve` process, a
    /// Lambda execution environment, the sweep) that claimed it or owes its
    /// callback. Logged, so a lapsed lease names what stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<String>,
    /// Until when `runner` holds the job: a `started` job, or a callback owed,
    /// whose lease lapsed is the sweep's to run again (or post again). Short,
    /// and renewed while the work goes on ([`LEASE`]), so a killed runner's
    /// job is running again within seconds, not after the whole job timeout.
    /// Read from `deadline` too, the name rows written before leases used.
    #[serde(
        default,
        alias = "deadline",
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub lease_until: Option<DateTime<Utc>>,
    /// How often the sweep posted the callback again without an answer: its
    /// next try waits [`callback_backoff`] of this.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub callback_tries: u32,
    /// TTL attribute (epoch seconds): old rows expire by themselves.
    pub expires_at: i64,
    /// Optimistic-concurrency counter: every write bumps it, every conditional
    /// write names the version it read.
    #[serde(default)]
    pub version: u64,

    // result
    /// See [`JobResult`]; set when finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<JobResult>,
    /// One line a person reads first (why it failed, who superseded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the converter did, in order.
    #[serde(default)]
    pub log: Vec<String>,
    /// Odd input that was converted anyway (file, line, marker).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Input that could not be converted.
    #[serde(default)]
    pub errors: Vec<String>,
    /// Key of the converter's output zip in the CDN bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Set in the same write that finishes a job with a callback, cleared
    /// once the callback is delivered (or refused for good). A client that
    /// was down when the job finished would otherwise never publish the
    /// site: the sweep re-sends every callback still pending.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub callback_pending: bool,
    /// How long the converter's stages took in the attempt that finished it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<ConvertStages>,
}

/// How long a finished job's row is kept before the table's TTL removes it.
pub const JOB_RETENTION: Duration = Duration::days(90);

/// How long a claim (or an owed callback) is held without renewal. A runner
/// renews it every [`RENEW_EVERY`] while it works, so it lapses only when the
/// runner stopped: killed, crashed, or cut off from the table.
pub const LEASE: Duration = Duration::seconds(15);

/// How often a working runner renews its lease: three renewals fit in one
/// [`LEASE`], so one slow write does not let it lapse.
pub const RENEW_EVERY: Duration = Duration::seconds(5);

/// How long the sweep waits before posting an owed callback again after
/// `tries` posts without an answer: 5 s, doubling, at most 5 minutes.
pub fn callback_backoff(tries: u32) -> Duration {
    let seconds = 5i64.saturating_mul(1i64 << tries.min(6));
    Duration::seconds(seconds.min(300))
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Job {
    /// The first ten characters of the commit: the published folder's name.
    pub fn commit10(&self) -> &str {
        commit10(&self.commit.commit_id)
    }

    /// `u/<owner>/<repo>/<commit10>/`: where this build lives in the CDN and
    /// website buckets.
    pub fn site_prefix(&self) -> String {
        site_prefix(&self.repo_owner, &self.repo_name, self.commit10())
    }

    /// Whether the job is done with (finished or cancelled).
    pub fn is_terminal(&self) -> bool {
        matches!(self.status, JobStatus::Finished | JobStatus::Cancelled)
    }
}

/// The first ten characters of a commit id (all of it if shorter).
pub fn commit10(commit_id: &str) -> &str {
    let end = commit_id
        .char_indices()
        .nth(10)
        .map(|(i, _)| i)
        .unwrap_or(commit_id.len());
    &commit_id[..end]
}

/// `u/<owner>/<repo>/<commit10>/`.
pub fn site_prefix(owner: &str, repo: &str, commit10: &str) -> String {
    format!("u/{owner}/{repo}/{commit10}/")
}

/// `u/<owner>/<repo>/`: the repo's folder (project.json, landing page).
pub fn repo_prefix(owner: &str, repo: &str) -> String {
    format!("u/{owner}/{repo}/")
}

/// Key of a job's converter output in the CDN bucket.
pub fn output_key(job_id: &str) -> String {
    format!("tx/job/{job_id}.zip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit10_is_ten_chars_or_whole() {
        assert_eq!(commit10("0123456789abcdef"), "0123456789");
        assert_eq!(commit10("abc"), "abc");
    }

    #[test]
    fn result_from_counts() {
        assert_eq!(JobResult::from_counts(true, 0, 0), JobResult::Success);
        assert_eq!(JobResult::from_counts(true, 2, 0), JobResult::Warnings);
        assert_eq!(JobResult::from_counts(true, 2, 1), JobResult::Errors);
        assert_eq!(JobResult::from_counts(false, 0, 0), JobResult::Failed);
    }
}
