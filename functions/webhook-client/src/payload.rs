//! The parts of the forges' webhook payloads the client reads.
//!
//! Forges add, rename and null out fields between versions, so every field is
//! optional and `null` reads as absent: a payload is refused only when the
//! fields a build needs are missing, never because of a field we ignore.

use serde::{Deserialize, Deserializer};

/// Reads `null` as the type's default (forges send `"commits": null`).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A forge account (owner, pusher, sender, release author).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct User {
    /// GitHub and Gitea login.
    pub login: Option<String>,
    /// Gogs and Gitea user name.
    pub username: Option<String>,
    /// Display name (GitHub pushers have only this and `email`).
    pub name: Option<String>,
    /// Gitea/Gogs display name.
    pub full_name: Option<String>,
}

impl User {
    /// The account's handle, whichever field this forge filled.
    pub fn handle(&self) -> Option<&str> {
        [&self.username, &self.login, &self.name, &self.full_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|s| !s.trim().is_empty())
    }
}

/// A commit's author or committer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Person {
    /// Display name.
    pub name: Option<String>,
    /// Forge user name (absent or empty for unknown e-mail addresses).
    pub username: Option<String>,
}

impl Person {
    /// The forge user name when known, else the display name.
    pub fn display(&self) -> Option<&str> {
        [&self.username, &self.name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|s| !s.trim().is_empty())
    }
}

/// One commit of a push.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Commit {
    /// Full SHA.
    pub id: Option<String>,
    /// Commit message.
    pub message: Option<String>,
    /// Browse URL of the commit.
    pub url: Option<String>,
    /// Who wrote it.
    pub author: Option<Person>,
    /// Who committed it.
    pub committer: Option<Person>,
}

/// The repository of a Gitea, Gogs or GitHub event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Repository {
    /// Repository name.
    pub name: Option<String>,
    /// `owner/name`.
    pub full_name: Option<String>,
    /// Browse URL.
    pub html_url: Option<String>,
    /// GitHub: the API URL of the repository (the browse URL in push events).
    pub url: Option<String>,
    /// Owner account.
    pub owner: Option<User>,
}

/// Gitea, Gogs and GitHub `push`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Push {
    /// `refs/heads/…` or `refs/tags/…`.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// The ref's old commit (zeros when created).
    pub before: Option<String>,
    /// The ref's new commit (zeros when deleted).
    pub after: Option<String>,
    /// Gitea/Gogs comparison link.
    pub compare_url: Option<String>,
    /// GitHub comparison link.
    pub compare: Option<String>,
    /// GitHub: the ref was deleted.
    #[serde(deserialize_with = "nullable")]
    pub deleted: bool,
    /// Pushed commits.
    #[serde(deserialize_with = "nullable")]
    pub commits: Vec<Commit>,
    /// The commit the ref now points at (Gitea, GitHub).
    pub head_commit: Option<Commit>,
    /// The repository.
    pub repository: Option<Repository>,
    /// Who pushed.
    pub pusher: Option<User>,
    /// Who triggered the hook.
    pub sender: Option<User>,
}

/// Gitea, Gogs and GitHub `create` (a branch or tag was created).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Create {
    /// Short ref name (`v1.0`, `master`).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// `branch` or `tag`.
    pub ref_type: Option<String>,
    /// Commit of the new ref (Gitea, Gogs for tags; GitHub never sends it).
    pub sha: Option<String>,
    /// The repository.
    pub repository: Option<Repository>,
    /// Who created it.
    pub sender: Option<User>,
}

/// A file attached to a release.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Asset {
    /// File name.
    pub name: Option<String>,
    /// Download URL.
    pub browser_download_url: Option<String>,
    /// Bytes, as the forge reports them (GitHub and Gitea `size`).
    pub size: Option<u64>,
}

/// The release of a `release` event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Release {
    /// The tag the release is made from.
    pub tag_name: Option<String>,
    /// Branch or commit the tag was made from.
    pub target_commitish: Option<String>,
    /// Release title.
    pub name: Option<String>,
    /// Release notes.
    pub body: Option<String>,
    /// Browse URL of the release.
    pub html_url: Option<String>,
    /// Not yet public.
    #[serde(deserialize_with = "nullable")]
    pub draft: bool,
    /// Who published it.
    pub author: Option<User>,
    /// Attached files.
    #[serde(deserialize_with = "nullable")]
    pub assets: Vec<Asset>,
}

/// Gitea, Gogs and GitHub `release`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReleaseEvent {
    /// `published`, `updated`, `deleted`, `created`, …
    pub action: Option<String>,
    /// The release.
    pub release: Option<Release>,
    /// The repository.
    pub repository: Option<Repository>,
    /// Who published it.
    pub sender: Option<User>,
}

