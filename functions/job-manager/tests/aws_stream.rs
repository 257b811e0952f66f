//! Thread 2 on AWS services (moto): jobs written through the DynamoDB adapter
//! come back through DynamoDB Streams, in the Lambda event shape, and the job
//! manager's stream handler runs them, exactly as the deployed function does.
//! The converter is in process (moto's Lambda needs Docker to run one).
//!
//! Needs `.venv/bin/moto_server` (`scripts/moto-venv`); skips without it,
//! fails without it under `CI=true`.

#[path = "../../../shared/tests/contract/fixtures.rs"]
mod fixtures;
#[path = "../../../shared/tests/support/moto.rs"]
mod moto;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tx_job_manager::{ManagerDeps, ModuleRegistry, handle_stream};
use tx_shared::aws::provision::{create_job_table, create_manifest_table};
use tx_shared::aws::{DynamoJobTable, DynamoManifestTable, StartPosition, StreamReader};
use tx_shared::config::Config;
use tx_shared::domain::convert::{ConvertRequest, ConvertResult};
use tx_shared::domain::job::{JobResult, JobStatus};
use tx_shared::local::{InProcessInvoker, LocalFunction};
use tx_shared::ports::{JobTable, SystemClock};

fn config() -> Config {
    Config::from_lookup(|k| match k {
        "TX_FORGE_TOKEN" | "TX_ALLOWED_HOSTS" | "TX_BRANCHES" | "TX_JOB_TIMEOUT_SECS" | "TX_MAX_ATTEMPTS" => {
            None
        }
        "TX_CONVERTER_FUNCTION" => Some("converter".into()),
        _ => Some("test".into()),
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn stream_records_from_dynamodb_run_their_jobs() {
    let Some(moto) = moto::Moto::start("stream_records_from_dynamodb_run_their_jobs") else {
        return;
    };
    let clients = moto.clients().await;
    create_job_table(&clients, "tx-job")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    create_manifest_table(&clients, "tx-manifest")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let jobs = Arc::new(DynamoJobTable::new(clients.dynamodb.clone(), "tx-job"));
    let mut reader = StreamReader::for_table(&clients, "tx-job", StartPosition::TrimHorizon)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let convert: LocalFunction = Arc::new(|payload| {
        Box::pin(async move {
            let req: ConvertRequest = serde_json::from_value(payload).map_err(|e| e.to_string())?;
            serde_json::to_value(ConvertResult {
                success: true,
                output: Some(req.output_key),
                warnings: vec!["43-JHN.usfm:3: odd marker".to_string()],
                ..Default::default()
            })
            .map_err(|e| e.to_string())
        })
    });
    let config = config();
    let deps = ManagerDeps {
        jobs: jobs.clone(),
        manifests: Arc::new(DynamoManifestTable::new(clients.dynamodb.clone(), "tx-manifest")),
        invoker: Arc::new(InProcessInvoker::new().register("converter", convert)),
        clock: Arc::new(SystemClock),
        http: reqwest::Client::new(),
        registry: ModuleRegistry::standard(&config.converter_function),
        runner: "test runner".into(),
        // No forge is configured: statuses are logged as not set.
        forges: Arc::new(tx_shared::forges::ForgeRegistry::empty("test")),
        forge: Arc::new(
            tx_shared::forge_client::HttpForgeClient::new(Arc::new(tx_shared::forges::ForgeRegistry::empty(
                "test",
            )))
            .expect("forge client"),
        ),
        config,
    };

    // Two requested jobs (no callback: there is no client to call back here).
    for (id, minutes) in [("aws-1", 0), ("aws-2", 1)] {
        let mut job = fixtures::job(id, "ana/en_ulb", minutes);
        job.callback = None;
        job.created_at = chrono::Utc::now();
        job.expires_at = (job.created_at + chrono::Duration::days(90)).timestamp();
        jobs.insert(&job)
            .await
            .unwrap_or_else(|e| panic!("insert {id}: {e}"));
    }

    // Deliver what the stream holds, as Lambda would, until both are finished
    // (the handler's own writes come back as MODIFY records; the stream
    // filter drops them, as the event source mapping does).
    let pattern: serde_json::Value =
        serde_json::from_str(tx_shared::filter::JOB_STREAM_PATTERN).unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut delivered = 0;
    loop {
        for mut batch in reader.poll().await.unwrap_or_else(|e| panic!("poll: {e}")) {
            batch
                .event
                .records
                .retain(|r| serde_json::to_value(r).is_ok_and(|v| tx_shared::filter::matches(&pattern, &v)));
            if batch.event.records.is_empty() {
                continue;
            }
            delivered += batch.event.records.len();
            let answer = handle_stream(batch.event, &deps).await;
            assert!(
                answer.batch_item_failures.is_empty(),
                "failures: {:?}",
                answer.batch_item_failures
            );
        }
        let mut finished = 0;
        for id in ["aws-1", "aws-2"] {
            let job = jobs.get(id).await.unwrap_or_else(|e| panic!("{e}"));
            finished += usize::from(job.is_some_and(|j| j.status == JobStatus::Finished));
        }
        if finished == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "jobs not finished; delivered {delivered} records"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivered, 2, "one requested record per job");
    for id in ["aws-1", "aws-2"] {
        let job = jobs
            .get(id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{id} gone"));
        assert_eq!(job.status, JobStatus::Finished, "{id}");
        assert_eq!(job.result, Some(JobResult::Warnings), "{id}");
        assert_eq!(job.output.as_deref(), Some(format!("tx/job/{id}.zip").as_str()));
        assert_eq!(job.attempts, 1, "{id} ran once");
    }

    // A redelivered record (Lambda is at-least-once) is a no-op.
    reader.retry_from_start();
    let mut again = Vec::new();
    for batch in reader.poll().await.unwrap_or_else(|e| panic!("poll: {e}")) {
        let answer = handle_stream(batch.event, &deps).await;
        again.extend(answer.batch_item_failures);
    }
    assert!(again.is_empty());
    let job = jobs
        .get("aws-1")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("gone"));
    assert_eq!(job.attempts, 1, "a redelivered record ran the job again");
}
