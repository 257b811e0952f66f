//! The four functions of the stack, wired once for the whole process: what
//! the Lambda mains do on AWS. [`Functions::wire`] takes the tables, buckets
//! and converter invocation as [`Ports`], so every backend (the local
//! SQLite/directory one, the AWS one) only says which adapters it has.

use std::sync::Arc;

use tx_converter::{ConverterDeps, Limits};
use tx_deployer::{DeployerDeps, SiteConfig};
use tx_job_manager::{InProcessJobApi, ManagerDeps, ModuleRegistry};
use tx_shared::config::Config;
use tx_shared::domain::convert::ConvertRequest;
use tx_shared::forge_client::HttpForgeClient;
use tx_shared::forges::ForgeRegistry;
use tx_shared::local::{InProcessInvoker, LocalBackend, LocalFunction};
use tx_shared::ports::{
    Clock, ForgeClient, FunctionInvoker, JobTable, ManifestTable, ObjectStore, SystemClock,
};
use tx_webhook_client::ClientDeps;

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

/// How the job manager reaches the converter.
#[derive(Clone)]
pub enum ConverterInvocation {
    /// The converter runs in this process, registered under
    /// `TX_CONVERTER_FUNCTION` (one machine: nothing to deploy).
    InProcess,
    /// Through this invoker (e.g. Lambda), by `TX_CONVERTER_FUNCTION`.
    Remote(Arc<dyn FunctionInvoker>),
}

/// The adapters a backend provides: what differs between running on one
/// machine and running on AWS services.
pub struct Ports {
    /// `tx-job`.
    pub jobs: Arc<dyn JobTable>,
    /// `tx-manifest`.
    pub manifests: Arc<dyn ManifestTable>,
    /// Sources uploaded by API clients.
    pub preconvert: Arc<dyn ObjectStore>,
    /// Converter output and build logs.
    pub cdn: Arc<dyn ObjectStore>,
    /// The published site.
    pub website: Arc<dyn ObjectStore>,
    /// How the converter is called.
    pub converter: ConverterInvocation,
}

/// The runtime's own HTTP client (downloads, callbacks): one
/// client for every function, so the download role's timeouts, which are
/// the longest, and same-host redirects.
fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(tx_shared::http_client::client(
        tx_shared::http_client::Role::Download,
    )?)
}

impl Functions {
    /// Wires the handlers to the local SQLite tables and directory buckets,
    /// with the converter in process.
    pub fn local(
        config: &Config,
        forges: Arc<ForgeRegistry>,
        backend: &LocalBackend,
    ) -> anyhow::Result<Functions> {
        Functions::wire(
            config,
            forges,
            Ports {
                jobs: backend.jobs.clone(),
                manifests: backend.manifests.clone(),
                preconvert: backend.preconvert.clone(),
                cdn: backend.cdn.clone(),
                website: backend.website.clone(),
                converter: ConverterInvocation::InProcess,
            },
        )
    }

    /// Wires the handlers to `ports`: the one place that decides which
    /// handler gets which table, bucket, clock and HTTP client.
    pub fn wire(config: &Config, forges: Arc<ForgeRegistry>, ports: Ports) -> anyhow::Result<Functions> {
        let http = http_client()?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let Ports {
            jobs,
            manifests,
            preconvert,
            cdn,
            website,
            converter,
        } = ports;
        let invoker: Arc<dyn FunctionInvoker> = match converter {
            ConverterInvocation::Remote(invoker) => invoker,
            ConverterInvocation::InProcess => Arc::new(in_process_converter(
                config,
                ConverterDeps {
                    cdn: cdn.clone(),
                    preconvert,
                    http: http.clone(),
                    limits: Limits::default(),
                },
            )),
        };
        let forge: Arc<dyn ForgeClient> = Arc::new(HttpForgeClient::new(forges.clone())?);
        let manager = ManagerDeps {
            config: config.clone(),
            jobs: jobs.clone(),
            manifests: manifests.clone(),
            invoker,
            clock: clock.clone(),
            http,
            registry: ModuleRegistry::standard(&config.converter_function),
            runner: tx_job_manager::runner_name(),
            forges: forges.clone(),
            forge: forge.clone(),
        };
        Ok(Functions {
            // One process: the webhook's job request is a call, not HTTP.
            client: ClientDeps {
                config: config.clone(),
                forges,
                cdn: cdn.clone(),
                manifests: manifests.clone(),
                forge,
                clock,
                jobs: Arc::new(InProcessJobApi::new(manager.clone())),
            },
            manager,
            deployer: DeployerDeps {
                cdn: cdn.clone(),
                website: website.clone(),
                jobs,
                manifests,
                site: SiteConfig::from_config(config),
            },
            cdn,
            website,
        })
    }
}

/// The converter as a function of this process, under the name the job
/// manager invokes (`TX_CONVERTER_FUNCTION`).
fn in_process_converter(config: &Config, deps: ConverterDeps) -> InProcessInvoker {
    let deps = Arc::new(deps);
    let convert: LocalFunction = Arc::new(move |payload| {
        let deps = deps.clone();
        Box::pin(async move {
            let request: ConvertRequest =
                serde_json::from_value(payload).map_err(|e| format!("not a convert request: {e}"))?;
            let result = tx_converter::handle(request, &deps).await;
            serde_json::to_value(result).map_err(|e| e.to_string())
        })
    });
    InProcessInvoker::new().register(&config.converter_function, convert)
}
