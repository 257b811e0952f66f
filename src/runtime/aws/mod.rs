//! The AWS-backed runtime (`tx serve --backend aws`): the same gateway,
//! handlers and sweep as the local runtime, over DynamoDB tables and S3
//! buckets, with two pollers standing in for the stack's event source
//! mappings — DynamoDB Streams → job manager, and the CDN bucket's
//! notifications (through an SQS queue) → deployer.
//!
//! On one machine the converter runs in process (moto's Lambda needs Docker,
//! and a deployed converter is not needed to try the stack); with
//! [`AwsBackend::invoke_lambda`] the job manager invokes the
//! `TX_CONVERTER_FUNCTION` Lambda instead, as the deployed job manager does.

pub mod queue_poller;
pub mod resources;
pub mod stream_poller;

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::watch;
use tx_shared::aws::{AwsClients, DynamoJobTable, DynamoManifestTable, LambdaInvoker, S3EventQueue, S3Store};
use tx_shared::config::Config;

use super::functions::{ConverterInvocation, Functions, Ports};
use super::{Runtime, RuntimeOptions, serve, settings, sweep};
use stream_poller::JobStreamPoller;

/// Queue that receives the CDN bucket's notifications when none is named
/// (`TX_CDN_QUEUE`).
pub const DEFAULT_QUEUE: &str = "tx-cdn-events";

/// How the runtime uses AWS services.
#[derive(Debug, Clone)]
pub struct AwsBackend {
    /// The service clients (from the environment for `tx serve`, pointed at
    /// one endpoint in tests, so a test never mutates the process environment).
    pub clients: AwsClients,
    /// SQS queue (name or URL) the CDN bucket notifies on `u/…/build_log.json`.
    pub queue: String,
    /// Invoke the converter as the Lambda function `TX_CONVERTER_FUNCTION`
    /// (name or ARN) instead of running it in this process.
    pub invoke_lambda: bool,
    /// Create missing tables and buckets, the queue and the CDN bucket's
    /// notification before starting (for an empty emulator). Off, missing
    /// resources are a start-up error naming them.
    pub provision: bool,
}

impl AwsBackend {
    /// The defaults for `clients`: queue [`DEFAULT_QUEUE`], converter in
    /// process, nothing created.
    pub fn new(clients: AwsClients) -> AwsBackend {
        AwsBackend {
            clients,
            queue: DEFAULT_QUEUE.to_string(),
            invoke_lambda: false,
            provision: false,
        }
    }

    /// The defaults with clients from the standard AWS environment (region,
    /// credentials, `AWS_ENDPOINT_URL*`).
    pub async fn from_env() -> anyhow::Result<AwsBackend> {
        let clients = AwsClients::from_env().await.context("AWS configuration")?;
        Ok(AwsBackend::new(clients))
    }
}

/// Binds the gateway, checks (or provisions) the resources, wires the
/// handlers to the AWS adapters, and starts the gateway, the two pollers and
/// the sweep.
pub async fn start(options: RuntimeOptions, backend: AwsBackend) -> anyhow::Result<Runtime> {
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .with_context(|| format!("binding {}", options.addr))?;
    let addr = listener.local_addr()?;
    let config = settings::local_config(&options.data_dir, addr, &options.overrides)?;
    let forges = Arc::new(settings::local_forges(&options.data_dir, &options.overrides)?);
    let clients = &backend.clients;
    let queue_url = if backend.provision {
        resources::provision(clients, &config, &backend.queue).await?
    } else {
        resources::check(clients, &config).await?;
        resources::queue_url(clients, &backend.queue).await?
    };
    let functions = Arc::new(Functions::wire(&config, forges, ports(&config, &backend))?);
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = vec![serve(listener, functions.clone(), stop_rx.clone())];
    if options.deliver_events {
        let stream = JobStreamPoller::open(clients, &config.job_table).await?;
        tasks.push(tokio::spawn(stream.run(functions.clone(), stop_rx.clone())));
        let queue = S3EventQueue::new(clients.sqs.clone(), &queue_url);
        tasks.push(tokio::spawn(queue_poller::run(
            queue,
            functions.clone(),
            stop_rx.clone(),
        )));
        tasks.push(sweep(functions.clone(), options.sweep_every, stop_rx));
    }
    tracing::info!(
        %addr,
        region = clients.region(),
        jobs = %config.job_table,
        queue = %queue_url,
        converter = if backend.invoke_lambda { "lambda" } else { "in-process" },
        "tx runtime listening (AWS backend)"
    );
    Ok(Runtime::assemble(addr, config, functions, None, stop, tasks))
}

/// The AWS adapters of the tables and buckets `config` names.
fn ports(config: &Config, backend: &AwsBackend) -> Ports {
    let c = &backend.clients;
    let bucket = |name: &str| Arc::new(S3Store::new(c.s3.clone(), name));
    Ports {
        jobs: Arc::new(
            DynamoJobTable::new(c.dynamodb.clone(), &config.job_table).with_queue_table(&config.queue_table),
        ),
        manifests: Arc::new(DynamoManifestTable::new(
            c.dynamodb.clone(),
            &config.manifest_table,
        )),
        preconvert: bucket(&config.preconvert_bucket),
        cdn: bucket(&config.cdn_bucket),
        website: bucket(&config.website_bucket),
        converter: if backend.invoke_lambda {
            ConverterInvocation::Remote(Arc::new(LambdaInvoker::new(c.lambda.clone())))
        } else {
            ConverterInvocation::InProcess
        },
    }
}
