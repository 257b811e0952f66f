//! Gitea, Gogs and GitHub `push`: a branch or tag moved to a new commit.

use tx_shared::domain::job::CommitInfo;
use tx_shared::domain::project::RefRemoval;
use tx_shared::forges::Forge;

use super::{
    BuildTrigger, ForgeEvent, ParseError, RefRemovalTrigger, built_ref, commit_sha, message, own_link,
    repo_identity, required,
};
use crate::archive::archive_url;
use crate::forge::Delivery;
use crate::forge_api::is_null_sha;
use crate::payload::{Commit, Push};
use tx_shared::identity::CommitId;

/// Reads a push. A deleted branch or tag is a removal of its entry point.
pub fn parse(delivery: &Delivery, forge: &Forge, push: Push) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let git_ref = required(event, "ref", push.git_ref.as_deref())?.to_string();
    let after = push.after.as_deref().map(str::trim).unwrap_or_default();
    let deleted = push.deleted || is_null_sha(after);
    let Some(git_ref) = built_ref(&git_ref) else {
        return Ok(ForgeEvent::Ignored(format!(
            "ignored: {git_ref} is not a branch or tag"
        )));
    };
    let repo = repo_identity(event, forge, push.repository.as_ref())?;
    if deleted {
        return Ok(ForgeEvent::RemoveRef(Box::new(RefRemovalTrigger {
            status_repo: repo.path(),
            owner: repo.owner,
            repo: repo.name,
            git_ref,
            removed: RefRemoval::Deleted,
        })));
    }
    let after = required(event, "after", Some(after))?;

    // For an annotated tag `after` is the tag object; `head_commit` is the
    // commit it points at, which is what archives and statuses want.
    let head_commit_id = push.head_commit.as_ref().and_then(|c| c.id.as_deref());
    let commit_id = match head_commit_id {
        Some(id) if git_ref.is_tag() && CommitId::parse_full(id).is_ok() => {
            commit_sha(event, "head_commit.id", id)?
        }
        _ => commit_sha(event, "after", after)?,
    };
    let head = head_of(&push, &commit_id);

    let committed_by = head
        .and_then(|c| c.committer.as_ref().and_then(|p| p.display()))
        .or_else(|| head.and_then(|c| c.author.as_ref().and_then(|p| p.display())))
        .or_else(|| push.pusher.as_ref().and_then(|u| u.handle()))
        .or_else(|| push.sender.as_ref().and_then(|u| u.handle()))
        .map(str::to_string);
    let commit_url = own_link(
        forge,
        head.and_then(|c| c.url.as_deref()),
        format!("{}/commit/{commit_id}", repo.html_url),
    );
    let compare_url = [&push.compare_url, &push.compare]
        .into_iter()
        .flatten()
        .find(|u| forge.owns_url(u))
        .map(|u| u.trim().to_string());

    Ok(ForgeEvent::Build(Box::new(BuildTrigger {
        forge: forge.kind,
        forge_id: forge.id.clone(),
        status_repo: repo.path(),
        source: archive_url(forge, &repo.path(), &commit_id),
        commit: CommitInfo {
            commit_id,
            committed_by,
            commit_url: Some(commit_url),
            compare_url,
            commit_message: message(head.and_then(|c| c.message.as_deref())),
        },
        owner: repo.owner,
        repo: repo.name,
        repo_url: repo.html_url,
        git_ref,
        delivery_id: delivery.delivery_id.clone(),
    })))
}

/// The pushed commit's description: the listed commit with that id, else
/// `head_commit`, else the last listed commit (forges list oldest first).
fn head_of<'a>(push: &'a Push, commit_id: &str) -> Option<&'a Commit> {
    let matches = |c: &&Commit| {
        c.id.as_deref()
            .is_some_and(|id| id.eq_ignore_ascii_case(commit_id))
    };
    push.commits
        .iter()
        .find(matches)
        .or(push.head_commit.as_ref())
        .or(push.commits.last())
}
