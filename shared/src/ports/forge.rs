//! Forge client port: tells the forge how a commit's build went.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Which forge API dialect to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    /// Gitea (and Forgejo).
    Gitea,
    /// Gogs (no commit status API).
    Gogs,
    /// GitHub and GitHub Enterprise.
    Github,
    /// GitLab.
    Gitlab,
}

impl ForgeKind {
    /// Lower-case name, as the registry, the callback and the logs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ForgeKind::Gitea => "gitea",
            ForgeKind::Gogs => "gogs",
            ForgeKind::Github => "github",
            ForgeKind::Gitlab => "gitlab",
        }
    }

    /// The forge a name means (any case; Forgejo speaks Gitea's dialect).
    pub fn parse(name: &str) -> Option<ForgeKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "gitea" | "forgejo" => Some(ForgeKind::Gitea),
            "gogs" => Some(ForgeKind::Gogs),
            "github" => Some(ForgeKind::Github),
            "gitlab" => Some(ForgeKind::Gitlab),
            _ => None,
        }
    }
}

/// State of a commit status, in the forge-neutral words of Gitea/GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusState {
    /// Build requested or running.
    Pending,
    /// Published without errors.
    Success,
    /// Published with errors, or not published.
    Failure,
    /// The pipeline itself failed.
    Error,
}

/// A commit status to set. It names the forge by its registry id, not by a
/// URL: the client builds the API URL from the registry entry and sends that
/// entry's token to that entry's API host only (DESIGN.md § "Forges and trust").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitStatus {
    /// The forge's id in the registry.
    pub forge_id: String,
    /// `owner/repo` (GitLab: the project path).
    pub repo: String,
    /// Full commit SHA.
    pub commit_id: String,
    /// The state.
    pub state: StatusState,
    /// Link shown with the status (the build log or the site).
    pub target_url: String,
    /// Short text shown with the status.
    pub description: String,
}

/// Why the forge could not be told.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// No token is configured for this forge, so no status can be set.
    #[error("no forge token configured")]
    NoToken,
    /// The registry has no forge with this id (it was removed since).
    #[error("forge {0:?} is not in the registry")]
    UnknownForge(String),
    /// The repository or commit is not something a URL may be built from.
    #[error("{0}")]
    Invalid(String),
    /// The forge has no status API (Gogs).
    #[error("{0:?} has no commit status API")]
    Unsupported(ForgeKind),
    /// The forge answered with an error status.
    #[error("forge answered {status}: {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// First part of the body.
        body: String,
    },
    /// The forge could not be reached.
    #[error("forge unreachable: {0}")]
    Unreachable(String),
}

/// A release's tag whose commit the forge must name: a release payload
/// names only the branch it was cut from (`target_commitish`), and the build
/// is filed under the commit. Like [`CommitStatus`] it names the forge by its
/// registry id, so the API URL is built from that entry, never a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagQuery {
    /// The forge's id in the registry.
    pub forge_id: String,
    /// `owner/repo` (GitLab: the project path).
    pub repo: String,
    /// The tag, a validated ref name.
    pub tag: String,
}

/// Client of the forges' commit status and tag APIs.
#[async_trait]
pub trait ForgeClient: Send + Sync {
    /// Sets one commit status.
    async fn set_status(&self, status: &CommitStatus) -> Result<(), ForgeError>;

    /// The full SHA of the commit `query.tag` names. The default answers
    /// that this client cannot look tags up, so clients that only set
    /// statuses (test doubles) need not implement it.
    async fn tag_commit(&self, query: &TagQuery) -> Result<String, ForgeError> {
        Err(ForgeError::Invalid(format!(
            "this forge client cannot resolve tag {:?}",
            query.tag
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::ForgeKind;

    #[test]
    fn names_round_trip() {
        for f in [
            ForgeKind::Gitea,
            ForgeKind::Gogs,
            ForgeKind::Github,
            ForgeKind::Gitlab,
        ] {
            assert_eq!(ForgeKind::parse(f.as_str()), Some(f));
        }
        assert_eq!(ForgeKind::parse(" Forgejo "), Some(ForgeKind::Gitea));
        assert_eq!(ForgeKind::parse("bitbucket"), None);
    }
}
