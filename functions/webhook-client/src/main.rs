//! Lambda entry point of the webhook client: API Gateway HTTP API requests
//! (`POST /client/webhook`, `POST /client/callback`). Thin on purpose: read
//! the configuration, build the AWS clients once per cold start, hand every
//! request to [`tx_webhook_client::handle_http`].

use std::sync::Arc;

use lambda_http::{Error, service_fn};
use tx_shared::aws::{DynamoManifestTable, S3Store};
use tx_shared::forge_client::HttpForgeClient;
use tx_shared::ports::SystemClock;
use tx_webhook_client::{ClientDeps, HttpJobApi, handle_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tx_shared::memory::limit_malloc_arenas();
    let (config, aws) = tx_shared::aws::cold_start().await?;
    // The webhook answers within API Gateway's 29 s: the job manager's API
    // and a release's tag lookup get a few seconds each, never more.
    let http = tx_shared::http_client::client(tx_shared::http_client::Role::Api)?;
    let forges = Arc::new(tx_shared::aws::forges_at_cold_start(&aws).await?);
    let deps = ClientDeps {
        cdn: Arc::new(S3Store::new(aws.s3.clone(), &config.cdn_bucket)),
        manifests: Arc::new(DynamoManifestTable::new(
            aws.dynamodb.clone(),
            &config.manifest_table,
        )),
        forge: Arc::new(HttpForgeClient::new(forges.clone())?),
        forges,
        clock: Arc::new(SystemClock),
        jobs: Arc::new(HttpJobApi::new(http, &config)),
        config,
    };
    let deps = &deps;
    lambda_http::run(service_fn(move |req| handle_http(req, deps))).await
}
