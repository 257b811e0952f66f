//! [`HttpForgeClient`]: the forges' commit status APIs over HTTP, so a
//! translator sees the build's state (and a link to it) next to the commit.

use std::time::Duration;

use async_trait::async_trait;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;
use tx_shared::ports::{CommitStatus, ForgeClient, ForgeError, ForgeKind, StatusState};

/// The name the statuses are filed under on the forge.
pub const STATUS_CONTEXT: &str = "tx";

/// GitHub refuses descriptions over 140 characters.
const MAX_DESCRIPTION: usize = 140;

/// How long one status call may take; a slow forge must not hold a webhook.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets commit statuses on Gitea, GitHub and GitLab with one token.
#[derive(Clone)]
pub struct HttpForgeClient {
    http: reqwest::Client,
    token: Option<String>,
}

impl std::fmt::Debug for HttpForgeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpForgeClient")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl HttpForgeClient {
    /// A client sending `token` (`TX_FORGE_TOKEN`); without one every call
    /// answers [`ForgeError::NoToken`] and no request is made.
    pub fn new(http: reqwest::Client, token: Option<String>) -> Self {
        HttpForgeClient {
            http,
            token: token.filter(|t| !t.trim().is_empty()),
        }
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
        if status.forge == ForgeKind::Gogs {
            return Err(ForgeError::Unsupported(ForgeKind::Gogs));
        }
        let token = self.token.as_deref().ok_or(ForgeError::NoToken)?;
        let base = status.api_base.trim_end_matches('/');
        let request = match status.forge {
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
                let project = utf8_percent_encode(&status.repo, NON_ALPHANUMERIC);
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
            .timeout(STATUS_TIMEOUT)
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
}
