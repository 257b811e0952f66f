//! The job manager against the real local adapters (SQLite table with its
//! stream log), a manual clock, and an in-process converter function.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};
use tx_job_manager::{
    ManagerDeps, ModuleRegistry, RunOutcome, handle_stream, handle_sweep, request_job, run_job,
};
use tx_shared::config::Config;
use tx_shared::domain::convert::{ConvertRequest, ConvertResult};
use tx_shared::domain::job::{CommitInfo, JobResult, JobStatus};
use tx_shared::domain::job_request::{JobDisposition, JobRequest, ReleaseAsset};
use tx_shared::local::{InProcessInvoker, JOB_STREAM, LocalBackend, LocalFunction};
use tx_shared::ports::{JobTable, ManualClock};

struct Harness {
    _dir: tempfile::TempDir,
    backend: LocalBackend,
    clock: Arc<ManualClock>,
    deps: ManagerDeps,
    calls: Arc<AtomicUsize>,
}

fn config() -> Config {
    Config::from_lookup(|k| {
        Some(match k {
            "TX_JOB_TIMEOUT_SECS" => "60".into(),
            "TX_MAX_ATTEMPTS" => "2".into(),
            "TX_CONVERTER_FUNCTION" => "convert".into(),
            "TX_FORGE_TOKEN" | "TX_ALLOWED_HOSTS" | "TX_BRANCHES" => return None,
            other => format!("{}-test", other.to_lowercase()),
        })
    })
    .expect("test config")
}

/// `converter` answers each call; it counts calls.
fn harness(converter: fn(ConvertRequest) -> Result<Value, String>) -> Harness {
    harness_slow(converter, std::time::Duration::ZERO)
}

/// `converter` answers each call after `takes` (of tokio's time); it counts calls.
fn harness_slow(
    converter: fn(ConvertRequest) -> Result<Value, String>,
    takes: std::time::Duration,
) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config();
    let backend = LocalBackend::open(dir.path(), &config).expect("backend");
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    ));
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let f: LocalFunction = Arc::new(move |payload| {
        counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            let req: ConvertRequest = serde_json::from_value(payload).map_err(|e| e.to_string())?;
            if !takes.is_zero() {
                tokio::time::sleep(takes).await;
            }
            converter(req)
        })
    });
    let deps = ManagerDeps {
        config: config.clone(),
        jobs: backend.jobs.clone(),
        manifests: backend.manifests.clone(),
        invoker: Arc::new(InProcessInvoker::new().register("convert", f)),
        clock: clock.clone(),
        http: reqwest::Client::new(),
        registry: ModuleRegistry::standard("convert"),
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
    Harness {
        _dir: dir,
        backend,
        clock,
        deps,
        calls,
    }
}

fn ok_converter(req: ConvertRequest) -> Result<Value, String> {
    serde_json::to_value(ConvertResult {
        success: true,
        log: vec!["converted 2 files".into()],
        warnings: vec!["64-2JN.usfm:3: \\v 3 duplicate".into()],
        errors: vec![],
        output: Some(req.output_key),
        resource_type: Some("bible".into()),
        input_format: Some("usfm".into()),
        ..ConvertResult::default()
    })
    .map_err(|e| e.to_string())
}

fn request(commit: &str, delivery: &str) -> JobRequest {
    JobRequest {
        repo_owner: "demo".parse().unwrap(),
        repo_name: "en_ulb".parse().unwrap(),
        repo_url: Some("http://forge/demo/en_ulb".into()),
        git_ref: "refs/heads/master".parse().unwrap(),
        commit: CommitInfo {
            commit_id: commit.into(),
            ..CommitInfo::default()
        },
        delivery_id: Some(delivery.into()),
        resource_type: None,
        input_format: None,
        output_format: None,
        source: format!("http://forge/demo/en_ulb/archive/{commit}.zip"),
        callback: None,
        default_branch: None,
        assets: Vec::new(),
    }
}

