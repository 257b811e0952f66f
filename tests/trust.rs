//! The trust boundary end to end (DESIGN.md § "Forges and trust"), on
//! `tx serve` with loopback forges and a second loopback "internal" server
//! that counts every request it gets.
//!
//! Signed deliveries from configured forges name the internal server in every
//! URL field a payload has (archive and browse URLs, the GitHub API URL, a
//! release asset's download URL, GitLab release links and sources) and one
//! forge redirects its archive there. The internal server must see nothing,
//! and each forge's token must reach only that forge's API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tx::demo::examples::example_repos;
use tx::runtime::{Runtime, RuntimeOptions};
use tx_shared::domain::build_log::BuildLog;
use tx_shared::domain::job::commit10;
use tx_shared::ports::ObjectStore;
use tx_shared::signature::sign_hex;
use tx_webhook_client::signature_check::standard_webhook_signature;

/// One request a loopback server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    private_token: Option<String>,
}

#[derive(Default)]
struct Server {
    seen: Mutex<Vec<Seen>>,
    /// Answer archive requests with a 302 to here instead of the archive.
    redirect_to: Mutex<Option<String>>,
    archive: Mutex<Vec<u8>>,
}

async fn record(
    State(s): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    _: Bytes,
) -> Response {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    s.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: uri.to_string(),
        authorization: h("authorization"),
        private_token: h("private-token"),
    });
    if method == Method::POST && uri.path().contains("/statuses/") {
        return (StatusCode::CREATED, "{}").into_response();
    }
    if method == Method::GET && uri.path().ends_with(".zip") {
        if let Some(target) = s.redirect_to.lock().unwrap().clone() {
            return (
                StatusCode::FOUND,
                [(header::LOCATION, format!("{target}/stolen.zip"))],
            )
                .into_response();
        }
        let zip = s.archive.lock().unwrap().clone();
        return ([(header::CONTENT_TYPE, "application/zip")], zip).into_response();
    }
    (StatusCode::NOT_FOUND, "no").into_response()
}

async fn start(archive: Vec<u8>) -> (String, Arc<Server>) {
    let state = Arc::new(Server::default());
    *state.archive.lock().unwrap() = archive;
    let app = axum::Router::new().fallback(record).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, state)
}

const GITLAB_SIGNING: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn repository(forge: &str, internal: &str, name: &str) -> Value {
    json!({
        "name": name,
        "full_name": format!("demo/{name}"),
        "owner": {"login": "demo", "username": "demo"},
        "html_url": format!("{forge}/demo/{name}?next={internal}/html"),
        "url": format!("{internal}/api/v3/repos/demo/{name}"),
        "clone_url": format!("{internal}/demo/{name}.git"),
        "default_branch": "master",
    })
}

fn gitea_push(forge: &str, internal: &str, name: &str, sha: &str) -> Value {
    let commit = json!({
        "id": sha, "message": "hostile", "url": format!("{internal}/commit/{sha}"),
        "author": {"name": "x", "username": "x"}, "committer": {"name": "x", "username": "x"},
    });
    json!({
        "ref": "refs/heads/master",
        "before": "0000000000000000000000000000000000000000",
        "after": sha,
        "compare_url": format!("{internal}/compare"),
        "commits": [commit.clone()],
        "head_commit": commit,
        "repository": repository(forge, internal, name),
        "pusher": {"login": "demo"},
        "sender": {"login": "demo"},
    })
}

