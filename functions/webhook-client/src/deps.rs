//! What the client's handlers need from the world, built once per process.

use std::sync::Arc;

use tx_shared::config::Config;
use tx_shared::forges::ForgeRegistry;
use tx_shared::ports::{Clock, ForgeClient, JobApi, ManifestTable, ObjectStore};

/// The handlers' dependencies. Built once by the Lambda main or by `tx serve`
/// and shared by every request, so connection pools and table handles are
/// reused instead of rebuilt per webhook.
#[derive(Clone)]
pub struct ClientDeps {
    /// Deployment settings (callback secret, public URLs, filters).
    pub config: Config,
    /// The forges deliveries are accepted from: their secrets, and the only
    /// bases archive, status and asset URLs are built from.
    pub forges: Arc<ForgeRegistry>,
    /// The CDN bucket: converter output, published builds, build logs.
    pub cdn: Arc<dyn ObjectStore>,
    /// `tx-manifest`: one row per repository, updated after each build.
    pub manifests: Arc<dyn ManifestTable>,
    /// Sets the final commit status (callback) and looks up release tags.
    pub forge: Arc<dyn ForgeClient>,
    /// Time source (build log timestamps, manifest rows).
    pub clock: Arc<dyn Clock>,
    /// Where jobs are requested: the job manager's API, or the job
    /// manager itself when it runs in this process.
    pub jobs: Arc<dyn JobApi>,
}
