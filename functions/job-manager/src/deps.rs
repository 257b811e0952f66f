//! What the job manager needs from the world, as ports.

use std::sync::Arc;

use tx_shared::config::Config;
use tx_shared::ports::{Clock, FunctionInvoker, JobTable, ManifestTable};

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
    /// Current time (deadlines, sweep).
    pub clock: Arc<dyn Clock>,
    /// Posts callbacks.
    pub http: reqwest::Client,
    /// Which converter handles which job.
    pub registry: ModuleRegistry,
}
