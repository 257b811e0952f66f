//! The forge registry (DESIGN.md § "Forges and trust"): which forges this
//! deployment serves, with their secrets and tokens, read once at start-up.
//!
//! Everything a webhook says is untrusted, even when it is correctly signed,
//! because every team that configures a hook knows its secret. So the
//! registry, not the payload, decides which host a delivery may come from,
//! which secret verifies it, where its archive and its commit statuses live
//! and which host may ever see the forge's token. A delivery is matched to an
//! entry by the host (and port) of its repository URL; nothing else in the
//! payload is used to reach the network.
//!
//! The registry is JSON, a list of entries:
//! `{"id", "kind": "gitea|gogs|github|gitlab", "url": "https://host[:port]",
//! "api_url"?, "token"?, "secret", "repos"?: {"owner/repo": {"secret"}}}`,
//! given in `TX_FORGES` (Lambda: resolved from Secrets Manager at cold start),
//! in the file named by `TX_FORGES_FILE`, or (`tx serve`) in
//! `<data>/forges.json`. `TX_ALLOWED_HOSTS` with `TX_WEBHOOK_SECRET` remains
//! as a shorthand for exactly one forge.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use reqwest::Url;
use serde::Deserialize;

use crate::identity::Segment;
use crate::ports::ForgeKind;

/// Variable holding the registry's JSON.
pub const FORGES_ENV: &str = "TX_FORGES";
/// Variable naming a file holding the registry's JSON.
pub const FORGES_FILE_ENV: &str = "TX_FORGES_FILE";
/// File name of the registry in `tx serve`'s data directory.
pub const FORGES_FILE: &str = "forges.json";

/// A secret or token: kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret's text, for the one place that signs or sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key of a Standard Webhooks signing secret (`whsec_<base64>`,
    /// the form GitLab's signing tokens take), or `None` for a plain secret.
    pub fn signing_key(&self) -> Option<Vec<u8>> {
        let encoded = self.0.strip_prefix("whsec_")?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .filter(|k| !k.is_empty())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// One configured forge.
#[derive(Debug, Clone, PartialEq)]
pub struct Forge {
    /// The operator's name for it (logs, error messages).
    pub id: String,
    /// Its dialect: signature scheme, payload shape, URL shapes.
    pub kind: ForgeKind,
    url: Url,
    api_url: Url,
    token: Option<Secret>,
    secret: Secret,
    repos: BTreeMap<String, Secret>,
}

impl Forge {
    /// Browse base (`https://host[:port][/sub]`), without a trailing slash.
    pub fn web_base(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }

    /// REST API base (`…/api/v1`, `https://api.github.com`, `…/api/v4`),
    /// without a trailing slash.
    pub fn api_base(&self) -> &str {
        self.api_url.as_str().trim_end_matches('/')
    }

    /// `host:port` of the browse URL: what deliveries are matched by.
    pub fn host(&self) -> String {
        host_key(&self.url).unwrap_or_default()
    }

    /// `host:port` of the API: the only host that ever sees the token.
    pub fn api_host(&self) -> String {
        host_key(&self.api_url).unwrap_or_default()
    }

    /// The token for the forge's API, if one is configured.
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// The secret that verifies deliveries about `repo` (`owner/repo`, or a
    /// GitLab project path): the repository's own when it has one, else the
    /// forge's. A repository with its own secret is not verified by the
    /// forge's, so a team knowing the shared secret cannot speak for it.
    pub fn secret_for(&self, repo: &str) -> &Secret {
        self.repos.get(&repo.to_ascii_lowercase()).unwrap_or(&self.secret)
    }

    /// Whether `candidate` is an http(s) URL on this forge's browse or API
    /// host: such a URL may be shown as a link (a commit page), never one on
    /// another host.
    pub fn owns_url(&self, candidate: &str) -> bool {
        let Ok(url) = Url::parse(candidate.trim()) else {
            return false;
        };
        matches!(url.scheme(), "http" | "https")
            && url.username().is_empty()
            && url.password().is_none()
            && host_key(&url).is_some_and(|h| h == self.host() || h == self.api_host())
    }
}

/// The registry: every configured forge, and where it was read from (named in
/// every refusal, so an operator knows which file to edit).
#[derive(Debug, Clone, PartialEq)]
pub struct ForgeRegistry {
    forges: Vec<Forge>,
    origin: String,
}

/// A delivery from a host no entry names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "forge host {host} is not configured: add an entry {{\"id\", \"kind\", \"url\": \"{url}\", \"secret\"}} to {origin}"
)]
pub struct Unconfigured {
    /// `host:port` the delivery claimed (or `(none)`).
    pub host: String,
    /// `scheme://host:port` to put in the entry's `url`.
    pub url: String,
    /// Where the registry is configured.
    pub origin: String,
}

