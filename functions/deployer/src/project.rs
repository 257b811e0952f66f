//! `u/<owner>/<repo>/project.json`: every build of a repository, derived from
//! the job table each time (never read, changed and written back, so two
//! deployers at once cannot drop a build).

use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::job::Job;
use tx_shared::domain::project::{ProjectCommit, ProjectIndex};
use tx_shared::identity::{GitRef, RefKind};
use tx_shared::ports::JobTable;

use crate::error::DeployError;

/// Most builds a project lists (the job table's TTL keeps far fewer anyway).
pub const MAX_BUILDS: usize = 1000;

/// Name of the project file in a repo's folder.
pub const PROJECT_JSON: &str = "project.json";

/// The project index of `owner/repo`, from the job table. `current` is
/// the build being deployed: listed even when its row is not (yet, or no
/// longer) in the table, so the page a reader just reached is always there.
pub async fn derive_project(
    jobs: &dyn JobTable,
    owner: &str,
    repo: &str,
    current: Option<&BuildLog>,
) -> Result<ProjectIndex, DeployError> {
    let rows: Vec<Job> = jobs.by_repo(&format!("{owner}/{repo}"), MAX_BUILDS).await?;
    let repo_url = rows
        .iter()
        .find_map(|j| j.repo_url.clone())
        .or_else(|| current.and_then(|l| l.repo_url.clone()))
        .unwrap_or_default();
    let mut index = ProjectIndex::from_jobs(owner, repo, &repo_url, &rows);
    if let Some(log) = current
        && !index.commits.iter().any(|c| c.job_id == log.job_id)
    {
        let git_ref = GitRef::parse(&log.git_ref).ok();
        index.commits.push(ProjectCommit {
            id: tx_shared::domain::job::commit10(&log.commit_id).to_string(),
            ref_name: git_ref.as_ref().map_or_else(|| log.git_ref.clone(), GitRef::name),
            ref_kind: git_ref.as_ref().map_or(RefKind::Branch, GitRef::kind),
            created_at: log.created_at,
            status: log.status,
            success: log.success,
            started_at: log.started_at,
            ended_at: log.ended_at,
            job_id: log.job_id.clone(),
        });
        index.commits.sort_by(ProjectCommit::push_order);
    }
    Ok(index)
}

/// Whether a build of the index left readers a site.
pub fn is_published(status: DisplayStatus) -> bool {
    matches!(
        status,
        DisplayStatus::Success | DisplayStatus::Warnings | DisplayStatus::Errors
    )
}
