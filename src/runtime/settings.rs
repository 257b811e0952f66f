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
        ("TX_WEBHOOK_SECRET", secrets.webhook),
        ("TX_CALLBACK_SECRET", secrets.callback),
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

struct Secrets {
    webhook: String,
    callback: String,
}

fn load_or_create_secrets(data_dir: &Path) -> anyhow::Result<Secrets> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join(SECRETS_FILE);
    let stored: HashMap<String, String> = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let fresh = HashMap::from([
                ("webhook".to_string(), random_secret()),
                ("callback".to_string(), random_secret()),
            ]);
            std::fs::write(&path, serde_json::to_vec_pretty(&fresh)?)
                .with_context(|| format!("writing {}", path.display()))?;
            fresh
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let get = |k: &str| {
        stored
            .get(k)
            .cloned()
            .with_context(|| format!("{} has no {k} secret", path.display()))
    };
    Ok(Secrets {
        webhook: get("webhook")?,
        callback: get("callback")?,
    })
}

fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
