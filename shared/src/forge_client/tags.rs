//! Tag lookups on the forges' APIs: a release payload names the branch it
//! was cut from, not the commit, and a build is filed under its commit.
//!
//! Same rules as the status calls ([`super`]): the URL is built
//! from the registry entry's `api_url` and the validated repository path and
//! tag, the entry's token (when it has one: public repositories need none)
//! goes to that API host only, and no redirect is followed. The lookup runs
//! while the forge waits for the webhook's answer, so it is bounded by
//! [`TAG_TIMEOUT`].

use std::time::Duration;

use crate::forges::Forge;
use crate::identity::{CommitId, RefName, Segment};
use crate::ports::{ForgeError, ForgeKind, TagQuery};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::HttpForgeClient;

/// How long one tag lookup may take. GitHub gives up on a webhook after
/// 10 s; the job request and the build log still have to fit after it.
pub const TAG_TIMEOUT: Duration = Duration::from_secs(4);

/// A tag in one URL path segment: everything but unreserved characters is
/// escaped, `/` too, so `release/v1` stays one segment for the route.
const TAG_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One way a forge names a tag's commit: the URL and where the SHA is in the
/// JSON answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// The API URL, built from the registry entry.
    pub(crate) url: String,
    /// JSON pointer to the SHA in the answer (`/sha`, `/commit/sha`).
    pub(crate) sha_at: &'static str,
}

/// The lookups to try for `query` on `forge`, in order (a later one is tried
/// only when the forge answers 404 to the earlier):
/// GitHub `GET {api}/repos/{o}/{r}/commits/{tag}` → `sha`;
/// Gitea `GET {api}/repos/{o}/{r}/tags/{tag}` → `commit.sha`, then
/// `/git/commits/{tag}` → `sha` (older Gitea);
/// Gogs `/tags/{tag}`, then `/commits/{tag}` → `sha`.
/// GitLab release payloads name their commit, so GitLab is not looked up.
pub(crate) fn lookups(forge: &Forge, query: &TagQuery) -> Result<Vec<Lookup>, ForgeError> {
    let repo = checked_repo(&query.repo)?;
    let tag = RefName::parse(&query.tag).map_err(|e| ForgeError::Invalid(e.to_string()))?;
    let tag = utf8_percent_encode(tag.as_str(), TAG_SEGMENT);
    let base = format!("{}/repos/{repo}", forge.api_base());
    let at = |path: String, sha_at| Lookup {
        url: format!("{base}/{path}"),
        sha_at,
    };
    Ok(match forge.kind {
        ForgeKind::Github => vec![at(format!("commits/{tag}"), "/sha")],
        ForgeKind::Gitea => vec![
            at(format!("tags/{tag}"), "/commit/sha"),
            at(format!("git/commits/{tag}"), "/sha"),
        ],
        ForgeKind::Gogs => vec![
            at(format!("tags/{tag}"), "/commit/sha"),
            at(format!("commits/{tag}"), "/sha"),
        ],
        ForgeKind::Gitlab => return Err(ForgeError::Unsupported(ForgeKind::Gitlab)),
    })
}

/// `owner/repo` when both are valid segments (nothing else goes in a URL).
fn checked_repo(repo: &str) -> Result<&str, ForgeError> {
    match repo.split_once('/') {
        Some((owner, name)) if Segment::is_valid(owner) && Segment::is_valid(name) => Ok(repo),
        _ => Err(ForgeError::Invalid(format!("{repo:?} is not a repository path"))),
    }
}

/// The commit SHA at `pointer` in a forge's JSON answer, lower-case.
pub(crate) fn sha_in(answer: &Value, pointer: &str) -> Result<String, ForgeError> {
    answer
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|s| CommitId::parse_full(s).ok())
        .map(|c| c.to_string())
        .ok_or_else(|| ForgeError::Invalid(format!("the forge's answer has no commit SHA at {pointer}")))
}

impl HttpForgeClient {
    /// Looks `query.tag` up on its forge (see [`lookups`]).
    pub(crate) async fn resolve_tag(&self, query: &TagQuery) -> Result<String, ForgeError> {
        let forge = self
            .forge(&query.forge_id)
            .ok_or_else(|| ForgeError::UnknownForge(query.forge_id.clone()))?;
        let mut last = ForgeError::Invalid(format!("no lookup for tag {:?}", query.tag));
        for lookup in lookups(forge, query)? {
            match self.fetch_sha(forge, &lookup).await {
                Err(ForgeError::Rejected { status: 404, body }) => {
                    last = ForgeError::Rejected { status: 404, body };
                }
                other => return other,
            }
        }
        Err(last)
    }

