//! The port contracts against the AWS adapters, on a moto server per test,
//! plus the event sources (DynamoDB Streams, S3 → SQS notifications) that
//! `tx serve --backend aws` reads, checked against the records the embedded
//! runtime writes: same shape, field by field.
//!
//! Needs `.venv/bin/moto_server` (`scripts/moto-venv`); skips without it,
//! fails without it under `CI=true`.

#![cfg(feature = "aws")]

mod contract;
#[path = "support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use moto::Moto;
use serde_json::Value;
use tx_shared::aws::provision::{
    create_bucket, create_job_table, create_manifest_table, create_notification_queue, create_queue_table,
};
use tx_shared::aws::{
    AwsClients, DynamoJobTable, DynamoManifestTable, LambdaInvoker, S3EventQueue, S3Store, ShardBatch,
    StartPosition, StreamReader, event_object,
};
use tx_shared::domain::job::JobStatus;
use tx_shared::ports::{JobTable, ObjectStore};

use contract::fixtures::job;

#[tokio::test]
async fn dynamo_job_table_keeps_the_contract() {
    let Some(moto) = Moto::start("dynamo_job_table_keeps_the_contract") else {
        return;
    };
    let clients = moto.clients().await;
    create_job_table(&clients, "tx-job")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    create_queue_table(&clients, "tx-job-slots")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Pages of two rows: by_repo and sweep_candidates must follow LastEvaluatedKey.
    let table = DynamoJobTable::new(clients.dynamodb.clone(), "tx-job")
        .with_queue_table("tx-job-slots")
        .with_page_size(2);
    contract::jobs::suite("dynamodb", &table).await;
    contract::jobs::queue_suite("dynamodb", &table).await;
}

#[tokio::test]
async fn dynamo_manifest_table_keeps_the_contract() {
    let Some(moto) = Moto::start("dynamo_manifest_table_keeps_the_contract") else {
        return;
    };
    let clients = moto.clients().await;
    create_manifest_table(&clients, "tx-manifest")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let table = DynamoManifestTable::new(clients.dynamodb.clone(), "tx-manifest").with_page_size(2);
    contract::manifests::suite("dynamodb", &table).await;
}

#[tokio::test]
async fn s3_store_keeps_the_contract() {
    let Some(moto) = Moto::start("s3_store_keeps_the_contract") else {
        return;
    };
    let clients = moto.clients().await;
    create_bucket(&clients, "tx-cdn")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = S3Store::new(clients.s3.clone(), "tx-cdn").with_page_size(2);
    contract::objects::suite("s3", Arc::new(store.clone())).await;

    // What only S3 shows: the content type is stored with the object.
    store
        .put(
            "site/index.html",
            Bytes::from_static(b"<h1>"),
            "text/html; charset=utf-8",
        )
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    let head = clients
        .s3
        .head_object()
        .bucket("tx-cdn")
        .key("site/index.html")
        .send()
        .await
        .unwrap_or_else(|e| panic!("head: {e}"));
    assert_eq!(head.content_type(), Some("text/html; charset=utf-8"));
}

#[tokio::test]
async fn s3_store_lists_over_a_thousand_keys() {
    let Some(moto) = Moto::start("s3_store_lists_over_a_thousand_keys") else {
        return;
    };
    let clients = moto.clients().await;
    create_bucket(&clients, "tx-website")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // S3's own page size (1000): 1005 keys take two ListObjectsV2 pages.
    let store = S3Store::new(clients.s3.clone(), "tx-website");
    contract::objects::many_keys("s3", Arc::new(store), 1005).await;
}

#[tokio::test]
async fn lambda_invoker_keeps_the_contract() {
    let Some(moto) = Moto::start("lambda_invoker_keeps_the_contract") else {
        return;
    };
    let clients = moto.clients().await;
    contract::invoker::suite("lambda", &LambdaInvoker::new(clients.lambda.clone())).await;
}

