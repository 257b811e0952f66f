//! A verified webhook, read: a build to request, a ping, or something the
//! pipeline does not build (with the reason, so the forge's delivery log
//! explains itself).

pub mod create;
pub mod gitlab;
pub mod pull_request;
pub mod push;
pub mod release;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tx_shared::domain::job::CommitInfo;
use tx_shared::domain::job_request::JobRequest;
use tx_shared::domain::project::RefRemoval;
use tx_shared::forges::Forge;
use tx_shared::identity::{CommitId, GitRef, IdentityError, RefName, Segment};
use tx_shared::ports::ForgeKind;

use crate::forge::Delivery;
use crate::payload::{Ping, Repository};

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("payload is not valid {event} JSON: {reason}")]
    Json {
        /// The event header.
        event: String,
        /// serde's explanation (line and column).
        reason: String,
    },
    /// A field a build needs is absent or empty.
    #[error("{event} payload has no {field}")]
    Missing {
        /// The event header.
        event: String,
        /// The missing field.
        field: &'static str,
    },
    /// A field is present but unusable (a name that would escape the site
    /// folder, a commit id that is not a SHA).
    #[error("{event} payload has an invalid {field}: {value:?}")]
    Invalid {
        /// The event header.
        event: String,
        /// The field.
        field: &'static str,
        /// What it held.
        value: String,
    },
}

/// Everything the pipeline needs to know about a commit to build.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildTrigger {
    /// The forge dialect (commit status API, archive URL shape).
    pub forge: ForgeKind,
    /// The registry entry the delivery was matched to (statuses go there).
    pub forge_id: String,
    /// Forge user or organisation (a path segment of the site).
    pub owner: Segment,
    /// Repository name (a path segment of the site).
    pub repo: Segment,
    /// Browse URL of the repository, built from the registry entry.
    pub repo_url: String,
    /// The repository as the forge's API names it (`owner/repo`, or a GitLab
    /// project path).
    pub status_repo: String,
    /// The ref built (`refs/heads/master`, `refs/tags/v1`, a pull request).
    pub git_ref: GitRef,
    /// The commit and what the forge said about it.
    pub commit: CommitInfo,
    /// What the converter downloads.
    pub source: String,
    /// The forge's delivery id.
    pub delivery_id: Option<String>,
}

impl BuildTrigger {
    /// The branch name, when a branch was pushed.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.branch_name()
    }

    /// Whether a tag was pushed, created or released.
    pub fn is_tag(&self) -> bool {
        self.git_ref.is_tag()
    }

    /// The job request for this build, calling back to `callback`.
    pub fn job_request(&self, callback: String) -> JobRequest {
        JobRequest {
            repo_owner: self.owner.clone(),
            repo_name: self.repo.clone(),
            repo_url: Some(self.repo_url.clone()),
            git_ref: self.git_ref.clone(),
            commit: self.commit.clone(),
            delivery_id: self.delivery_id.clone(),
            resource_type: None,
            input_format: None,
            output_format: Some("html".to_string()),
            source: self.source.clone(),
            callback: Some(callback),
            default_branch: None,
            assets: Vec::new(),
        }
    }
}

/// What a webhook asks of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum ForgeEvent {
    /// The forge checks the hook works.
    Ping {
        /// GitHub's zen line, echoed back.
        zen: Option<String>,
    },
    /// A commit to build.
    Build(Box<BuildTrigger>),
    /// A release to build once its commit is settled (it may need a forge
    /// lookup, which the synchronous parse does not make).
    Release(Box<release::ReleaseTrigger>),
    /// A ref is gone (a branch or tag deleted, a pull request closed): its
    /// entry point goes.
    RemoveRef(Box<RefRemovalTrigger>),
    /// Nothing to build, and why (`ignored: pull_request labeled`).
    Ignored(String),
}

/// A ref whose entry point the deployer takes down.
#[derive(Debug, Clone, PartialEq)]
pub struct RefRemovalTrigger {
    /// Forge user or organisation.
    pub owner: Segment,
    /// Repository name.
    pub repo: Segment,
    /// The repository as the forge's API names it (whose secret must have
    /// signed the delivery).
    pub status_repo: String,
    /// The ref.
    pub git_ref: GitRef,
    /// Deleted or closed.
    pub removed: RefRemoval,
}