const C1: &str = "1111111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const C2: &str = "2222222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// The stream records logged so far, as the Lambda event the mapping delivers.
fn stream_event(h: &Harness) -> aws_lambda_events::event::dynamodb::Event {
    let records: Vec<Value> = h
        .backend
        .events
        .pending(JOB_STREAM, "test", 100)
        .expect("pending")
        .into_iter()
        .map(|e| e.record)
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("event")
}

#[tokio::test]
async fn redelivered_webhook_returns_the_existing_job() {
    let h = harness(ok_converter);
    let first = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    assert_eq!(first.disposition, JobDisposition::Created);
    assert_eq!(first.job.identifier, "demo/en_ulb/1111111111");
    let again = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    assert_eq!(again.disposition, JobDisposition::Existing);
    assert_eq!(again.job.job_id, first.job.job_id);
    assert_eq!(h.backend.jobs.by_repo("demo/en_ulb", 10).await.unwrap().len(), 1);
}

/// Marks `job` finished and successful, as a run would leave it.
async fn finish(h: &Harness, job: &tx_shared::domain::job::Job) {
    let mut done = job.clone();
    done.status = JobStatus::Finished;
    done.result = Some(JobResult::Success);
    h.backend.jobs.update(&done, job.version).await.unwrap();
}

#[tokio::test]
async fn a_delivery_replayed_after_a_hundred_newer_builds_builds_nothing() {
    let h = harness(ok_converter);
    let first = request_job(request(C1, "d-old"), &h.deps).await.unwrap().job;
    finish(&h, &first).await;
    for n in 0..100 {
        h.clock.advance(Duration::seconds(1));
        let commit = format!("{n:040x}");
        let newer = request_job(request(&commit, &format!("d{n}")), &h.deps)
            .await
            .unwrap();
        assert_eq!(newer.disposition, JobDisposition::Created);
        finish(&h, &newer.job).await;
    }
    // The first job is past the 100 the duplicate check reads; its delivery
    // is still remembered.
    let recent = h.backend.jobs.by_repo("demo/en_ulb", 100).await.unwrap();
    assert!(recent.iter().all(|j| j.job_id != first.job_id));
    let replay = request_job(request(C1, "d-old"), &h.deps).await.unwrap();
    assert_eq!(replay.disposition, JobDisposition::Existing);
    assert_eq!(replay.job.job_id, first.job_id);
    assert_eq!(
        h.backend.jobs.by_repo("demo/en_ulb", 200).await.unwrap().len(),
        101
    );
}

#[tokio::test]
async fn newer_push_coalesces_into_the_waiting_job() {
    let h = harness(ok_converter);
    let first = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    h.clock.advance(Duration::seconds(5));
    let second = request_job(request(C2, "d2"), &h.deps).await.unwrap();
    assert_eq!(second.disposition, JobDisposition::Coalesced);
    assert_eq!(second.job.job_id, first.job.job_id, "keeps its place");
    assert_eq!(second.job.commit.commit_id, C2);
    assert_eq!(second.job.created_at, first.job.created_at);
    let superseded = second.superseded.expect("names the superseded commit");
    assert_eq!(superseded.commit_id, C1);
    assert_eq!(superseded.identifier, "demo/en_ulb/1111111111");
}