async fn post(http: &reqwest::Client, hook: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, Value) {
    let mut req = http
        .post(hook)
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn final_log(runtime: &Runtime, name: &str, sha: &str) -> BuildLog {
    let key = format!("u/demo/{name}/{}/build_log.json", commit10(sha));
    for _ in 0..900 {
        if let Some(bytes) = runtime.functions.cdn.get(&key).await.unwrap() {
            let log: BuildLog = serde_json::from_slice(&bytes).unwrap();
            if log.status.is_final() {
                return log;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name}: no final build log in 90 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_deliveries_reach_no_other_host_and_tokens_only_their_api() {
    let repo = example_repos()
        .unwrap()
        .into_iter()
        .find(|r| r.name == "en_ulb")
        .unwrap();
    let sha = repo.commit_id.clone();
    let (internal, internal_seen) = start(repo.archive.clone()).await;
    let (tea, tea_seen) = start(repo.archive.clone()).await;
    let (redirector, redirector_seen) = start(repo.archive.clone()).await;
    *redirector_seen.redirect_to.lock().unwrap() = Some(internal.clone());
    let (hub, hub_seen) = start(repo.archive.clone()).await;
    let (lab, lab_seen) = start(repo.archive.clone()).await;
    let forges = json!([
        {"id": "tea", "kind": "gitea", "url": tea, "token": "tea-token", "secret": "tea-secret"},
        {"id": "redirector", "kind": "gitea", "url": redirector, "token": "redirector-token", "secret": "r-secret"},
        {"id": "hub", "kind": "github", "url": hub, "api_url": format!("{hub}/api/v3"), "token": "hub-token", "secret": "hub-secret"},
        {"id": "lab", "kind": "gitlab", "url": lab, "token": "lab-token", "secret": GITLAB_SIGNING},
    ]);
    let dir = tempfile::tempdir().unwrap();
    let mut options = RuntimeOptions::new("127.0.0.1:0".parse().unwrap(), dir.path());
    options.overrides.insert("TX_FORGES".into(), forges.to_string());
    let runtime = Runtime::start(options).await.unwrap();
    let hook = format!("{}/client/webhook", runtime.url());
    let http = reqwest::Client::new();

    // Gitea push: browse, API, clone, commit and compare URLs name the internal server.
    let body = serde_json::to_vec(&gitea_push(&tea, &internal, "trust_push", &sha)).unwrap();
    let headers = [
        ("X-Gitea-Event", "push".to_string()),
        ("X-Gitea-Delivery", "d-push".to_string()),
        ("X-Gitea-Signature", sign_hex(b"tea-secret", &body)),
    ];
    let (status, answer) = post(&http, &hook, &headers, &body).await;
    assert_eq!(status, 202, "{answer}");

    // A forge that redirects its archive to the internal server.
    let body = serde_json::to_vec(&gitea_push(&redirector, &internal, "trust_redirect", &sha)).unwrap();
    let headers = [
        ("X-Gitea-Event", "push".to_string()),
        ("X-Gitea-Delivery", "d-redirect".to_string()),
        ("X-Gitea-Signature", sign_hex(b"r-secret", &body)),
    ];
    let (status, answer) = post(&http, &hook, &headers, &body).await;
    assert_eq!(status, 202, "{answer}");

    // GitHub release whose asset's browser_download_url is the internal server.
    let release = json!({
        "action": "published",
        "release": {
            "tag_name": "v1", "target_commitish": sha, "name": "v1", "draft": false,
            "html_url": format!("{internal}/release"),
            "assets": [{"id": 7, "name": "bundle.zip", "browser_download_url": format!("{internal}/bundle.zip")}],
        },
        "repository": repository(&hub, &internal, "trust_release"),
        "sender": {"login": "demo"},
    });
    let body = serde_json::to_vec(&release).unwrap();
    let headers = [
        ("X-GitHub-Event", "release".to_string()),
        ("X-GitHub-Delivery", "d-release".to_string()),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", sign_hex(b"hub-secret", &body)),
        ),
    ];
    let (status, answer) = post(&http, &hook, &headers, &body).await;
    assert_eq!(status, 202, "{answer}");

    // GitLab release (a signed webhook) whose links and sources are the internal server.
    let gitlab = json!({
        "object_kind": "release", "action": "create", "tag": "v1", "name": "v1",
        "url": format!("{internal}/release"),
        "project": {"name": "trust_gitlab", "web_url": format!("{lab}/demo/trust_gitlab"),
                    "path_with_namespace": "demo/trust_gitlab"},
        "commit": {"id": sha, "author": {"name": "x"}},
        "assets": {
            "links": [{"id": 1, "name": "bundle.zip", "url": format!("{internal}/bundle.zip")}],
            "sources": [{"format": "zip", "url": format!("{internal}/source.zip")}],
        },
    });
    let body = serde_json::to_vec(&gitlab).unwrap();
    let key = tx_shared::forges::ForgeRegistry::parse(&forges.to_string(), "t")
        .unwrap()
        .by_id("lab")
        .unwrap()
        .secret_for("demo/trust_gitlab")
        .signing_key()
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let signed = |body: &[u8]| {
        vec![
            ("X-Gitlab-Event", "Release Hook".to_string()),
            ("webhook-id", "msg-1".to_string()),
            ("webhook-timestamp", now.to_string()),
            (
                "webhook-signature",
                standard_webhook_signature(&key, "msg-1", now, body),
            ),
        ]
    };
    // Tampered after signing: 401, and nothing is created.
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'v').unwrap();
    tampered[at] = b'w';
    let (status, answer) = post(&http, &hook, &signed(&body), &tampered).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("bad_signature")),
        "{answer}"
    );
    // The plain token alone is not enough when a signing token is configured.
    let (status, _) = post(
        &http,
        &hook,
        &[
            ("X-Gitlab-Event", "Release Hook".into()),
            ("X-Gitlab-Token", GITLAB_SIGNING.into()),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 401);
    let (status, answer) = post(&http, &hook, &signed(&body), &body).await;
    assert_eq!(status, 202, "{answer}");

    let push = final_log(&runtime, "trust_push", &sha).await;
    assert!(push.success, "{push:?}");
    // The build log links to the forge, not to the payload's hosts.
    assert!(
        push.commit_url.as_deref().unwrap_or_default().starts_with(&tea),
        "{push:?}"
    );
    assert!(push.compare_url.is_none(), "{push:?}");
    let redirected = final_log(&runtime, "trust_redirect", &sha).await;
    assert!(!redirected.success, "{redirected:?}");
    let errors = redirected.errors.join(" ");
    assert!(
        errors.contains("redirect to another host was refused"),
        "{errors}"
    );
    let internal_port = internal.rsplit(':').next().unwrap();
    assert!(
        !errors.contains(internal_port),
        "the public log names the internal server: {errors}"
    );
    let released = final_log(&runtime, "trust_release", &sha).await;
    assert!(released.success, "{released:?}");
    let gitlab_log = final_log(&runtime, "trust_gitlab", &sha).await;
    assert!(gitlab_log.success, "{gitlab_log:?}");

    // Let the last statuses go out.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let internal_requests = internal_seen.seen.lock().unwrap().clone();
    assert!(
        internal_requests.is_empty(),
        "the internal server was reached: {internal_requests:?}"
    );

    // What each forge was asked for, and where its token went.
    let check = |name: &str, seen: &[Seen], api: &str, auth: &dyn Fn(&Seen) -> bool, archive: &str| {
        assert!(
            seen.iter().any(|s| s.path == archive),
            "{name}: no {archive} in {seen:?}"
        );
        for s in seen {
            let carries_token = s.authorization.is_some() || s.private_token.is_some();
            if s.method == "POST" {
                assert!(s.path.starts_with(api), "{name}: status outside the API: {s:?}");
                assert!(auth(s), "{name}: status without its token: {s:?}");
            } else {
                assert!(!carries_token, "{name}: a download carried a token: {s:?}");
                assert!(
                    !s.path.contains('?'),
                    "{name}: a payload query string rode along: {s:?}"
                );
            }
        }
    };
    let tea_requests = tea_seen.seen.lock().unwrap().clone();
    check(
        "gitea",
        &tea_requests,
        "/api/v1/repos/demo/trust_push/statuses/",
        &|s| s.authorization.as_deref() == Some("token tea-token"),
        &format!("/demo/trust_push/archive/{sha}.zip"),
    );
    let redirector_requests = redirector_seen.seen.lock().unwrap().clone();
    check(
        "redirector",
        &redirector_requests,
        "/api/v1/repos/demo/trust_redirect/statuses/",
        &|s| s.authorization.as_deref() == Some("token redirector-token"),
        &format!("/demo/trust_redirect/archive/{sha}.zip"),
    );
    let hub_requests = hub_seen.seen.lock().unwrap().clone();
    check(
        "github",
        &hub_requests,
        "/api/v3/repos/demo/trust_release/statuses/",
        &|s| s.authorization.as_deref() == Some("Bearer hub-token"),
        "/demo/trust_release/releases/download/v1/bundle.zip",
    );
    let lab_requests = lab_seen.seen.lock().unwrap().clone();
    check(
        "gitlab",
        &lab_requests,
        "/api/v4/projects/demo%2Ftrust_gitlab/statuses/",
        &|s| s.private_token.as_deref() == Some("lab-token") && s.authorization.is_none(),
        "/demo/trust_gitlab/-/archive/v1/trust_gitlab-v1.zip",
    );
    for (name, seen) in [
        ("gitea", &tea_requests),
        ("redirector", &redirector_requests),
        ("github", &hub_requests),
        ("gitlab", &lab_requests),
    ] {
        assert!(
            seen.iter().filter(|s| s.method == "POST").count() >= 2,
            "{name}: pending and final statuses: {seen:?}"
        );
    }
    runtime.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_from_an_unconfigured_forge_gets_403_and_creates_nothing() {
    let repo = &example_repos().unwrap()[0];
    let (internal, internal_seen) = start(repo.archive.clone()).await;
    let (tea, _) = start(repo.archive.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut options = RuntimeOptions::new("127.0.0.1:0".parse().unwrap(), dir.path());
    let forges = json!([{"id": "tea", "kind": "gitea", "url": tea, "secret": "tea-secret"}]);
    options.overrides.insert("TX_FORGES".into(), forges.to_string());
    let runtime = Runtime::start(options).await.unwrap();
    // Correctly signed with the one secret every team knows, but from a host
    // nobody configured.
    let body = serde_json::to_vec(&gitea_push(&internal, &internal, "elsewhere", &repo.commit_id)).unwrap();
    let headers = [
        ("X-Gitea-Event", "push".to_string()),
        ("X-Gitea-Signature", sign_hex(b"tea-secret", &body)),
    ];
    let http = reqwest::Client::new();
    let (status, answer) = post(
        &http,
        &format!("{}/client/webhook", runtime.url()),
        &headers,
        &body,
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("forge_not_configured")),
        "{answer}"
    );
    let host = internal.trim_start_matches("http://");
    assert_eq!(answer["host"], host, "{answer}");
    assert_eq!(answer["configure"]["where"], "TX_FORGES", "{answer}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let local = runtime.local().expect("local backend");
    assert!(local.cdn.list("").await.unwrap().is_empty());
    assert!(local.website.list("").await.unwrap().is_empty());
    assert!(internal_seen.seen.lock().unwrap().is_empty());
    runtime.stop().await;
}