/// The repository's default branch as the payload states it
/// (`repository.default_branch`, GitLab `project.default_branch`), when it
/// is a usable branch name: the landing page follows it.
pub fn default_branch(body: &[u8]) -> Option<String> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Body {
        repository: Option<Repo>,
        project: Option<Repo>,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Repo {
        default_branch: Option<String>,
    }
    let b: Body = serde_json::from_slice(body).ok()?;
    [b.repository, b.project]
        .into_iter()
        .flatten()
        .filter_map(|r| r.default_branch)
        .find_map(|name| RefName::parse(name.trim()).ok())
        .map(|name| name.to_string())
}

/// What an unverified body claims about its origin: the repository URL whose
/// host picks the registry entry (and so the secret), and the repository's
/// path, which may have its own secret. Nothing here is trusted until the
/// signature verifies under the secret it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// `repository.html_url` (GitLab `project.web_url`); for a hook without
    /// a repository (an organisation's ping) the sender's or organisation's page.
    pub repo_url: String,
    /// `owner/repo` (GitLab `path_with_namespace`), when the body names one.
    pub repo_path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ClaimBody {
    repository: Option<ClaimRepo>,
    project: Option<ClaimRepo>,
    sender: Option<ClaimRepo>,
    organization: Option<ClaimRepo>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ClaimRepo {
    html_url: Option<String>,
    web_url: Option<String>,
    full_name: Option<String>,
    path_with_namespace: Option<String>,
}

/// Reads the [`Claim`] of a body, before its signature is checked.
pub fn claim(event: &str, body: &[u8]) -> Result<Claim, ParseError> {
    let b: ClaimBody = serde_json::from_slice(body).map_err(|e| ParseError::Json {
        event: event.to_string(),
        reason: e.to_string(),
    })?;
    let url = |r: &ClaimRepo| {
        [&r.html_url, &r.web_url]
            .into_iter()
            .flatten()
            .find(|u| !u.trim().is_empty())
            .cloned()
    };
    // GitLab also sends a legacy `repository` without a browse URL.
    let repo = [b.repository.as_ref(), b.project.as_ref()]
        .into_iter()
        .flatten()
        .find(|r| url(r).is_some());
    let repo_url = repo
        .and_then(url)
        .or_else(|| b.organization.as_ref().and_then(url))
        .or_else(|| b.sender.as_ref().and_then(url))
        .ok_or_else(|| ParseError::Missing {
            event: event.to_string(),
            field: "repository.html_url",
        })?;
    let repo_path = repo.and_then(|r| {
        [&r.full_name, &r.path_with_namespace]
            .into_iter()
            .flatten()
            .map(|p| p.trim().trim_matches('/').to_string())
            .find(|p| !p.is_empty())
    });
    Ok(Claim { repo_url, repo_path })
}

/// Reads a verified webhook body from `forge`: every URL of the build is
/// built from that registry entry.
pub fn parse(delivery: &Delivery, forge: &Forge, body: &[u8]) -> Result<ForgeEvent, ParseError> {
    let event = delivery.event.as_str();
    let value: Value = serde_json::from_slice(body).map_err(|e| ParseError::Json {
        event: event.to_string(),
        reason: e.to_string(),
    })?;
    if event.eq_ignore_ascii_case("ping") {
        let ping: Ping = typed(event, value)?;
        return Ok(ForgeEvent::Ping { zen: ping.zen });
    }
    match delivery.forge {
        ForgeKind::Gitlab => match event {
            "Push Hook" | "Tag Push Hook" => gitlab::push(delivery, forge, typed(event, value)?),
            "Release Hook" => gitlab::release(delivery, forge, typed(event, value)?),
            "Merge Request Hook" => gitlab::merge_request(delivery, forge, typed(event, value)?),
            "System Hook" => match value.get("object_kind").and_then(Value::as_str) {
                Some("push" | "tag_push") => gitlab::push(delivery, forge, typed(event, value)?),
                other => Ok(ForgeEvent::Ignored(format!(
                    "ignored: System Hook {}",
                    other.unwrap_or("?")
                ))),
            },
            other => Ok(ForgeEvent::Ignored(format!("ignored: {other}"))),
        },
        ForgeKind::Gitea | ForgeKind::Gogs | ForgeKind::Github => match event {
            "push" => push::parse(delivery, forge, typed(event, value)?),
            "create" => create::parse(delivery, forge, typed(event, value)?),
            "release" => release::parse(delivery, forge, typed(event, value)?),
            "pull_request" => pull_request::parse(delivery, forge, typed(event, value)?),
            "delete" => create::parse_delete(delivery, forge, typed(event, value)?),
            other => Ok(ForgeEvent::Ignored(format!("ignored: {other}"))),
        },
    }
}

fn typed<T: DeserializeOwned>(event: &str, value: Value) -> Result<T, ParseError> {
    serde_json::from_value(value).map_err(|e| ParseError::Json {
        event: event.to_string(),
        reason: e.to_string(),
    })
}

/// A non-empty, trimmed field or [`ParseError::Missing`].
pub(crate) fn required<'a>(
    event: &str,
    field: &'static str,
    value: Option<&'a str>,
) -> Result<&'a str, ParseError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ParseError::Missing {
            event: event.to_string(),
            field,
        })
}