#[tokio::test]
async fn invalid_requests_are_refused_before_anything_is_written() {
    let h = harness(ok_converter);
    let mut bad = serde_json::to_value(request(C1, "d1")).unwrap();
    bad["repo_owner"] = "../etc".into();
    assert!(serde_json::from_value::<JobRequest>(bad).is_err());
    let mut bad = request(C1, "d1");
    bad.commit.commit_id = "not-a-sha".into();
    assert!(request_job(bad, &h.deps).await.is_err());
    let mut bad = request(C1, "d1");
    bad.source = "file:///etc/passwd".into();
    assert!(request_job(bad, &h.deps).await.is_err());
    assert!(
        h.backend
            .jobs
            .by_repo("demo/en_ulb", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn stream_runs_a_job_once_even_when_the_record_is_redelivered() {
    let h = harness(ok_converter);
    let created = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    let event = stream_event(&h);
    let response = handle_stream(event.clone(), &h.deps).await;
    assert!(response.batch_item_failures.is_empty());
    let response = handle_stream(event, &h.deps).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(h.calls.load(Ordering::SeqCst), 1, "converter ran once");

    let job = h.backend.jobs.get(&created.job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Finished);
    assert_eq!(job.result, Some(JobResult::Warnings));
    assert_eq!(job.attempts, 1);
    assert_eq!(job.resource_type, "bible");
    assert_eq!(
        job.output.as_deref(),
        Some(format!("tx/job/{}.zip", job.job_id).as_str())
    );
    // requested → started → finished, as the stream saw it.
    let statuses: Vec<String> = stream_event(&h)
        .records
        .iter()
        .map(|r| {
            let job: tx_shared::domain::job::Job =
                tx_shared::dynamo_json::from_item(r.change.new_image.clone()).unwrap();
            job.status.as_str().to_string()
        })
        .collect();
    assert_eq!(statuses, ["requested", "started", "finished"]);
}

#[tokio::test]
async fn converter_failure_finishes_the_job_as_failed_with_the_reason() {
    fn broken(_: ConvertRequest) -> Result<Value, String> {
        Err("Unhandled: out of memory".into())
    }
    let h = harness(broken);
    let created = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    let job = h.backend.jobs.get(&created.job.job_id).await.unwrap().unwrap();
    let outcome = run_job(job, &h.deps).await.unwrap();
    let RunOutcome::Finished(job) = outcome else {
        panic!("expected finished, got {outcome:?}")
    };
    assert_eq!(job.result, Some(JobResult::Failed));
    assert!(
        job.message
            .as_deref()
            .unwrap_or_default()
            .contains("out of memory"),
        "{:?}",
        job.message
    );
    assert!(job.output.is_none());
}

#[tokio::test]
async fn unsupported_output_format_fails_clearly() {
    let h = harness(ok_converter);
    let mut req = request(C1, "d1");
    req.output_format = Some("pdf".into());
    let created = request_job(req, &h.deps).await.unwrap();
    let RunOutcome::Finished(job) = run_job(created.job, &h.deps).await.unwrap() else {
        panic!()
    };
    assert_eq!(job.result, Some(JobResult::Failed));
    assert!(job.errors[0].contains("no converter"), "{:?}", job.errors);
    assert_eq!(h.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn sweep_requeues_a_dead_attempt_then_gives_up() {
    let h = harness(ok_converter);
    let created = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    // A converter that died: the job is claimed but never finished.
    let mut started = created.job.clone();
    started.status = JobStatus::Started;
    started.attempts = 1;
    started.lease_until = Some(h.clock.now_plus(60));
    let started = h
        .backend
        .jobs
        .update(&started, created.job.version)
        .await
        .unwrap();

    assert!(
        handle_sweep(&h.deps).await.unwrap().requeued.is_empty(),
        "not before its lease lapsed"
    );
    h.clock.advance(Duration::seconds(61));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.requeued, vec![started.job_id.clone()]);
    let job = h.backend.jobs.get(&started.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Requested);

    // The second attempt dies too: max_attempts is 2, so the sweep gives up.
    let mut again = job.clone();
    again.status = JobStatus::Started;
    again.attempts = 2;
    again.lease_until = Some(h.clock.now_plus(60));
    h.backend.jobs.update(&again, job.version).await.unwrap();
    h.clock.advance(Duration::seconds(61));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.failed, vec![started.job_id.clone()]);
    let job = h.backend.jobs.get(&started.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Finished);
    assert_eq!(job.result, Some(JobResult::Failed));
    assert!(job.message.unwrap().contains("gave up after 2 attempt(s)"));
}

#[tokio::test]
async fn sweep_reannounces_a_requested_job_whose_record_was_lost() {
    let h = harness(ok_converter);
    let created = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    let before = h.backend.events.pending(JOB_STREAM, "test", 100).unwrap().len();
    h.clock.advance(Duration::minutes(3));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.touched, vec![created.job.job_id.clone()]);
    let records = h.backend.events.pending(JOB_STREAM, "test", 100).unwrap();
    assert_eq!(records.len(), before + 1);
    let last = &records[records.len() - 1].record;
    assert_eq!(last["eventName"], "MODIFY");
    assert_eq!(last["dynamodb"]["NewImage"]["status"], json!({"S": "requested"}));
}

#[tokio::test]
async fn one_sweep_writes_one_record_for_a_requeued_job() {
    let h = harness(ok_converter);
    let created = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    // Claimed long ago: a requeue makes it `requested` with an old start
    // time, which the same pass must not take for a lost announcement.
    let mut started = created.job.clone();
    started.status = JobStatus::Started;
    started.attempts = 1;
    started.started_at = Some(h.clock.now_plus(0));
    started.lease_until = Some(h.clock.now_plus(60));
    h.backend
        .jobs
        .update(&started, created.job.version)
        .await
        .unwrap();
    let before = h.backend.events.pending(JOB_STREAM, "test", 100).unwrap().len();

    h.clock.advance(Duration::minutes(5));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.requeued, vec![created.job.job_id.clone()]);
    assert!(report.touched.is_empty(), "{report:?}");
    let records = h.backend.events.pending(JOB_STREAM, "test", 100).unwrap();
    assert_eq!(records.len(), before + 1);

    // The next pass, still before the job has been claimed again, does
    // re-announce it: its record may have been lost too.
    h.clock.advance(Duration::minutes(3));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.touched, vec![created.job.job_id.clone()]);
}

