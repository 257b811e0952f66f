//! Exactly one queued job per coalescing key, under concurrency: bursts of
//! simultaneous requests for one ref (`POST /tx/job`'s handler with the real
//! adapters), on SQLite and on DynamoDB (moto). After every burst the ref has
//! exactly one `requested` job, every request was answered with it, and
//! every other commit of the burst is named once as superseded.
//!
//! Half the bursts start on a key never used (an empty queue slot), half on
//! a key whose last job already finished (its slot is taken over).
//!
//! The moto case needs `.venv/bin/moto_server` (`scripts/moto-venv`); it
//! skips without it, and fails without it under `CI=true`. Loopback only;
//! every wait is bounded.

#[path = "../../../shared/tests/support/moto.rs"]
mod moto;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Barrier;
use tx_job_manager::{ManagerDeps, ModuleRegistry, request_job};
use tx_shared::aws::DynamoJobTable;
use tx_shared::aws::DynamoManifestTable;
use tx_shared::aws::provision::{create_job_table, create_queue_table};
use tx_shared::config::Config;
use tx_shared::domain::job::{CommitInfo, JobStatus};
use tx_shared::domain::job_request::{JobDisposition, JobRequest, JobResponse};
use tx_shared::local::{InProcessInvoker, LocalBackend};
use tx_shared::ports::{JobTable, ManifestTable, SystemClock};

/// Bursts per backend.
const BURSTS: usize = 100;

/// Simultaneous requests per burst, all for one ref.
const PUSHES: usize = 50;

/// Longest a whole run may take on one backend (a hang fails, not blocks).
const RUN_TIMEOUT: Duration = Duration::from_secs(900);

