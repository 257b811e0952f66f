//! Which builds this deployment accepts: repositories only from the allowed
//! forge hosts, and only the configured branches (tags always).

use reqwest::Url;
use tx_shared::config::Config;

use crate::event::BuildTrigger;

/// What the filters decided about a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Request the build.
    Build,
    /// Not built here, answered as ignored (not an error: the forge must not retry).
    Ignore(String),
    /// The repository's forge is not allowed to use this deployment.
    Forbid(String),
}

/// Applies `TX_ALLOWED_HOSTS` (empty: any host) to the repository's browse
/// URL, then `TX_BRANCHES` (empty: every branch) to branch pushes.
pub fn check(config: &Config, trigger: &BuildTrigger) -> Verdict {
    if !config.allowed_hosts.is_empty() {
        let url = Url::parse(&trigger.repo_url).ok();
        let host = url
            .as_ref()
            .and_then(|u| u.host_str())
            .map(str::to_ascii_lowercase);
        let host_port = url
            .as_ref()
            .and_then(|u| {
                u.port()
                    .map(|p| format!("{}:{p}", u.host_str().unwrap_or_default()))
            })
            .map(|h| h.to_ascii_lowercase());
        let allowed = config.allowed_hosts.iter().any(|a| {
            let a = a.trim().to_ascii_lowercase();
            Some(&a) == host.as_ref() || Some(&a) == host_port.as_ref()
        });
        if !allowed {
            return Verdict::Forbid(format!(
                "repository {} is on host {}, which is not in TX_ALLOWED_HOSTS",
                trigger.repo_url,
                host.as_deref().unwrap_or("(none)")
            ));
        }
    }
    if let Some(branch) = trigger.branch()
        && !config.branches.is_empty()
        && !config.branches.iter().any(|b| b == branch)
    {
        return Verdict::Ignore(format!(
            "ignored: branch {branch} is not built here (TX_BRANCHES)"
        ));
    }
    Verdict::Build
}

#[cfg(test)]
mod tests {
    use super::*;
    use tx_shared::domain::job::CommitInfo;
    use tx_shared::ports::ForgeKind;

    fn config(hosts: &str, branches: &str) -> Config {
        let env = |k: &str| match k {
            "TX_ALLOWED_HOSTS" => Some(hosts.to_string()),
            "TX_BRANCHES" => Some(branches.to_string()),
            "TX_JOB_TIMEOUT_SECS" | "TX_MAX_ATTEMPTS" | "TX_FORGE_TOKEN" => None,
            _ => Some(format!("{k}-value")),
        };
        Config::from_lookup(env).unwrap()
    }

    fn trigger(url: &str, git_ref: &str) -> BuildTrigger {
        BuildTrigger {
            forge: ForgeKind::Gitea,
            owner: "o".into(),
            repo: "r".into(),
            repo_url: url.into(),
            api_base: None,
            status_repo: "o/r".into(),
            git_ref: git_ref.into(),
            commit: CommitInfo::default(),
            source: String::new(),
            delivery_id: None,
        }
    }

    #[test]
    fn hosts_match_with_or_without_port_and_case() {
        let c = config("Git.Door43.org, localhost:3000", "");
        assert_eq!(
            check(&c, &trigger("https://git.door43.org/o/r", "refs/heads/x")),
            Verdict::Build
        );
        assert_eq!(
            check(&c, &trigger("http://localhost:3000/o/r", "refs/heads/x")),
            Verdict::Build
        );
        assert!(matches!(
            check(&c, &trigger("http://localhost:4000/o/r", "refs/heads/x")),
            Verdict::Forbid(_)
        ));
        assert!(matches!(
            check(&c, &trigger("https://evil.example/o/r", "refs/heads/x")),
            Verdict::Forbid(_)
        ));
        assert!(matches!(
            check(&c, &trigger("not a url", "refs/heads/x")),
            Verdict::Forbid(_)
        ));
        assert_eq!(
            check(&config("", ""), &trigger("https://any.host/o/r", "refs/heads/x")),
            Verdict::Build
        );
    }

    #[test]
    fn branches_filter_branches_but_never_tags() {
        let c = config("", "master,main");
        assert_eq!(
            check(&c, &trigger("https://h/o/r", "refs/heads/main")),
            Verdict::Build
        );
        assert!(matches!(
            check(&c, &trigger("https://h/o/r", "refs/heads/dev")),
            Verdict::Ignore(_)
        ));
        assert_eq!(
            check(&c, &trigger("https://h/o/r", "refs/tags/v1")),
            Verdict::Build
        );
    }
}
