//! The sample events under `events/` drive the job manager as Lambda would.

use std::sync::Arc;

use serde_json::Value;
use tx_job_manager::{ManagerDeps, ModuleRegistry, handle_stream};
use tx_shared::config::Config;
use tx_shared::domain::convert::{ConvertRequest, ConvertResult};
use tx_shared::domain::job::{Job, JobResult, JobStatus};
use tx_shared::local::{InProcessInvoker, LocalBackend, LocalFunction};
use tx_shared::ports::{JobTable, SystemClock};

fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn stream_insert_sample_runs_its_job() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_lookup(|k| match k {
        "TX_FORGE_TOKEN" | "TX_ALLOWED_HOSTS" | "TX_BRANCHES" | "TX_JOB_TIMEOUT_SECS" | "TX_MAX_ATTEMPTS" => {
            None
        }
        _ => Some("test".into()),
    })
    .unwrap();
    let backend = LocalBackend::open(dir.path(), &config).unwrap();
    let event: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(sample("job-manager.stream-insert.json")).expect("sample is a DynamoDB event");
    let job: Job = tx_shared::dynamo_json::from_item(event.records[0].change.new_image.clone()).unwrap();
    assert_eq!(job.status, JobStatus::Requested);
    // The row the record describes (stored at version 1, as in the sample).
    backend.jobs.insert(&job).await.unwrap();

    let convert: LocalFunction = Arc::new(|payload| {
        Box::pin(async move {
            let req: ConvertRequest = serde_json::from_value(payload).map_err(|e| e.to_string())?;
            assert_eq!(req.output_key, format!("tx/job/{}.zip", req.job_id));
            serde_json::to_value(ConvertResult {
                success: true,
                output: Some(req.output_key),
                ..Default::default()
            })
            .map_err(|e| e.to_string())
        })
    });
    let deps = ManagerDeps {
        config: config.clone(),
        jobs: backend.jobs.clone(),
        manifests: backend.manifests.clone(),
        invoker: Arc::new(InProcessInvoker::new().register("test", convert)),
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
    };
    let response = handle_stream(event, &deps).await;
    assert!(response.batch_item_failures.is_empty());
    let stored = backend.jobs.get(&job.job_id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Finished);
    assert_eq!(stored.result, Some(JobResult::Success));
}

#[test]
fn sweep_sample_is_a_scheduled_event() {
    let event: aws_lambda_events::event::eventbridge::EventBridgeEvent =
        serde_json::from_value(sample("job-manager.sweep-schedule.json")).unwrap();
    assert_eq!(event.detail_type, "Scheduled Event");
}
