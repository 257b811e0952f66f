//! `project.json`: every build of a repository, newest first.
//!
//! The deployer derives it from the job table's `repo` index each time, never
//! by reading and rewriting the previous file, so two deployers running at
//! once cannot lose a build.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::build_log::DisplayStatus;
use super::job::Job;
use crate::identity::{FALLBACK_DEFAULT_BRANCHES, GitRef, RefKind};

/// One build in `project.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectCommit {
    /// `commit10`: the build's folder.
    pub id: String,
    /// The ref's short name (`master`, `v1.0`, `7`): with `ref_kind`, which
    /// entry point the build belongs to.
    #[serde(rename = "ref")]
    pub ref_name: String,
    /// Branch, tag or pull request.
    pub ref_kind: RefKind,
    /// When requested.
    #[serde(with = "crate::time::millis")]
    pub created_at: DateTime<Utc>,
    /// Display status.
    pub status: DisplayStatus,
    /// Whether it was published.
    pub success: bool,
    /// When conversion started.
    #[serde(default, with = "crate::time::millis_opt")]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    #[serde(default, with = "crate::time::millis_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The job.
    pub job_id: String,
}

impl ProjectCommit {
    /// Whether this build is of `git_ref`.
    pub fn is_of(&self, git_ref: &GitRef) -> bool {
        self.ref_kind == git_ref.kind() && self.ref_name == git_ref.name()
    }

    /// Push order on a ref: newer first (`created_at`, then job id, which
    /// breaks ties the same way everywhere).
    pub fn push_order(a: &ProjectCommit, b: &ProjectCommit) -> std::cmp::Ordering {
        b.created_at.cmp(&a.created_at).then(b.job_id.cmp(&a.job_id))
    }
}

/// The contents of `u/<owner>/<repo>/project.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectIndex {
    /// Forge user or organisation.
    pub user: String,
    /// Repository name.
    pub repo: String,
    /// Browse URL of the repository.
    pub repo_url: String,
    /// The branch the repository's landing page follows.
    pub default_branch: String,
    /// Builds, newest first.
    pub commits: Vec<ProjectCommit>,
}

impl ProjectIndex {
    /// Builds the index from the repo's jobs (any order; sorted here).
    pub fn from_jobs(user: &str, repo: &str, repo_url: &str, jobs: &[Job]) -> ProjectIndex {
        let mut commits: Vec<ProjectCommit> = jobs
            .iter()
            .map(|j| {
                let status = DisplayStatus::of(j);
                ProjectCommit {
                    id: j.commit10().to_string(),
                    ref_name: j.git_ref.name(),
                    ref_kind: j.git_ref.kind(),
                    created_at: j.created_at,
                    status,
                    success: super::build_log::BuildLog::of(j).success,
                    started_at: j.started_at,
                    ended_at: j.ended_at,
                    job_id: j.job_id.clone(),
                }
            })
            .collect();
        commits.sort_by(ProjectCommit::push_order);
        ProjectIndex {
            user: user.to_string(),
            repo: repo.to_string(),
            repo_url: repo_url.to_string(),
            default_branch: default_branch(jobs),
            commits,
        }
    }

    /// The default branch as a ref.
    pub fn default_ref(&self) -> Option<GitRef> {
        GitRef::branch(&self.default_branch).ok()
    }
}

/// The default branch the newest job that knows it says (the forge's
/// `repository.default_branch`); else `master`, unless the repository only
/// ever built `main`.
pub fn default_branch(jobs: &[Job]) -> String {
    let said = jobs
        .iter()
        .filter(|j| j.default_branch.as_deref().is_some_and(|b| !b.is_empty()))
        .max_by(|a, b| a.created_at.cmp(&b.created_at).then(a.job_id.cmp(&b.job_id)))
        .and_then(|j| j.default_branch.clone());
    if let Some(branch) = said {
        return branch;
    }
    let [master, main] = FALLBACK_DEFAULT_BRANCHES;
    let built = |name: &str| jobs.iter().any(|j| j.git_ref.branch_name() == Some(name));
    if !built(master) && built(main) {
        main.to_string()
    } else {
        master.to_string()
    }
}

/// Name of a ref record in the CDN bucket.
pub const REF_RECORD: &str = "ref.json";

/// What happened to a ref that takes its entry point away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefRemoval {
    /// The branch or tag was deleted on the forge.
    Deleted,
    /// The pull request was closed (merged or not).
    Closed,
}

/// `u/<owner>/<repo>/refs/<kind>/<name>/ref.json` in the CDN bucket: the
/// webhook client's word that a ref is gone. Only the deployer writes the
/// website, so the removal travels as this record (its creation triggers the
/// deployer); it stays, so a late build of the ref pushed before `at` never
/// brings the entry point back, while a push after it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefRecord {
    /// The ref.
    #[serde(rename = "ref")]
    pub git_ref: GitRef,
    /// Why it is gone.
    pub removed: RefRemoval,
    /// When the webhook client learnt it.
    #[serde(with = "crate::time::millis")]
    pub at: DateTime<Utc>,
}

impl RefRecord {
    /// The record's key for `git_ref` of `owner/repo`.
    pub fn key(owner: &str, repo: &str, git_ref: &GitRef) -> String {
        format!(
            "{}refs/{}{REF_RECORD}",
            super::job::repo_prefix(owner, repo),
            git_ref.entry_point()
        )
    }

    /// `(owner, repo)` of a ref record's key, when `key` is one.
    pub fn repo_of_key(key: &str) -> Option<(&str, &str)> {
        let rest = key.strip_prefix("u/")?.strip_suffix(REF_RECORD)?;
        let mut parts = rest.splitn(4, '/');
        let (owner, repo, refs) = (parts.next()?, parts.next()?, parts.next()?);
        let valid = crate::identity::Segment::is_valid;
        (refs == "refs" && valid(owner) && valid(repo) && parts.next().is_some_and(|r| r.ends_with('/')))
            .then_some((owner, repo))
    }

    /// Whether a build requested at `created_at` came after the removal (a
    /// new push of the ref), so it may bring the entry point back.
    pub fn is_before(&self, created_at: DateTime<Utc>) -> bool {
        self.at < created_at
    }
}
