//! Which builds this deployment accepts: only the configured branches (tags
//! always). Which forges may use it is the registry's decision
//! ([`tx_shared::forges`]), made before the signature is checked.

use tx_shared::config::Config;

use crate::event::BuildTrigger;

/// What the filters decided about a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Request the build.
    Build,
    /// Not built here, answered as ignored (not an error: the forge must not retry).
    Ignore(String),
}

/// Applies `TX_BRANCHES` (empty: every branch) to branch pushes.
pub fn check(config: &Config, trigger: &BuildTrigger) -> Verdict {
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

    fn config(branches: &str) -> Config {
        let env = |k: &str| match k {
            "TX_BRANCHES" => Some(branches.to_string()),
            "TX_JOB_TIMEOUT_SECS" | "TX_MAX_ATTEMPTS" | "TX_OPERATOR_TOKEN" => None,
            _ => Some(format!("{k}-value")),
        };
        Config::from_lookup(env).unwrap()
    }

    fn trigger(git_ref: &str) -> BuildTrigger {
        BuildTrigger {
            forge: ForgeKind::Gitea,
            forge_id: "f".into(),
            owner: "o".parse().unwrap(),
            repo: "r".parse().unwrap(),
            repo_url: "https://h/o/r".into(),
            status_repo: "o/r".into(),
            git_ref: git_ref.parse().unwrap(),
            commit: CommitInfo::default(),
            source: String::new(),
            delivery_id: None,
        }
    }

    #[test]
    fn branches_filter_branches_but_never_tags() {
        let c = config("master,main");
        assert_eq!(check(&c, &trigger("refs/heads/main")), Verdict::Build);
        assert!(matches!(
            check(&c, &trigger("refs/heads/dev")),
            Verdict::Ignore(_)
        ));
        assert_eq!(check(&c, &trigger("refs/tags/v1")), Verdict::Build);
        assert_eq!(check(&config(""), &trigger("refs/heads/any")), Verdict::Build);
    }
}
