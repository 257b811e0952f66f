//! Test harness: real local adapters in a temp dir, and real loopback HTTP
//! servers standing in for the job manager and a forge's status API.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes as AxumBytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use lambda_http::{Body, Request, Response};
use tx_shared::config::Config;
use tx_shared::domain::job::{Job, JobStatus, commit10};
use tx_shared::domain::job_request::{JobDisposition, JobRequest, JobResponse, Superseded};
use tx_shared::forge_client::HttpForgeClient;
use tx_shared::forges::ForgeRegistry;
use tx_shared::local::{CDN_NOTIFICATIONS, LocalBackend};
use tx_shared::ports::{Clock, ObjectStore, StoreError};
use tx_shared::signature::{sign_hex, verify_hex};
use tx_webhook_client::{ClientDeps, HttpJobApi};

pub const WEBHOOK_SECRET: &str = "test-webhook-secret";
pub const CALLBACK_SECRET: &str = "test-callback-secret";
pub const FORGE_TOKEN: &str = "test-forge-token";

/// The payload corpus, or `None` (with a message) when it is absent outside CI.
pub fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/payloads"
    ));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "payload corpus missing at {} (required when CI=true)",
            dir.display()
        );
    }
    eprintln!("SKIP: payload corpus not found at {}", dir.display());
    None
}

/// A corpus file's bytes.
pub fn corpus_file(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The registry of one Gitea forge at `url` with the test secret and token.
pub fn gitea_registry(url: &str) -> ForgeRegistry {
    registry(serde_json::json!([{
        "id": "test-forge", "kind": "gitea", "url": url,
        "token": FORGE_TOKEN, "secret": WEBHOOK_SECRET,
    }]))
}

/// A registry from its JSON.
pub fn registry(json: serde_json::Value) -> ForgeRegistry {
    ForgeRegistry::parse(&json.to_string(), "test registry").expect("test registry")
}

/// A settings map as the embedded runtime would give it.
pub fn config(api_url: &str, extra: &[(&str, &str)]) -> Config {
    let mut env: HashMap<String, String> = [
        ("TX_JOB_TABLE", "tx-job"),
        ("TX_MANIFEST_TABLE", "tx-manifest"),
        ("TX_PRECONVERT_BUCKET", "preconvert"),
        ("TX_CDN_BUCKET", "cdn"),
        ("TX_WEBSITE_BUCKET", "website"),
        ("TX_CONVERTER_FUNCTION", "converter"),
        ("TX_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("TX_CALLBACK_SECRET", CALLBACK_SECRET),
        ("TX_SITE_URL", "http://site.test"),
        ("TX_CDN_URL", "http://cdn.test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert("TX_API_URL".into(), api_url.to_string());
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| env.get(k).cloned()).expect("test config")
}

/// A fixed clock.
pub struct FixedClock;
impl Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("valid time")
    }
}

/// Serves `router` on 127.0.0.1 (ephemeral port); returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// What the fake job manager answers next.
#[derive(Debug, Clone)]
pub enum Reply {
    Create,
    /// Coalesce with the job created earlier for this commit.
    Coalesce {
        older_commit: String,
    },
    /// Return the job created earlier for the same commit.
    Existing,
}

#[derive(Default)]
pub struct ManagerState {
    pub replies: Mutex<VecDeque<Reply>>,
    pub requests: Mutex<Vec<(JobRequest, Uri)>>,
    pub jobs: Mutex<HashMap<String, Job>>,
    pub bad_signatures: Mutex<u32>,
}

/// A job row as the manager would store it for `request`.
pub fn job_for(request: &JobRequest, job_id: &str) -> Job {
    let now = FixedClock.now();
    Job {
        job_id: job_id.to_string(),
        identifier: format!(
            "{}/{}/{}",
            request.repo_owner,
            request.repo_name,
            commit10(&request.commit.commit_id)
        ),
        repo: format!("{}/{}", request.repo_owner, request.repo_name),
        repo_owner: request.repo_owner.clone(),
        repo_name: request.repo_name.clone(),
        git_ref: request.git_ref.clone(),
        commit: request.commit.clone(),
        coalesce_key: request.coalesce_key(),
        delivery_id: request.delivery_id.clone(),
        repo_url: request.repo_url.clone(),
        resource_type: request.resource_type.clone().unwrap_or_else(|| "unknown".into()),
        input_format: request.input_format.clone().unwrap_or_else(|| "unknown".into()),
        output_format: request.output_format.clone().unwrap_or_else(|| "html".into()),
        source: request.source.clone(),
        callback: request.callback.clone(),
        default_branch: request.default_branch.clone(),
        assets: request.assets.clone(),
        convert_module: None,
        status: JobStatus::Requested,
        attempts: 0,
        created_at: now,
        started_at: None,
        ended_at: None,
        runner: None,
        lease_until: None,
        callback_tries: 0,
        expires_at: now.timestamp() + 90 * 86400,
        version: 1,
        result: None,
        message: None,
        log: vec![],
        warnings: vec![],
        errors: vec![],
        output: None,
        callback_pending: false,
        stages: None,
    }
}

async fn manager_job(
    State(state): State<Arc<ManagerState>>,
    uri: Uri,
    headers: HeaderMap,
    body: AxumBytes,
) -> (StatusCode, String) {
    let sig = headers
        .get("x-tx-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !sig.starts_with("sha256=") || !verify_hex(CALLBACK_SECRET.as_bytes(), &body, sig) {
        *state.bad_signatures.lock().expect("lock") += 1;
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"bad_signature","message":"no"}"#.into(),
        );
    }
    let request: JobRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!(r#"{{"error":"malformed","message":"{e}"}}"#),
            );
        }
    };
    state.requests.lock().expect("lock").push((request.clone(), uri));
    let reply = state
        .replies
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(Reply::Create);
    let mut jobs = state.jobs.lock().expect("lock");
    let response = match reply {
        Reply::Create => {
            let job = job_for(&request, &format!("job-{}", jobs.len() + 1));
            jobs.insert(request.commit.commit_id.clone(), job.clone());
            JobResponse {
                disposition: JobDisposition::Created,
                job,
                superseded: None,
            }
        }
        Reply::Coalesce { older_commit } => {
            let older = jobs.get(&older_commit).cloned().expect("older job exists");
            let mut job = job_for(&request, &older.job_id);
            job.version = older.version + 1;
            jobs.insert(request.commit.commit_id.clone(), job.clone());
            JobResponse {
                disposition: JobDisposition::Coalesced,
                job,
                superseded: Some(Superseded {
                    identifier: older.identifier,
                    commit_id: older.commit.commit_id,
                }),
            }
        }
        Reply::Existing => {
            let job = jobs
                .get(&request.commit.commit_id)
                .cloned()
                .expect("existing job");
            JobResponse {
                disposition: JobDisposition::Existing,
                job,
                superseded: None,
            }
        }
    };
    let status = if response.disposition == JobDisposition::Existing {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    (status, serde_json::to_string(&response).expect("encode"))
}

