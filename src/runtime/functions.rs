//! The four functions of the stack, wired to the local adapters: what the
//! Lambda mains do on AWS, done once for the whole process.

use std::sync::Arc;

use tx_converter::{ConverterDeps, Limits};
use tx_deployer::{DeployerDeps, SiteConfig};
use tx_job_manager::{ManagerDeps, ModuleRegistry};
use tx_shared::config::Config;
use tx_shared::domain::convert::ConvertRequest;
use tx_shared::local::{InProcessInvoker, LocalBackend, LocalFunction};
use tx_shared::ports::{Clock, ForgeClient, ObjectStore, SystemClock};
use tx_webhook_client::{ClientDeps, HttpForgeClient};

/// Every handler's dependencies, and the buckets the gateway serves.
pub struct Functions {
    /// Webhook client (`/client/*`).
    pub client: ClientDeps,
    /// Job manager (`/tx/*`, `/api/*`, the job stream, the sweep).
    pub manager: ManagerDeps,
    /// Deployer (CDN notifications).
    pub deployer: DeployerDeps,
    /// Served at `/cdn/`.
    pub cdn: Arc<dyn ObjectStore>,
    /// Served at `/`.
    pub website: Arc<dyn ObjectStore>,
}

/// Timeouts of the runtime's own HTTP client (downloads, callbacks, forge).
fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(300))
        .build()?)
}

impl Functions {
    /// Wires the handlers to `backend`.
    pub fn local(config: &Config, backend: &LocalBackend) -> anyhow::Result<Functions> {
        let http = http_client()?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let cdn: Arc<dyn ObjectStore> = backend.cdn.clone();
        let website: Arc<dyn ObjectStore> = backend.website.clone();
        let converter = Arc::new(ConverterDeps {
            cdn: cdn.clone(),
            preconvert: backend.preconvert.clone(),
            http: http.clone(),
            limits: Limits::default(),
        });
        let convert: LocalFunction = Arc::new(move |payload| {
            let deps = converter.clone();
            Box::pin(async move {
                let request: ConvertRequest =
                    serde_json::from_value(payload).map_err(|e| format!("not a convert request: {e}"))?;
                let result = tx_converter::handle(request, &deps).await;
                serde_json::to_value(result).map_err(|e| e.to_string())
            })
        });
        let invoker = InProcessInvoker::new().register(&config.converter_function, convert);
        let forge: Arc<dyn ForgeClient> =
            Arc::new(HttpForgeClient::new(http.clone(), config.forge_token.clone()));
        Ok(Functions {
            client: ClientDeps {
                config: config.clone(),
                cdn: cdn.clone(),
                manifests: backend.manifests.clone(),
                forge,
                clock: clock.clone(),
                http: http.clone(),
            },
            manager: ManagerDeps {
                config: config.clone(),
                jobs: backend.jobs.clone(),
                manifests: backend.manifests.clone(),
                invoker: Arc::new(invoker),
                clock,
                http,
                registry: ModuleRegistry::standard(&config.converter_function),
            },
            deployer: DeployerDeps {
                cdn: cdn.clone(),
                website: website.clone(),
                jobs: backend.jobs.clone(),
                manifests: backend.manifests.clone(),
                site: site_config(config),
            },
            cdn,
            website,
        })
    }
}

/// The deployer's site settings; `TX_TEMPLATES_DIR` overrides the templates.
fn site_config(config: &Config) -> SiteConfig {
    let site = SiteConfig::new(&config.site_url, &config.cdn_url);
    match std::env::var("TX_TEMPLATES_DIR") {
        Ok(dir) if !dir.is_empty() => site.with_templates_dir(dir),
        _ => site,
    }
}
