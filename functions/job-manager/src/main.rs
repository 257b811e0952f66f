//! Lambda entry point of the job manager, which one function serves for
//! three triggers: API Gateway HTTP API requests (`/tx/*`, `/api/*`), the job
//! table's stream (answered with `batchItemFailures`) and the EventBridge
//! schedule (the sweep). The payload says which: stream records carry
//! `eventSource: aws:dynamodb`, the schedule `source: aws.events`, anything
//! else is an HTTP request. Configuration and AWS clients are built once per
//! cold start.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Service};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use tx_job_manager::{
    ManagerDeps, ModuleRegistry, handle_http, handle_scheduled_sweep, handle_stream, runner_name,
};
use tx_shared::aws::{DynamoJobTable, DynamoManifestTable, LambdaInvoker};
use tx_shared::forge_client::HttpForgeClient;
use tx_shared::ports::SystemClock;

/// What triggered an invocation.
#[derive(Debug, PartialEq, Eq)]
enum Trigger {
    /// DynamoDB Streams records of `tx-job`.
    Stream,
    /// The EventBridge schedule.
    Sweep,
    /// An API Gateway request.
    Http,
}

/// Tells the triggers apart by the fields only each of them has.
fn trigger_of(payload: &Value) -> Trigger {
    let first_source = payload
        .get("Records")
        .and_then(|r| r.get(0))
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str);
    if first_source == Some("aws:dynamodb") {
        Trigger::Stream
    } else if payload.get("source").and_then(Value::as_str) == Some("aws.events")
        || payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
    {
        Trigger::Sweep
    } else {
        Trigger::Http
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tx_shared::memory::limit_malloc_arenas();
    let (config, aws) = tx_shared::aws::cold_start().await?;
    // Callbacks to the webhook client: it answers quickly or is retried.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(25))
        .build()?;
    // Pending commit statuses are set from the stream, with the entry's token.
    let forges = Arc::new(tx_shared::aws::forges_at_cold_start(&aws).await?);
    let deps = ManagerDeps {
        forge: Arc::new(HttpForgeClient::new(forges.clone())?),
        forges,
        jobs: Arc::new(
            DynamoJobTable::new(aws.dynamodb.clone(), &config.job_table)
                .with_queue_table(&config.queue_table),
        ),
        manifests: Arc::new(DynamoManifestTable::new(
            aws.dynamodb.clone(),
            &config.manifest_table,
        )),
        invoker: Arc::new(LambdaInvoker::new(aws.lambda.clone())),
        clock: Arc::new(SystemClock),
        http,
        registry: ModuleRegistry::standard(&config.converter_function),
        runner: runner_name(),
        config,
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| dispatch(event, deps))).await
}

/// Runs the handler the payload is for and answers in that trigger's format.
async fn dispatch(event: LambdaEvent<Value>, deps: &ManagerDeps) -> Result<Value, Error> {
    let LambdaEvent { payload, context } = event;
    match trigger_of(&payload) {
        Trigger::Stream => {
            let records: StreamEvent = serde_json::from_value(payload)?;
            let answer = handle_stream(records, deps).await;
            Ok(serde_json::to_value(answer)?)
        }
        Trigger::Sweep => {
            let report = handle_scheduled_sweep(deps).await?;
            tracing::info!(?report, "sweep done");
            Ok(serde_json::to_value(report)?)
        }
        Trigger::Http => {
            let request: LambdaRequest = serde_json::from_value(payload)?;
            // lambda_http's own adapter: the same request/response mapping as
            // `lambda_http::run`, so API Gateway sees the usual answer.
            let mut adapter = Adapter::from(service_fn(move |req| handle_http(req, deps)));
            let response = adapter.call(LambdaEvent::new(request, context)).await?;
            Ok(serde_json::to_value(response)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Value {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn samples_dispatch_to_their_handlers() {
        assert_eq!(
            trigger_of(&sample("job-manager.stream-insert.json")),
            Trigger::Stream
        );
        assert_eq!(
            trigger_of(&sample("job-manager.sweep-schedule.json")),
            Trigger::Sweep
        );
        assert_eq!(
            trigger_of(&sample("webhook-client.apigw-push.json")),
            Trigger::Http
        );
    }

    #[test]
    fn http_samples_parse_as_lambda_requests() {
        let request: Result<LambdaRequest, _> =
            serde_json::from_value(sample("webhook-client.apigw-push.json"));
        assert!(request.is_ok());
    }
}