/// Starts the fake job manager.
pub async fn start_manager() -> (String, Arc<ManagerState>) {
    let state = Arc::new(ManagerState::default());
    let router = Router::new()
        .route("/tx/job", post(manager_job))
        .with_state(state.clone());
    (serve(router).await, state)
}

/// One status call a fake forge received.
#[derive(Debug, Clone)]
pub struct StatusCall {
    pub path: String,
    pub authorization: Option<String>,
    pub private_token: Option<String>,
    pub accept: Option<String>,
    pub body: serde_json::Value,
}

#[derive(Default)]
pub struct ForgeState {
    pub calls: Mutex<Vec<StatusCall>>,
    pub answer: Mutex<u16>,
}

async fn forge_status(
    State(state): State<Arc<ForgeState>>,
    uri: Uri,
    headers: HeaderMap,
    body: AxumBytes,
) -> (StatusCode, String) {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    state.calls.lock().expect("lock").push(StatusCall {
        path: uri.path().to_string(),
        authorization: h("authorization"),
        private_token: h("private-token"),
        accept: h("accept"),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    let code = *state.answer.lock().expect("lock");
    let code = StatusCode::from_u16(if code == 0 { 201 } else { code }).expect("status");
    (code, r#"{"id":1}"#.into())
}

/// Starts a fake forge that accepts status posts on any path.
pub async fn start_forge() -> (String, Arc<ForgeState>) {
    let state = Arc::new(ForgeState::default());
    let router = Router::new()
        .fallback(post(forge_status))
        .with_state(state.clone());
    (serve(router).await, state)
}

/// The CDN bucket seen through a recorder: every put in order, and, for each
/// build log put, how many other objects its folder already held.
pub struct RecordingStore {
    pub inner: Arc<dyn ObjectStore>,
    pub puts: Mutex<Vec<String>>,
    pub pages_before_build_log: Mutex<Vec<usize>>,
}

impl RecordingStore {
    async fn note(&self, key: &str) -> Result<(), StoreError> {
        if let Some(folder) = key.strip_suffix("build_log.json") {
            let others = self
                .inner
                .list(folder)
                .await?
                .into_iter()
                .filter(|k| k != key)
                .count();
            self.pages_before_build_log.lock().expect("lock").push(others);
        }
        self.puts.lock().expect("lock").push(key.to_string());
        Ok(())
    }
}

#[async_trait]
impl ObjectStore for RecordingStore {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), StoreError> {
        self.note(key).await?;
        self.inner.put(key, body, content_type).await
    }
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), StoreError> {
        self.note(key).await?;
        self.inner.put_file(key, path, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        self.inner.get(key).await
    }
    async fn get_to_file(&self, key: &str, path: &Path) -> Result<bool, StoreError> {
        self.inner.get_to_file(key, path).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}

/// Everything one handler test needs.
pub struct Harness {
    pub _dir: tempfile::TempDir,
    pub backend: LocalBackend,
    pub store: Arc<RecordingStore>,
    pub deps: ClientDeps,
    pub manager: Arc<ManagerState>,
    pub forge: Arc<ForgeState>,
    pub forge_url: String,
}

impl Harness {
    /// A harness whose job manager is the fake one (or `api_url` if given),
    /// with the fake forge configured as the one Gitea forge.
    pub async fn new(api_url: Option<&str>, extra: &[(&str, &str)]) -> Harness {
        Harness::with_registry(api_url, extra, gitea_registry).await
    }

    /// A harness whose registry `forges` makes from the fake forge's URL.
    pub async fn with_registry(
        api_url: Option<&str>,
        extra: &[(&str, &str)],
        forges: impl FnOnce(&str) -> ForgeRegistry,
    ) -> Harness {
        let (manager_url, manager) = start_manager().await;
        let (forge_url, forge) = start_forge().await;
        let forges = Arc::new(forges(&forge_url));
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(api_url.unwrap_or(&manager_url), extra);
        let backend = LocalBackend::open(dir.path(), &config).expect("local backend");
        let store = Arc::new(RecordingStore {
            inner: backend.cdn.clone(),
            puts: Mutex::new(vec![]),
            pages_before_build_log: Mutex::new(vec![]),
        });
        let deps = ClientDeps {
            jobs: Arc::new(HttpJobApi::new(reqwest::Client::new(), &config)),
            config,
            cdn: store.clone(),
            manifests: backend.manifests.clone(),
            forge: Arc::new(HttpForgeClient::new(forges.clone()).expect("forge client")),
            forges,
            clock: Arc::new(FixedClock),
        };
        Harness {
            _dir: dir,
            backend,
            store,
            deps,
            manager,
            forge,
            forge_url,
        }
    }

    /// Signs job requests with `secret` from now on.
    pub fn sign_jobs_with(&mut self, secret: &str) {
        self.deps.config.callback_secret = secret.into();
        self.deps.jobs = Arc::new(HttpJobApi::new(reqwest::Client::new(), &self.deps.config));
    }

    /// Every key in the CDN bucket.
    pub async fn cdn_keys(&self) -> Vec<String> {
        self.backend.cdn.list("").await.expect("list")
    }

    /// Keys of the CDN notifications logged so far (decoded as S3 encodes them).
    pub fn notified_keys(&self) -> Vec<String> {
        self.backend
            .events
            .pending(CDN_NOTIFICATIONS, "webhook-client-test", 1000)
            .expect("events")
            .into_iter()
            .map(|e| {
                e.record["s3"]["object"]["key"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    /// A stored build log.
    pub async fn build_log(&self, prefix: &str) -> Option<serde_json::Value> {
        let bytes = self
            .backend
            .cdn
            .get(&format!("{prefix}build_log.json"))
            .await
            .expect("get")?;
        Some(serde_json::from_slice(&bytes).expect("build log json"))
    }
}

/// A webhook request as a forge sends it.
pub fn webhook(headers: &[(&str, &str)], body: Vec<u8>) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("https://api.test/client/webhook");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request")
}

/// Gitea headers for `body`, signed with `secret`.
pub fn gitea_headers(event: &str, delivery: &str, body: &[u8], secret: &str) -> Vec<(String, String)> {
    let sig = sign_hex(secret.as_bytes(), body);
    vec![
        ("X-Gitea-Event".into(), event.into()),
        ("X-Gitea-Delivery".into(), delivery.into()),
        ("X-Gitea-Signature".into(), sig.clone()),
        ("X-Gogs-Event".into(), event.into()),
        ("X-Gogs-Signature".into(), sig.clone()),
        ("X-GitHub-Event".into(), event.into()),
        ("X-Hub-Signature-256".into(), format!("sha256={sig}")),
    ]
}

/// Borrows owned header pairs.
pub fn pairs(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A callback request carrying `job`, signed with `secret`.
pub fn callback(job: &Job, secret: &str, query: &str) -> Request {
    let body = serde_json::to_vec(job).expect("encode job");
    let sig = format!("sha256={}", sign_hex(secret.as_bytes(), &body));
    http::Request::builder()
        .method("POST")
        .uri(format!("https://api.test/client/callback{query}"))
        .header("x-tx-signature", sig)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request")
}

/// Status and JSON body of a response.
pub fn answer(response: Response<Body>) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = tx_shared::api::body_bytes(response.body()).to_vec();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}
