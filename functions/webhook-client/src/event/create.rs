//! Gitea, Gogs and GitHub `create`: a tag (or branch) was created.
//!
//! A new tag is built from the commit the payload names. A new branch, or a
//! tag without a commit id (GitHub sends none), is ignored: the push event
//! that accompanies it carries the commit and builds it.

use tx_shared::domain::job::CommitInfo;
use tx_shared::forges::Forge;

use super::{
    BuildTrigger, ForgeEvent, ParseError, RefRemovalTrigger, commit_sha, repo_identity, required, tag_name,
};
use crate::archive::archive_url;
use crate::forge::Delivery;
use crate::payload::Create;
use tx_shared::domain::project::RefRemoval;
use tx_shared::identity::GitRef;

/// Reads a create event.
pub fn parse(delivery: &Delivery, forge: &Forge, create: Create) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let name = required(event, "ref", create.git_ref.as_deref())?;
    let ref_type = create.ref_type.as_deref().unwrap_or("?");
    if ref_type != "tag" {
        return Ok(ForgeEvent::Ignored(format!(
            "ignored: create {ref_type} {name} (its push event builds it)"
        )));
    }
    let Some(sha) = create.sha.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(ForgeEvent::Ignored(format!(
            "ignored: create tag {name} names no commit (its push event builds it)"
        )));
    };
    let commit_id = commit_sha(event, "sha", sha)?;
    let repo = repo_identity(event, forge, create.repository.as_ref())?;
    let git_ref = match name.strip_prefix("refs/tags/") {
        Some(short) => GitRef::Tag(tag_name(event, "ref", short)?),
        None if name.starts_with("refs/") => {
            return Err(ParseError::Invalid {
                event: event.to_string(),
                field: "ref",
                value: name.to_string(),
            });
        }
        None => GitRef::Tag(tag_name(event, "ref", name)?),
    };
    Ok(ForgeEvent::Build(Box::new(BuildTrigger {
        forge: forge.kind,
        forge_id: forge.id.clone(),
        status_repo: repo.path(),
        source: archive_url(forge, &repo.path(), &commit_id),
        commit: CommitInfo {
            committed_by: create
                .sender
                .as_ref()
                .and_then(|u| u.handle())
                .map(str::to_string),
            commit_url: Some(format!("{}/commit/{commit_id}", repo.html_url)),
            compare_url: None,
            commit_message: Some(format!("tag {name}")),
            commit_id,
        },
        owner: repo.owner,
        repo: repo.name,
        repo_url: repo.html_url,
        git_ref,
        delivery_id: delivery.delivery_id.clone(),
    })))
}

/// Reads a `delete` event (same shape as `create`): the branch or tag's
/// entry point goes; nothing is built.
pub fn parse_delete(delivery: &Delivery, forge: &Forge, delete: Create) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let name = required(event, "ref", delete.git_ref.as_deref())?;
    let invalid = |_| ParseError::Invalid {
        event: event.to_string(),
        field: "ref",
        value: name.to_string(),
    };
    let git_ref = match delete.ref_type.as_deref() {
        Some("tag") => GitRef::tag(name.strip_prefix("refs/tags/").unwrap_or(name)).map_err(invalid)?,
        Some("branch") => {
            GitRef::branch(name.strip_prefix("refs/heads/").unwrap_or(name)).map_err(invalid)?
        }
        other => {
            return Ok(ForgeEvent::Ignored(format!(
                "ignored: delete {} {name}",
                other.unwrap_or("?")
            )));
        }
    };
    let repo = repo_identity(event, forge, delete.repository.as_ref())?;
    Ok(ForgeEvent::RemoveRef(Box::new(RefRemovalTrigger {
        status_repo: repo.path(),
        owner: repo.owner,
        repo: repo.name,
        git_ref,
        removed: RefRemoval::Deleted,
    })))
}
