//! `project.json`: every build of a repository, newest first.
//!
//! The deployer derives it from the job table's `repo` index each time, never
//! by reading and rewriting the previous file, so two deployers running at
//! once cannot lose a build.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::build_log::DisplayStatus;
use super::job::Job;

/// One build in `project.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectCommit {
    /// `commit10`: the build's folder.
    pub id: String,
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

/// The contents of `u/<owner>/<repo>/project.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectIndex {
    /// Forge user or organisation.
    pub user: String,
    /// Repository name.
    pub repo: String,
    /// Browse URL of the repository.
    pub repo_url: String,
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
                    created_at: j.created_at,
                    status,
                    success: super::build_log::BuildLog::of(j).success,
                    started_at: j.started_at,
                    ended_at: j.ended_at,
                    job_id: j.job_id.clone(),
                }
            })
            .collect();
        commits.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.job_id.cmp(&a.job_id)));
        ProjectIndex {
            user: user.to_string(),
            repo: repo.to_string(),
            repo_url: repo_url.to_string(),
            commits,
        }
    }
}
