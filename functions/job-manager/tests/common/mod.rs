//! What the job manager's HTTP tests share: one set of dependencies over
//! SQLite in a temporary folder, with known secrets.

#![allow(dead_code)]

use std::sync::Arc;

use tx_job_manager::{ManagerDeps, ModuleRegistry};
use tx_shared::config::Config;
use tx_shared::local::{InProcessInvoker, LocalBackend};
use tx_shared::ports::SystemClock;

/// The callback secret requests are signed with.
pub const SECRET: &str = "callback-secret";
/// The operator token.
pub const OPERATOR: &str = "operator-token";

/// The manager's dependencies on a local backend in `dir`.
pub fn deps(dir: &std::path::Path) -> ManagerDeps {
    let config = Config::from_lookup(|k| match k {
        "TX_CALLBACK_SECRET" => Some(SECRET.into()),
        "TX_OPERATOR_TOKEN" => Some(OPERATOR.into()),
        "TX_FORGE_TOKEN" | "TX_ALLOWED_HOSTS" | "TX_BRANCHES" | "TX_JOB_TIMEOUT_SECS" | "TX_MAX_ATTEMPTS" => {
            None
        }
        _ => Some("test".into()),
    })
    .unwrap();
    let backend = LocalBackend::open(dir, &config).unwrap();
    ManagerDeps {
        config,
        jobs: backend.jobs.clone(),
        manifests: backend.manifests.clone(),
        invoker: Arc::new(InProcessInvoker::new()),
        clock: Arc::new(SystemClock),
        http: reqwest::Client::new(),
        registry: ModuleRegistry::standard("test"),
        runner: "test runner".into(),
        // No forge is configured: statuses are logged as not set.
        forges: Arc::new(tx_shared::forges::ForgeRegistry::empty("test")),
        forge: Arc::new(
            tx_shared::forge_client::HttpForgeClient::new(Arc::new(tx_shared::forges::ForgeRegistry::empty(
                "test",
            )))
            .expect("forge client"),
        ),
    }
}
