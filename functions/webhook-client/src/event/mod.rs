//! A verified webhook, read: a build to request, a ping, or something the
//! pipeline does not build (with the reason, so the forge's delivery log
//! explains itself).

pub mod create;
pub mod gitlab;
pub mod push;
pub mod release;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tx_shared::domain::job::CommitInfo;
use tx_shared::domain::job_request::JobRequest;
use tx_shared::ports::ForgeKind;

use crate::forge::Delivery;
use crate::forge_api;
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
    /// Forge user or organisation (a path segment of the site).
    pub owner: String,
    /// Repository name (a path segment of the site).
    pub repo: String,
    /// Browse URL of the repository (its host is checked against the allowed hosts).
    pub repo_url: String,
    /// The forge's API base for commit statuses, when it could be derived.
    pub api_base: Option<String>,
    /// The repository as the status API names it.
    pub status_repo: String,
    /// The full ref (`refs/heads/master`, `refs/tags/v1`).
    pub git_ref: String,
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
        self.git_ref.strip_prefix("refs/heads/")
    }

    /// Whether a tag was pushed, created or released.
    pub fn is_tag(&self) -> bool {
        self.git_ref.starts_with("refs/tags/")
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
    /// Nothing to build, and why (`ignored: pull_request`).
    Ignored(String),
}

/// Reads a verified webhook body.
pub fn parse(delivery: &Delivery, body: &[u8]) -> Result<ForgeEvent, ParseError> {
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
            "Push Hook" | "Tag Push Hook" => gitlab::push(delivery, typed(event, value)?),
            "Release Hook" => gitlab::release(delivery, typed(event, value)?),
            "System Hook" => match value.get("object_kind").and_then(Value::as_str) {
                Some("push" | "tag_push") => gitlab::push(delivery, typed(event, value)?),
                other => Ok(ForgeEvent::Ignored(format!(
                    "ignored: System Hook {}",
                    other.unwrap_or("?")
                ))),
            },
            other => Ok(ForgeEvent::Ignored(format!("ignored: {other}"))),
        },
        ForgeKind::Gitea | ForgeKind::Gogs | ForgeKind::Github => match event {
            "push" => push::parse(delivery, typed(event, value)?),
            "create" => create::parse(delivery, typed(event, value)?),
            "release" => release::parse(delivery, typed(event, value)?),
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

/// Checks that a name can be one path segment of the site (`u/<owner>/<repo>/`).
pub(crate) fn segment(event: &str, field: &'static str, value: &str) -> Result<String, ParseError> {
    let bad = value.is_empty()
        || value == "."
        || value == ".."
        || value.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        Err(ParseError::Invalid {
            event: event.to_string(),
            field,
            value: value.to_string(),
        })
    } else {
        Ok(value.to_string())
    }
}

/// A commit id the pipeline can build: a full SHA.
pub(crate) fn commit_sha(event: &str, field: &'static str, value: &str) -> Result<String, ParseError> {
    if forge_api::is_commit_sha(value) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ParseError::Invalid {
            event: event.to_string(),
            field,
            value: value.to_string(),
        })
    }
}

/// Who owns a Gitea/Gogs/GitHub repository, its name and its browse URL.
pub(crate) struct RepoIdentity {
    pub owner: String,
    pub name: String,
    pub html_url: String,
    /// GitHub's `repository.url` (the API URL outside push events).
    pub api_url: Option<String>,
}

pub(crate) fn repo_identity(
    event: &str,
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
    let html_url = required(event, "repository.html_url", repo.html_url.as_deref())?;
    Ok(RepoIdentity {
        owner: segment(event, "repository owner", owner)?,
        name: segment(event, "repository name", name)?,
        html_url: html_url.trim_end_matches('/').to_string(),
        api_url: repo.url.clone(),
    })
}

/// A commit message as the build log shows it (no trailing newline).
pub(crate) fn message(text: Option<&str>) -> Option<String> {
    text.map(str::trim_end)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
}