/// Polls `reader` until `want` records arrived (bounded).
async fn read_records(reader: &mut StreamReader, want: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut records = Vec::new();
    while records.len() < want && Instant::now() < deadline {
        let batches: Vec<ShardBatch> = reader.poll().await.unwrap_or_else(|e| panic!("poll: {e}"));
        for b in batches {
            let event = serde_json::to_value(&b.event).unwrap_or_else(|e| panic!("event json: {e}"));
            records.extend(event["Records"].as_array().cloned().unwrap_or_default());
        }
        if records.len() < want {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(records.len(), want, "stream records: {records:#?}");
    records
}

#[tokio::test]
async fn stream_reader_delivers_lambda_shaped_records() {
    let Some(moto) = Moto::start("stream_reader_delivers_lambda_shaped_records") else {
        return;
    };
    let clients = moto.clients().await;
    let arn = create_job_table(&clients, "tx-job")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let table = DynamoJobTable::new(clients.dynamodb.clone(), "tx-job");
    let mut reader = StreamReader::for_table(&clients, "tx-job", StartPosition::TrimHorizon)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reader.stream_arn(), arn);

    let inserted = table
        .insert(&job("s-1", "ana/en_ulb", 0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut started = inserted.clone();
    started.status = JobStatus::Started;
    table.update(&started, 1).await.unwrap_or_else(|e| panic!("{e}"));

    let records = read_records(&mut reader, 2).await;
    assert_eq!(records[0]["eventName"], "INSERT");
    assert_eq!(records[1]["eventName"], "MODIFY");
    assert_eq!(records[0]["eventSourceARN"], arn.as_str());
    assert_eq!(records[0]["dynamodb"]["Keys"]["job_id"]["S"], "s-1");
    assert_eq!(records[1]["dynamodb"]["OldImage"]["status"]["S"], "requested");
    assert_eq!(records[1]["dynamodb"]["NewImage"]["status"]["S"], "started");
    assert_eq!(records[1]["dynamodb"]["NewImage"]["version"]["N"], "2");

    // The filter of the template and of the embedded runtime: the INSERT
    // (requested) starts a job, the MODIFY to started does not.
    let pattern: Value =
        serde_json::from_str(tx_shared::filter::JOB_STREAM_PATTERN).unwrap_or_else(|e| panic!("{e}"));
    assert!(tx_shared::filter::matches(&pattern, &records[0]));
    assert!(!tx_shared::filter::matches(&pattern, &records[1]));

    // The images read back into the job that was written.
    let image = records[1]["dynamodb"]["NewImage"].clone();
    let back = tx_shared::local::job_table::job_from_image(&image).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.status, JobStatus::Started);
    assert_eq!(back.commit, inserted.commit);

    // Nothing new: an empty poll.
    assert!(reader.poll().await.unwrap_or_else(|e| panic!("{e}")).is_empty());
}

#[tokio::test]
async fn stream_reader_rewinds_to_a_failed_record() {
    let Some(moto) = Moto::start("stream_reader_rewinds_to_a_failed_record") else {
        return;
    };
    let clients = moto.clients().await;
    create_job_table(&clients, "tx-job")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let table = DynamoJobTable::new(clients.dynamodb.clone(), "tx-job");
    let mut reader = StreamReader::for_table(&clients, "tx-job", StartPosition::Latest)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Before the first write, so LATEST starts before it.
    assert!(reader.poll().await.unwrap_or_else(|e| panic!("{e}")).is_empty());
    for (i, id) in ["r-1", "r-2", "r-3"].into_iter().enumerate() {
        table
            .insert(&job(id, "ana/en_ulb", i as i64))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let batches = reader.poll().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(batches.len(), 1, "one shard");
    let batch = &batches[0];
    assert_eq!(batch.event.records.len(), 3);
    // The handler failed on the second record: Lambda would retry from it.
    let failed = batch.event.records[1]
        .change
        .sequence_number
        .clone()
        .unwrap_or_else(|| panic!("record without sequence number"));
    reader.retry_from(&batch.shard_id, &failed);
    let again = reader.poll().await.unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<_> = again
        .iter()
        .flat_map(|b| b.event.records.iter())
        .filter_map(|r| r.change.keys.get("job_id").cloned())
        .map(|v| serde_json::to_value(v).unwrap_or_default()["S"].clone())
        .collect();
    assert_eq!(ids, [Value::from("r-2"), Value::from("r-3")]);
}

/// Receives from `queue` until `want` notifications arrived (bounded).
async fn receive(queue: &S3EventQueue, want: usize) -> Vec<tx_shared::aws::QueuedS3Event> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < want && Instant::now() < deadline {
        got.extend(queue.receive(1).await.unwrap_or_else(|e| panic!("receive: {e}")));
    }
    got
}

#[tokio::test]
async fn s3_notifications_reach_the_queue_with_encoded_keys() {
    let Some(moto) = Moto::start("s3_notifications_reach_the_queue_with_encoded_keys") else {
        return;
    };
    let clients = moto.clients().await;
    create_bucket(&clients, "tx-cdn")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = create_notification_queue(&clients, "tx-cdn", "tx-cdn-events")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let queue = S3EventQueue::new(clients.sqs.clone(), url);
    let store = S3Store::new(clients.s3.clone(), "tx-cdn");

    // Only u/…/build_log.json notifies; the key has a space and a plus.
    store
        .put("tx/job/j1.zip", Bytes::from_static(b"zip"), "application/zip")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .put(
            "u/ana/my repo+x/0123456789/index.html",
            Bytes::from_static(b"<p>"),
            "text/html",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let key = "u/ana/my repo+x/0123456789/build_log.json";
    store
        .put(key, Bytes::from_static(b"{}"), "application/json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let got = receive(&queue, 1).await;
    assert_eq!(got.len(), 1, "one notification");
    let record = &got[0].event.records[0];
    assert!(
        record
            .event_name
            .as_deref()
            .is_some_and(|n| n.starts_with("ObjectCreated:"))
    );
    let object = event_object(record).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(object.bucket, "tx-cdn");
    assert_eq!(object.key, key, "decoded key names the object");
    assert!(store.get(&object.key).await.ok().flatten().is_some());
    queue
        .ack(&got[0].receipt_handle)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        queue
            .receive(0)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty(),
        "acked message is gone"
    );
}

/// Every JSON path of `value` with the JSON type found there
/// (`dynamodb.NewImage.status.S: string`), for comparing record shapes.
fn shape(value: &Value) -> BTreeMap<String, &'static str> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, &'static str>) {
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        out.insert(prefix.to_string(), kind);
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            Value::Array(items) => {
                for v in items {
                    walk(&format!("{prefix}[]"), v, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk("", value, &mut out);
    out
}

/// Normalises a record through the Lambda event type, as a handler sees it.
fn as_handler_sees<T: serde::de::DeserializeOwned + serde::Serialize>(record: &Value) -> Value {
    let event: T = serde_json::from_value(serde_json::json!({ "Records": [record] }))
        .unwrap_or_else(|e| panic!("record does not parse as a Lambda event: {e}\n{record:#}"));
    serde_json::to_value(event).unwrap_or_else(|e| panic!("{e}"))["Records"][0].clone()
}

#[tokio::test]
async fn local_records_are_shaped_like_aws_records() {
    let Some(moto) = Moto::start("local_records_are_shaped_like_aws_records") else {
        return;
    };
    let clients: AwsClients = moto.clients().await;

    // The same two writes on DynamoDB and on SQLite.
    create_job_table(&clients, "tx-job")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let aws_table = DynamoJobTable::new(clients.dynamodb.clone(), "tx-job");
    let mut reader = StreamReader::for_table(&clients, "tx-job", StartPosition::TrimHorizon)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = tx_shared::local::Db::open(&dir.path().join("tx.sqlite")).unwrap_or_else(|e| panic!("{e}"));
    let events = tx_shared::local::EventLog::new(db.clone());
    let local_table = tx_shared::local::SqliteJobTable::new(db, "tx-job");
    for table in [&aws_table as &dyn JobTable, &local_table] {
        let j = table
            .insert(&job("shape-1", "ana/en_ulb", 0))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let done = contract::fixtures::finished(j);
        table.update(&done, 1).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let aws_records = read_records(&mut reader, 2).await;
    let local_records: Vec<Value> = events
        .pending(tx_shared::local::JOB_STREAM, "shape-test", 10)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|e| e.record)
        .collect();
    assert_eq!(local_records.len(), 2);
    for (aws, local) in aws_records.iter().zip(&local_records) {
        let local = as_handler_sees::<aws_lambda_events::event::dynamodb::Event>(local);
        assert_eq!(
            shape(aws),
            shape(&local),
            "stream record shapes differ\naws: {aws:#}\nlocal: {local:#}"
        );
        // (eventVersion: DynamoDB Streams says "1.1", moto "1.0"; not compared.)
        for field in ["eventName", "eventSource"] {
            assert_eq!(aws[field], local[field], "{field}");
        }
        for field in ["Keys", "NewImage", "OldImage", "StreamViewType"] {
            assert_eq!(
                aws["dynamodb"][field], local["dynamodb"][field],
                "dynamodb.{field}"
            );
        }
    }

    // One build_log.json put on S3 (via the queue) and on a directory bucket.
    create_bucket(&clients, "tx-cdn")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = create_notification_queue(&clients, "tx-cdn", "tx-cdn-events")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let queue = S3EventQueue::new(clients.sqs.clone(), url);
    let key = "u/ana/en ulb/0123456789/build_log.json";
    S3Store::new(clients.s3.clone(), "tx-cdn")
        .put(key, Bytes::from_static(b"{}"), "application/json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let bucket = tx_shared::local::DirBucket::open("tx-cdn", dir.path().join("cdn"))
        .unwrap_or_else(|e| panic!("{e}"))
        .with_notification(
            events.clone(),
            tx_shared::local::CDN_NOTIFICATIONS,
            tx_shared::filter::cdn_notification_matches,
        );
    bucket
        .put(key, Bytes::from_static(b"{}"), "application/json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let got = receive(&queue, 1).await;
    assert_eq!(got.len(), 1);
    let aws = serde_json::to_value(&got[0].event).unwrap_or_else(|e| panic!("{e}"))["Records"][0].clone();
    let local_events = events
        .pending(tx_shared::local::CDN_NOTIFICATIONS, "shape-test", 10)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(local_events.len(), 1);
    let local = as_handler_sees::<aws_lambda_events::event::s3::S3Event>(&local_events[0].record);
    // moto leaves out some fields real S3 sends (identity, sequencer), so the
    // check is one way: every field the emulator sets, the local record sets,
    // with the same JSON type.
    let (aws_shape, local_shape) = (shape(&aws), shape(&local));
    for (path, kind) in aws_shape.iter().filter(|(_, k)| **k != "null") {
        assert_eq!(
            local_shape.get(path),
            Some(kind),
            "S3 record field {path}\naws: {aws:#}\nlocal: {local:#}"
        );
    }
    // moto encodes `/` as %2F (real S3 and the local runtime keep it): the
    // decoded keys must agree.
    let decode = |v: &Value| tx_shared::local::stream_record::decode_s3_key(v.as_str().unwrap_or_default());
    assert_eq!(decode(&aws["s3"]["object"]["key"]), key);
    assert_eq!(decode(&local["s3"]["object"]["key"]), key);
    assert_eq!(aws["s3"]["bucket"]["name"], local["s3"]["bucket"]["name"]);
    assert_eq!(aws["eventSource"], local["eventSource"]);
    assert_eq!(aws["eventName"], local["eventName"]);
}
