//! Build identity: what a build *is* — (repository, ref, commit) — as types
//! made once, where a name first enters the pipeline, and trusted after.
//!
//! Every crate used to check names its own way (the webhook client accepted
//! owners the job manager refused, the deployer a third rule). Now a
//! [`Segment`] is the only thing that becomes one path segment of a key or
//! a built URL, a [`GitRef`] the only way a ref is read, a [`CommitId`] the
//! only commit hash. Their serde forms are the plain strings of DESIGN.md's
//! contracts, checked on the way in, so a row or request that deserialises
//! already holds valid names.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

/// Why a name is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} {why}")]
pub struct IdentityError {
    /// What was being read (`repository owner`, `ref`, `commit`).
    pub what: &'static str,
    /// The value refused.
    pub value: String,
    /// Which rule it breaks.
    pub why: &'static str,
}

impl IdentityError {
    fn new(what: &'static str, value: &str, why: &'static str) -> IdentityError {
        IdentityError {
            what,
            value: value.chars().take(200).collect(),
            why,
        }
    }
}

/// One path segment of a repository path: a user, group or repository
/// name. The characters every forge allows in those names (ASCII letters,
/// digits, `-`, `_`, `.`), at most 100, never `.` or `..`: safe as one
/// segment of an object key (`u/<owner>/<repo>/`) and of a forge URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Segment(String);