/// A webhook client on 127.0.0.1 that answers 503 until `up` is set and
/// keeps every callback it was sent (body, signature header).
struct Client {
    url: String,
    up: Arc<AtomicBool>,
    posts: Posts,
}

/// Each callback received: raw body and signature header.
type Posts = Arc<Mutex<Vec<(Vec<u8>, String)>>>;

async fn client() -> Client {
    use axum::http::{HeaderMap, StatusCode};
    let up = Arc::new(AtomicBool::new(false));
    let posts: Posts = Arc::default();
    let (up2, posts2) = (up.clone(), posts.clone());
    let app = axum::Router::new().route(
        "/client/callback",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (up, posts) = (up2.clone(), posts2.clone());
            async move {
                let signature = headers
                    .get(tx_shared::signature::CALLBACK_SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                posts.lock().unwrap().push((body.to_vec(), signature));
                if up.load(Ordering::SeqCst) {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Client {
        url: format!("http://{addr}/client/callback"),
        up,
        posts,
    }
}

impl Client {
    fn posts(&self) -> usize {
        self.posts.lock().unwrap().len()
    }
}

/// Requests a job calling back `client` and runs it to `finished` through
/// the stream; returns its id.
async fn finish_job_calling_back(h: &Harness, client: &Client) -> String {
    let mut req = request(C1, "d1");
    req.callback = Some(client.url.clone());
    let id = request_job(req, &h.deps).await.unwrap().job.job_id;
    handle_stream(stream_event(h), &h.deps).await;
    id
}

#[tokio::test]
async fn a_callback_lost_while_the_client_was_down_is_sent_again_by_the_sweep() {
    let h = harness(ok_converter);
    let client = client().await;
    // The job finishes while the client is down: the result is stored, the
    // callback stays pending after the manager's own attempts.
    let id = finish_job_calling_back(&h, &client).await;
    let job = h.backend.jobs.get(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Finished);
    assert!(job.callback_pending);
    assert_eq!(client.posts(), 4, "four attempts on finish");

    // Too soon for the sweep: the manager that finished it holds the lease.
    let report = handle_sweep(&h.deps).await.unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(client.posts(), 4);

    // Its lease lapsed (15 s): one short try, then 10 s, 20 s, … between tries.
    h.clock.advance(Duration::seconds(16));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.callbacks_failed, vec![id.clone()]);
    assert_eq!(client.posts(), 5);
    assert!(h.backend.jobs.get(&id).await.unwrap().unwrap().callback_pending);
    h.clock.advance(Duration::seconds(9));
    assert!(handle_sweep(&h.deps).await.unwrap().is_empty());
    assert_eq!(client.posts(), 5, "not before its backoff");
    h.clock.advance(Duration::seconds(2));
    assert_eq!(
        handle_sweep(&h.deps).await.unwrap().callbacks_failed,
        vec![id.clone()]
    );
    assert_eq!(client.posts(), 6);

    // Back up: the next try delivers the finished job, signed, and is done with it.
    client.up.store(true, Ordering::SeqCst);
    h.clock.advance(Duration::seconds(21));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.callbacks_answered, vec![id.clone()]);
    {
        let posts = client.posts.lock().unwrap();
        let (raw, signature) = posts.last().unwrap();
        let body: Value = serde_json::from_slice(raw).unwrap();
        assert_eq!(body["job_id"], json!(id));
        assert_eq!(body["status"], json!("finished"));
        let secret = h.deps.config.callback_secret.as_bytes();
        assert!(
            tx_shared::signature::verify_hex(secret, raw, signature.trim_start_matches("sha256=")),
            "the re-sent callback is signed"
        );
    }
    let job = h.backend.jobs.get(&id).await.unwrap().unwrap();
    assert!(!job.callback_pending);
    assert_eq!(job.result, Some(JobResult::Warnings), "the result is untouched");
    h.clock.advance(Duration::minutes(5));
    assert!(handle_sweep(&h.deps).await.unwrap().is_empty());
    assert_eq!(client.posts(), 7);
}

#[tokio::test]
async fn a_callback_pending_for_a_day_is_given_up_with_a_log_line() {
    let h = harness(ok_converter);
    let client = client().await;
    let id = finish_job_calling_back(&h, &client).await;
    assert_eq!(client.posts(), 4);

    h.clock.advance(Duration::hours(25));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.callbacks_given_up, vec![id.clone()]);
    assert_eq!(client.posts(), 4, "not posted again");
    let job = h.backend.jobs.get(&id).await.unwrap().unwrap();
    assert!(!job.callback_pending);
    assert!(
        job.log
            .last()
            .unwrap()
            .contains("callback not delivered within 24 h; given up"),
        "{:?}",
        job.log
    );
}

#[tokio::test]
async fn a_delivered_callback_leaves_nothing_pending() {
    let h = harness(ok_converter);
    let client = client().await;
    client.up.store(true, Ordering::SeqCst);
    let id = finish_job_calling_back(&h, &client).await;
    assert_eq!(client.posts(), 1);
    assert!(!h.backend.jobs.get(&id).await.unwrap().unwrap().callback_pending);
    let candidates = h.backend.jobs.sweep_candidates().await.unwrap();
    assert!(candidates.iter().all(|j| !j.callback_pending), "{candidates:?}");
}

trait NowPlus {
    fn now_plus(&self, secs: i64) -> chrono::DateTime<Utc>;
}

impl NowPlus for ManualClock {
    fn now_plus(&self, secs: i64) -> chrono::DateTime<Utc> {
        use tx_shared::ports::Clock;
        self.now() + Duration::seconds(secs)
    }
}

#[tokio::test]
async fn a_dead_attempt_superseded_by_a_queued_push_is_cancelled_not_queued_beside_it() {
    let h = harness(ok_converter);
    let client = client().await;
    client.up.store(true, Ordering::SeqCst);
    let mut first = request(C1, "d1");
    first.callback = Some(client.url.clone());
    let created = request_job(first, &h.deps).await.unwrap();
    // Claimed; its converter dies.
    let mut started = created.job.clone();
    started.status = JobStatus::Started;
    started.attempts = 1;
    started.lease_until = Some(h.clock.now_plus(60));
    let started = h
        .backend
        .jobs
        .update(&started, created.job.version)
        .await
        .unwrap();
    // A newer push to the ref meanwhile: a new job takes the ref's slot.
    let newer = request_job(request(C2, "d2"), &h.deps).await.unwrap();
    assert_eq!(newer.disposition, JobDisposition::Created);

    h.clock.advance(Duration::seconds(61));
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(report.superseded, vec![started.job_id.clone()], "{report:?}");
    assert!(report.requeued.is_empty(), "{report:?}");
    let old = h.backend.jobs.get(&started.job_id).await.unwrap().unwrap();
    assert_eq!(old.status, JobStatus::Cancelled);
    assert!(
        old.message
            .as_deref()
            .unwrap_or_default()
            .contains("superseded by 2222222222"),
        "{:?}",
        old.message
    );
    assert!(!old.callback_pending, "its callback was delivered");
    let posted: Value = serde_json::from_slice(&client.posts.lock().unwrap()[0].0).unwrap();
    assert_eq!(
        posted["status"],
        json!("cancelled"),
        "the client hears it is over"
    );
    let waiting: Vec<_> = h
        .backend
        .jobs
        .sweep_candidates()
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.status == JobStatus::Requested)
        .map(|j| j.job_id)
        .collect();
    assert_eq!(waiting, vec![newer.job.job_id], "one queued job for the ref");
}

