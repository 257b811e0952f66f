//! Telling the forge how a build goes, best effort: a forge that is down, a
//! missing token or a forge without a status API is logged and never fails
//! the webhook or the callback (the build log is the record that matters).

use std::time::Duration;

use tx_shared::ports::{CommitStatus, ForgeClient, ForgeError, ForgeKind, StatusState};

use crate::forge::forge_name;
use crate::forge_api;

/// Upper bound on one status call, whatever the client's own timeouts.
const REPORT_TIMEOUT: Duration = Duration::from_secs(6);

/// Which commit on which forge a status is about.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusTarget {
    /// The forge dialect.
    pub forge: ForgeKind,
    /// The API base, if derivable.
    pub api_base: Option<String>,
    /// The repository as the status API names it.
    pub repo: String,
    /// The commit (statuses are only set on real SHAs).
    pub commit_id: String,
}

impl StatusTarget {
    /// The target of a job, rebuilt from its stored fields at callback time.
    pub fn of_job(
        forge: ForgeKind,
        repo_url: Option<&str>,
        owner: &str,
        repo: &str,
        commit_id: &str,
    ) -> Self {
        StatusTarget {
            forge,
            api_base: repo_url.and_then(|u| forge_api::api_base(forge, u, None)),
            repo: forge_api::status_repo(forge, repo_url, owner, repo),
            commit_id: commit_id.to_string(),
        }
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
    let Some(api_base) = target.api_base.clone() else {
        tracing::warn!(repo = %target.repo, "no forge API base could be derived; commit status not set");
        return false;
    };
    if !forge_api::is_commit_sha(&target.commit_id) {
        tracing::info!(commit = %target.commit_id, "not a commit SHA (a release filed by tag); commit status not set");
        return false;
    }
    let status = CommitStatus {
        forge: target.forge,
        api_base,
        repo: target.repo.clone(),
        commit_id: target.commit_id.clone(),
        state,
        target_url: target_url.to_string(),
        description: description.to_string(),
    };
    match tokio::time::timeout(REPORT_TIMEOUT, forge.set_status(&status)).await {
        Ok(Ok(())) => true,
        Ok(Err(e @ (ForgeError::NoToken | ForgeError::Unsupported(_)))) => {
            tracing::info!(forge = forge_name(target.forge), repo = %target.repo, "commit status not set: {e}");
            false
        }
        Ok(Err(e)) => {
            tracing::warn!(forge = forge_name(target.forge), repo = %target.repo, "commit status failed: {e}");
            false
        }
        Err(_) => {
            tracing::warn!(forge = forge_name(target.forge), repo = %target.repo, "commit status timed out");
            false
        }
    }
}
