//! GitLab `Push Hook`, `Tag Push Hook` and `Release Hook`.
//!
//! GitLab names repositories by project path, which may sit in nested groups
//! (`group/sub/project`): the site's owner segment is the namespace with `/`
//! turned into `-`, while commit statuses use the real path.

use tx_shared::domain::job::CommitInfo;
use tx_shared::forges::Forge;

use super::{
    BuildTrigger, ForgeEvent, ParseError, built_ref, commit_sha, message, own_link, required, segment,
    tag_name,
};
use crate::archive::archive_url;
use crate::forge::Delivery;
use crate::forge_api::is_null_sha;
use crate::payload::{GitlabMergeRequest, GitlabProject, GitlabPush, GitlabRelease};
use tx_shared::identity::{CommitId, GitRef, Segment};

fn is_commit_sha(s: &str) -> bool {
    CommitId::parse_full(s).is_ok()
}

struct Project {
    owner: Segment,
    name: Segment,
    web_url: String,
    path: String,
}

fn project(event: &str, forge: &Forge, project: Option<&GitlabProject>) -> Result<Project, ParseError> {
    let p = project.ok_or_else(|| ParseError::Missing {
        event: event.to_string(),
        field: "project",
    })?;
    let path = required(
        event,
        "project.path_with_namespace",
        p.path_with_namespace.as_deref(),
    )?
    .trim_matches('/');
    let (namespace, name) = path.rsplit_once('/').ok_or_else(|| ParseError::Invalid {
        event: event.to_string(),
        field: "project.path_with_namespace",
        value: path.to_string(),
    })?;
    for group in namespace.split('/') {
        segment(event, "project namespace", group)?;
    }
    let name = segment(event, "project path", name)?;
    Ok(Project {
        owner: segment(event, "project namespace", &namespace.replace('/', "-"))?,
        web_url: format!("{}/{path}", forge.web_base()),
        name,
        path: path.to_string(),
    })
}

fn trigger(
    delivery: &Delivery,
    forge: &Forge,
    p: Project,
    git_ref: GitRef,
    commit: CommitInfo,
    source: String,
) -> BuildTrigger {
    BuildTrigger {
        forge: forge.kind,
        forge_id: forge.id.clone(),
        status_repo: p.path,
        source,
        commit,
        owner: p.owner,
        repo: p.name,
        repo_url: p.web_url,
        git_ref,
        delivery_id: delivery.delivery_id.clone(),
    }
}

/// Reads a push or tag push. A deleted branch or tag is a removal of its entry point.
pub fn push(delivery: &Delivery, forge: &Forge, push: GitlabPush) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let git_ref = required(event, "ref", push.git_ref.as_deref())?.to_string();
    let after = push.after.as_deref().map(str::trim).unwrap_or_default();
    let checkout = push
        .checkout_sha
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let deleted = is_null_sha(after) && checkout.is_none_or(is_null_sha);
    let Some(git_ref) = built_ref(&git_ref) else {
        return Ok(ForgeEvent::Ignored(format!(
            "ignored: {git_ref} is not a branch or tag"
        )));
    };
    let p = project(event, forge, push.project.as_ref())?;
    if deleted {
        return Ok(ForgeEvent::RemoveRef(Box::new(super::RefRemovalTrigger {
            owner: p.owner,
            repo: p.name,
            status_repo: p.path,
            git_ref,
            removed: tx_shared::domain::project::RefRemoval::Deleted,
        })));
    }
    let commit_id = match checkout {
        Some(sha) => commit_sha(event, "checkout_sha", sha)?,
        None => commit_sha(event, "after", required(event, "after", Some(after))?)?,
    };
    let head = push
        .commits
        .iter()
        .find(|c| {
            c.id.as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(&commit_id))
        })
        .or(push.commits.last());
    let before = push.before.as_deref().unwrap_or_default();
    let compare_url =
        (is_commit_sha(before) && is_commit_sha(after) && !is_null_sha(before) && !is_null_sha(after))
            .then(|| format!("{}/-/compare/{before}...{after}", p.web_url));
    let commit = CommitInfo {
        committed_by: head
            .and_then(|c| c.author.as_ref().and_then(|a| a.display()))
            .or(push.user_username.as_deref().filter(|u| !u.is_empty()))
            .or(push.user_name.as_deref().filter(|u| !u.is_empty()))
            .map(str::to_string),
        commit_url: Some(own_link(
            forge,
            head.and_then(|c| c.url.as_deref()),
            format!("{}/-/commit/{commit_id}", p.web_url),
        )),
        compare_url,
        commit_message: message(
            head.and_then(|c| c.message.as_deref())
                .or(push.message.as_deref()),
        ),
        commit_id,
    };
    let source = archive_url(forge, &p.path, &commit.commit_id);
    Ok(ForgeEvent::Build(Box::new(trigger(
        delivery, forge, p, git_ref, commit, source,
    ))))
}