#[tokio::test]
async fn a_dead_attempt_nobody_superseded_goes_back_to_its_slot() {
    let h = harness(ok_converter);
    let created = request_job(request(C1, "d1"), &h.deps).await.unwrap();
    let mut started = created.job.clone();
    started.status = JobStatus::Started;
    started.attempts = 1;
    started.lease_until = Some(h.clock.now_plus(60));
    h.backend
        .jobs
        .update(&started, created.job.version)
        .await
        .unwrap();
    h.clock.advance(Duration::seconds(61));
    assert_eq!(
        handle_sweep(&h.deps).await.unwrap().requeued,
        vec![created.job.job_id.clone()]
    );
    // Queued again, it is the ref's waiting job: a newer push coalesces into it.
    let newer = request_job(request(C2, "d2"), &h.deps).await.unwrap();
    assert_eq!(newer.disposition, JobDisposition::Coalesced);
    assert_eq!(newer.job.job_id, created.job.job_id);
    assert_eq!(newer.superseded.map(|s| s.commit_id).as_deref(), Some(C1));
}

/// A tag's release: the same ref and commit as its push, with one file.
fn release_of(push: &JobRequest, delivery: &str) -> JobRequest {
    let mut release = push.clone();
    release.delivery_id = Some(delivery.into());
    release.assets = vec![ReleaseAsset {
        name: "book.pdf".into(),
        url: "http://forge/demo/en_ulb/releases/download/v1/book.pdf".into(),
        size: Some(3),
    }];
    release
}

