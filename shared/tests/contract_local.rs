//! The port contracts against the embedded runtime's adapters (SQLite tables,
//! directory buckets, the in-process invoker).

mod contract;

use std::sync::Arc;

use serde_json::{Value, json};
use tx_shared::local::{Db, DirBucket, InProcessInvoker, LocalFunction, SqliteJobTable, SqliteManifestTable};
use tx_shared::ports::{FunctionInvoker, InvokeError};

fn db(dir: &tempfile::TempDir) -> Db {
    Db::open(&dir.path().join("tx.sqlite")).unwrap_or_else(|e| panic!("open db: {e}"))
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

#[tokio::test]
async fn sqlite_job_table_keeps_the_contract() {
    let dir = tempdir();
    let table = SqliteJobTable::new(db(&dir), "tx-job");
    contract::jobs::suite("sqlite", &table).await;
    contract::jobs::queue_suite("sqlite", &table).await;
}

#[tokio::test]
async fn sqlite_manifest_table_keeps_the_contract() {
    let dir = tempdir();
    contract::manifests::suite("sqlite", &SqliteManifestTable::new(db(&dir))).await;
}

#[tokio::test]
async fn dir_bucket_keeps_the_contract() {
    let dir = tempdir();
    let bucket = DirBucket::open("cdn", dir.path().join("cdn")).unwrap_or_else(|e| panic!("bucket: {e}"));
    contract::objects::suite("dir", Arc::new(bucket)).await;
}

#[tokio::test]
async fn dir_bucket_lists_over_a_thousand_keys() {
    let dir = tempdir();
    let bucket = DirBucket::open("cdn", dir.path().join("cdn")).unwrap_or_else(|e| panic!("bucket: {e}"));
    contract::objects::many_keys("dir", Arc::new(bucket), 1005).await;
}

#[tokio::test]
async fn in_process_invoker_keeps_the_contract() {
    contract::invoker::suite("in-process", &InProcessInvoker::new()).await;
}

#[tokio::test]
async fn in_process_invoker_reports_function_errors() {
    let echo: LocalFunction = Arc::new(|v: Value| Box::pin(async move { Ok(v) }));
    let fail: LocalFunction = Arc::new(|_| Box::pin(async { Err("ConvertError: bad zip".to_string()) }));
    let invoker = InProcessInvoker::new()
        .register("echo", echo)
        .register("fail", fail);
    assert_eq!(
        invoker.invoke("echo", json!({"a": 1})).await.ok(),
        Some(json!({"a": 1}))
    );
    let err = invoker.invoke("fail", json!({})).await;
    assert!(
        matches!(&err, Err(InvokeError::Function(m)) if m.contains("bad zip")),
        "{err:?}"
    );
}
