//! Object keys the deployer reads and writes, and the decoding of the keys S3
//! puts in its events.

use percent_encoding::percent_decode_str;
use tx_shared::domain::build_log::BUILD_LOG;
use tx_shared::domain::job::{repo_prefix, site_prefix};
use tx_shared::identity::Segment;

use crate::error::DeployError;

/// Key of the site-wide stylesheet and script in the website bucket (under
/// `static/`): one copy for every build, so pages stay small.
pub const STATIC_PREFIX: &str = "static/";

/// One build's place in the buckets: `u/<owner>/<repo>/<commit10>/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BuildPrefix {
    /// Forge user or organisation.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// First ten characters of the commit.
    pub commit10: String,
}

impl BuildPrefix {
    /// Parses `u/<owner>/<repo>/<commit10>/` (the trailing `/` is optional).
    pub fn parse(prefix: &str) -> Result<BuildPrefix, DeployError> {
        let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
        let parts: Vec<&str> = trimmed.split('/').collect();
        match parts.as_slice() {
            ["u", owner, repo, commit] if [owner, repo, commit].iter().all(|s| Segment::is_valid(s)) => {
                Ok(BuildPrefix {
                    owner: (*owner).to_string(),
                    repo: (*repo).to_string(),
                    commit10: (*commit).to_string(),
                })
            }
            _ => Err(DeployError::NotABuild(prefix.to_string())),
        }
    }

    /// The build whose `build_log.json` an event names, if it names one.
    pub fn of_build_log_key(key: &str) -> Option<BuildPrefix> {
        let prefix = key.strip_suffix(BUILD_LOG)?;
        if !prefix.ends_with('/') {
            return None;
        }
        BuildPrefix::parse(prefix).ok()
    }

    /// `u/<owner>/<repo>/<commit10>/`.
    pub fn prefix(&self) -> String {
        site_prefix(&self.owner, &self.repo, &self.commit10)
    }

    /// A file of this build.
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix(), name)
    }

    /// `u/<owner>/<repo>/`.
    pub fn repo_prefix(&self) -> String {
        repo_prefix(&self.owner, &self.repo)
    }

    /// `owner/repo`, as the tables key repositories.
    pub fn repo_id(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

/// Decodes an S3 event key: S3 form-encodes keys in notifications (`+` for a
/// space, `%XX` for the rest).
pub fn decode_event_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Whether `name` is safe to use as a path below a build folder: relative, no
/// `..`, no empty segment, no backslash.
pub fn is_safe_relative(name: &str) -> bool {
    tx_shared::ports::object_store::validate_key(name).is_ok() && !name.ends_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(
            decode_event_key("u/Some+Owner/my%2Brepo/abc/build_log.json"),
            "u/Some Owner/my+repo/abc/build_log.json"
        );
        assert_eq!(
            decode_event_key("u/o/r%C3%A9/c/build_log.json"),
            "u/o/ré/c/build_log.json"
        );
    }

    #[test]
    fn only_build_logs_of_builds_are_triggers() {
        let p = BuildPrefix::of_build_log_key("u/o/r/0123456789/build_log.json").unwrap();
        assert_eq!(p.prefix(), "u/o/r/0123456789/");
        assert_eq!(p.repo_id(), "o/r");
        assert_eq!(p.key("01-GEN.html"), "u/o/r/0123456789/01-GEN.html");
        for other in [
            "u/o/r/build_log.json",
            "u/o/r/c/x/build_log.json",
            "u/o/r/c/not_build_log.json",
            "tx/job/1.zip",
            "u/o/../c/build_log.json",
            "u/o/r/c/xbuild_log.json",
        ] {
            assert!(BuildPrefix::of_build_log_key(other).is_none(), "{other} accepted");
        }
    }

    #[test]
    fn prefixes_parse_with_or_without_slash() {
        assert_eq!(
            BuildPrefix::parse("u/o/r/c").unwrap(),
            BuildPrefix::parse("u/o/r/c/").unwrap()
        );
        assert!(BuildPrefix::parse("x/o/r/c/").is_err());
        assert!(BuildPrefix::parse("u/o//c/").is_err());
    }

    #[test]
    fn unsafe_page_names_are_refused() {
        assert!(is_safe_relative("01-GEN.html"));
        assert!(is_safe_relative("kt/god.html"));
        for bad in ["../x.html", "/etc/passwd", "a//b.html", "a\\b.html", "dir/", ""] {
            assert!(!is_safe_relative(bad), "{bad:?}");
        }
    }
}
