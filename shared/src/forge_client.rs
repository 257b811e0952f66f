//! [`HttpForgeClient`]: the forges' commit status APIs over HTTP, so a
//! translator sees the build's state (and a link to it) next to the commit.
//!
//! The client is given the registry, not URLs: a status names its forge by
//! id, the URL is built from that entry's `api_url` and the validated
//! repository path and SHA, and the entry's token goes to that API host and
//! nowhere else (redirects are not followed, because a custom token header
//! such as GitLab's `PRIVATE-TOKEN` would ride along to the new host).

use std::sync::Arc;
use std::time::Duration;

use crate::forges::ForgeRegistry;
use crate::ports::{CommitStatus, ForgeClient, ForgeError, ForgeKind, StatusState, TagQuery};
use async_trait::async_trait;
use serde_json::json;

use crate::identity::{CommitId, Segment};

mod report;
mod tags;

pub use report::{StatusTarget, report};
pub use tags::TAG_TIMEOUT;

/// The name the statuses are filed under on the forge.
pub const STATUS_CONTEXT: &str = "tx";

/// GitHub refuses descriptions over 140 characters.
const MAX_DESCRIPTION: usize = 140;

/// How long one status call may take; a slow forge must not hold a webhook.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets commit statuses on Gitea, GitHub and GitLab, each with its own token.
#[derive(Clone, Debug)]
pub struct HttpForgeClient {
    http: reqwest::Client,
    forges: Arc<ForgeRegistry>,
}

impl HttpForgeClient {
    /// A client for the forges of `forges`, with its own HTTP client that
    /// follows no redirect. A forge without a token answers
    /// [`ForgeError::NoToken`] and no request is made.
    pub fn new(forges: Arc<ForgeRegistry>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(3))
            .timeout(STATUS_TIMEOUT)
            .build()?;
        Ok(HttpForgeClient { http, forges })
    }

    /// The registry entry with this id.
    fn forge(&self, id: &str) -> Option<&crate::forges::Forge> {
        self.forges.by_id(id)
    }

    /// The HTTP client (no redirects, bounded connect time).
    fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

fn gitea_state(state: StatusState) -> &'static str {
    match state {
        StatusState::Pending => "pending",
        StatusState::Success => "success",
        StatusState::Failure => "failure",
        StatusState::Error => "error",
    }
}

fn gitlab_state(state: StatusState) -> &'static str {
    match state {
        StatusState::Pending => "pending",
        StatusState::Success => "success",
        StatusState::Failure | StatusState::Error => "failed",
    }
}

fn description(text: &str) -> String {
    text.chars().take(MAX_DESCRIPTION).collect()
}

#[async_trait]
impl ForgeClient for HttpForgeClient {
    async fn set_status(&self, status: &CommitStatus) -> Result<(), ForgeError> {
        let forge = self
            .forges
            .by_id(&status.forge_id)
            .ok_or_else(|| ForgeError::UnknownForge(status.forge_id.clone()))?;
        if forge.kind == ForgeKind::Gogs {
            return Err(ForgeError::Unsupported(ForgeKind::Gogs));
        }
        let segments: Vec<&str> = status.repo.split('/').collect();
        if segments.len() < 2 || !segments.iter().all(|s| Segment::is_valid(s)) {
            return Err(ForgeError::Invalid(format!(
                "{:?} is not a repository path",
                status.repo
            )));
        }
        if CommitId::parse_full(&status.commit_id).is_err() {
            return Err(ForgeError::Invalid(format!(
                "{:?} is not a commit SHA",
                status.commit_id
            )));
        }
        let token = forge.token().map(|t| t.expose()).ok_or(ForgeError::NoToken)?;
        let base = forge.api_base();
        let request = match forge.kind {
            ForgeKind::Gitea | ForgeKind::Gogs => self
                .http
                .post(format!(
                    "{base}/repos/{}/statuses/{}",
                    status.repo, status.commit_id
                ))
                .header(http::header::AUTHORIZATION, format!("token {token}"))
                .json(&json!({
                    "state": gitea_state(status.state),
                    "target_url": status.target_url,
                    "description": description(&status.description),
                    "context": STATUS_CONTEXT,
                })),
            ForgeKind::Github => self
                .http
                .post(format!(
                    "{base}/repos/{}/statuses/{}",
                    status.repo, status.commit_id
                ))
                .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
                .header(http::header::ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .json(&json!({
                    "state": gitea_state(status.state),
                    "target_url": status.target_url,
                    "description": description(&status.description),
                    "context": STATUS_CONTEXT,
                })),
            ForgeKind::Gitlab => {
                // The path's segments are validated names; only `/` needs
                // escaping for GitLab's "URL-encoded path" project id.
                let project = status.repo.replace('/', "%2F");
                self.http
                    .post(format!("{base}/projects/{project}/statuses/{}", status.commit_id))
                    .header("PRIVATE-TOKEN", token)
                    .json(&json!({
                        "state": gitlab_state(status.state),
                        "target_url": status.target_url,
                        "description": description(&status.description),
                        "name": STATUS_CONTEXT,
                    }))
            }
        };
        let response = request
            .header(http::header::USER_AGENT, "tx-webhook-client")
            .send()
            .await
            .map_err(|e| ForgeError::Unreachable(e.to_string()))?;
        let code = response.status();
        if code.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(ForgeError::Rejected {
            status: code.as_u16(),
            body: body.chars().take(300).collect(),
        })
    }

    async fn tag_commit(&self, query: &TagQuery) -> Result<String, ForgeError> {
        self.resolve_tag(query).await
    }
}
