//! `tx rebuild` and `tx cancel`: an operator's controls over a running tX
//! (`tx serve`, or a SAM stack's API), through its HTTP API
//! (`POST /api/builds/{job_id}/rebuild|cancel`) with the operator token.
//!
//! `tx rebuild owner/repo[@ref|@commit]` names what a translation team
//! names: the repository and, optionally, a branch, tag or commit. The
//! build to repeat is found in the paged read API
//! (`GET /api/projects/{owner}/{repo}/builds`), newest first: the newest
//! build of that commit or ref, or of the default branch.

use std::path::Path;

use anyhow::{Context, bail};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;
use tx_shared::domain::project::{ProjectCommit, ProjectIndex};
use tx_shared::http_client::{Role, client};
use tx_shared::identity::{CommitId, RefKind, RefName, RepoPath};

/// Pages of builds read, at most, to find the one to rebuild (100 each).
const MAX_PAGES: usize = 50;

/// What `tx rebuild` names: `owner/repo`, `owner/repo@ref`, `owner/repo@commit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildTarget {
    /// The repository.
    pub repo: RepoPath,
    /// The ref or commit; `None`: the default branch.
    pub at: Option<At>,
}

/// A ref or a commit after `@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// 7 to 64 hex digits: a commit (a branch so named is written `heads/…`
    /// on the forge, and is rare enough to be rebuilt by job id).
    Commit(CommitId),
    /// A branch or tag name.
    Ref(RefName),
}

impl RebuildTarget {
    /// Reads `owner/repo[@ref|@commit]`.
    pub fn parse(value: &str) -> anyhow::Result<RebuildTarget> {
        let (repo, at) = match value.split_once('@') {
            Some((repo, at)) => (repo, Some(at)),
            None => (value, None),
        };
        let Some((owner, name)) = repo.split_once('/') else {
            bail!("{value:?}: expected owner/repo[@ref|@commit]");
        };
        let repo = RepoPath::parse(owner, name)?;
        let at = match at {
            None => None,
            Some(at) => Some(match CommitId::parse(at) {
                Ok(commit) => At::Commit(commit),
                Err(_) => At::Ref(RefName::parse(at)?),
            }),
        };
        Ok(RebuildTarget { repo, at })
    }

    /// Whether `build` (of a repository whose default branch is
    /// `default_branch`) is one this target names.
    fn names(&self, build: &ProjectCommit, default_branch: &str) -> bool {
        match &self.at {
            Some(At::Commit(c)) => build.id.starts_with(c.commit10()),
            Some(At::Ref(r)) => build.ref_name == r.as_str(),
            None => build.ref_kind == RefKind::Branch && build.ref_name == default_branch,
        }
    }
}

/// An operator's session with one tX API.
#[derive(Debug, Clone)]
pub struct Operator {
    api: String,
    token: String,
    http: reqwest::Client,
}

/// One page of `GET /api/projects/{owner}/{repo}/builds`.
#[derive(Deserialize)]
struct BuildsPage {
    #[serde(flatten)]
    index: ProjectIndex,
    next_cursor: Option<String>,
}

impl Operator {
    /// A session with the API at `api` (`http://127.0.0.1:8080`).
    pub fn new(api: &str, token: &str) -> anyhow::Result<Operator> {
        Ok(Operator {
            api: api.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: client(Role::Api)?,
        })
    }

    /// Queues a new build of what `target` names; answers the API's JSON
    /// (`{disposition, job}`).
    pub async fn rebuild(&self, target: &RebuildTarget) -> anyhow::Result<Value> {
        let job_id = self.find_build(target).await?;
        self.post(&format!("/api/builds/{job_id}/rebuild")).await
    }

    /// Cancels the requested or started job `job_id`; answers `{job}`.
    pub async fn cancel(&self, job_id: &str) -> anyhow::Result<Value> {
        let job_id = tx_shared::identity::Segment::parse("job id", job_id)?;
        self.post(&format!("/api/builds/{job_id}/cancel")).await
    }

    /// The job id of the newest build `target` names.
    async fn find_build(&self, target: &RebuildTarget) -> anyhow::Result<String> {
        let base = format!(
            "{}/api/projects/{}/{}/builds?limit=100",
            self.api, target.repo.owner, target.repo.name
        );
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let url = match &cursor {
                Some(c) => format!("{base}&cursor={}", utf8_percent_encode(c, NON_ALPHANUMERIC)),
                None => base.clone(),
            };
            let page: BuildsPage = serde_json::from_value(answer(self.http.get(url).send().await).await?)
                .context("reading the builds page")?;
            let default_branch = page.index.default_branch.clone();
            if let Some(build) = page
                .index
                .commits
                .iter()
                .find(|b| target.names(b, &default_branch))
            {
                return Ok(build.job_id.clone());
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        match &target.at {
            Some(At::Commit(c)) => bail!("{}: no build of commit {}", target.repo, c.as_str()),
            Some(At::Ref(r)) => bail!("{}: no build of {}", target.repo, r.as_str()),
            None => bail!("{}: no build of its default branch", target.repo),
        }
    }

    async fn post(&self, path: &str) -> anyhow::Result<Value> {
        let request = self
            .http
            .post(format!("{}{path}", self.api))
            .bearer_auth(&self.token);
        answer(request.send().await).await
    }
}

/// The JSON of a 2xx answer, else an error with the API's own message.
async fn answer(sent: reqwest::Result<reqwest::Response>) -> anyhow::Result<Value> {
    let response = sent.context("reaching the tX API")?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no message");
        bail!("the API answered {status}: {message}");
    }
    Ok(body)
}

/// The operator token of a local `tx serve` (its data directory's
/// `secrets.json`), read without creating anything.
pub fn local_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("secrets.json");
    let bytes = std::fs::read(&path)
        .with_context(|| format!("reading {} (or give --token / TX_OPERATOR_TOKEN)", path.display()))?;
    let secrets: std::collections::HashMap<String, String> =
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
    secrets
        .get("operator")
        .cloned()
        .with_context(|| format!("{} has no operator token", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_a_repository_and_a_ref_or_commit() {
        let t = RebuildTarget::parse("door43/en_ulb").unwrap();
        assert_eq!(t.repo.to_string(), "door43/en_ulb");
        assert_eq!(t.at, None);
        let t = RebuildTarget::parse("door43/en_ulb@release/v1").unwrap();
        assert_eq!(t.at, Some(At::Ref(RefName::parse("release/v1").unwrap())));
        let t = RebuildTarget::parse("door43/en_ulb@4F2A9C1").unwrap();
        assert_eq!(t.at, Some(At::Commit(CommitId::parse("4f2a9c1").unwrap())));
        for bad in [
            "en_ulb",
            "door43/",
            "door43/en ulb",
            "door43/en_ulb@a..b",
            "../x@y",
        ] {
            assert!(RebuildTarget::parse(bad).is_err(), "{bad}");
        }
    }
}
