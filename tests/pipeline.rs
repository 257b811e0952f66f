//! End to end: the three threads in one process, against a loopback forge.
//!
//! Real HTTP (the runtime's gateway and the forge), real SQLite tables with
//! their stream log, real directory buckets with their notifications, the
//! real converter and deployer.

use std::time::Duration;

use serde_json::Value;
use tx::demo::examples::example_repos;
use tx::demo::forge::DemoForge;
use tx::demo::{self, DEMO_OWNER};
use tx::runtime::{Runtime, RuntimeOptions};
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::job::{Job, JobResult, JobStatus, commit10};
use tx_shared::domain::project::ProjectIndex;
use tx_shared::local::JOB_STREAM;
use tx_shared::ports::{JobTable, ObjectStore};

/// The webhook secret the tests' forge is configured with.
const SECRET: &str = "pipeline-test-secret";

fn options(dir: &std::path::Path) -> RuntimeOptions {
    RuntimeOptions::new("127.0.0.1:0".parse().unwrap(), dir)
}

/// Options whose forge registry names `forge`.
fn options_for(dir: &std::path::Path, forge: &DemoForge) -> RuntimeOptions {
    forge.runtime_options(dir, SECRET)
}

async fn json_of(store: &dyn ObjectStore, key: &str) -> Value {
    let bytes = store
        .get(key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{key} is missing"));
    serde_json::from_slice(&bytes).unwrap()
}

/// The statuses a job went through, as its stream records tell; a write that
/// leaves the callback pending is marked so.
fn stream_statuses(runtime: &Runtime, job_id: &str) -> Vec<String> {
    runtime
        .local()
        .expect("local backend")
        .events
        .pending(JOB_STREAM, "test-audit", 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.record["dynamodb"]["Keys"]["job_id"]["S"] == job_id)
        .map(|e| {
            let image = &e.record["dynamodb"]["NewImage"];
            let status = image["status"]["S"].as_str().unwrap_or("").to_string();
            if image["callback_pending"]["BOOL"] == true {
                status + " (callback pending)"
            } else {
                status
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_becomes_a_published_site() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo::run(options(dir.path()), Duration::from_secs(60))
        .await
        .expect("demo publishes");
    assert_eq!(demo.sites.len(), 2, "{:?}", demo.sites);
    let http = reqwest::Client::new();
    let backend = demo.runtime.local().expect("local backend");

    for repo in example_repos().unwrap() {
        let c10 = commit10(&repo.commit_id).to_string();
        let prefix = format!("u/{DEMO_OWNER}/{}/{c10}/", repo.name);
        let jobs = backend
            .jobs
            .by_repo(&format!("{DEMO_OWNER}/{}", repo.name), 10)
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1, "one job per push");
        let job: &Job = &jobs[0];
        assert_eq!(job.status, JobStatus::Finished);
        assert_eq!(
            job.result,
            Some(JobResult::Success),
            "{:?} {:?}",
            job.errors,
            job.warnings
        );
        assert_eq!(job.attempts, 1);

        // Thread 2 as the stream saw it: finished with the callback pending,
        // then the write that records its delivery.
        assert_eq!(
            stream_statuses(&demo.runtime, &job.job_id),
            ["requested", "started", "finished (callback pending)", "finished"]
        );

        // CDN: the converter's zip, the unpacked build and its final log.
        assert!(
            backend
                .cdn
                .get(&format!("tx/job/{}.zip", job.job_id))
                .await
                .unwrap()
                .is_some()
        );
        let cdn_log: BuildLog =
            serde_json::from_value(json_of(backend.cdn.as_ref(), &format!("{prefix}build_log.json")).await)
                .unwrap();
        assert_eq!(cdn_log.status, DisplayStatus::Success);
        assert!(
            backend
                .cdn
                .get(&format!("{prefix}manifest.json"))
                .await
                .unwrap()
                .is_some()
        );

        // Website: the pages, the log, project.json, the landing page.
        let site_log: BuildLog = serde_json::from_value(
            json_of(backend.website.as_ref(), &format!("{prefix}build_log.json")).await,
        )
        .unwrap();
        assert_eq!(site_log.status, DisplayStatus::Success);
        assert!(site_log.success);
        assert_eq!(site_log.commit_id, repo.commit_id);
        let project: ProjectIndex = serde_json::from_value(
            json_of(
                backend.website.as_ref(),
                &format!("u/{DEMO_OWNER}/{}/project.json", repo.name),
            )
            .await,
        )
        .unwrap();
        assert_eq!(project.commits.len(), 1);
        assert_eq!(project.commits[0].id, c10);
        assert_eq!(project.commits[0].status, DisplayStatus::Success);
        assert!(
            backend
                .website
                .get(&format!("u/{DEMO_OWNER}/{}/index.html", repo.name))
                .await
                .unwrap()
                .is_some()
        );

        // Readers fetch it over HTTP.
        let page = http
            .get(format!("{}/{prefix}", demo.runtime.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(
            page.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );

        // The forge was told: pending, then success.
        let states: Vec<String> = demo
            .forge
            .statuses()
            .into_iter()
            .filter(|s| s.sha == repo.commit_id)
            .map(|s| s.state)
            .collect();
        assert_eq!(states.first().map(String::as_str), Some("pending"), "{states:?}");
        assert_eq!(states.last().map(String::as_str), Some("success"), "{states:?}");
    }

    // The Bible's text made it through USFM → HTML → site.
    let bible = demo
        .sites
        .iter()
        .find(|s| s.repo == "en_ulb")
        .expect("bible site");
    let mut found = false;
    for key in backend
        .website
        .list(
            bible
                .url
                .split_once("/u/")
                .map(|(_, k)| format!("u/{k}"))
                .unwrap()
                .as_str(),
        )
        .await
        .unwrap()
    {
        if key.ends_with(".html") {
            let html = String::from_utf8(backend.website.get(&key).await.unwrap().unwrap().to_vec()).unwrap();
            found |= html.contains("wellbeloved Gaius");
        }
    }
    assert!(found, "3 John 1:1 is on the published site");
    assert_eq!(backend.events.dead_letter_count("job-manager").unwrap(), 0);
    assert_eq!(backend.events.dead_letter_count("deployer").unwrap(), 0);
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_webhook_gets_401_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
    let runtime = Runtime::start(options_for(dir.path(), &forge)).await.unwrap();
    let repo = &example_repos().unwrap()[0];
    forge.publish(&repo.name, &repo.commit_id, repo.archive.clone());
    let http = reqwest::Client::new();
    let hook = format!("{}/client/webhook", runtime.url());
    let (status, body) = forge
        .send_push(
            &http,
            &hook,
            "not-the-secret",
            &repo.name,
            &repo.commit_id,
            "forged",
        )
        .await
        .unwrap();
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "bad_signature", "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        runtime
            .local()
            .expect("local backend")
            .jobs
            .by_repo(&format!("{DEMO_OWNER}/{}", repo.name), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        runtime
            .local()
            .expect("local backend")
            .cdn
            .list("")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        runtime
            .local()
            .expect("local backend")
            .website
            .list("")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(forge.downloads(), 0);
    runtime.stop().await;
    forge.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_requested_before_a_restart_is_published_once_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
    let repo = forge.publish_example("en_ulb").unwrap();
    let http = reqwest::Client::new();

    // First life: the webhook is accepted, then the process stops before any
    // event is delivered.
    let mut first = options_for(dir.path(), &forge);
    first.deliver_events = false;
    let runtime = Runtime::start(first).await.unwrap();
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
        .unwrap();
    assert_eq!(status, 202, "{body}");
    let repo_key = format!("{DEMO_OWNER}/{}", repo.name);
    let jobs = runtime
        .local()
        .expect("local backend")
        .jobs
        .by_repo(&repo_key, 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, JobStatus::Requested);
    let job_id = jobs[0].job_id.clone();
    runtime.stop().await;

    // Second life on the same data (and address, which the callback names).
    let mut second = options_for(dir.path(), &forge);
    second.addr = addr;
    let runtime = Runtime::start(second).await.unwrap();
    let prefix = format!("u/{DEMO_OWNER}/{}/{}/", repo.name, commit10(&repo.commit_id));
    let mut published = None;
    for _ in 0..600 {
        if let Some(bytes) = runtime
            .local()
            .expect("local backend")
            .website
            .get(&format!("{prefix}build_log.json"))
            .await
            .unwrap()
        {
            let log: BuildLog = serde_json::from_slice(&bytes).unwrap();
            if log.status.is_final() {
                published = Some(log);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = published.expect("published within 60 s of the restart");
    assert_eq!(log.status, DisplayStatus::Success);
    let jobs = runtime
        .local()
        .expect("local backend")
        .jobs
        .by_repo(&repo_key, 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].job_id, job_id);
    assert_eq!(jobs[0].attempts, 1, "converted once");
    assert_eq!(forge.downloads(), 1, "downloaded once");
    assert_eq!(
        stream_statuses(&runtime, &job_id),
        ["requested", "started", "finished (callback pending)", "finished"]
    );
    runtime.stop().await;
    forge.stop().await;
}

/// The answer a webhook gets does not wait for the forge: with its status
/// API hanging, the push is answered at once, the build still publishes, and
/// the forge, once it answers again, has heard `pending` before `success`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_status_api_holds_no_webhook_answer() {
    let dir = tempfile::tempdir().unwrap();
    let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
    let repo = forge.publish_example("en_ulb").unwrap();
    let runtime = Runtime::start(options_for(dir.path(), &forge)).await.unwrap();
    forge.hold_statuses(true);
    let http = reqwest::Client::new();
    let hook = format!("{}/client/webhook", runtime.url());
    let started = std::time::Instant::now();
    let (status, body) = forge
        .send_push(&http, &hook, SECRET, &repo.name, &repo.commit_id, "slow forge")
        .await
        .unwrap();
    let answered = started.elapsed();
    assert_eq!(status, 202, "{body}");
    assert!(answered < Duration::from_secs(1), "answered in {answered:?}");

    // The build runs meanwhile; its pending status hangs a while, then the
    // forge answers again and the build publishes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    forge.hold_statuses(false);
    published_after(&runtime, &repo.name, &repo.commit_id, started).await;
    for _ in 0..100 {
        if forge.statuses().iter().any(|s| s.state == "success") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let states: Vec<String> = forge.statuses().into_iter().map(|s| s.state).collect();
    assert_eq!(states, ["pending", "success"]);
    runtime.stop().await;
    forge.stop().await;
}

/// A push that replaces a commit still waiting in the queue: the stream
/// tells the forge the older commit will not be built, and the newer one
/// goes pending, then success (the webhooks themselves told it nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coalesced_push_is_told_to_the_forge_from_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
    let repo = forge.publish_example("en_ulb").unwrap();
    let newer = "1234567890abcdef1234567890abcdef12345678";
    forge.publish(&repo.name, newer, repo.archive.clone());
    let http = reqwest::Client::new();

    // Both pushes wait in the queue: no event is delivered in this life.
    let mut first = options_for(dir.path(), &forge);
    first.deliver_events = false;
    let runtime = Runtime::start(first).await.unwrap();
    let addr = runtime.addr;
    let hook = format!("{}/client/webhook", runtime.url());
    for (commit, disposition) in [(repo.commit_id.as_str(), "created"), (newer, "coalesced")] {
        let (status, body) = forge
            .send_push(&http, &hook, SECRET, &repo.name, commit, "push")
            .await
            .unwrap();
        assert_eq!(
            (status, body["disposition"].as_str()),
            (202, Some(disposition)),
            "{body}"
        );
    }
    runtime.stop().await;
    assert!(forge.statuses().is_empty(), "{:?}", forge.statuses());

    let mut second = options_for(dir.path(), &forge);
    second.addr = addr;
    let runtime = Runtime::start(second).await.unwrap();
    let states = |sha: &str| -> Vec<(String, String)> {
        forge
            .statuses()
            .into_iter()
            .filter(|s| s.sha == sha)
            .map(|s| (s.state, s.description))
            .collect()
    };
    for _ in 0..300 {
        if states(newer).iter().any(|(s, _)| s == "success") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        states(&repo.commit_id),
        [(
            "error".to_string(),
            "Not built: superseded by 1234567890".to_string()
        )]
    );
    let newer_states: Vec<String> = states(newer).into_iter().map(|(s, _)| s).collect();
    assert_eq!(newer_states, ["pending", "success"]);
    runtime.stop().await;
    forge.stop().await;
}

/// How long after `since` the build log of `repo` at `commit` is final on
/// the website (polled every 20 ms, for at most 30 s).
async fn published_after(runtime: &Runtime, repo: &str, commit: &str, since: std::time::Instant) -> Duration {
    let key = format!("u/{DEMO_OWNER}/{repo}/{}/build_log.json", commit10(commit));
    let website = runtime.local().expect("local backend").website.clone();
    while since.elapsed() < Duration::from_secs(30) {
        if let Some(bytes) = website.get(&key).await.unwrap() {
            let log: BuildLog = serde_json::from_slice(&bytes).unwrap();
            if log.status.is_final() {
                return since.elapsed();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{key} not final within 30 s");
}

/// One repository whose forge stops sending holds only its own builds: the
/// other repository publishes as fast as it does alone (within 1 s more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_download_delays_no_other_repository() {
    let dir = tempfile::tempdir().unwrap();
    let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
    let stalled = forge.publish_example("en_ulb").unwrap();
    let other = forge.publish_example("en_stories").unwrap();
    let second = "2222222222222222222222222222222222222222";
    forge.publish(&other.name, second, other.archive.clone());
    let runtime = Runtime::start(options_for(dir.path(), &forge)).await.unwrap();
    let http = reqwest::Client::new();
    let hook = format!("{}/client/webhook", runtime.url());
    let push = |repo: &'static str, commit: String| {
        let (http, hook, forge) = (&http, &hook, &forge);
        async move {
            let (status, body) = forge
                .send_push(http, hook, SECRET, repo, &commit, "push")
                .await
                .unwrap();
            assert_eq!(status, 202, "{body}");
        }
    };

    let alone = std::time::Instant::now();
    push("en_stories", other.commit_id.clone()).await;
    let alone = published_after(&runtime, &other.name, &other.commit_id, alone).await;

    forge.hold_archives_of(&stalled.name, true);
    push("en_ulb", stalled.commit_id.clone()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let beside = std::time::Instant::now();
    push("en_stories", second.to_string()).await;
    let beside = published_after(&runtime, &other.name, second, beside).await;
    assert!(
        beside < alone + Duration::from_secs(1),
        "alone {alone:?}, beside a stalled download {beside:?}"
    );

    let still = runtime.local().expect("local backend").website.clone();
    let stalled_key = format!(
        "u/{DEMO_OWNER}/en_ulb/{}/build_log.json",
        commit10(&stalled.commit_id)
    );
    let log: Option<BuildLog> = still
        .get(&stalled_key)
        .await
        .unwrap()
        .map(|b| serde_json::from_slice(&b).unwrap());
    assert!(
        log.is_none_or(|l| !l.status.is_final()),
        "the stalled build is still running"
    );
    forge.hold_archives_of(&stalled.name, false);
    published_after(
        &runtime,
        &stalled.name,
        &stalled.commit_id,
        std::time::Instant::now(),
    )
    .await;
    runtime.stop().await;
    forge.stop().await;
}