fn tag_push(commit: &str, delivery: &str) -> JobRequest {
    let mut push = request(commit, delivery);
    push.git_ref = "refs/tags/v1".parse().unwrap();
    push
}

#[tokio::test]
async fn a_release_after_its_waiting_tag_push_gives_that_job_its_files() {
    let h = harness(ok_converter);
    let push = request_job(tag_push(C1, "push"), &h.deps).await.unwrap();
    let release = request_job(release_of(&tag_push(C1, "push"), "rel"), &h.deps)
        .await
        .unwrap();
    assert_eq!(release.disposition, JobDisposition::Existing);
    assert_eq!(release.job.job_id, push.job.job_id);
    assert_eq!(release.job.assets.len(), 1);
    let again = request_job(release_of(&tag_push(C1, "push"), "rel"), &h.deps)
        .await
        .unwrap();
    assert_eq!(
        (again.disposition, again.job.version),
        (JobDisposition::Existing, release.job.version)
    );
}

#[tokio::test]
async fn a_release_after_its_tag_push_was_built_builds_again_with_its_files() {
    let h = harness(ok_converter);
    let push = request_job(tag_push(C1, "push"), &h.deps).await.unwrap();
    let job = h.backend.jobs.get(&push.job.job_id).await.unwrap().unwrap();
    run_job(job, &h.deps).await.unwrap();
    let release = request_job(release_of(&tag_push(C1, "push"), "rel"), &h.deps)
        .await
        .unwrap();
    assert_eq!(release.disposition, JobDisposition::Created);
    assert_ne!(release.job.job_id, push.job.job_id);
    assert_eq!(release.job.assets.len(), 1);
}