/// Reads a release; only newly created releases are built, from the tag's
/// zip archive built from the registry. The release's links
/// (`assets.links[].url`) are typed by users and may point anywhere, and its
/// `assets.sources` URLs are payload fields too: neither is fetched.
pub fn release(delivery: &Delivery, forge: &Forge, release: GitlabRelease) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let action = release.action.as_deref().unwrap_or("?");
    if !action.eq_ignore_ascii_case("create") {
        return Ok(ForgeEvent::Ignored(format!("ignored: release {action}")));
    }
    let tag = required(event, "tag", release.tag.as_deref())?;
    let tag = tag_name(event, "tag", tag)?;
    let p = project(event, forge, release.project.as_ref())?;
    let Some(id) = release.commit.as_ref().and_then(|c| c.id.as_deref()) else {
        return Ok(ForgeEvent::Ignored(format!(
            "ignored: release {tag} names no commit; its tag push builds it"
        )));
    };
    let commit_id = commit_sha(event, "commit.id", id)?;
    let links = release.assets.as_ref().map(|a| a.links.len()).unwrap_or(0);
    if links > 0 {
        tracing::info!(
            project = %p.path,
            links,
            "release links are not fetched (they may name any host); building the tag's archive"
        );
    }
    let source = archive_url(forge, &p.path, &tag);
    let commit = CommitInfo {
        committed_by: release
            .commit
            .as_ref()
            .and_then(|c| c.author.as_ref().and_then(|a| a.display()))
            .map(str::to_string),
        commit_url: Some(own_link(
            forge,
            release.url.as_deref(),
            format!("{}/-/releases/{tag}", p.web_url),
        )),
        compare_url: None,
        commit_message: message(release.name.as_deref()).or_else(|| Some(format!("release {tag}"))),
        commit_id,
    };
    Ok(ForgeEvent::Build(Box::new(trigger(
        delivery,
        forge,
        p,
        GitRef::Tag(tag),
        commit,
        source,
    ))))
}

/// Reads a merge request hook: opening, updating or reopening a request
/// builds its head commit as `pr/<iid>`; closing or merging it takes the
/// preview's entry point down. Other actions (approvals) change nothing.
pub fn merge_request(
    delivery: &Delivery,
    forge: &Forge,
    mr: GitlabMergeRequest,
) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let attrs = mr.object_attributes.unwrap_or_default();
    let action = required(event, "object_attributes.action", attrs.action.as_deref())?;
    let iid = attrs.iid.ok_or_else(|| ParseError::Missing {
        event: event.to_string(),
        field: "object_attributes.iid",
    })?;
    let git_ref = GitRef::pull_request(&iid.to_string()).map_err(|_| ParseError::Invalid {
        event: event.to_string(),
        field: "object_attributes.iid",
        value: iid.to_string(),
    })?;
    let build = match action {
        "open" | "update" | "reopen" => true,
        "close" | "merge" => false,
        other => return Ok(ForgeEvent::Ignored(format!("ignored: merge request {other}"))),
    };
    let p = project(event, forge, mr.project.as_ref())?;
    if !build {
        return Ok(ForgeEvent::RemoveRef(Box::new(super::RefRemovalTrigger {
            owner: p.owner,
            repo: p.name,
            status_repo: p.path,
            git_ref,
            removed: tx_shared::domain::project::RefRemoval::Closed,
        })));
    }
    let head = attrs.last_commit.as_ref();
    let sha = required(
        event,
        "object_attributes.last_commit.id",
        head.and_then(|c| c.id.as_deref()),
    )?;
    let commit_id = commit_sha(event, "object_attributes.last_commit.id", sha)?;
    let commit = CommitInfo {
        committed_by: None,
        commit_url: Some(format!("{}/-/commit/{commit_id}", p.web_url)),
        compare_url: Some(format!("{}/-/merge_requests/{iid}", p.web_url)),
        commit_message: attrs
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| format!("!{iid} {t}")),
        commit_id,
    };
    let source = archive_url(forge, &p.path, &commit.commit_id);
    Ok(ForgeEvent::Build(Box::new(trigger(
        delivery, forge, p, git_ref, commit, source,
    ))))
}
