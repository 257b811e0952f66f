//! Gitea, Gogs and GitHub `release`: a release was published.
//!
//! A release builds the commit its tag names, from the tag's archive, and
//! publishes every attached file as a download (the converter decides
//! whether one is a prebuilt site bundle). Real release payloads name only
//! the branch the tag was cut from (`target_commitish: "master"`), so the
//! commit is then looked up on the forge's API before the job is requested
//! ([`crate::release_commit`]); reading the payload stays synchronous.

use tx_shared::domain::job::CommitInfo;
use tx_shared::domain::job_request::ReleaseAsset;
use tx_shared::forges::Forge;
use tx_shared::identity::{CommitId, GitRef, RefName};

use super::{BuildTrigger, ForgeEvent, ParseError, message, own_link, repo_identity, required, tag_name};
use crate::archive::{archive_url, release_assets};
use crate::forge::Delivery;
use crate::payload::ReleaseEvent;

/// Where a release's commit comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseTarget {
    /// The payload named the commit (`target_commitish` was a SHA).
    Commit(CommitId),
    /// The payload named a branch (or nothing): the tag is looked up.
    Tag(RefName),
}

/// A release to build once its commit is known.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseTrigger {
    /// The build; its `commit.commit_id` is empty until the target is
    /// settled ([`ReleaseTrigger::with_commit`]).
    pub build: BuildTrigger,
    /// Where the commit comes from.
    pub target: ReleaseTarget,
    /// The attached files, their URLs built from the registry.
    pub assets: Vec<ReleaseAsset>,
    /// Attached files left out because their names are not safe segments.
    pub refused_assets: Vec<String>,
}

impl ReleaseTrigger {
    /// The build of `commit_id`, with the release's assets.
    pub fn with_commit(self, commit_id: &CommitId) -> (BuildTrigger, Vec<ReleaseAsset>) {
        let mut build = self.build;
        build.commit.commit_id = commit_id.to_string();
        (build, self.assets)
    }
}

/// Reads a release event; only `published`, non-draft releases are built.
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
    let tag_ref = tag_name(event, "release.tag_name", tag)?;
    let tag = tag_ref.as_str();
    let target = match release
        .target_commitish
        .as_deref()
        .map(str::trim)
        .and_then(|t| CommitId::parse_full(t).ok())
    {
        Some(commit) => ReleaseTarget::Commit(commit),
        None => ReleaseTarget::Tag(tag_ref.clone()),
    };
    let repo = repo_identity(event, forge, event_body.repository.as_ref())?;
    let (assets, refused_assets) = release_assets(forge, &repo.path(), tag, &release.assets);
    let title = message(release.name.as_deref()).unwrap_or_else(|| format!("release {tag}"));
    let build = BuildTrigger {
        forge: forge.kind,
        forge_id: forge.id.clone(),
        status_repo: repo.path(),
        source: archive_url(forge, &repo.path(), tag),
        commit: CommitInfo {
            commit_id: String::new(),
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
    };
    Ok(ForgeEvent::Release(Box::new(ReleaseTrigger {
        build,
        target,
        assets,
        refused_assets,
    })))
}