    async fn fetch_sha(&self, forge: &Forge, lookup: &Lookup) -> Result<String, ForgeError> {
        let mut request = self
            .http()
            .get(&lookup.url)
            .timeout(TAG_TIMEOUT)
            .header(http::header::USER_AGENT, "tx-webhook-client")
            .header(http::header::ACCEPT, "application/json");
        if let Some(token) = forge.token().map(|t| t.expose()) {
            let scheme = if forge.kind == ForgeKind::Github {
                "Bearer"
            } else {
                "token"
            };
            request = request.header(http::header::AUTHORIZATION, format!("{scheme} {token}"));
        }
        let response = request.send().await.map_err(|e| unreachable(&e))?;
        let code = response.status();
        if !code.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(ForgeError::Rejected {
                status: code.as_u16(),
                body: body.chars().take(300).collect(),
            });
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|_| ForgeError::Invalid("the forge's answer is not JSON".into()))?;
        sha_in(&answer, lookup.sha_at)
    }
}

/// What a delivery's answer says about an unreachable API: why, in words a
/// team can act on, without reqwest's chain of causes.
fn unreachable(e: &reqwest::Error) -> ForgeError {
    let why = if e.is_timeout() {
        format!("no answer within {} s", TAG_TIMEOUT.as_secs())
    } else if e.is_redirect() {
        "it answered with a redirect, which is not followed".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    };
    ForgeError::Unreachable(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forges::ForgeRegistry;
    use serde_json::json;

    fn forge(kind: &str) -> Forge {
        let json = json!([{"id": "f", "kind": kind, "url": "https://forge.example/git",
                           "api_url": "https://api.forge.example/v1", "secret": "s"}]);
        ForgeRegistry::parse(&json.to_string(), "test").unwrap().forges()[0].clone()
    }

    fn query(repo: &str, tag: &str) -> TagQuery {
        TagQuery {
            forge_id: "f".into(),
            repo: repo.into(),
            tag: tag.into(),
        }
    }

    #[test]
    fn lookups_are_built_from_the_api_url_per_forge() {
        let urls = |kind| {
            lookups(&forge(kind), &query("o/r", "v1.0"))
                .unwrap()
                .into_iter()
                .map(|l| (l.url, l.sha_at))
                .collect::<Vec<_>>()
        };
        let api = "https://api.forge.example/v1/repos/o/r";
        assert_eq!(urls("github"), vec![(format!("{api}/commits/v1.0"), "/sha")]);
        assert_eq!(
            urls("gitea"),
            vec![
                (format!("{api}/tags/v1.0"), "/commit/sha"),
                (format!("{api}/git/commits/v1.0"), "/sha")
            ]
        );
        assert_eq!(urls("gogs")[1], (format!("{api}/commits/v1.0"), "/sha"));
        assert!(matches!(
            lookups(&forge("gitlab"), &query("o/r", "v1")),
            Err(ForgeError::Unsupported(ForgeKind::Gitlab))
        ));
    }

    #[test]
    fn a_tag_with_a_slash_stays_one_segment() {
        let l = lookups(&forge("gitea"), &query("o/r", "release/v1")).unwrap();
        assert_eq!(
            l[0].url,
            "https://api.forge.example/v1/repos/o/r/tags/release%2Fv1"
        );
    }

    #[test]
    fn hostile_repositories_and_tags_build_no_url() {
        for (repo, tag) in [
            ("o/r", "../../admin"),
            ("o/r", "v1?x=1"),
            ("o/r", ""),
            ("../o/r", "v1"),
            ("o", "v1"),
            ("o/r/../x", "v1"),
        ] {
            assert!(
                lookups(&forge("github"), &query(repo, tag)).is_err(),
                "{repo} {tag}"
            );
        }
    }

    #[test]
    fn the_sha_is_read_where_the_forge_puts_it_and_checked() {
        let sha = "67b56589a45103f891bdee7c0546e5d40bc02001";
        assert_eq!(sha_in(&json!({"sha": sha}), "/sha").unwrap(), sha);
        assert_eq!(
            sha_in(&json!({"commit": {"sha": sha.to_uppercase()}}), "/commit/sha").unwrap(),
            sha
        );
        assert!(sha_in(&json!({"sha": "abc"}), "/sha").is_err());
        assert!(sha_in(&json!({"commit": {}}), "/commit/sha").is_err());
    }
}
