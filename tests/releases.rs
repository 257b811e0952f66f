//! Releases end to end (DESIGN.md § "Build identity and what readers see"),
//! on `tx serve` with a loopback forge per registry entry.
//!
//! The corpus's real GitHub and Gitea release payloads name a branch in
//! `target_commitish`; the forge's tag API (which the loopback forge answers
//! and counts) names the commit. Each asset is published as a download; a
//! prebuilt site bundle is published as the site without conversion; a
//! release without assets builds the tag's source.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tx::demo::examples::example_repos;
use tx::runtime::{Runtime, RuntimeOptions};
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::convert::Downloads;
use tx_shared::domain::job::commit10;
use tx_shared::signature::sign_hex;

/// The commit every loopback forge says the released tag names.
const SHA: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

/// One loopback forge: what it serves and what it was asked.
#[derive(Default)]
struct Forge {
    /// `METHOD path` and the Authorization header of every request.
    seen: Mutex<Vec<(String, Option<String>)>>,
    /// The tag API answers 500 this many more times.
    failing_tag_lookups: Mutex<u32>,
    /// The source archive of every tag.
    archive: Vec<u8>,
    /// Release files by name.
    assets: Mutex<HashMap<String, Vec<u8>>>,
}

impl Forge {
    fn count(&self, what: impl Fn(&str) -> bool) -> usize {
        self.seen.lock().unwrap().iter().filter(|(p, _)| what(p)).count()
    }
}

async fn answer(State(f): State<Arc<Forge>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let path = uri.path().to_string();
    f.seen.lock().unwrap().push((format!("{method} {path}"), auth));
    if method == Method::POST && path.contains("/statuses/") {
        return (StatusCode::CREATED, "{}").into_response();
    }
    // GitHub `GET /api/v3/repos/o/r/commits/{tag}`; Gitea `GET /api/v1/repos/o/r/tags/{tag}`.
    if path.contains("/repos/") && (path.contains("/commits/") || path.contains("/tags/")) {
        let mut failing = f.failing_tag_lookups.lock().unwrap();
        if *failing > 0 {
            *failing -= 1;
            return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
        }
        let body = if path.contains("/tags/") {
            json!({"name": "tag", "commit": {"sha": SHA}})
        } else {
            json!({"sha": SHA})
        };
        return axum::Json(body).into_response();
    }
    if let Some((_, name)) = path.split_once("/releases/download/")
        && let Some(body) = name
            .rsplit('/')
            .next()
            .and_then(|n| f.assets.lock().unwrap().get(n).cloned())
    {
        return body.into_response();
    }
    if path.contains("/archive/") && path.ends_with(".zip") {
        return ([(header::CONTENT_TYPE, "application/zip")], f.archive.clone()).into_response();
    }
    (StatusCode::NOT_FOUND, "no").into_response()
}

/// Starts a loopback forge serving `archive`; it stops with the runtime of
/// the test (tokio drops its task at the end of the test).
async fn start(archive: Vec<u8>) -> (String, Arc<Forge>) {
    let state = Arc::new(Forge {
        archive,
        ..Forge::default()
    });
    let app = axum::Router::new().fallback(answer).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, state)
}

fn corpus_payload(rel: &str) -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/payloads")
        .join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).unwrap()),
        Err(_) => {
            assert!(std::env::var("CI").is_err(), "corpus missing under CI");
            eprintln!("skipping: {} is absent", path.display());
            None
        }
    }
}

/// A corpus release moved to the loopback forge at `url`, as `repo`
/// (`owner/name`), with `assets` attached.
fn release(rel: &str, url: &str, repo: &str, assets: Value) -> Option<Value> {
    let mut v = corpus_payload(rel)?;
    assert_eq!(v["release"]["assets"], json!([]), "corpus file changed shape");
    assert_eq!(
        v["release"]["target_commitish"], "master",
        "corpus file changed shape"
    );
    let (owner, name) = repo.split_once('/').unwrap();
    v["release"]["assets"] = assets;
    let r = &mut v["repository"];
    r["name"] = json!(name);
    r["full_name"] = json!(repo);
    r["html_url"] = json!(format!("{url}/{repo}"));
    r["owner"]["login"] = json!(owner);
    r["owner"]["username"] = json!(owner);
    Some(v)
}