/// A name as one path segment of the site (`u/<owner>/<repo>/`) and of a
/// URL built for the forge ([`Segment`]).
pub(crate) fn segment(event: &str, field: &'static str, value: &str) -> Result<Segment, ParseError> {
    Segment::parse(field, value).map_err(|e| invalid(event, field, e))
}

/// The ref a push names, when it is one the pipeline builds (a branch or a
/// tag; notes, stashes and other namespaces are not).
pub(crate) fn built_ref(full: &str) -> Option<GitRef> {
    GitRef::parse(full)
        .ok()
        .filter(|r| !matches!(r, GitRef::PullRequest(_)))
}

/// A tag name that can be placed in a built URL ([`RefName`]).
pub(crate) fn tag_name(event: &str, field: &'static str, value: &str) -> Result<RefName, ParseError> {
    RefName::parse(value).map_err(|e| invalid(event, field, e))
}

fn invalid(event: &str, field: &'static str, e: IdentityError) -> ParseError {
    ParseError::Invalid {
        event: event.to_string(),
        field,
        value: e.value,
    }
}

/// The payload's link when it is on the forge's own host, else `built`:
/// links shown to readers (commit, compare pages) never point elsewhere.
pub(crate) fn own_link(forge: &Forge, given: Option<&str>, built: String) -> String {
    given
        .map(str::trim)
        .filter(|u| forge.owns_url(u))
        .map(str::to_string)
        .unwrap_or(built)
}

/// A commit id the pipeline can build: a full SHA, lower-case.
pub(crate) fn commit_sha(event: &str, field: &'static str, value: &str) -> Result<String, ParseError> {
    CommitId::parse_full(value)
        .map(|c| c.to_string())
        .map_err(|e| invalid(event, field, e))
}

/// Who owns a Gitea/Gogs/GitHub repository, its name and its browse URL
/// (built from the registry entry, never the payload's).
pub(crate) struct RepoIdentity {
    pub owner: Segment,
    pub name: Segment,
    pub html_url: String,
}

impl RepoIdentity {
    /// `owner/repo`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

pub(crate) fn repo_identity(
    event: &str,
    forge: &Forge,
    repository: Option<&Repository>,
) -> Result<RepoIdentity, ParseError> {
    let repo = repository.ok_or_else(|| ParseError::Missing {
        event: event.to_string(),
        field: "repository",
    })?;
    let from_full = repo.full_name.as_deref().and_then(|f| f.split_once('/'));
    let owner = match from_full {
        Some((owner, _)) => owner,
        None => required(
            event,
            "repository.owner",
            repo.owner.as_ref().and_then(|o| o.handle()),
        )?,
    };
    let name = match repo.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => name,
        None => required(event, "repository.name", from_full.map(|(_, n)| n))?,
    };
    let owner = segment(event, "repository owner", owner)?;
    let name = segment(event, "repository name", name)?;
    let html_url = format!("{}/{owner}/{name}", forge.web_base());
    Ok(RepoIdentity {
        owner,
        name,
        html_url,
    })
}

/// A commit message as the build log shows it (no trailing newline).
pub(crate) fn message(text: Option<&str>) -> Option<String> {
    text.map(str::trim_end)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
}
