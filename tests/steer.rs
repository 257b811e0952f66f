//! Steering builds (issue 11) on `tx serve`'s runtime with the loopback
//! forge: a forge's brief trouble waited out with retries, and an
//! operator's rebuild and cancel from the command line (the `tx` binary
//! itself, with the token `tx serve` keeps in its data directory, and
//! refused with any other).

use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use tx::demo::DEMO_OWNER;
use tx::demo::forge::DemoForge;
use tx::runtime::Runtime;
use tx_shared::ports::ObjectStore;

const SECRET: &str = "steer-test-secret";

#[path = "../shared/tests/support/moto.rs"]
mod moto;

struct Env {
    dir: tempfile::TempDir,
    forge: DemoForge,
    runtime: Runtime,
    http: reqwest::Client,
    commit: String,
}

impl Env {
    async fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
        let repo = forge.publish_example("en_ulb").unwrap();
        let runtime = Runtime::start(forge.runtime_options(dir.path(), SECRET))
            .await
            .unwrap();
        Env {
            dir,
            forge,
            runtime,
            http: reqwest::Client::new(),
            commit: repo.commit_id,
        }
    }

    /// Pushes the example commit to `master`; answers the job id.
    async fn push(&self) -> String {
        let payload = self.forge.push_payload("en_ulb", &self.commit, "translate");
        let hook = format!("{}/client/webhook", self.runtime.url());
        let (status, body) = self
            .forge
            .send_event(&self.http, &hook, SECRET, "push", &payload)
            .await
            .unwrap();
        assert_eq!(status, 202, "{body}");
        body["job_id"].as_str().unwrap().to_string()
    }

    /// `tx ARGS… --api URL`, with `--data` unless a token is given.
    fn tx(&self, args: &[&str]) -> Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tx"));
        command.args(args).args(["--api", &self.runtime.url()]);
        if !args.contains(&"--token") {
            command.arg("--data").arg(self.dir.path());
        }
        command
            .env_remove("TX_OPERATOR_TOKEN")
            .env_remove("TX_API_URL")
            .output()
            .unwrap()
    }

    /// The job row, read with the operator token.
    async fn job(&self, job_id: &str) -> Value {
        let token = tx::steer::local_token(self.dir.path()).unwrap();
        let url = format!("{}/tx/job/{job_id}", self.runtime.url());
        let r = self.http.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["job"].clone()
    }

    /// Waits (at most 60 s) until the job's status is `status`.
    async fn wait_status(&self, job_id: &str, status: &str) -> Value {
        for _ in 0..600 {
            let job = self.job(job_id).await;
            if job["status"] == status {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "job {job_id} not {status} within 60 s: {}",
            self.job(job_id).await
        );
    }

    /// The website's build log of the example commit once it says
    /// `success` (at most 30 s).
    async fn published(&self) -> Value {
        let website = self.runtime.local().unwrap().website.as_ref();
        let key = format!("u/{DEMO_OWNER}/en_ulb/{}/build_log.json", &self.commit[..10]);
        for _ in 0..300 {
            if let Some(body) = website.get(&key).await.unwrap() {
                let log: Value = serde_json::from_slice(&body).unwrap();
                if log["status"] == "success" {
                    return log;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{key} not published as success within 30 s");
    }

    async fn stop(self) {
        self.runtime.stop().await;
        self.forge.stop().await;
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The job id in `tx rebuild`'s line (`created job ID of owner/repo (commit)`).
fn job_of(stdout: &str) -> String {
    let rest = stdout
        .split_once(" job ")
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("{stdout}"));
    rest.split_whitespace().next().unwrap().to_string()
}

fn assert_refused(out: &Output) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("401") || stderr.contains("403"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_from_the_cli_builds_the_commit_again_with_the_operator_token_only() {
    let env = Env::start().await;
    let first = env.push().await;
    let done = env.wait_status(&first, "finished").await;
    assert_eq!(done["result"], "success", "{done}");

    assert_refused(&env.tx(&["rebuild", "demo/en_ulb", "--token", "not-the-token"]));

    let target = format!("{DEMO_OWNER}/en_ulb@{}", &env.commit[..7]);
    let out = env.tx(&["rebuild", &target]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = job_of(&text(&out.stdout));
    assert_ne!(again, first);
    let rebuilt = env.wait_status(&again, "finished").await;
    assert_eq!(rebuilt["result"], "success", "{rebuilt}");
    assert_eq!(rebuilt["commit_id"], env.commit.as_str());

    // The default branch names the same build; a ref never built names none.
    let out = env.tx(&["rebuild", "demo/en_ulb"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.tx(&["rebuild", "demo/en_ulb@never-pushed"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no build of never-pushed"),
        "{}",
        text(&out.stderr)
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_from_the_cli_stops_a_running_build_with_the_operator_token_only() {
    let env = Env::start().await;
    env.forge.hold_archives(true);
    let job_id = env.push().await;
    env.wait_status(&job_id, "started").await;

    assert_refused(&env.tx(&["cancel", &job_id, "--token", "not-the-token"]));
    let out = env.tx(&["cancel", &job_id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("cancelled job {job_id}")));
    env.forge.hold_archives(false);

    // The conversion it was waiting for comes to nothing; a second cancel
    // is refused with the API's reason.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(env.job(&job_id).await["status"], "cancelled");
    let out = env.tx(&["cancel", &job_id]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("409"), "{}", text(&out.stderr));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_that_fails_twice_then_answers_gives_a_published_build_with_two_retries() {
    let env = Env::start().await;
    env.forge.fail_next_archives(2);
    let job_id = env.push().await;
    let job = env.wait_status(&job_id, "finished").await;
    assert_eq!(job["result"], "success", "{job}");
    let log = env.published().await;
    let retries: Vec<&str> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|l| l.contains("retrying in"))
        .collect();
    assert_eq!(retries.len(), 2, "{log}");
    assert!(retries.iter().all(|l| l.contains("HTTP 500")), "{retries:?}");
    assert_eq!(env.forge.downloads(), 1);
    env.stop().await;
}

/// The example repository's builds, newest first, from the read API at `api`.
async fn builds(http: &reqwest::Client, api: &str) -> Value {
    let url = format!("{api}/api/projects/{DEMO_OWNER}/en_ulb/builds");
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// A `tx serve` process, SIGKILLed when dropped (a failing test leaves none).
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `tx serve` process on `addr` with `dir` as its data directory, taking
/// `forge`'s webhooks, with `--backend aws --provision` against `moto` when
/// given; answers once its API does (at most 60 s).
async fn serve_on(
    dir: &std::path::Path,
    addr: &str,
    forge: &DemoForge,
    http: &reqwest::Client,
    moto: Option<&moto::Moto>,
) -> Serve {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tx"));
    command
        .args(["serve", "--addr", addr, "--data"])
        .arg(dir)
        .env("TX_FORGES", forge.registry(SECRET).to_string())
        .env_remove("TX_OPERATOR_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(moto) = moto {
        command
            .args(["--backend", "aws", "--provision"])
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_REGION", moto::REGION)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
    }
    let child = Serve(command.spawn().unwrap());
    for _ in 0..600 {
        if http
            .get(format!("http://{addr}/api/projects"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("tx serve on {addr} did not answer within 60 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_killed_with_tx_serve_runs_again_when_it_restarts_and_is_published_once() {
    killed_mid_build_runs_again(None).await;
}

/// The job manager on AWS services: the second `tx serve --backend aws` does
/// not requeue at start-up (others may share the tables); the first one's
/// lease lapses and the sweep runs the build again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_manager_killed_on_aws_services_mid_build_has_it_running_again_within_60_s() {
    let Some(moto) = moto::Moto::start("a_job_manager_killed_on_aws_services_mid_build") else {
        return;
    };
    killed_mid_build_runs_again(Some(&moto)).await;
}

/// SIGKILLs `tx serve` (on `moto` when given) while its build downloads,
/// starts another on the same data, and checks the build runs again within
/// 60 s of the kill and is published once.
async fn killed_mid_build_runs_again(moto: Option<&moto::Moto>) {
    let dir = tempfile::tempdir().unwrap();
    let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
    let repo = forge.publish_example("en_ulb").unwrap();
    let http = reqwest::Client::new();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();

    // First life: the build is claimed and downloading when tx is killed.
    forge.hold_archives(true);
    let first = serve_on(dir.path(), &addr, &forge, &http, moto).await;
    let hook = format!("http://{addr}/client/webhook");
    let payload = forge.push_payload("en_ulb", &repo.commit_id, "translate");
    let (status, body) = forge
        .send_event(&http, &hook, SECRET, "push", &payload)
        .await
        .unwrap();
    assert_eq!(status, 202, "{body}");
    let job_id = body["job_id"].as_str().unwrap().to_string();
    let token = tx::steer::local_token(dir.path()).unwrap();
    let job = |http: reqwest::Client, token: String, job_id: String, addr: String| async move {
        let r = http
            .get(format!("http://{addr}/tx/job/{job_id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["job"].clone()
    };
    let mut started = false;
    for _ in 0..300 {
        if job(http.clone(), token.clone(), job_id.clone(), addr.clone()).await["status"] == "started" {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started, "the build never started");
    drop(first); // SIGKILL
    let killed = std::time::Instant::now();
    forge.hold_archives(false);

    // Second life on the same data: the build runs again within 60 s.
    let second = serve_on(dir.path(), &addr, &forge, &http, moto).await;
    let mut done = Value::Null;
    for _ in 0..600 {
        done = job(http.clone(), token.clone(), job_id.clone(), addr.clone()).await;
        if done["status"] == "finished" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["result"], "success", "{done}");
    let backend = if moto.is_some() { "aws" } else { "local" };
    eprintln!(
        "--backend {backend}: finished {:.1?} after the kill",
        killed.elapsed()
    );
    assert!(
        killed.elapsed() < Duration::from_secs(60),
        "{:?} after the kill",
        killed.elapsed()
    );
    assert_eq!(done["attempts"], 2, "{done}");
    // Published once: one build of the repository, its log final.
    let builds = builds(&http, &format!("http://{addr}")).await;
    let commits = builds["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 1, "{builds}");
    assert_eq!(commits[0]["job_id"], job_id.as_str());
    let mut published = false;
    for _ in 0..300 {
        let log = http
            .get(format!(
                "http://{addr}/u/{DEMO_OWNER}/en_ulb/{}/build_log.json",
                &repo.commit_id[..10]
            ))
            .send()
            .await
            .unwrap();
        if log.status() == 200 && log.json::<Value>().await.unwrap()["status"] == "success" {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(published, "the site was not published");
    drop(second);
    forge.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_tx_on_the_same_data_directory_is_refused() {
    let env = Env::start().await;
    let again = Runtime::start(env.forge.runtime_options(env.dir.path(), SECRET)).await;
    let error = format!("{:#}", again.err().expect("a second runtime is refused"));
    assert!(error.contains("in use by another tx serve"), "{error}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forges_redelivery_of_a_failed_build_rebuilds_and_publishes_it() {
    let env = Env::start().await;
    let payload = env.forge.push_payload("en_ulb", &env.commit, "translate");
    let hook = format!("{}/client/webhook", env.runtime.url());
    let redeliver = || {
        env.forge
            .redeliver(&env.http, &hook, SECRET, "push", &payload, "delivery-1")
    };

    env.forge.fail_archives(true);
    let (status, first) = redeliver().await.unwrap();
    assert_eq!(status, 202, "{first}");
    let failed_id = first["job_id"].as_str().unwrap().to_string();
    let failed = env.wait_status(&failed_id, "finished").await;
    assert_eq!(failed["result"], "failed", "{failed}");
    env.forge.fail_archives(false);

    let (status, again) = redeliver().await.unwrap();
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["disposition"], "created", "{again}");
    let rebuilt_id = again["job_id"].as_str().unwrap().to_string();
    assert_ne!(rebuilt_id, failed_id);
    let rebuilt = env.wait_status(&rebuilt_id, "finished").await;
    assert_eq!(rebuilt["result"], "success", "{rebuilt}");
    assert_eq!(env.published().await["job_id"], rebuilt_id.as_str());

    // A redelivery of a build that succeeded builds nothing.
    let (_, third) = redeliver().await.unwrap();
    assert_eq!(third["disposition"], "existing", "{third}");
    assert_eq!(third["job_id"], rebuilt_id.as_str());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_signed_delivery_replayed_after_a_newer_build_builds_nothing() {
    const NEWER: &str = "abcdefabcdefabcdefabcdefabcdefabcdef0123";
    let env = Env::start().await;
    let archive = tx::demo::examples::example_repos()
        .unwrap()
        .into_iter()
        .find(|r| r.name == "en_ulb")
        .unwrap()
        .archive;
    env.forge.publish("en_ulb", NEWER, archive);
    let hook = format!("{}/client/webhook", env.runtime.url());
    let old = env.forge.push_payload("en_ulb", &env.commit, "translate");
    let send = |payload: &Value, delivery: &'static str| {
        let (forge, http, hook, payload) = (&env.forge, &env.http, hook.clone(), payload.clone());
        async move {
            forge
                .redeliver(http, &hook, SECRET, "push", &payload, delivery)
                .await
                .unwrap()
        }
    };
    let (_, first) = send(&old, "delivery-old").await;
    env.wait_status(first["job_id"].as_str().unwrap(), "finished")
        .await;
    let newer = env.forge.push_payload("en_ulb", NEWER, "translate more");
    let (_, second) = send(&newer, "delivery-new").await;
    let newest = second["job_id"].as_str().unwrap().to_string();
    env.wait_status(&newest, "finished").await;

    let (_, replayed) = send(&old, "delivery-old").await;
    assert_eq!(replayed["disposition"], "existing", "{replayed}");
    assert_eq!(replayed["job_id"], first["job_id"]);
    let builds = builds(&env.http, &env.runtime.url()).await;
    assert_eq!(builds["commits"].as_array().unwrap().len(), 2, "{builds}");
    assert_eq!(
        builds["commits"][0]["job_id"],
        newest.as_str(),
        "the newest push stays newest"
    );
    env.stop().await;
}
