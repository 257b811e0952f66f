//! End to end on AWS services (moto): `tx demo --backend aws` publishes both
//! sample sites through DynamoDB (job table and its stream), S3 (CDN and
//! website buckets), the CDN bucket's notifications through SQS, and the
//! real converter (in process) and deployer — the local equivalent is
//! `tests/pipeline.rs`.
//!
//! Needs `.venv/bin/moto_server` (`scripts/moto-venv`); skips without it,
//! fails without it under `CI=true`.

#[path = "../shared/tests/support/moto.rs"]
mod moto;

use std::time::Duration;

use tx::demo::forge::DemoForge;

/// The webhook secret the restart test's forge is configured with.
const SECRET: &str = "demo-aws-test-secret";
use tx::demo::{self, DEMO_OWNER};
use tx::runtime::{AwsBackend, Backend, Runtime, RuntimeOptions};
use tx_shared::aws::{AwsClients, DynamoJobTable, S3Store};
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::job::{JobResult, JobStatus, commit10};
use tx_shared::domain::project::ProjectIndex;
use tx_shared::ports::{JobTable, ObjectStore};

fn options(dir: &std::path::Path, clients: &AwsClients, provision: bool) -> RuntimeOptions {
    let mut backend = AwsBackend::new(clients.clone());
    backend.provision = provision;
    let addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    let mut options = RuntimeOptions::new(addr, dir);
    options.backend = Backend::Aws(Box::new(backend));
    options
}