fn config() -> Config {
    Config::from_lookup(|k| match k {
        "TX_BRANCHES" | "TX_JOB_TIMEOUT_SECS" | "TX_MAX_ATTEMPTS" | "TX_OPERATOR_TOKEN" => None,
        "TX_JOB_TABLE" => Some("tx-job".into()),
        "TX_QUEUE_TABLE" => Some("tx-job-queue".into()),
        "TX_CONVERTER_FUNCTION" => Some("converter".into()),
        _ => Some("test".into()),
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn deps(jobs: Arc<dyn JobTable>, manifests: Arc<dyn ManifestTable>) -> ManagerDeps {
    let config = config();
    ManagerDeps {
        jobs,
        manifests,
        invoker: Arc::new(InProcessInvoker::new()),
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
    }
}

/// Push `push` of burst `burst`: its own commit and delivery.
fn request(burst: usize, push: usize) -> JobRequest {
    let repo = format!("r{burst:03}");
    JobRequest {
        repo_owner: "burst".parse().unwrap(),
        repo_name: repo.parse().unwrap(),
        repo_url: Some(format!("https://git.example/burst/{repo}")),
        git_ref: "refs/heads/master".parse().unwrap(),
        commit: CommitInfo {
            commit_id: format!("{burst:04x}{push:04x}{}", "c".repeat(32)),
            ..CommitInfo::default()
        },
        delivery_id: Some(format!("delivery-{burst}-{push}")),
        resource_type: None,
        input_format: None,
        output_format: None,
        source: format!("https://git.example/burst/{repo}/archive/{burst}-{push}.zip"),
        callback: None,
        default_branch: None,
        assets: Vec::new(),
    }
}

/// What the bursts on one backend showed.
#[derive(Debug, Default)]
struct Tally {
    bursts: usize,
    /// Bursts that left more than one `requested` job for their ref.
    more_than_one: usize,
    /// Bursts that left none.
    none: usize,
    /// Requests answered with an error (a lost push).
    errors: usize,
    /// Bursts whose answers were inconsistent (not one creation, answers
    /// naming another job, a commit neither queued nor superseded).
    inconsistent: Vec<String>,
    slowest: Duration,
}

/// Checks one burst's answers against the table.
async fn check_burst(burst: usize, answers: &[JobResponse], jobs: &dyn JobTable, tally: &mut Tally) {
    let key = request(burst, 0).coalesce_key();
    let requested: Vec<_> = jobs
        .sweep_candidates()
        .await
        .unwrap_or_else(|e| panic!("sweep_candidates: {e}"))
        .into_iter()
        .filter(|j| j.coalesce_key == key && j.status == JobStatus::Requested)
        .collect();
    match requested.len() {
        0 => tally.none += 1,
        1 => {}
        _ => tally.more_than_one += 1,
    }
    let Some(queued) = requested.first() else {
        return;
    };
    let mut problems = Vec::new();
    let created = answers
        .iter()
        .filter(|a| a.disposition == JobDisposition::Created)
        .count();
    if created != 1 {
        problems.push(format!("{created} creations"));
    }
    if let Some(other) = answers.iter().find(|a| a.job.job_id != queued.job_id) {
        problems.push(format!(
            "answered job {} beside {}",
            other.job.job_id, queued.job_id
        ));
    }
    // Every commit of the burst is the queued one or was superseded, once.
    let superseded: Vec<&str> = answers
        .iter()
        .filter_map(|a| a.superseded.as_ref().map(|s| s.commit_id.as_str()))
        .collect();
    let unique: BTreeSet<&str> = superseded.iter().copied().collect();
    let pushed: BTreeSet<String> = (0..PUSHES).map(|i| request(burst, i).commit.commit_id).collect();
    let mut accounted: BTreeSet<String> = unique.iter().map(|c| c.to_string()).collect();
    accounted.insert(queued.commit.commit_id.clone());
    if unique.len() != superseded.len() || accounted != pushed {
        problems.push(format!(
            "{} superseded ({} distinct) + queued {} do not account for the {PUSHES} commits",
            superseded.len(),
            unique.len(),
            queued.commit.commit_id
        ));
    }
    if !problems.is_empty() {
        tally
            .inconsistent
            .push(format!("burst {burst}: {}", problems.join("; ")));
    }
}

/// Runs every burst, burst `n` on the tables of `deps_for(n)`.
async fn run_bursts(backend: &str, mut deps_for: impl AsyncFnMut(usize) -> ManagerDeps) -> Tally {
    let mut tally = Tally::default();
    for burst in 0..BURSTS {
        let deps = Arc::new(deps_for(burst).await);
        if burst % 2 == 1 {
            // The ref's previous job is done: this burst takes over its slot.
            let first = request_job(request(burst, PUSHES), &deps)
                .await
                .unwrap_or_else(|e| panic!("[{backend}] first job of burst {burst}: {e}"));
            let mut done = first.job.clone();
            done.status = JobStatus::Finished;
            deps.jobs
                .update(&done, first.job.version)
                .await
                .unwrap_or_else(|e| panic!("[{backend}] finish: {e}"));
        }
        let start = Arc::new(Barrier::new(PUSHES));
        let began = Instant::now();
        let tasks: Vec<_> = (0..PUSHES)
            .map(|push| {
                let (deps, start) = (deps.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    request_job(request(burst, push), &deps).await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            match task.await {
                Ok(Ok(answer)) => answers.push(answer),
                Ok(Err(e)) => {
                    tally.errors += 1;
                    eprintln!("[{backend}] burst {burst}: request failed: {e}");
                }
                Err(e) => panic!("[{backend}] request task: {e}"),
            }
        }
        tally.slowest = tally.slowest.max(began.elapsed());
        check_burst(burst, &answers, deps.jobs.as_ref(), &mut tally).await;
        tally.bursts += 1;
    }
    eprintln!(
        "[{backend}] {} bursts of {PUSHES} simultaneous requests to one ref: {} left more than one \
         requested job, {} left none, {} request(s) failed, {} inconsistent; slowest burst {:?}",
        tally.bursts,
        tally.more_than_one,
        tally.none,
        tally.errors,
        tally.inconsistent.len(),
        tally.slowest
    );
    tally
}

fn assert_exactly_one_each_time(backend: &str, tally: &Tally) {
    assert_eq!(tally.bursts, BURSTS, "[{backend}] bursts run");
    assert_eq!(
        (tally.more_than_one, tally.none),
        (0, 0),
        "[{backend}] bursts with more than one / no requested job: {tally:?}"
    );
    assert_eq!(tally.errors, 0, "[{backend}] requests lost: {tally:?}");
    assert!(
        tally.inconsistent.is_empty(),
        "[{backend}] {:#?}",
        tally.inconsistent
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bursts_leave_exactly_one_requested_job() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let backend = LocalBackend::open(dir.path(), &config()).unwrap_or_else(|e| panic!("local backend: {e}"));
    let deps = deps(backend.jobs.clone(), backend.manifests.clone());
    let tally = tokio::time::timeout(RUN_TIMEOUT, run_bursts("sqlite", async |_| deps.clone()))
        .await
        .unwrap_or_else(|_| panic!("sqlite bursts took over {RUN_TIMEOUT:?}"));
    assert_exactly_one_each_time("sqlite", &tally);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_bursts_leave_exactly_one_requested_job() {
    // One request at a time inside moto, as DynamoDB isolates each request
    // (see `Moto::start_serialized`); the 50 requests still race between
    // their reads and their writes.
    let Some(moto) = moto::Moto::start_serialized("dynamodb_bursts_leave_exactly_one_requested_job") else {
        return;
    };
    let clients = moto.clients().await;
    let config = config();
    let manifests: Arc<dyn ManifestTable> = Arc::new(DynamoManifestTable::new(
        clients.dynamodb.clone(),
        &config.manifest_table,
    ));
    // Each burst on tables of its own: moto copies a whole table (with its
    // stream) in every transaction, which a growing table turns into
    // timeouts; DynamoDB's cost does not depend on the table's size.
    let tables = async |burst: usize| {
        let (table, queue) = (format!("tx-job-{burst}"), format!("tx-job-{burst}-queue"));
        create_job_table(&clients, &table)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        create_queue_table(&clients, &queue)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let jobs = DynamoJobTable::new(clients.dynamodb.clone(), table).with_queue_table(queue);
        deps(Arc::new(jobs), manifests.clone())
    };
    let tally = tokio::time::timeout(RUN_TIMEOUT, run_bursts("dynamodb", tables))
        .await
        .unwrap_or_else(|_| panic!("dynamodb bursts took over {RUN_TIMEOUT:?}: {}", moto.log_tail()));
    assert_exactly_one_each_time("dynamodb", &tally);
}
