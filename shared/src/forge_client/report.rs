//! Telling the forge how a build goes, best effort: a forge that is down, a
//! missing token or a forge without a status API is logged and never fails
//! the job stream or the callback (the build log is the record that matters).

use std::time::Duration;

use crate::ports::{CommitStatus, ForgeClient, ForgeError, StatusState};

use crate::domain::job::Job;
use crate::forges::ForgeRegistry;
use crate::identity::CommitId;

/// Upper bound on one status call, whatever the client's own timeouts.
const REPORT_TIMEOUT: Duration = Duration::from_secs(6);

/// Which commit on which configured forge a status is about.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusTarget {
    /// The registry entry (its API base and token are used, nothing else).
    pub forge_id: String,
    /// The repository as the status API names it.
    pub repo: String,
    /// The commit (statuses are only set on real SHAs).
    pub commit_id: String,
}

impl StatusTarget {
    /// Where `job`'s commit status goes: the registry entry its repository
    /// URL (built from the registry when the job was requested) belongs to,
    /// at the repository path below that forge's base (a GitLab project may
    /// sit in nested groups), else `owner/repo`. A job without a repository
    /// URL, or of a forge removed since, has none: the reason is the error.
    pub fn of_job(job: &Job, forges: &ForgeRegistry) -> Result<StatusTarget, String> {
        let url = job
            .repo_url
            .as_deref()
            .ok_or_else(|| "the job names no repository".to_string())?;
        let forge = forges.by_repo_url(url).map_err(|e| e.to_string())?;
        let repo = url
            .strip_prefix(forge.web_base())
            .map(|p| p.trim_matches('/'))
            .filter(|p| p.contains('/'))
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/{}", job.repo_owner, job.repo_name));
        Ok(StatusTarget {
            forge_id: forge.id.clone(),
            repo,
            commit_id: job.commit.commit_id.clone(),
        })
    }
}

/// Sets a status and logs what happened; returns whether it was set.
pub async fn report(
    forge: &dyn ForgeClient,
    target: &StatusTarget,
    state: StatusState,
    target_url: &str,
    description: &str,
) -> bool {
    if CommitId::parse_full(&target.commit_id).is_err() {
        tracing::info!(commit = %target.commit_id, "not a commit SHA (a release filed by tag); commit status not set");
        return false;
    }
    let status = CommitStatus {
        forge_id: target.forge_id.clone(),
        repo: target.repo.clone(),
        commit_id: target.commit_id.clone(),
        state,
        target_url: target_url.to_string(),
        description: description.to_string(),
    };
    let forge_id = target.forge_id.as_str();
    match tokio::time::timeout(REPORT_TIMEOUT, forge.set_status(&status)).await {
        Ok(Ok(())) => true,
        Ok(Err(e @ (ForgeError::NoToken | ForgeError::Unsupported(_)))) => {
            tracing::info!(forge = forge_id, repo = %target.repo, "commit status not set: {e}");
            false
        }
        Ok(Err(e)) => {
            tracing::warn!(forge = forge_id, repo = %target.repo, "commit status failed: {e}");
            false
        }
        Err(_) => {
            tracing::warn!(forge = forge_id, repo = %target.repo, "commit status timed out");
            false
        }
    }
}