impl Segment {
    /// Reads `value` as a segment; `what` names it in the error.
    pub fn parse(what: &'static str, value: &str) -> Result<Segment, IdentityError> {
        if value.is_empty() {
            return Err(IdentityError::new(what, value, "is empty"));
        }
        if value.len() > 100 {
            return Err(IdentityError::new(what, value, "is longer than 100 characters"));
        }
        if value == "." || value == ".." {
            return Err(IdentityError::new(what, value, "is a relative path"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(IdentityError::new(
                what,
                value,
                "has characters other than letters, digits, '-', '_' and '.'",
            ));
        }
        Ok(Segment(value.to_string()))
    }

    /// Whether `value` would parse.
    pub fn is_valid(value: &str) -> bool {
        Segment::parse("name", value).is_ok()
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `owner/repo`: a repository, as the tables key it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoPath {
    /// User or organisation.
    pub owner: Segment,
    /// Repository name.
    pub name: Segment,
}

impl RepoPath {
    /// Reads an owner and a name.
    pub fn parse(owner: &str, name: &str) -> Result<RepoPath, IdentityError> {
        Ok(RepoPath {
            owner: Segment::parse("repository owner", owner)?,
            name: Segment::parse("repository name", name)?,
        })
    }

    /// `u/<owner>/<repo>/`: the repository's folder in the buckets.
    pub fn prefix(&self) -> String {
        format!("u/{}/{}/", self.owner, self.name)
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A commit hash: 7 to 64 hexadecimal digits, kept lower-case. Forges name
/// commits by full SHA-1 (40) or SHA-256 (64); API clients may give an
/// abbreviated one, which still names a folder ([`CommitId::commit10`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommitId(String);

impl CommitId {
    /// Reads any commit hash of 7 to 64 hex digits.
    pub fn parse(value: &str) -> Result<CommitId, IdentityError> {
        if !(7..=64).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IdentityError::new("commit", value, "is not a commit hash"));
        }
        Ok(CommitId(value.to_ascii_lowercase()))
    }

    /// Reads a full SHA (40 or 64 hex digits): what a forge's status API
    /// and archive URLs need.
    pub fn parse_full(value: &str) -> Result<CommitId, IdentityError> {
        let id = CommitId::parse(value)?;
        if !id.is_full() {
            return Err(IdentityError::new("commit", value, "is not a full SHA"));
        }
        Ok(id)
    }

    /// Whether this is a full SHA-1 or SHA-256.
    pub fn is_full(&self) -> bool {
        matches!(self.0.len(), 40 | 64)
    }

    /// The first ten digits: the name of the build's folder.
    pub fn commit10(&self) -> &str {
        &self.0[..self.0.len().min(10)]
    }

    /// The hash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short branch or tag name git accepts (`git check-ref-format`'s rules
/// that matter in a key or URL): components never empty or starting with
/// `.`, no `..`, `@{`, control characters, space or any of `~^:?*[\`, not
/// ending in `.lock`, `.` or `/`. It may hold `/` (`release/v1`), so it is
/// a path below an entry point, never a single segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RefName(String);

impl RefName {
    /// Reads a short ref name.
    pub fn parse(value: &str) -> Result<RefName, IdentityError> {
        let bad_char = |c: char| {
            c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\' | '#' | '%')
        };
        let ok = !value.is_empty()
            && value.len() <= 255
            && !value.contains("..")
            && !value.contains("@{")
            && value != "@"
            && !value.ends_with(".lock")
            && !value.ends_with('.')
            && !value.chars().any(bad_char)
            && value.split('/').all(|c| !c.is_empty() && !c.starts_with('.'));
        if ok {
            Ok(RefName(value.to_string()))
        } else {
            Err(IdentityError::new(
                "ref name",
                value,
                "is not a valid git ref name",
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of ref a build is of: each kind has its own entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    /// `refs/heads/<name>`.
    Branch,
    /// `refs/tags/<name>` (tags and releases).
    Tag,
    /// A pull (merge) request's head.
    Pr,
}

impl RefKind {
    /// The value in `project.json` and the entry point's folder name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Branch => "branch",
            RefKind::Tag => "tag",
            RefKind::Pr => "pr",
        }
    }

    /// Reads [`RefKind::as_str`]'s value.
    pub fn parse(value: &str) -> Option<RefKind> {
        match value {
            "branch" => Some(RefKind::Branch),
            "tag" => Some(RefKind::Tag),
            "pr" => Some(RefKind::Pr),
            _ => None,
        }
    }
}

/// A ref a build is of. Its serde form is the full ref (`refs/heads/master`,
/// `refs/tags/v1`, `refs/pull/7/head`), as job rows and requests carry it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum GitRef {
    /// A branch.
    Branch(RefName),
    /// A tag (pushed, created or released).
    Tag(RefName),
    /// Pull request (GitHub, Gitea, Gogs) or merge request (GitLab) `n`.
    PullRequest(u64),
}

impl GitRef {
    /// Reads a full ref: `refs/heads/…`, `refs/tags/…`, `refs/pull/<n>/head`
    /// (GitHub, Gitea) or `refs/merge-requests/<n>/head` (GitLab).
    pub fn parse(full: &str) -> Result<GitRef, IdentityError> {
        if let Some(name) = full.strip_prefix("refs/heads/") {
            return Ok(GitRef::Branch(RefName::parse(name)?));
        }
        if let Some(name) = full.strip_prefix("refs/tags/") {
            return Ok(GitRef::Tag(RefName::parse(name)?));
        }
        let pr = full
            .strip_prefix("refs/pull/")
            .or_else(|| full.strip_prefix("refs/merge-requests/"))
            .and_then(|rest| rest.strip_suffix("/head").or(rest.strip_suffix("/merge")));
        if let Some(n) = pr {
            return GitRef::pull_request(n);
        }
        Err(IdentityError::new(
            "ref",
            full,
            "is not refs/heads/…, refs/tags/… or a pull request's head",
        ))
    }

    /// A branch by its short name.
    pub fn branch(name: &str) -> Result<GitRef, IdentityError> {
        Ok(GitRef::Branch(RefName::parse(name)?))
    }

    /// A tag by its short name.
    pub fn tag(name: &str) -> Result<GitRef, IdentityError> {
        Ok(GitRef::Tag(RefName::parse(name)?))
    }

    /// Pull request `number` (a positive decimal number).
    pub fn pull_request(number: &str) -> Result<GitRef, IdentityError> {
        match number.parse::<u64>() {
            Ok(n) if n > 0 && !number.starts_with('0') && !number.starts_with('+') => {
                Ok(GitRef::PullRequest(n))
            }
            _ => Err(IdentityError::new(
                "pull request",
                number,
                "is not a positive number",
            )),
        }
    }

    /// Which kind of ref.
    pub fn kind(&self) -> RefKind {
        match self {
            GitRef::Branch(_) => RefKind::Branch,
            GitRef::Tag(_) => RefKind::Tag,
            GitRef::PullRequest(_) => RefKind::Pr,
        }
    }

    /// The short name readers see: `master`, `v1.0`, `7`.
    pub fn name(&self) -> String {
        match self {
            GitRef::Branch(n) | GitRef::Tag(n) => n.as_str().to_string(),
            GitRef::PullRequest(n) => n.to_string(),
        }
    }

    /// The full ref (`refs/heads/master`). Pull requests are written the
    /// GitHub/Gitea way whatever the forge.
    pub fn full(&self) -> String {
        match self {
            GitRef::Branch(n) => format!("refs/heads/{}", n.as_str()),
            GitRef::Tag(n) => format!("refs/tags/{}", n.as_str()),
            GitRef::PullRequest(n) => format!("refs/pull/{n}/head"),
        }
    }

    /// The branch name, when this is a branch.
    pub fn branch_name(&self) -> Option<&str> {
        match self {
            GitRef::Branch(n) => Some(n.as_str()),
            _ => None,
        }
    }

    /// Whether this is a tag.
    pub fn is_tag(&self) -> bool {
        matches!(self, GitRef::Tag(_))
    }

    /// `<kind>/<name>/`: where this ref's entry point lives below the
    /// repository's folder (`branch/feature/x/`, `tag/v1.0/`, `pr/7/`).
    pub fn entry_point(&self) -> String {
        format!("{}/{}/", self.kind().as_str(), self.name())
    }
}

impl fmt::Display for GitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full())
    }
}

/// The branch a repository's landing page follows when the forge did not
/// say: `master`, unless that repository only ever built `main`.
pub const FALLBACK_DEFAULT_BRANCHES: [&str; 2] = ["master", "main"];

/// A build: which repository, which ref, which commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BuildIdentity {
    /// The repository.
    pub repo: RepoPath,
    /// The ref that was pushed (or released, or opened as a pull request).
    pub git_ref: GitRef,
    /// The commit built.
    pub commit: CommitId,
}

impl BuildIdentity {
    /// `owner/repo/commit10`: names the build's folder.
    pub fn identifier(&self) -> String {
        format!("{}/{}", self.repo, self.commit.commit10())
    }

    /// `u/<owner>/<repo>/<commit10>/`: the build's folder in both buckets.
    pub fn site_prefix(&self) -> String {
        format!("{}{}/", self.repo.prefix(), self.commit.commit10())
    }

    /// `owner/repo/<full ref>`: at most one job per key is ever queued.
    pub fn coalesce_key(&self) -> String {
        format!("{}/{}", self.repo, self.git_ref.full())
    }

    /// `u/<owner>/<repo>/<kind>/<name>/`: the ref's entry point.
    pub fn entry_prefix(&self) -> String {
        format!("{}{}", self.repo.prefix(), self.git_ref.entry_point())
    }
}

macro_rules! string_newtype {
    ($t:ty, $parse:expr) => {
        impl TryFrom<String> for $t {
            type Error = IdentityError;
            fn try_from(value: String) -> Result<Self, IdentityError> {
                $parse(&value)
            }
        }
        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.to_string()
            }
        }
        impl std::str::FromStr for $t {
            type Err = IdentityError;
            fn from_str(value: &str) -> Result<Self, IdentityError> {
                $parse(value)
            }
        }
    };
}