/// Runs the stream's records in a task (the runner), as `tx serve` does.
fn run_in_background(h: &Harness) -> tokio::task::JoinHandle<()> {
    let (event, deps) = (stream_event(h), h.deps.clone());
    tokio::spawn(async move {
        handle_stream(event, &deps).await;
    })
}

/// Lets tokio's (paused) time and the manual clock move on together, a
/// second at a time.
async fn wait(h: &Harness, secs: u64) {
    for _ in 0..secs {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        h.clock.advance(Duration::seconds(1));
    }
}

#[tokio::test(start_paused = true)]
async fn a_runner_keeps_its_lease_for_as_long_as_the_converter_works() {
    let h = harness_slow(ok_converter, std::time::Duration::from_secs(50));
    let id = request_job(request(C1, "d1"), &h.deps).await.unwrap().job.job_id;
    let runner = run_in_background(&h);
    // Fifty seconds of converting, more than three leases: never requeued.
    for _ in 0..9 {
        wait(&h, 5).await;
        let report = handle_sweep(&h.deps).await.unwrap();
        assert!(report.requeued.is_empty(), "{report:?}");
    }
    runner.await.unwrap();
    let job = h.backend.jobs.get(&id).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Finished, 1));
    assert_eq!(job.runner.as_deref(), Some("test runner"));
}

#[tokio::test(start_paused = true)]
async fn a_killed_runners_job_is_requeued_once_its_lease_lapses() {
    let h = harness_slow(ok_converter, std::time::Duration::from_secs(50));
    let id = request_job(request(C1, "d1"), &h.deps).await.unwrap().job.job_id;
    let runner = run_in_background(&h);
    wait(&h, 7).await;
    runner.abort(); // killed mid-conversion: no more renewals
    let _ = runner.await;
    wait(&h, 10).await;
    assert!(
        handle_sweep(&h.deps).await.unwrap().requeued.is_empty(),
        "renewed at 5 s"
    );
    wait(&h, 4).await;
    let report = handle_sweep(&h.deps).await.unwrap();
    assert_eq!(
        report.requeued,
        vec![id.clone()],
        "lapsed within 15 s of the last renewal"
    );
    let job = h.backend.jobs.get(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Requested);
    let note = job.log.last().unwrap();
    assert!(note.contains("test runner stopped renewing its lease"), "{note}");
}

#[tokio::test(start_paused = true)]
async fn an_attempt_past_the_job_timeout_is_not_renewed() {
    // The converter takes 90 s; the job timeout is 60 s.
    let h = harness_slow(ok_converter, std::time::Duration::from_secs(90));
    let id = request_job(request(C1, "d1"), &h.deps).await.unwrap().job.job_id;
    let _runner = run_in_background(&h);
    let mut requeued_at = None;
    for step in 1..=16 {
        wait(&h, 5).await;
        if !handle_sweep(&h.deps).await.unwrap().requeued.is_empty() {
            requeued_at = Some(step * 5);
            break;
        }
    }
    assert!(
        matches!(requeued_at, Some(60..=65)),
        "requeued at {requeued_at:?} s"
    );
    let job = h.backend.jobs.get(&id).await.unwrap().unwrap();
    let note = job.log.last().unwrap();
    assert!(note.contains("did not finish within 60 s"), "{note}");
}
