//! What the job manager needs from the world, as ports.

use std::sync::Arc;

use tx_shared::config::Config;
use tx_shared::forges::ForgeRegistry;
use tx_shared::ports::{Clock, ForgeClient, FunctionInvoker, JobTable, ManifestTable};

use crate::registry::ModuleRegistry;

/// The job manager's dependencies, built once per cold start (or once by
/// `tx serve`) and shared by every invocation.
#[derive(Clone)]
pub struct ManagerDeps {
    /// `tx-manifest` (the read API lists projects from it).
    pub manifests: Arc<dyn ManifestTable>,
    /// Deployment settings (secrets, timeouts, attempts).
    pub config: Config,
    /// `tx-job`.
    pub jobs: Arc<dyn JobTable>,
    /// Calls the converter.
    pub invoker: Arc<dyn FunctionInvoker>,
    /// Current time (leases, sweep).
    pub clock: Arc<dyn Clock>,
    /// Posts callbacks.
    pub http: reqwest::Client,
    /// Which converter handles which job.
    pub registry: ModuleRegistry,
    /// This process's name in the leases it holds ([`runner_name`]).
    pub runner: String,
    /// The forges jobs come from: a job's repository URL names the entry
    /// its commit statuses go to.
    pub forges: Arc<ForgeRegistry>,
    /// Sets the pending (and superseded) commit statuses from the stream.
    pub forge: Arc<dyn ForgeClient>,
}

/// A name for this process as a runner, unique across restarts: the Lambda
/// execution environment (its log stream) on AWS, else the host, the process
/// id and when it started. A lapsed lease's log line names it.
pub fn runner_name() -> String {
    if let Ok(stream) = std::env::var("AWS_LAMBDA_LOG_STREAM_NAME") {
        return format!("lambda {stream}");
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let since = tx_shared::time::format(&chrono::Utc::now());
    format!("pid {} on {host} since {since}", std::process::id())
}
