//! Gitea, Gogs and GitHub `release`: a release was published.
//!
//! A release with an attached `.zip` is built from that bundle (translators
//! publish prebuilt bundles that way); otherwise from the tag's archive.
//! Gitea, Gogs and GitHub release payloads name a commit only when
//! `target_commitish` happens to be a SHA. Without one there is no commit to
//! file the build under (the job manager requires a commit hash), so the
//! release is ignored with that reason: the tag's own push event builds it.

use tx_shared::domain::job::CommitInfo;
use tx_shared::forges::Forge;

use super::{
    BuildTrigger, ForgeEvent, ParseError, commit_sha, message, own_link, repo_identity, required, tag_name,
};
use crate::archive::{archive_url, release_asset_url};
use crate::forge::Delivery;
use crate::payload::ReleaseEvent;
use tx_shared::identity::{CommitId, GitRef};

/// Reads a release event; only `published` releases are built.
pub fn parse(delivery: &Delivery, forge: &Forge, event_body: ReleaseEvent) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let action = event_body.action.as_deref().unwrap_or("?");
    if !action.eq_ignore_ascii_case("published") {
        return Ok(ForgeEvent::Ignored(format!("ignored: release {action}")));
    }
    let release = event_body.release.as_ref().ok_or_else(|| ParseError::Missing {
        event: event.to_string(),
        field: "release",
    })?;
    let tag = required(event, "release.tag_name", release.tag_name.as_deref())?;
    if release.draft {
        return Ok(ForgeEvent::Ignored(format!("ignored: draft release {tag}")));
    }
    let commit_id = match release.target_commitish.as_deref().map(str::trim) {
        Some(target) if CommitId::parse_full(target).is_ok() => {
            commit_sha(event, "release.target_commitish", target)?
        }
        other => {
            return Ok(ForgeEvent::Ignored(format!(
                "ignored: release {tag} names no commit (target {:?}); its tag push builds it",
                other.unwrap_or_default()
            )));
        }
    };
    let tag_ref = tag_name(event, "release.tag_name", tag)?;
    let tag = tag_ref.as_str();
    let repo = repo_identity(event, forge, event_body.repository.as_ref())?;
    let source = release_asset_url(forge, &repo.path(), tag, &release.assets)
        .unwrap_or_else(|| archive_url(forge, &repo.path(), tag));
    let title = message(release.name.as_deref()).unwrap_or_else(|| format!("release {tag}"));
    Ok(ForgeEvent::Build(Box::new(BuildTrigger {
        forge: forge.kind,
        forge_id: forge.id.clone(),
        status_repo: repo.path(),
        source,
        commit: CommitInfo {
            commit_id,
            committed_by: release
                .author
                .as_ref()
                .and_then(|u| u.handle())
                .or_else(|| event_body.sender.as_ref().and_then(|u| u.handle()))
                .map(str::to_string),
            commit_url: Some(own_link(
                forge,
                release.html_url.as_deref(),
                format!("{}/releases/tag/{tag}", repo.html_url),
            )),
            compare_url: None,
            commit_message: Some(title),
        },
        owner: repo.owner,
        repo: repo.name,
        repo_url: repo.html_url,
        git_ref: GitRef::Tag(tag_ref.clone()),
        delivery_id: delivery.delivery_id.clone(),
    })))
}