async fn object(store: &S3Store, key: &str) -> Vec<u8> {
    store
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("{key}: {e}"))
        .unwrap_or_else(|| panic!("{key} is missing from {}", store.bucket()))
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_publishes_both_sites_on_aws_services() {
    let Some(moto) = moto::Moto::start("the_demo_publishes_both_sites_on_aws_services") else {
        return;
    };
    let clients = moto.clients().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));

    // Without --provision an empty endpoint is named, not failed on later.
    let refused = match Runtime::start(options(dir.path(), &clients, false)).await {
        Ok(_) => panic!("started without tables or buckets"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        refused.contains("table tx-job") && refused.contains("bucket tx-website"),
        "{refused}"
    );

    let demo = match demo::run(options(dir.path(), &clients, true), Duration::from_secs(90)).await {
        Ok(demo) => demo,
        Err(e) => panic!("demo on moto: {e:#}\nmoto log: {}", moto.log_tail()),
    };
    let names: Vec<&str> = demo.sites.iter().map(|s| s.repo.as_str()).collect();
    assert_eq!(names, ["en_stories", "en_ulb"]);

    // Read back through S3 and DynamoDB themselves, not through the runtime.
    let config = &demo.runtime.config;
    let website = S3Store::new(clients.s3.clone(), &config.website_bucket);
    let cdn = S3Store::new(clients.s3.clone(), &config.cdn_bucket);
    let jobs = DynamoJobTable::new(clients.dynamodb.clone(), &config.job_table);
    let http = reqwest::Client::new();
    let repos = demo::examples::example_repos().unwrap_or_else(|e| panic!("{e}"));
    for repo in &repos {
        let prefix = format!("u/{DEMO_OWNER}/{}/{}/", repo.name, commit10(&repo.commit_id));
        let log: BuildLog =
            serde_json::from_slice(&object(&website, &format!("{prefix}build_log.json")).await)
                .unwrap_or_else(|e| panic!("{prefix}build_log.json: {e}"));
        assert!(log.success, "{}: {:?}", repo.name, log.errors);
        assert_eq!(log.status, DisplayStatus::Success, "{}", repo.name);
        assert_eq!(log.commit_id, repo.commit_id);
        let page = String::from_utf8(object(&website, &format!("{prefix}index.html")).await)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(page.contains("<html"), "{prefix}index.html: {page}");
        let project: ProjectIndex = serde_json::from_slice(
            &object(&website, &format!("u/{DEMO_OWNER}/{}/project.json", repo.name)).await,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(project.commits.len(), 1, "{}", repo.name);

        let rows = jobs
            .by_repo(&format!("{DEMO_OWNER}/{}", repo.name), 10)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), 1, "one job per push");
        let job = &rows[0];
        assert_eq!(job.status, JobStatus::Finished);
        assert_eq!(job.result, Some(JobResult::Success), "{:?}", job.errors);
        assert_eq!(job.attempts, 1, "the stream ran {} once", repo.name);
        object(&cdn, &format!("tx/job/{}.zip", job.job_id)).await;

        // Readers fetch it through the gateway, which serves the S3 website bucket.
        let response = http
            .get(format!("{}/{prefix}", demo.runtime.url()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 200, "{prefix}");
    }

    // The Bible's text made it through USFM → HTML → S3.
    let mut found = false;
    let ulb = repos
        .iter()
        .find(|r| r.name == "en_ulb")
        .unwrap_or_else(|| panic!("no en_ulb example"));
    let bible = format!("u/{DEMO_OWNER}/en_ulb/{}/", commit10(&ulb.commit_id));
    for key in website.list(&bible).await.unwrap_or_else(|e| panic!("{e}")) {
        if key.ends_with(".html") {
            found |= String::from_utf8_lossy(&object(&website, &key).await).contains("wellbeloved Gaius");
        }
    }
    assert!(found, "3 John 1:1 is on the published site");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_requested_before_a_restart_is_published_once_after_it() {
    let Some(moto) = moto::Moto::start("a_job_requested_before_a_restart_is_published_once_after_it") else {
        return;
    };
    let clients = moto.clients().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let forge = DemoForge::start(DEMO_OWNER)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let repo = demo::examples::example_repos()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .find(|r| r.name == "en_ulb")
        .unwrap_or_else(|| panic!("no en_ulb example"));
    forge.publish(&repo.name, &repo.commit_id, repo.archive.clone());
    let http = reqwest::Client::new();

    // First life: the webhook is accepted (job row and stream record in
    // DynamoDB, first build log in S3), then the process stops before any
    // event is delivered.
    let mut first = options(dir.path(), &clients, true);
    first.deliver_events = false;
    first
        .overrides
        .insert("TX_FORGES".into(), forge.registry(SECRET).to_string());
    let runtime = Runtime::start(first).await.unwrap_or_else(|e| panic!("{e:#}"));
    let addr = runtime.addr;
    let (status, body) = forge
        .send_push(
            &http,
            &format!("{}/client/webhook", runtime.url()),
            SECRET,
            &repo.name,
            &repo.commit_id,
            "before restart",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 202, "{body}");
    let jobs = DynamoJobTable::new(clients.dynamodb.clone(), &runtime.config.job_table);
    let repo_key = format!("{DEMO_OWNER}/{}", repo.name);
    let rows = jobs
        .by_repo(&repo_key, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, JobStatus::Requested);
    let website = S3Store::new(clients.s3.clone(), &runtime.config.website_bucket);
    runtime.stop().await;

    // Second life on the same resources (and address, which the callback
    // names): the stream is read from its oldest record, the queue still
    // holds the first build log's notification.
    let mut second = options(dir.path(), &clients, false);
    second.addr = addr;
    second
        .overrides
        .insert("TX_FORGES".into(), forge.registry(SECRET).to_string());
    let runtime = Runtime::start(second).await.unwrap_or_else(|e| panic!("{e:#}"));
    let key = format!(
        "u/{DEMO_OWNER}/{}/{}/build_log.json",
        repo.name,
        commit10(&repo.commit_id)
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let log = loop {
        if let Some(bytes) = website.get(&key).await.unwrap_or_else(|e| panic!("{e}")) {
            let log: BuildLog = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
            if log.status.is_final() {
                break log;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not published within 60 s of the restart\nmoto log: {}",
            moto.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(log.status, DisplayStatus::Success);
    let rows = jobs
        .by_repo(&repo_key, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].attempts, 1, "converted once");
    assert_eq!(forge.downloads(), 1, "downloaded once");
    runtime.stop().await;
    forge.stop().await;
}
