//! Thread 3 on AWS services (moto): a `build_log.json` written to the CDN
//! bucket through the S3 adapter makes S3 notify (to SQS here; to the
//! deployer function in the template), and the deployer's S3 handler,
//! reading and writing through the S3 and DynamoDB adapters, publishes it.
//!
//! Needs `.venv/bin/moto_server` (`scripts/moto-venv`); skips without it,
//! fails without it under `CI=true`.

#[path = "../../../shared/tests/contract/fixtures.rs"]
mod fixtures;
#[path = "../../../shared/tests/support/moto.rs"]
mod moto;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tx_deployer::{DeployerDeps, SiteConfig, handle_s3};
use tx_shared::aws::provision::{
    create_bucket, create_job_table, create_manifest_table, create_notification_queue,
};
use tx_shared::aws::{DynamoJobTable, DynamoManifestTable, S3EventQueue, S3Store};
use tx_shared::domain::build_log::BuildLog;
use tx_shared::ports::{JobTable, ObjectStore};

#[tokio::test]
async fn a_build_log_notification_reaches_the_deployer() {
    let Some(moto) = moto::Moto::start("a_build_log_notification_reaches_the_deployer") else {
        return;
    };
    let clients = moto.clients().await;
    create_job_table(&clients, "tx-job")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    create_manifest_table(&clients, "tx-manifest")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for bucket in ["tx-cdn", "tx-website"] {
        create_bucket(&clients, bucket)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let url = create_notification_queue(&clients, "tx-cdn", "tx-cdn-events")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let queue = S3EventQueue::new(clients.sqs.clone(), url);
    let cdn = Arc::new(S3Store::new(clients.s3.clone(), "tx-cdn"));
    let website = Arc::new(S3Store::new(clients.s3.clone(), "tx-website"));
    let jobs = Arc::new(DynamoJobTable::new(clients.dynamodb.clone(), "tx-job"));
    let deps = DeployerDeps {
        cdn: cdn.clone(),
        website: website.clone(),
        jobs: jobs.clone(),
        manifests: Arc::new(DynamoManifestTable::new(clients.dynamodb.clone(), "tx-manifest")),
        site: SiteConfig::new("https://site.example", "https://cdn.example"),
    };

    // A requested build, as the webhook client leaves it: the job row and
    // its first build log (names as forges allow them: `.` in a repo name).
    let job = fixtures::job("dep-1", "ana/en.ulb", 0);
    jobs.insert(&job).await.unwrap_or_else(|e| panic!("{e}"));
    let log_key = format!("{}build_log.json", job.site_prefix());
    let log = serde_json::to_vec(&BuildLog::of(&job)).unwrap_or_else(|e| panic!("{e}"));
    cdn.put(&log_key, Bytes::from(log), "application/json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut handled = 0;
    while handled == 0 && Instant::now() < deadline {
        for message in queue.receive(1).await.unwrap_or_else(|e| panic!("{e}")) {
            handle_s3(message.event, &deps)
                .await
                .unwrap_or_else(|e| panic!("handle_s3: {e}"));
            queue
                .ack(&message.receipt_handle)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            handled += 1;
        }
    }
    assert_eq!(handled, 1, "the notification arrived");

    let page_key = format!("{}index.html", job.site_prefix());
    let page = website.get(&page_key).await.unwrap_or_else(|e| panic!("{e}"));
    let page = String::from_utf8(
        page.unwrap_or_else(|| panic!("{page_key} not published"))
            .to_vec(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        page.contains("build_log.json"),
        "placeholder follows the log: {page}"
    );
    let copied = website.get(&log_key).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(copied.is_some(), "build log copied to the website");
    let project = website
        .get("u/ana/en.ulb/project.json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(project.is_some(), "project.json written");
    // It never writes into the bucket that triggers it.
    let cdn_keys = cdn.list("").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cdn_keys, [log_key]);
}
