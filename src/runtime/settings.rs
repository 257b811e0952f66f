//! The embedded runtime's configuration: the same [`Config`] the Lambdas read,
//! filled with local defaults, overridable by the same `TX_*` variables.
//!
//! Secrets that are not given are generated once and kept in the data
//! directory, so a restarted `tx serve` still verifies the webhooks a forge
//! was set up to sign.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use tx_shared::config::Config;
use tx_shared::forges::{FORGES_FILE, ForgeRegistry};

const SECRETS_FILE: &str = "secrets.json";

/// Builds the runtime's config for a server reachable at `addr`. Settings
/// come from `overrides` first, then the `TX_*` environment, then defaults.
pub fn local_config(
    data_dir: &Path,
    addr: SocketAddr,
    overrides: &HashMap<String, String>,
) -> anyhow::Result<Config> {
    let secrets = load_or_create_secrets(data_dir)?;
    let base = format!("http://{addr}");
    let defaults: HashMap<&str, String> = HashMap::from([
        ("TX_JOB_TABLE", "tx-job".to_string()),
        ("TX_MANIFEST_TABLE", "tx-manifest".to_string()),
        ("TX_PRECONVERT_BUCKET", "tx-preconvert".to_string()),
        ("TX_CDN_BUCKET", "tx-cdn".to_string()),
        ("TX_WEBSITE_BUCKET", "tx-website".to_string()),
        ("TX_CONVERTER_FUNCTION", "tx-converter".to_string()),
        ("TX_CALLBACK_SECRET", secrets.callback),
        ("TX_OPERATOR_TOKEN", secrets.operator),
        ("TX_API_URL", base.clone()),
        ("TX_SITE_URL", base.clone()),
        ("TX_CDN_URL", format!("{base}/cdn")),
    ]);
    Config::from_lookup(|name| {
        overrides
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .filter(|v| !v.is_empty())
            .or_else(|| defaults.get(name).cloned())
    })
    .context("configuration")
}

/// The runtime's forge registry: `TX_FORGES` or `TX_FORGES_FILE` (from
/// `overrides`, then the environment), else `<data>/forges.json` when it
/// exists, else the single-forge shorthand `TX_ALLOWED_HOSTS` (whose secret
/// defaults to the generated one in `secrets.json`). With none of them no
/// forge is configured and every webhook is refused with the place to
/// configure one.
pub fn local_forges(data_dir: &Path, overrides: &HashMap<String, String>) -> anyhow::Result<ForgeRegistry> {
    let secrets = load_or_create_secrets(data_dir)?;
    let file = data_dir.join(FORGES_FILE);
    let registry = ForgeRegistry::from_lookup(
        |name| {
            overrides
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
                .filter(|v| !v.is_empty())
                .or_else(|| (name == "TX_WEBHOOK_SECRET").then(|| secrets.webhook.clone()))
        },
        Some(&file),
    )?;
    if registry.forges().is_empty() {
        tracing::warn!(
            "no forge is configured: every webhook will be refused until {} lists one",
            registry.origin()
        );
    }
    Ok(registry)
}

struct Secrets {
    webhook: String,
    callback: String,
    /// Opens job details (`GET /tx/job/{id}`): `Authorization: Bearer …`.
    operator: String,
}

fn load_or_create_secrets(data_dir: &Path) -> anyhow::Result<Secrets> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join(SECRETS_FILE);
    let stored: HashMap<String, String> = match std::fs::read(&path) {
        Ok(bytes) => {
            // A file written by an older tx (world-readable) is made private.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private", path.display()))?;
            }
            serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let fresh = HashMap::from([
                ("webhook".to_string(), random_secret()),
                ("callback".to_string(), random_secret()),
                ("operator".to_string(), random_secret()),
            ]);
            write_private(&path, &serde_json::to_vec_pretty(&fresh)?)
                .with_context(|| format!("writing {}", path.display()))?;
            fresh
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut stored = stored;
    // A data directory from before the operator token gets one now.
    if !stored.contains_key("operator") {
        stored.insert("operator".to_string(), random_secret());
        write_private(&path, &serde_json::to_vec_pretty(&stored)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let get = |k: &str| {
        stored
            .get(k)
            .cloned()
            .with_context(|| format!("{} has no {k} secret", path.display()))
    };
    Ok(Secrets {
        webhook: get("webhook")?,
        callback: get("callback")?,
        operator: get("operator")?,
    })
}

/// Writes a file only its owner can read (mode 0600 on Unix): secrets and
/// forge registries hold credentials.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_private_and_include_an_operator_token() {
        let dir = tempfile::tempdir().unwrap();
        let addr = "127.0.0.1:8080".parse().unwrap();
        let config = local_config(dir.path(), addr, &HashMap::new()).unwrap();
        let token = config.operator_token.clone().expect("an operator token");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRETS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The same token after a restart; an old world-readable file without
        // one is made private and given one.
        assert_eq!(
            local_config(dir.path(), addr, &HashMap::new())
                .unwrap()
                .operator_token,
            Some(token)
        );
        let old = tempfile::tempdir().unwrap();
        let path = old.path().join(SECRETS_FILE);
        std::fs::write(&path, r#"{"webhook": "w", "callback": "c"}"#).unwrap();
        let config = local_config(old.path(), addr, &HashMap::new()).unwrap();
        assert!(config.operator_token.is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