/// `ping` (GitHub, when a hook is created).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Ping {
    /// GitHub's zen line.
    pub zen: Option<String>,
    /// The hook's id.
    pub hook_id: Option<u64>,
}

/// The project of a GitLab event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabProject {
    /// Display name.
    pub name: Option<String>,
    /// Browse URL.
    pub web_url: Option<String>,
    /// `namespace/…/project`.
    pub path_with_namespace: Option<String>,
}

/// A commit as GitLab describes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabCommit {
    /// Full SHA.
    pub id: Option<String>,
    /// Commit message.
    pub message: Option<String>,
    /// Browse URL.
    pub url: Option<String>,
    /// Author (GitLab sends no committer).
    pub author: Option<Person>,
}

/// GitLab `Push Hook` and `Tag Push Hook`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabPush {
    /// `push` or `tag_push`.
    pub object_kind: Option<String>,
    /// Old commit.
    pub before: Option<String>,
    /// New commit (zeros when deleted).
    pub after: Option<String>,
    /// `refs/heads/…` or `refs/tags/…`.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// The commit the ref points at (peeled for annotated tags).
    pub checkout_sha: Option<String>,
    /// Tag annotation (tag pushes).
    pub message: Option<String>,
    /// Pusher's display name.
    pub user_name: Option<String>,
    /// Pusher's user name.
    pub user_username: Option<String>,
    /// The project.
    pub project: Option<GitlabProject>,
    /// Pushed commits, oldest first.
    #[serde(deserialize_with = "nullable")]
    pub commits: Vec<GitlabCommit>,
}

/// A link attached to a GitLab release.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabLink {
    /// Link title.
    pub name: Option<String>,
    /// Target URL.
    pub url: Option<String>,
}

/// A source archive of a GitLab release.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabSource {
    /// `zip`, `tar.gz`, …
    pub format: Option<String>,
    /// Download URL.
    pub url: Option<String>,
}

/// The assets of a GitLab release.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabAssets {
    /// Attached links (packages, other files).
    #[serde(deserialize_with = "nullable")]
    pub links: Vec<GitlabLink>,
    /// The tag's source archives.
    #[serde(deserialize_with = "nullable")]
    pub sources: Vec<GitlabSource>,
}

/// GitLab `Release Hook`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabRelease {
    /// `create`, `update`, `delete`.
    pub action: Option<String>,
    /// The release's tag.
    pub tag: Option<String>,
    /// Release title.
    pub name: Option<String>,
    /// Browse URL of the release.
    pub url: Option<String>,
    /// The project.
    pub project: Option<GitlabProject>,
    /// The tagged commit.
    pub commit: Option<GitlabCommit>,
    /// Attached files and source archives.
    pub assets: Option<GitlabAssets>,
}

/// Gitea, Gogs and GitHub `pull_request`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PullRequestEvent {
    /// `opened`, `synchronize` (Gitea: `synchronized`), `reopened`, `closed`, …
    pub action: Option<String>,
    /// The pull request's number.
    pub number: Option<u64>,
    /// The pull request.
    pub pull_request: Option<PullRequest>,
    /// The repository the request is to (the base).
    pub repository: Option<Repository>,
    /// Who acted.
    pub sender: Option<User>,
}

/// The pull request of a `pull_request` event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PullRequest {
    /// Its number (also at the top level).
    pub number: Option<u64>,
    /// Its title.
    pub title: Option<String>,
    /// The proposed branch and its commit.
    pub head: Option<PullRequestHead>,
    /// Who opened it.
    pub user: Option<User>,
}

/// The head of a pull request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PullRequestHead {
    /// The head commit: what the preview builds.
    pub sha: Option<String>,
    /// The head branch's name (in the head repository, maybe a fork).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
}

/// GitLab `Merge Request Hook`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabMergeRequest {
    /// `merge_request`.
    pub object_kind: Option<String>,
    /// The project the request is to.
    pub project: Option<GitlabProject>,
    /// The request.
    pub object_attributes: Option<GitlabMergeRequestAttributes>,
}

/// What a merge request hook says about the request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GitlabMergeRequestAttributes {
    /// The request's number in its project (what `/-/merge_requests/<iid>` shows).
    pub iid: Option<u64>,
    /// `open`, `update`, `reopen`, `close`, `merge`, `approved`, …
    pub action: Option<String>,
    /// The request's title.
    pub title: Option<String>,
    /// The head commit.
    pub last_commit: Option<GitlabCommit>,
}