/// Why the registry could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgesError {
    /// The registry file could not be read.
    #[error("{origin}: cannot read {path}: {reason}")]
    Read {
        /// The variable or default that named the file.
        origin: String,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The text is not a JSON list of entries.
    #[error("{origin}: not a forge registry (a JSON list of forges): {reason}")]
    Json {
        /// Where the text came from.
        origin: String,
        /// serde's explanation.
        reason: String,
    },
    /// One entry is unusable.
    #[error("{origin}: forge {entry}: {reason}")]
    Entry {
        /// Where the registry came from.
        origin: String,
        /// The entry's id (or its position when it has none).
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The single-forge shorthand is incomplete or names several hosts.
    #[error("{name}: {reason}")]
    Shorthand {
        /// The variable at fault.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForge {
    id: Option<String>,
    kind: Option<String>,
    url: Option<String>,
    api_url: Option<String>,
    token: Option<String>,
    secret: Option<String>,
    #[serde(default)]
    repos: BTreeMap<String, RawRepo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepo {
    secret: Option<String>,
}

/// `host:port` of a URL (port made explicit, host lower-case).
pub fn host_key(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    let port = url.port_or_known_default()?;
    Some(format!("{host}:{port}"))
}

/// A base URL an entry may name: http(s), a host, no credentials, query or
/// fragment (they would ride along into every URL built from it).
fn base_url(field: &str, text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{field} {text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{field} {text:?} is not http(s)"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{field} {text:?} names no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{field} must not carry credentials (use \"token\")"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{field} {text:?} must not have a query or fragment"));
    }
    let trimmed = url.as_str().trim_end_matches('/').to_string();
    Url::parse(&trimmed).map_err(|e| format!("{field} {text:?}: {e}"))
}

fn default_api(kind: ForgeKind, url: &Url) -> Result<Url, String> {
    let base = url.as_str().trim_end_matches('/');
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let api = match kind {
        ForgeKind::Github if host == "github.com" || host == "www.github.com" => {
            "https://api.github.com".to_string()
        }
        ForgeKind::Github => format!("{base}/api/v3"),
        ForgeKind::Gitlab => format!("{base}/api/v4"),
        ForgeKind::Gitea | ForgeKind::Gogs => format!("{base}/api/v1"),
    };
    Url::parse(&api).map_err(|e| format!("api_url {api:?}: {e}"))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl ForgeRegistry {
    /// A registry with no forge: every delivery is refused, with `origin`
    /// named as the place to configure one.
    pub fn empty(origin: impl Into<String>) -> ForgeRegistry {
        ForgeRegistry {
            forges: Vec::new(),
            origin: origin.into(),
        }
    }

    /// Parses the registry's JSON; `origin` names where it came from in
    /// every error.
    pub fn parse(json: &str, origin: &str) -> Result<ForgeRegistry, ForgesError> {
        let raw: Vec<RawForge> = serde_json::from_str(json).map_err(|e| ForgesError::Json {
            origin: origin.to_string(),
            reason: e.to_string(),
        })?;
        let mut forges: Vec<Forge> = Vec::with_capacity(raw.len());
        for (index, entry) in raw.into_iter().enumerate() {
            let label = entry
                .id
                .clone()
                .filter(|i| !i.trim().is_empty())
                .map(|i| format!("{i:?}"))
                .unwrap_or_else(|| format!("#{}", index + 1));
            let bad = |reason: String| ForgesError::Entry {
                origin: origin.to_string(),
                entry: label.clone(),
                reason,
            };
            let forge = Self::entry(entry).map_err(bad)?;
            if let Some(other) = forges.iter().find(|f| f.id == forge.id) {
                return Err(bad(format!("id {:?} is used twice", other.id)));
            }
            if let Some(other) = forges.iter().find(|f| f.host() == forge.host()) {
                return Err(bad(format!(
                    "host {} is already forge {:?}: deliveries are matched by host, so each forge needs its own",
                    forge.host(),
                    other.id
                )));
            }
            forges.push(forge);
        }
        Ok(ForgeRegistry {
            forges,
            origin: origin.to_string(),
        })
    }

    fn entry(raw: RawForge) -> Result<Forge, String> {
        let id = non_empty(raw.id).ok_or("has no \"id\"")?;
        if !Segment::is_valid(&id) {
            return Err(format!(
                "id {id:?} may hold only letters, digits, '-', '_' and '.'"
            ));
        }
        let kind_name = non_empty(raw.kind).ok_or("has no \"kind\" (gitea, gogs, github or gitlab)")?;
        let kind = ForgeKind::parse(&kind_name)
            .ok_or_else(|| format!("kind {kind_name:?} is not gitea, gogs, github or gitlab"))?;
        let url = base_url("url", &non_empty(raw.url).ok_or("has no \"url\"")?)?;
        let api_url = match non_empty(raw.api_url) {
            Some(api) => base_url("api_url", &api)?,
            None => default_api(kind, &url)?,
        };
        let secret = Secret(non_empty(raw.secret).ok_or("has no \"secret\" (the webhook secret)")?);
        let check_secret = |what: &str, s: &Secret| {
            if s.0.starts_with("whsec_") && s.signing_key().is_none() {
                Err(format!("{what} starts with whsec_ but is not whsec_<base64>"))
            } else {
                Ok(())
            }
        };
        check_secret("secret", &secret)?;
        let mut repos = BTreeMap::new();
        for (name, repo) in raw.repos {
            let segments: Vec<&str> = name.split('/').collect();
            if segments.len() < 2 || !segments.iter().all(|s| Segment::is_valid(s)) {
                return Err(format!("repos key {name:?} is not \"owner/repo\""));
            }
            let s =
                Secret(non_empty(repo.secret).ok_or_else(|| format!("repos {name:?} has no \"secret\""))?);
            check_secret(&format!("repos {name:?} secret"), &s)?;
            repos.insert(name.to_ascii_lowercase(), s);
        }
        Ok(Forge {
            id,
            kind,
            url,
            api_url,
            token: non_empty(raw.token).map(Secret),
            secret,
            repos,
        })
    }

    /// Reads the registry from `lookup` (the environment, or the runtime's
    /// settings), in this order: `TX_FORGES`, the file `TX_FORGES_FILE`
    /// names, `default_file` when it exists (`tx serve`: `<data>/forges.json`),
    /// then the single-forge shorthand `TX_ALLOWED_HOSTS` (one host or URL)
    /// with `TX_WEBHOOK_SECRET`, `TX_FORGE_KIND` (default gitea) and
    /// `TX_FORGE_TOKEN`. With none of them the registry is empty: every
    /// delivery is refused, never accepted from any host.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        default_file: Option<&Path>,
    ) -> Result<ForgeRegistry, ForgesError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(json) = get(FORGES_ENV) {
            return ForgeRegistry::parse(&json, FORGES_ENV);
        }
        let read = |path: &Path, origin: String| -> Result<ForgeRegistry, ForgesError> {
            let text = std::fs::read_to_string(path).map_err(|e| ForgesError::Read {
                origin: origin.clone(),
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            ForgeRegistry::parse(&text, &origin)
        };
        if let Some(file) = get(FORGES_FILE_ENV) {
            return read(Path::new(&file), format!("{FORGES_FILE_ENV} ({file})"));
        }
        if let Some(file) = default_file
            && file.exists()
        {
            return read(file, file.display().to_string());
        }
        let where_to = match default_file {
            Some(file) => format!("{} (or {FORGES_ENV} / {FORGES_FILE_ENV})", file.display()),
            None => format!("{FORGES_ENV} (or {FORGES_FILE_ENV})"),
        };
        let Some(hosts) = get("TX_ALLOWED_HOSTS") else {
            return Ok(ForgeRegistry::empty(where_to));
        };
        let hosts: Vec<&str> = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let [host] = hosts[..] else {
            return Err(ForgesError::Shorthand {
                name: "TX_ALLOWED_HOSTS",
                reason: format!(
                    "names {} hosts; the shorthand is for one forge: list several in {where_to}",
                    hosts.len()
                ),
            });
        };
        let secret = get("TX_WEBHOOK_SECRET").ok_or(ForgesError::Shorthand {
            name: "TX_WEBHOOK_SECRET",
            reason: "must be set with TX_ALLOWED_HOSTS (the forge's webhook secret)".into(),
        })?;
        let kind = get("TX_FORGE_KIND").unwrap_or_else(|| "gitea".into());
        let url = if host.contains("://") {
            host.to_string()
        } else {
            format!("https://{host}")
        };
        let entry = serde_json::json!([{
            "id": "default",
            "kind": kind,
            "url": url,
            "token": get("TX_FORGE_TOKEN"),
            "secret": secret,
        }]);
        ForgeRegistry::parse(&entry.to_string(), "TX_ALLOWED_HOSTS")
    }

    /// Every configured forge.
    pub fn forges(&self) -> &[Forge] {
        &self.forges
    }

    /// Where the registry is configured (named in refusals).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The forge with this id.
    pub fn by_id(&self, id: &str) -> Option<&Forge> {
        self.forges.iter().find(|f| f.id == id)
    }

    /// The forge whose browse host (and port) is the host of `repo_url`, or
    /// the refusal that names the host and how to configure it.
    pub fn by_repo_url(&self, repo_url: &str) -> Result<&Forge, Unconfigured> {
        let url = Url::parse(repo_url.trim()).ok();
        let key = url.as_ref().and_then(host_key);
        let found = key
            .as_ref()
            .and_then(|k| self.forges.iter().find(|f| &f.host() == k));
        found.ok_or_else(|| Unconfigured {
            host: key.clone().unwrap_or_else(|| "(none)".into()),
            url: url
                .as_ref()
                .map(|u| u.origin().ascii_serialization())
                .filter(|o| o != "null")
                .unwrap_or_else(|| "https://host[:port]".into()),
            origin: self.origin.clone(),
        })
    }

    /// Whether `url` is on a configured forge's browse or API host (the
    /// converter downloads from nowhere else).
    pub fn is_forge_url(&self, url: &str) -> bool {
        self.forges.iter().any(|f| f.owns_url(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TWO: &str = r#"[
        {"id": "door43", "kind": "gitea", "url": "https://git.door43.org/", "token": "t1", "secret": "s1",
         "repos": {"Door43-Catalog/en_ult": {"secret": "own"}}},
        {"id": "gh", "kind": "github", "url": "https://github.com", "secret": "s2"},
        {"id": "lab", "kind": "gitlab", "url": "http://127.0.0.1:8080", "secret": "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q="}
    ]"#;

    #[test]
    fn parses_entries_with_defaults() {
        let r = ForgeRegistry::parse(TWO, "test").unwrap();
        let door43 = r.by_id("door43").unwrap();
        assert_eq!(door43.web_base(), "https://git.door43.org");
        assert_eq!(door43.api_base(), "https://git.door43.org/api/v1");
        assert_eq!(door43.host(), "git.door43.org:443");
        assert_eq!(door43.token().map(Secret::expose), Some("t1"));
        assert_eq!(door43.secret_for("door43-catalog/EN_ULT").expose(), "own");
        assert_eq!(door43.secret_for("other/repo").expose(), "s1");
        assert_eq!(r.by_id("gh").unwrap().api_base(), "https://api.github.com");
        assert_eq!(r.by_id("lab").unwrap().api_base(), "http://127.0.0.1:8080/api/v4");
        assert_eq!(
            r.by_id("lab")
                .unwrap()
                .secret_for("x/y")
                .signing_key()
                .unwrap()
                .len(),
            32
        );
        assert!(format!("{r:?}").contains("***") && !format!("{r:?}").contains("s1"));
    }

    #[test]
    fn matches_by_host_and_port_only() {
        let r = ForgeRegistry::parse(TWO, "test").unwrap();
        assert_eq!(
            r.by_repo_url("https://GIT.door43.org/a/b?x=1").unwrap().id,
            "door43"
        );
        assert_eq!(r.by_repo_url("http://127.0.0.1:8080/g/p").unwrap().id, "lab");
        let err = r.by_repo_url("http://127.0.0.1:9090/g/p").unwrap_err();
        assert_eq!(err.host, "127.0.0.1:9090");
        let text = err.to_string();
        assert!(
            text.contains("\"url\": \"http://127.0.0.1:9090\"") && text.contains("test"),
            "{text}"
        );
        assert_eq!(r.by_repo_url("not a url").unwrap_err().host, "(none)");
        assert!(r.is_forge_url("https://api.github.com/repos/o/r"));
        assert!(!r.is_forge_url("https://evil.example/x.zip"));
        assert!(!r.is_forge_url("https://user:pw@github.com/x.zip"));
    }

    #[test]
    fn bad_entries_are_named() {
        let cases = [
            (
                r#"[{"id":"a","kind":"svn","url":"https://h","secret":"s"}]"#,
                "\"a\": kind",
            ),
            (
                r#"[{"kind":"gitea","url":"https://h","secret":"s"}]"#,
                "#1: has no \"id\"",
            ),
            (
                r#"[{"id":"a","kind":"gitea","url":"ftp://h","secret":"s"}]"#,
                "not http(s)",
            ),
            (
                r#"[{"id":"a","kind":"gitea","url":"https://h?x","secret":"s"}]"#,
                "query",
            ),
            (
                r#"[{"id":"a","kind":"gitea","url":"https://h"}]"#,
                "no \"secret\"",
            ),
            (
                r#"[{"id":"a","kind":"gitea","url":"https://h","secret":"s","colour":1}]"#,
                "colour",
            ),
            (
                r#"[{"id":"a","kind":"gitea","url":"https://h","secret":"s"},{"id":"b","kind":"gogs","url":"https://H:443","secret":"s"}]"#,
                "\"b\": host h:443 is already forge \"a\"",
            ),
            (
                r#"[{"id":"a","kind":"gitea","url":"https://h","secret":"s","repos":{"x":{"secret":"s"}}}]"#,
                "repos key",
            ),
            (r#"{"id":"a"}"#, "not a forge registry"),
        ];
        for (json, expected) in cases {
            let err = ForgeRegistry::parse(json, "TX_FORGES").unwrap_err().to_string();
            assert!(
                err.starts_with("TX_FORGES") && err.contains(expected),
                "{json}: {err}"
            );
        }
    }

    #[test]
    fn lookup_order_and_the_single_forge_shorthand() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let read = |e: &HashMap<String, String>, file: Option<&Path>| {
            ForgeRegistry::from_lookup(|k| e.get(k).cloned(), file)
        };
        let none = read(&env(&[]), None).unwrap();
        assert!(none.forges().is_empty());
        assert!(none.by_repo_url("https://any.host/o/r").is_err());

        let one = read(
            &env(&[
                ("TX_ALLOWED_HOSTS", "http://127.0.0.1:3000"),
                ("TX_WEBHOOK_SECRET", "s"),
                ("TX_FORGE_TOKEN", "t"),
            ]),
            None,
        )
        .unwrap();
        let f = one.by_repo_url("http://127.0.0.1:3000/o/r").unwrap();
        assert_eq!(
            (f.kind, f.token().map(Secret::expose)),
            (ForgeKind::Gitea, Some("t"))
        );
        assert_eq!(
            read(
                &env(&[("TX_ALLOWED_HOSTS", "git.door43.org"), ("TX_WEBHOOK_SECRET", "s")]),
                None
            )
            .unwrap()
            .forges()[0]
                .web_base(),
            "https://git.door43.org"
        );
        let two = read(
            &env(&[("TX_ALLOWED_HOSTS", "a,b"), ("TX_WEBHOOK_SECRET", "s")]),
            None,
        );
        assert!(matches!(
            two,
            Err(ForgesError::Shorthand {
                name: "TX_ALLOWED_HOSTS",
                ..
            })
        ));
        let no_secret = read(&env(&[("TX_ALLOWED_HOSTS", "a")]), None);
        assert!(matches!(
            no_secret,
            Err(ForgesError::Shorthand {
                name: "TX_WEBHOOK_SECRET",
                ..
            })
        ));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FORGES_FILE);
        std::fs::write(&file, TWO).unwrap();
        let from_default = read(&env(&[("TX_ALLOWED_HOSTS", "ignored")]), Some(&file)).unwrap();
        assert_eq!(from_default.forges().len(), 3);
        let path = file.display().to_string();
        let from_var = read(&env(&[(FORGES_FILE_ENV, &path)]), None).unwrap();
        assert!(from_var.origin().contains(&path));
        let inline = read(&env(&[(FORGES_ENV, "[]"), (FORGES_FILE_ENV, &path)]), None).unwrap();
        assert!(inline.forges().is_empty());
        let missing = read(&env(&[(FORGES_FILE_ENV, "/nonexistent/forges.json")]), None);
        assert!(matches!(missing, Err(ForgesError::Read { .. })));
    }
}
