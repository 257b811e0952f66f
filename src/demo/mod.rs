//! `tx demo`: the whole product in one command. Starts the embedded runtime
//! and a loopback forge that hosts the sample repositories, pushes each one
//! with a signed webhook, and waits until every site is published.

pub mod examples;
pub mod forge;

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, bail};
use tx_shared::domain::build_log::{BUILD_LOG, BuildLog, DisplayStatus};
use tx_shared::domain::job::{commit10, site_prefix};
use tx_shared::ports::ObjectStore;

use crate::runtime::{Runtime, RuntimeOptions};
use examples::example_repos;
use forge::DemoForge;

/// The forge user that owns the sample repositories.
pub const DEMO_OWNER: &str = "demo";

/// A site the demo published.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedSite {
    /// Repository name.
    pub repo: String,
    /// Website URL of the build.
    pub url: String,
    /// Final display status of the build.
    pub status: DisplayStatus,
}

/// The runtime and forge of a running demo.
pub struct Demo {
    /// The embedded runtime.
    pub runtime: Runtime,
    /// The loopback forge.
    pub forge: DemoForge,
    /// What was published.
    pub sites: Vec<PublishedSite>,
}

/// Starts everything, pushes every sample, and waits up to `timeout` for
/// their sites. Fails with the reason if one is not published in time.
///
/// The forge starts first because the runtime reads its forge registry once,
/// at start-up: the demo writes its own `<data>/forges.json` (mode 0600)
/// naming the loopback forge, with a fresh webhook secret each run.
pub async fn run(options: RuntimeOptions, timeout: Duration) -> anyhow::Result<Demo> {
    let forge = DemoForge::start(DEMO_OWNER).await?;
    let secret = uuid::Uuid::new_v4().simple().to_string();
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("creating {}", options.data_dir.display()))?;
    let registry = options.data_dir.join(tx_shared::forges::FORGES_FILE);
    crate::runtime::settings::write_private(&registry, forge.registry(&secret).to_string().as_bytes())
        .with_context(|| format!("writing {}", registry.display()))?;
    let runtime = Runtime::start(options).await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let hook = format!("{}/client/webhook", runtime.url());
    let repos = example_repos()?;
    let mut waiting = HashMap::new();
    for repo in &repos {
        forge.publish(&repo.name, &repo.commit_id, repo.archive.clone());
        let (status, body) = forge
            .send_push(&http, &hook, &secret, &repo.name, &repo.commit_id, "Demo push")
            .await?;
        if !(200..300).contains(&status) {
            bail!("the webhook for {} was refused with {status}: {body}", repo.name);
        }
        waiting.insert(repo.name.clone(), repo.commit_id.clone());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut sites = Vec::new();
    while !waiting.is_empty() {
        let mut done = Vec::new();
        for (repo, commit) in &waiting {
            let prefix = site_prefix(DEMO_OWNER, repo, commit10(commit));
            if let Some(log) = read_build_log(runtime.functions.website.as_ref(), &prefix).await?
                && log.status.is_final()
                && runtime
                    .functions
                    .website
                    .get(&format!("{prefix}index.html"))
                    .await?
                    .is_some()
            {
                if !log.success {
                    bail!(
                        "{repo} was not published ({}): {}",
                        log.status.as_str(),
                        log.errors.join("; ")
                    );
                }
                sites.push(PublishedSite {
                    repo: repo.clone(),
                    url: format!("{}/{prefix}", runtime.config.site_url),
                    status: log.status,
                });
                done.push(repo.clone());
            }
        }
        for repo in done {
            waiting.remove(&repo);
        }
        if waiting.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            let mut names: Vec<_> = waiting.keys().cloned().collect();
            names.sort();
            bail!(
                "not published within {} s: {} (see {}/cdn/u/{DEMO_OWNER}/<repo>/<commit>/build_log.json)",
                timeout.as_secs(),
                names.join(", "),
                runtime.url()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sites.sort_by(|a, b| a.repo.cmp(&b.repo));
    Ok(Demo {
        runtime,
        forge,
        sites,
    })
}

async fn read_build_log(store: &dyn ObjectStore, prefix: &str) -> anyhow::Result<Option<BuildLog>> {
    match store.get(&format!("{prefix}{BUILD_LOG}")).await? {
        Some(bytes) => Ok(Some(
            serde_json::from_slice(&bytes).context("reading a published build log")?,
        )),
        None => Ok(None),
    }
}

impl Demo {
    /// Stops the runtime and the forge.
    pub async fn stop(self) {
        self.runtime.stop().await;
        self.forge.stop().await;
    }
}
