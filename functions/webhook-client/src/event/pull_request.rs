//! Gitea, Gogs and GitHub `pull_request`: previews. Opening, pushing to
//! (`synchronize`) or reopening a pull request builds its head commit as ref
//! `pr/<n>`; closing it (merged or not) takes the preview's entry point down.

use tx_shared::domain::job::CommitInfo;
use tx_shared::domain::project::RefRemoval;
use tx_shared::forges::Forge;
use tx_shared::identity::GitRef;

use super::{BuildTrigger, ForgeEvent, ParseError, RefRemovalTrigger, commit_sha, repo_identity, required};
use crate::archive::archive_url;
use crate::forge::Delivery;
use crate::payload::PullRequestEvent;

/// What an action asks of the preview.
enum Action {
    Build,
    Remove,
    Nothing,
}

fn action_of(action: &str) -> Action {
    match action {
        "opened" | "synchronize" | "synchronized" | "reopened" => Action::Build,
        "closed" => Action::Remove,
        _ => Action::Nothing,
    }
}

/// Reads a pull request event.
pub fn parse(delivery: &Delivery, forge: &Forge, pr: PullRequestEvent) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let action = required(event, "action", pr.action.as_deref())?;
    let request = pr.pull_request.as_ref();
    let number = pr
        .number
        .or_else(|| request.and_then(|r| r.number))
        .ok_or_else(|| ParseError::Missing {
            event: event.to_string(),
            field: "number",
        })?;
    let git_ref = GitRef::pull_request(&number.to_string()).map_err(|_| ParseError::Invalid {
        event: event.to_string(),
        field: "number",
        value: number.to_string(),
    })?;
    let build = match action_of(action) {
        Action::Build => true,
        Action::Remove => false,
        Action::Nothing => {
            return Ok(ForgeEvent::Ignored(format!("ignored: pull_request {action}")));
        }
    };
    let repo = repo_identity(event, forge, pr.repository.as_ref())?;
    if !build {
        return Ok(ForgeEvent::RemoveRef(Box::new(RefRemovalTrigger {
            status_repo: repo.path(),
            owner: repo.owner,
            repo: repo.name,
            git_ref,
            removed: RefRemoval::Closed,
        })));
    }
    let head = request.and_then(|r| r.head.as_ref());
    let sha = required(
        event,
        "pull_request.head.sha",
        head.and_then(|h| h.sha.as_deref()),
    )?;
    let commit_id = commit_sha(event, "pull_request.head.sha", sha)?;
    let title = request.and_then(|r| r.title.as_deref()).map(str::trim);
    Ok(ForgeEvent::Build(Box::new(BuildTrigger {
        forge: forge.kind,
        forge_id: forge.id.clone(),
        status_repo: repo.path(),
        // The base repository serves its pull requests' commits, a fork's
        // included, so the archive URL is built from it like any other.
        source: archive_url(forge, &repo.path(), &commit_id),
        commit: CommitInfo {
            committed_by: request
                .and_then(|r| r.user.as_ref())
                .or(pr.sender.as_ref())
                .and_then(|u| u.handle())
                .map(str::to_string),
            commit_url: Some(format!("{}/commit/{commit_id}", repo.html_url)),
            compare_url: Some(format!("{}/pulls/{number}", repo.html_url)),
            commit_message: title.filter(|t| !t.is_empty()).map(|t| format!("#{number} {t}")),
            commit_id,
        },
        owner: repo.owner,
        repo: repo.name,
        repo_url: repo.html_url,
        git_ref,
        delivery_id: delivery.delivery_id.clone(),
    })))
}
