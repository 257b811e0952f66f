//! A small Gitea-compatible forge on loopback: it serves repository archives
//! at `/<owner>/<repo>/archive/<sha>.zip`, records commit statuses posted to
//! `/api/v1/repos/<owner>/<repo>/statuses/<sha>`, and sends signed push
//! webhooks the way Gitea does. `tx demo` and the end-to-end tests use it
//! as the forge a translation team would push to.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;

/// The token the forge accepts for its status API.
pub const FORGE_TOKEN: &str = "demo-forge-token";

/// A commit status the forge received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedStatus {
    /// `owner/repo`.
    pub repo: String,
    /// Commit id.
    pub sha: String,
    /// `pending`, `success`, `failure`, `error`.
    pub state: String,
    /// Link given with it.
    #[serde(default)]
    pub target_url: String,
    /// Text given with it.
    #[serde(default)]
    pub description: String,
}

#[derive(Default)]
struct ForgeState {
    archives: Mutex<HashMap<(String, String, String), bytes::Bytes>>,
    statuses: Mutex<Vec<RecordedStatus>>,
    downloads: Mutex<usize>,
    /// While set, every archive download answers 500 (a forge outage).
    failing: std::sync::atomic::AtomicBool,
    /// Archive downloads still to answer 500 before serving again (a
    /// forge's brief trouble).
    fail_next: std::sync::atomic::AtomicUsize,
    /// While `true`, archive downloads wait (a slow forge): a build stays
    /// started until it is released.
    held: watch::Sender<bool>,
    /// Repositories whose archive downloads wait (one stalled repository).
    held_repos: watch::Sender<std::collections::HashSet<String>>,
    /// While `true`, the status API does not answer (a hanging forge API).
    statuses_held: watch::Sender<bool>,
}