/// An asset as GitHub and Gitea list it; its download URL names a host the
/// pipeline must never fetch.
fn asset(id: u64, name: &str, size: usize) -> Value {
    json!({"id": id, "name": name, "size": size, "uuid": format!("u-{id}"),
           "browser_download_url": format!("http://169.254.169.254/{name}")})
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

struct Pipeline {
    runtime: Runtime,
    hook: String,
    http: reqwest::Client,
}

async fn pipeline(forges: Value, dir: &std::path::Path) -> Pipeline {
    let mut options = RuntimeOptions::new("127.0.0.1:0".parse().unwrap(), dir);
    options.overrides.insert("TX_FORGES".into(), forges.to_string());
    let runtime = Runtime::start(options).await.unwrap();
    let hook = format!("{}/client/webhook", runtime.url());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Pipeline { runtime, hook, http }
}

impl Pipeline {
    /// Posts `body` signed as GitHub (`secret` "hub-secret") or Gitea ("tea-secret").
    async fn deliver(&self, github: bool, delivery: &str, body: &Value) -> (u16, Value) {
        let body = serde_json::to_vec(body).unwrap();
        let mut req = self
            .http
            .post(&self.hook)
            .header("content-type", "application/json");
        req = if github {
            req.header("X-GitHub-Event", "release")
                .header("X-GitHub-Delivery", delivery)
                .header(
                    "X-Hub-Signature-256",
                    format!("sha256={}", sign_hex(b"hub-secret", &body)),
                )
        } else {
            req.header("X-Gitea-Event", "release")
                .header("X-Gitea-Delivery", delivery)
                .header("X-Gitea-Signature", sign_hex(b"tea-secret", &body))
        };
        let resp = req.body(body).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The website's build log of `repo` at [`SHA`], once the deployer wrote it
    /// (it writes it last).
    async fn published(&self, repo: &str) -> BuildLog {
        let key = format!("u/{repo}/{}/build_log.json", commit10(SHA));
        for _ in 0..1200 {
            if let Some(bytes) = self.runtime.functions.website.get(&key).await.unwrap() {
                let log: BuildLog = serde_json::from_slice(&bytes).unwrap();
                if log.status.is_final() {
                    return log;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{repo}: no final build log on the website in 120 s");
    }

    /// The downloads the version page `tag/<tag>/` of `repo` offers, once it
    /// offers any: each link's text and the website's file its href (read
    /// relative to the page) leads to.
    async fn version_page_downloads(&self, repo: &str, tag: &str) -> Vec<(String, Option<Vec<u8>>)> {
        let dir = format!("u/{repo}/tag/{tag}/");
        let website = &self.runtime.functions.website;
        let links = |html: &str| -> Vec<(String, String)> {
            let doc = scraper::Html::parse_document(html);
            let sel = scraper::Selector::parse("ul.downloads a").unwrap();
            doc.select(&sel)
                .map(|a| {
                    (
                        a.text().collect(),
                        a.value().attr("href").unwrap_or_default().to_string(),
                    )
                })
                .collect()
        };
        for _ in 0..600 {
            let page = website.get(&format!("{dir}index.html")).await.unwrap();
            let found = page
                .map(|b| links(&String::from_utf8_lossy(&b)))
                .unwrap_or_default();
            if !found.is_empty() {
                let mut offered = Vec::new();
                for (name, href) in found {
                    let key = reqwest::Url::parse(&format!("http://site/{dir}"))
                        .and_then(|base| base.join(&href))
                        .map(|u| u.path().trim_start_matches('/').to_string())
                        .unwrap();
                    offered.push((name, website.get(&key).await.unwrap().map(|b| b.to_vec())));
                }
                return offered;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{repo}: tag/{tag}/ offers no downloads in 60 s");
    }

    async fn website(&self, repo: &str, file: &str) -> Option<Vec<u8>> {
        let key = format!("u/{repo}/{}/{file}", commit10(SHA));
        self.runtime
            .functions
            .website
            .get(&key)
            .await
            .unwrap()
            .map(|b| b.to_vec())
    }
}

fn registry(hub: &str, tea: &str) -> Value {
    json!([
        {"id": "hub", "kind": "github", "url": hub, "api_url": format!("{hub}/api/v3"),
         "token": "hub-token", "secret": "hub-secret"},
        {"id": "tea", "kind": "gitea", "url": tea, "token": "tea-token", "secret": "tea-secret"},
    ])
}

fn source_archive() -> Vec<u8> {
    example_repos()
        .unwrap()
        .into_iter()
        .find(|r| r.name == "en_ulb")
        .unwrap()
        .archive
}

fn log_text(log: &BuildLog) -> String {
    let v = serde_json::to_value(log).unwrap();
    format!("{} {}", v["log"], v["message"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_and_gitea_releases_build_their_tags_commit_and_publish_their_assets() {
    let archive = source_archive();
    let (hub, hub_forge) = start(archive.clone()).await;
    let (tea, tea_forge) = start(archive.clone()).await;
    let pdf = b"%PDF-1.4 release notes".to_vec();
    // A zip that is not a site bundle: a download, never the source.
    let not_a_site = zip(&[("data/words.txt", b"not a site")]);
    let xo = b"an activity bundle".to_vec();
    hub_forge.assets.lock().unwrap().extend([
        ("notes.pdf".to_string(), pdf.clone()),
        ("extras.zip".to_string(), not_a_site.clone()),
    ]);
    tea_forge
        .assets
        .lock()
        .unwrap()
        .insert("Hello-1.xo".into(), xo.clone());
    let Some(github) = release(
        "github/release.published.json",
        &hub,
        "Codertocat/Hello-World",
        json!([
            asset(1, "notes.pdf", pdf.len()),
            asset(2, "extras.zip", not_a_site.len())
        ]),
    ) else {
        return;
    };
    let Some(gitea) = release(
        "gitea/release.published.go-playground-capture.json",
        &tea,
        "example/example",
        json!([asset(3, "Hello-1.xo", xo.len())]),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(registry(&hub, &tea), dir.path()).await;

    let (status, answer) = p.deliver(true, "gh-1", &github).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        answer["identifier"],
        format!("Codertocat/Hello-World/{}", commit10(SHA))
    );
    let (status, answer) = p.deliver(false, "tea-1", &gitea).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["identifier"], format!("example/example/{}", commit10(SHA)));

    // One tag lookup each, on each forge's own API, with its own token.
    let lookups = |f: &Forge, path: &str| {
        f.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, a)| a.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lookups(
            &hub_forge,
            "GET /api/v3/repos/Codertocat/Hello-World/commits/0.0.1"
        ),
        vec![Some("Bearer hub-token".to_string())]
    );
    assert_eq!(
        lookups(&tea_forge, "GET /api/v1/repos/example/example/tags/example"),
        vec![Some("token tea-token".to_string())]
    );

    for (repo, tag, files) in [
        (
            "Codertocat/Hello-World",
            "0.0.1",
            vec![("notes.pdf", &pdf), ("extras.zip", &not_a_site)],
        ),
        ("example/example", "example", vec![("Hello-1.xo", &xo)]),
    ] {
        let log = p.published(repo).await;
        assert_eq!(log.status, DisplayStatus::Success, "{repo}: {}", log_text(&log));
        assert_eq!(log.commit_id, SHA);
        assert!(
            log_text(&log).contains("Detected bible"),
            "{repo}: the tag's source is converted"
        );
        let downloads: Downloads =
            serde_json::from_slice(&p.website(repo, "downloads.json").await.expect("downloads.json"))
                .unwrap();
        assert_eq!(downloads.prebuilt, None);
        assert_eq!(downloads.files.len(), files.len());
        for &(name, body) in &files {
            assert_eq!(
                p.website(repo, &format!("downloads/{name}")).await.as_ref(),
                Some(body),
                "{repo}: {name} is published byte for byte"
            );
            assert!(
                downloads
                    .files
                    .iter()
                    .any(|d| d.name == name && d.size == body.len() as u64)
            );
        }
        let offered = p.version_page_downloads(repo, tag).await;
        let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        assert_eq!(offered.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), names);
        for ((_, body), (name, bytes)) in files.iter().zip(&offered) {
            assert_eq!(bytes.as_ref(), Some(*body), "{repo}: tag/{tag}/ offers {name}");
        }
    }
    // The source came from the tag's archive; nothing was fetched from a payload's URL.
    assert_eq!(
        hub_forge.count(|p| p == "GET /Codertocat/Hello-World/archive/0.0.1.zip"),
        1
    );
    assert_eq!(
        tea_forge.count(|p| p == "GET /example/example/archive/example.zip"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prebuilt_site_bundle_is_published_without_conversion() {
    let (hub, hub_forge) = start(source_archive()).await;
    let (tea, _) = start(Vec::new()).await;
    let index = b"<!doctype html><title>Prebuilt</title><h1>Built elsewhere</h1>".to_vec();
    let site = zip(&[
        ("site/index.html", &index[..]),
        ("site/css/site.css", b"h1{color:teal}"),
    ]);
    hub_forge
        .assets
        .lock()
        .unwrap()
        .insert("site.zip".into(), site.clone());
    let Some(github) = release(
        "github/release.published.json",
        &hub,
        "Codertocat/Hello-Site",
        json!([asset(9, "site.zip", site.len())]),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(registry(&hub, &tea), dir.path()).await;
    let (status, answer) = p.deliver(true, "gh-site", &github).await;
    assert_eq!(status, 202, "{answer}");

    let repo = "Codertocat/Hello-Site";
    let log = p.published(repo).await;
    assert_eq!(log.status, DisplayStatus::Success, "{}", log_text(&log));
    let text = log_text(&log);
    assert!(
        text.to_lowercase()
            .contains("published the prebuilt site bundle site.zip without conversion"),
        "{text}"
    );
    assert!(!text.contains("Detected"), "nothing was converted: {text}");
    assert_eq!(
        p.website(repo, "index.html").await,
        Some(index),
        "index.html byte for byte"
    );
    assert_eq!(
        p.website(repo, "css/site.css").await.as_deref(),
        Some(&b"h1{color:teal}"[..])
    );
    assert_eq!(p.website(repo, "downloads/site.zip").await, Some(site));
    let downloads: Downloads =
        serde_json::from_slice(&p.website(repo, "downloads.json").await.unwrap()).unwrap();
    assert_eq!(downloads.prebuilt.as_deref(), Some("site.zip"));
    assert_eq!(
        hub_forge.count(|p| p.contains("/archive/")),
        0,
        "the source was not fetched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_without_assets_builds_its_tags_source_once_the_forge_answers() {
    let (hub, _) = start(Vec::new()).await;
    let (tea, tea_forge) = start(source_archive()).await;
    let Some(gitea) = release(
        "gitea/release.published.go-playground-capture.json",
        &tea,
        "example/plain",
        json!([]),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(registry(&hub, &tea), dir.path()).await;

    // The forge's API is down: a clear 502, and nothing is built.
    *tea_forge.failing_tag_lookups.lock().unwrap() = 1;
    let (status, answer) = p.deliver(false, "tea-plain", &gitea).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (502, Some("forge_api_failed")),
        "{answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("tag example"),
        "{answer}"
    );
    assert_eq!(tea_forge.count(|p| p.contains("/archive/")), 0);

    // The forge redelivers once its API answers.
    let (status, answer) = p.deliver(false, "tea-plain", &gitea).await;
    assert_eq!(status, 202, "{answer}");
    let repo = "example/plain";
    let log = p.published(repo).await;
    assert_eq!(log.status, DisplayStatus::Success, "{}", log_text(&log));
    assert!(log_text(&log).contains("Detected bible"));
    assert!(p.website(repo, "downloads.json").await.is_none());
    assert_eq!(
        tea_forge.count(|p| p == "GET /example/plain/archive/example.zip"),
        1
    );
}