string_newtype!(Segment, |v: &str| Segment::parse("name", v));
string_newtype!(CommitId, CommitId::parse);
string_newtype!(GitRef, GitRef::parse);

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Deref for Segment {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Deref for CommitId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Deref for RefName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Compares with the full ref, as the contracts spell it.
impl PartialEq<&str> for GitRef {
    fn eq(&self, other: &&str) -> bool {
        self.full() == *other
    }
}

impl PartialEq<str> for Segment {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Segment {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_what_every_forge_allows() {
        for good in ["en_ulb", "Door43-Catalog", "a.b", "x"] {
            assert!(Segment::is_valid(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "ünicode", "a\\b", &"x".repeat(101)] {
            assert!(!Segment::is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn refs_read_every_forge_spelling() {
        assert_eq!(
            GitRef::parse("refs/heads/feature/x").map(|r| r.entry_point()),
            Ok("branch/feature/x/".into())
        );
        assert_eq!(
            GitRef::parse("refs/tags/v1.0").map(|r| r.kind()),
            Ok(RefKind::Tag)
        );
        assert_eq!(GitRef::parse("refs/pull/7/head"), Ok(GitRef::PullRequest(7)));
        assert_eq!(
            GitRef::parse("refs/merge-requests/12/head"),
            Ok(GitRef::PullRequest(12))
        );
        for bad in [
            "master",
            "refs/heads/",
            "refs/heads/../x",
            "refs/tags/a..b",
            "refs/pull/0/head",
            "refs/pull/x/head",
            "refs/heads/a%2e",
        ] {
            assert!(GitRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ref_names_follow_git() {
        for good in ["v1.0", "release/v1", "v1_beta-2", "ünicode"] {
            assert!(RefName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "", "../x", "a/../b", "a/.b", ".hidden", "a..b", "x?y=1", "a b", "a\\b", "x.lock", "a/", "/a",
            "a//b", "x@{1}",
        ] {
            assert!(RefName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_forms_are_the_contract_strings() {
        let r: GitRef = serde_json::from_str("\"refs/heads/master\"").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"refs/heads/master\"");
        assert!(serde_json::from_str::<Segment>("\"..\"").is_err());
        let c: CommitId = serde_json::from_str("\"ABCDEF0123\"").unwrap();
        assert_eq!(c.as_str(), "abcdef0123");
    }

    #[test]
    fn commits() {
        assert!(CommitId::parse_full("ed87f2c2fc87d289a848d0de8af4aab8317ea3b5").is_ok());
        assert!(CommitId::parse_full("ed87f2c").is_err());
        assert!(CommitId::parse("ed87f2c").is_ok());
        assert!(CommitId::parse("zd87f2c").is_err());
    }

    #[test]
    fn identity_names_its_places() {
        let id = BuildIdentity {
            repo: RepoPath::parse("o", "r").unwrap(),
            git_ref: GitRef::parse("refs/tags/v1").unwrap(),
            commit: CommitId::parse("0123456789abcdef").unwrap(),
        };
        assert_eq!(id.identifier(), "o/r/0123456789");
        assert_eq!(id.site_prefix(), "u/o/r/0123456789/");
        assert_eq!(id.coalesce_key(), "o/r/refs/tags/v1");
        assert_eq!(id.entry_prefix(), "u/o/r/tag/v1/");
    }
}