/// A running loopback forge.
pub struct DemoForge {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The user owning the repositories.
    pub owner: String,
    state: Arc<ForgeState>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl DemoForge {
    /// Starts the forge on a free loopback port.
    pub async fn start(owner: &str) -> anyhow::Result<DemoForge> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the demo forge")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ForgeState::default());
        let app = axum::Router::new()
            .route("/{owner}/{repo}/archive/{file}", get(archive))
            .route("/api/v1/repos/{owner}/{repo}/statuses/{sha}", post(status))
            .route("/{owner}/{repo}", get(repo_page))
            .with_state(state.clone());
        let (stop, mut stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::error!("demo forge stopped: {e}");
            }
        });
        Ok(DemoForge {
            addr,
            owner: owner.to_string(),
            state,
            stop,
            task,
        })
    }

    /// Publishes the example repository `name` (`examples/`) at its commit,
    /// and answers it.
    pub fn publish_example(&self, name: &str) -> anyhow::Result<super::examples::ExampleRepo> {
        let repo = super::examples::example_repos()?
            .into_iter()
            .find(|r| r.name == name)
            .with_context(|| format!("no example repository {name}"))?;
        self.publish(&repo.name, &repo.commit_id, repo.archive.clone());
        Ok(repo)
    }

    /// Options of a runtime in `data_dir` that takes this forge's webhooks,
    /// signed with `secret`.
    pub fn runtime_options(
        &self,
        data_dir: &std::path::Path,
        secret: &str,
    ) -> crate::runtime::RuntimeOptions {
        let mut options =
            crate::runtime::RuntimeOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)), data_dir);
        options
            .overrides
            .insert("TX_FORGES".into(), self.registry(secret).to_string());
        options
    }

    /// Makes `archive` the content of `repo` at `commit`.
    pub fn publish(&self, repo: &str, commit: &str, archive: impl Into<bytes::Bytes>) {
        if let Ok(mut a) = self.state.archives.lock() {
            a.insert(
                (self.owner.clone(), repo.to_string(), commit.to_string()),
                archive.into(),
            );
        }
    }

    /// The forge registry that configures this forge (`forges.json`): its
    /// URL, its status token, and `secret` as its webhook secret.
    pub fn registry(&self, secret: &str) -> Value {
        json!([{
            "id": "demo",
            "kind": "gitea",
            "url": format!("http://{}", self.addr),
            "token": FORGE_TOKEN,
            "secret": secret,
        }])
    }

    /// Browse URL of a repository.
    pub fn repo_url(&self, repo: &str) -> String {
        format!("http://{}/{}/{}", self.addr, self.owner, repo)
    }

    /// Commit statuses received so far, in order.
    pub fn statuses(&self) -> Vec<RecordedStatus> {
        self.state.statuses.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// How many archives were downloaded.
    pub fn downloads(&self) -> usize {
        self.state.downloads.lock().map(|d| *d).unwrap_or(0)
    }

    /// A Gitea push payload for `commit` on `master` of `repo`.
    pub fn push_payload(&self, repo: &str, commit: &str, message: &str) -> Value {
        let url = self.repo_url(repo);
        let user = json!({
            "id": 1, "login": self.owner, "username": self.owner,
            "full_name": "Demo Translator", "email": "translator@example.org"
        });
        let commit_json = json!({
            "id": commit,
            "message": message,
            "url": format!("{url}/commit/{commit}"),
            "author": { "name": "Demo Translator", "email": "translator@example.org", "username": self.owner },
            "committer": { "name": "Demo Translator", "email": "translator@example.org", "username": self.owner },
            "timestamp": "2026-11-23T10:00:00Z"
        });
        json!({
            "ref": "refs/heads/master",
            "before": "0000000000000000000000000000000000000000",
            "after": commit,
            "compare_url": format!("{url}/compare/0000000000...{commit}"),
            "commits": [commit_json.clone()],
            "total_commits": 1,
            "head_commit": commit_json,
            "repository": {
                "id": 1, "owner": user, "name": repo,
                "full_name": format!("{}/{}", self.owner, repo),
                "html_url": url, "clone_url": format!("{url}.git"),
                "default_branch": "master", "private": false
            },
            "pusher": user,
            "sender": user
        })
    }

    /// Sends a signed Gitea push webhook to `hook_url`; answers the status
    /// and JSON body the pipeline gave back.
    pub async fn send_push(
        &self,
        http: &reqwest::Client,
        hook_url: &str,
        secret: &str,
        repo: &str,
        commit: &str,
        message: &str,
    ) -> anyhow::Result<(u16, Value)> {
        let payload = self.push_payload(repo, commit, message);
        self.send_event(http, hook_url, secret, "push", &payload).await
    }

    /// Makes archive downloads answer 500 (`true`) or serve again (`false`):
    /// a build requested during an outage fails.
    pub fn fail_archives(&self, failing: bool) {
        self.state
            .failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes the next `n` archive downloads answer 500, then serves again.
    pub fn fail_next_archives(&self, n: usize) {
        self.state.fail_next.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes archive downloads wait (`true`) until released (`false`), so a
    /// build can be caught while it runs. A held download is answered once
    /// released; the runner's own idle timeout bounds the wait.
    pub fn hold_archives(&self, held: bool) {
        self.state.held.send_replace(held);
    }

    /// Makes the archive downloads of `repo` alone wait (`true`) until
    /// released (`false`): one repository's forge stalls, others serve.
    pub fn hold_archives_of(&self, repo: &str, held: bool) {
        self.state.held_repos.send_modify(|repos| {
            if held {
                repos.insert(repo.to_string());
            } else {
                repos.remove(repo);
            }
        });
    }

    /// Makes the commit status API hang (`true`) until released (`false`):
    /// a status call then waits for the caller's own timeout.
    pub fn hold_statuses(&self, held: bool) {
        self.state.statuses_held.send_replace(held);
    }

    /// Sends `payload` as a signed Gitea `event` webhook (`push`,
    /// `pull_request`, `delete`, …) to `hook_url`; answers the status and
    /// JSON body the pipeline gave back.
    pub async fn send_event(
        &self,
        http: &reqwest::Client,
        hook_url: &str,
        secret: &str,
        event: &str,
        payload: &Value,
    ) -> anyhow::Result<(u16, Value)> {
        let delivery = uuid::Uuid::new_v4().to_string();
        self.redeliver(http, hook_url, secret, event, payload, &delivery)
            .await
    }

    /// Sends `payload` as the webhook delivery `delivery` (Gitea's
    /// "Redeliver" sends a delivery again with its own id and signature).
    pub async fn redeliver(
        &self,
        http: &reqwest::Client,
        hook_url: &str,
        secret: &str,
        event: &str,
        payload: &Value,
        delivery: &str,
    ) -> anyhow::Result<(u16, Value)> {
        let body = serde_json::to_vec(payload)?;
        let signature = tx_shared::signature::sign_hex(secret.as_bytes(), &body);
        let response = http
            .post(hook_url)
            .header("content-type", "application/json")
            .header("X-Gitea-Event", event)
            .header("X-Gitea-Delivery", delivery)
            .header("X-Gitea-Signature", signature)
            .body(body)
            .send()
            .await
            .with_context(|| format!("sending the webhook to {hook_url}"))?;
        let status = response.status().as_u16();
        let json = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, json))
    }

    /// Stops the forge.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn archive(
    State(state): State<Arc<ForgeState>>,
    Path((owner, repo, file)): Path<(String, String, String)>,
) -> impl IntoResponse {
    let Some(sha) = file.strip_suffix(".zip") else {
        return (StatusCode::NOT_FOUND, "only .zip archives").into_response();
    };
    let _ = state.held.subscribe().wait_for(|held| !*held).await;
    let _ = state
        .held_repos
        .subscribe()
        .wait_for(|held| !held.contains(&repo))
        .await;
    let brief_trouble = state
        .fail_next
        .fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| n.checked_sub(1),
        )
        .is_ok();
    if brief_trouble || state.failing.load(std::sync::atomic::Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "forge outage").into_response();
    }
    let found = state
        .archives
        .lock()
        .ok()
        .and_then(|a| a.get(&(owner, repo, sha.to_string())).cloned());
    match found {
        Some(bytes) => {
            if let Ok(mut d) = state.downloads.lock() {
                *d += 1;
            }
            ([(header::CONTENT_TYPE, "application/zip")], bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such commit").into_response(),
    }
}

async fn status(
    State(state): State<Arc<ForgeState>>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    let _ = state.statuses_held.subscribe().wait_for(|held| !*held).await;
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("token {FORGE_TOKEN}"));
    if !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "token required"})),
        )
            .into_response();
    }
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let recorded = RecordedStatus {
        repo: format!("{owner}/{repo}"),
        sha,
        state: text("state"),
        target_url: text("target_url"),
        description: text("description"),
    };
    if let Ok(mut s) = state.statuses.lock() {
        s.push(recorded.clone());
    }
    (StatusCode::CREATED, Json(json!(recorded))).into_response()
}

async fn repo_page(Path((owner, repo)): Path<(String, String)>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html><title>{owner}/{repo}</title><h1>{owner}/{repo}</h1><p>Demo forge repository.</p>"
        ),
    )
}
