//! Where a forge's REST API lives and how it names a repository, derived from
//! what the webhook (or, at callback time, the job) tells us, so no per-forge
//! setting has to be configured.

use reqwest::Url;
use tx_shared::ports::ForgeKind;

/// Whether `s` is a full commit SHA (SHA-1 or SHA-256), i.e. something a
/// status API accepts.
pub fn is_commit_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `s` is all zeros: the SHA forges send for "no commit" (a created
/// ref's `before`, a deleted ref's `after`).
pub fn is_null_sha(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

/// The API base of the forge hosting `repo_url`:
/// Gitea/Gogs `{scheme}://{host}[/{sub path}]/api/v1`; GitHub the part of
/// the API URL before `/repos/` when the webhook gave one, else
/// `https://api.github.com` for github.com and `{scheme}://{host}/api/v3` for
/// GitHub Enterprise; GitLab `{scheme}://{host}/api/v4`.
pub fn api_base(forge: ForgeKind, repo_url: &str, github_api_url: Option<&str>) -> Option<String> {
    if forge == ForgeKind::Github
        && let Some((base, _)) = github_api_url.and_then(|u| u.split_once("/repos/"))
        && base.starts_with("http")
    {
        return Some(base.to_string());
    }
    let url = Url::parse(repo_url).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let origin = url.origin().ascii_serialization();
    Some(match forge {
        ForgeKind::Github if host == "github.com" || host == "www.github.com" => {
            "https://api.github.com".to_string()
        }
        ForgeKind::Github => format!("{origin}/api/v3"),
        ForgeKind::Gitlab => format!("{origin}/api/v4"),
        ForgeKind::Gitea | ForgeKind::Gogs => {
            // A forge served under a sub path keeps it: drop only `/owner/repo`.
            let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
            let keep = segments.len().saturating_sub(2);
            let sub: String = segments[..keep].iter().map(|s| format!("/{s}")).collect();
            format!("{origin}{sub}/api/v1")
        }
    })
}

/// How the status API names the repository: `owner/repo`, except on GitLab,
/// whose projects may sit in nested groups, where it is the full project path
/// from the browse URL.
pub fn status_repo(forge: ForgeKind, repo_url: Option<&str>, owner: &str, repo: &str) -> String {
    if forge == ForgeKind::Gitlab
        && let Some(url) = repo_url.and_then(|u| Url::parse(u).ok())
    {
        let path = url.path().trim_matches('/');
        if !path.is_empty() {
            return path.to_string();
        }
    }
    format!("{owner}/{repo}")
}

/// Guesses the forge of a job from its URLs when the callback does not say:
/// github.com is GitHub, a `/-/archive/` source is GitLab, anything else is
/// treated as Gitea (the forge tX was built for).
pub fn infer_forge(repo_url: Option<&str>, source: &str) -> ForgeKind {
    let host = repo_url
        .and_then(|u| Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    if host.as_deref() == Some("github.com") {
        ForgeKind::Github
    } else if source.contains("/-/archive/") {
        ForgeKind::Gitlab
    } else {
        ForgeKind::Gitea
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_bases() {
        assert_eq!(
            api_base(ForgeKind::Gitea, "http://localhost:3000/example/example", None).as_deref(),
            Some("http://localhost:3000/api/v1")
        );
        assert_eq!(
            api_base(ForgeKind::Gogs, "https://h.org/git/o/r", None).as_deref(),
            Some("https://h.org/git/api/v1")
        );
        assert_eq!(
            api_base(
                ForgeKind::Github,
                "https://github.com/o/r",
                Some("https://github.com/o/r")
            )
            .as_deref(),
            Some("https://api.github.com")
        );
        assert_eq!(
            api_base(
                ForgeKind::Github,
                "https://ghe.example/o/r",
                Some("https://ghe.example/api/v3/repos/o/r")
            )
            .as_deref(),
            Some("https://ghe.example/api/v3")
        );
        assert_eq!(
            api_base(
                ForgeKind::Github,
                "https://octocoders.github.io/Codertocat/Hello-World",
                None
            )
            .as_deref(),
            Some("https://octocoders.github.io/api/v3")
        );
        assert_eq!(
            api_base(ForgeKind::Gitlab, "http://example.com/mike/diaspora", None).as_deref(),
            Some("http://example.com/api/v4")
        );
        assert_eq!(api_base(ForgeKind::Gitea, "not a url", None), None);
    }

    #[test]
    fn shas() {
        assert!(is_commit_sha("ed87f2c2fc87d289a848d0de8af4aab8317ea3b5"));
        assert!(!is_commit_sha("v1.0"));
        assert!(is_null_sha("0000000000000000000000000000000000000000"));
        assert!(!is_null_sha(""));
    }

    #[test]
    fn status_repo_uses_the_gitlab_project_path() {
        assert_eq!(
            status_repo(ForgeKind::Gitlab, Some("https://gl.org/g/sub/p"), "g-sub", "p"),
            "g/sub/p"
        );
        assert_eq!(
            status_repo(ForgeKind::Gitea, Some("https://h/o/r"), "o", "r"),
            "o/r"
        );
    }

    #[test]
    fn infers_forges() {
        assert_eq!(
            infer_forge(Some("https://github.com/o/r"), "x"),
            ForgeKind::Github
        );
        assert_eq!(
            infer_forge(Some("https://gl/o/r"), "https://gl/o/r/-/archive/a/r-a.zip"),
            ForgeKind::Gitlab
        );
        assert_eq!(infer_forge(None, "https://h/o/r/archive/a.zip"), ForgeKind::Gitea);
    }
}
