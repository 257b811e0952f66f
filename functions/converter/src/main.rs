//! Lambda entry point of the converter: a synchronous Invoke from the job
//! manager with a [`ConvertRequest`], answered with a `ConvertResult`. Thin on
//! purpose: configuration and AWS clients once per cold start, then
//! [`tx_converter::handle`], which never fails (a bad source is
//! `success: false` with the reason).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use tx_converter::{ConverterDeps, Limits};
use tx_shared::aws::S3Store;
use tx_shared::domain::convert::{ConvertRequest, ConvertResult};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tx_shared::memory::limit_malloc_arenas();
    let (config, aws) = tx_shared::aws::cold_start().await?;
    // Archives of a whole Bible from a slow forge: minutes, not seconds.
    let http = tx_shared::http_client::client(tx_shared::http_client::Role::Download)?;
    let deps = ConverterDeps {
        cdn: Arc::new(S3Store::new(aws.s3.clone(), &config.cdn_bucket)),
        preconvert: Arc::new(S3Store::new(aws.s3.clone(), &config.preconvert_bucket)),
        http,
        limits: Limits::default(),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ConvertRequest>| async move {
        Ok::<ConvertResult, Error>(tx_converter::handle(event.payload, deps).await)
    }))
    .await
}
