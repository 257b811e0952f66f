//! Lambda entry point of the deployer: S3 `ObjectCreated` notifications of
//! `u/…/build_log.json` in the CDN bucket. Thin on purpose: configuration and
//! AWS clients once per cold start, then [`tx_deployer::handle_s3`]. An `Err`
//! (a store or table unreachable) fails the invocation so S3's asynchronous
//! invoke retries it.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tx_deployer::{DeployerDeps, SiteConfig, handle_s3};
use tx_shared::aws::{DynamoJobTable, DynamoManifestTable, S3Store};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tx_shared::memory::limit_malloc_arenas();
    let (config, aws) = tx_shared::aws::cold_start().await?;
    let site = SiteConfig::from_config(&config);
    let deps = DeployerDeps {
        cdn: Arc::new(S3Store::new(aws.s3.clone(), &config.cdn_bucket)),
        website: Arc::new(S3Store::new(aws.s3.clone(), &config.website_bucket)),
        jobs: Arc::new(DynamoJobTable::new(aws.dynamodb.clone(), &config.job_table)),
        manifests: Arc::new(DynamoManifestTable::new(
            aws.dynamodb.clone(),
            &config.manifest_table,
        )),
        site,
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        handle_s3(event.payload, deps).await.map_err(Error::from)
    }))
    .await
}
