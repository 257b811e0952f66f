//! A real browser on the rendered site: Debian's chromium driven through
//! chromedriver (W3C WebDriver over loopback HTTP), the site served by a
//! plain static file server on 127.0.0.1 the way an S3 website serves it.
//!
//! Skipped with a message when chromium or chromedriver is not installed,
//! unless `CI=true`, where their absence is a failure.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use common::*;
use serde_json::{Value, json};
use tx_deployer::deploy_build;
use tx_shared::domain::job::JobResult;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Serves `root` like a static website host: `dir/` → `dir/index.html`.
async fn serve(root: PathBuf) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let root = root.clone();
        async move { serve_file(&root, &uri).await }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn serve_file(root: &Path, uri: &Uri) -> Response {
    let path = percent_encoding::percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .into_owned();
    let mut key = path.trim_start_matches('/').to_string();
    if key.is_empty() || key.ends_with('/') {
        key.push_str("index.html");
    }
    if !tx_deployer::keys::is_safe_relative(&key) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match tokio::fs::read(root.join(&key)).await {
        Ok(body) => {
            let ct = tx_shared::ports::object_store::content_type_for(&key);
            let mut resp = body.into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            resp
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(chromium: &Path, chromedriver: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http,
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = driver.http.get(format!("{}/status", driver.base)).send().await;
            if let Ok(r) = ready
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not get ready in 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", driver._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args}
        }}});
        let v = driver.call("POST", "/session", Some(caps)).await;
        driver.session = v["sessionId"].as_str().expect("a session id").to_string();
        driver
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let resp: Value = req
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .unwrap();
        if resp["value"].get("error").is_some() {
            panic!("webdriver {method} {path}: {}", resp["value"]);
        }
        resp["value"].clone()
    }

    async fn s(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    async fn goto(&self, url: &str) {
        self.s("POST", "/url", Some(json!({ "url": url }))).await;
    }

    async fn url(&self) -> String {
        self.s("GET", "/url", None).await.as_str().unwrap().to_string()
    }

    async fn js(&self, script: &str) -> Value {
        self.s(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    async fn click(&self, css: &str) {
        let el = self
            .s(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        let id = el[ELEMENT].as_str().expect("an element").to_string();
        self.s("POST", &format!("/element/{id}/click"), None).await;
    }

    /// Waits (at most `secs`) until the JS expression is true.
    async fn wait_for(&self, expr: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if self.js(&format!("return !!({expr});")).await == true {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {secs} s waiting for {expr}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn screenshot(&self, path: &Path) {
        let b64 = self.s("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    async fn quit(&self) {
        self.s("DELETE", "", None).await;
    }
}

fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_binary(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = find_binary(&["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but chromium or chromedriver is not installed")
        }
        _ => {
            eprintln!("SKIPPED: chromium and chromedriver are needed for the browser test");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_follows_a_build_and_then_reads_it() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let f = Fixture::new();
    let addr = serve(f.website_root()).await;
    let site = format!("http://{addr}");

    // A push: the build is requested, the placeholder is published.
    let j = job("door43", "en_ulb", "1111111111aaaa", 0);
    f.save_job(&j).await;
    f.write_log(&j).await;
    deploy_build(&j.site_prefix(), &f.deps).await.unwrap();

    let d = Driver::start(&chromium, &chromedriver).await;
    let build_url = format!("{site}/u/door43/en_ulb/1111111111/");
    d.goto(&build_url).await;
    d.wait_for("document.querySelector('[data-follow-log]')", 10)
        .await;
    let status = d
        .js("return document.querySelector('[data-status-label]').textContent")
        .await;
    assert_eq!(status, "Waiting to build");
    d.screenshot(Path::new("/tmp/tx-deployer-placeholder.png")).await;

    // The build finishes; the deployer publishes it; the open page reloads by itself.
    let done = finished(j, JobResult::Warnings);
    f.finished(&done, &bible("en", "English", "ltr")).await;
    deploy_build(&done.site_prefix(), &f.deps).await.unwrap();
    d.wait_for("document.querySelector('.toc-page')", 40).await;
    assert_eq!(d.url().await, build_url, "same address, now the finished build");
    let toc_text = d.js("return document.querySelector('main').innerText").await;
    assert!(toc_text.as_str().unwrap().contains("Start reading"), "{toc_text}");
    d.screenshot(Path::new("/tmp/tx-deployer-toc.png")).await;
    let banner = d
        .js("return document.querySelector('.build-banner').innerText")
        .await;
    assert!(banner.as_str().unwrap().contains("1 warning"), "{banner}");

    // Start reading: the first book, its text in the main area.
    d.click("a.button").await;
    d.wait_for("location.pathname.endsWith('/01-GEN.html')", 10).await;
    let main = d
        .js("return document.querySelector('main .scripture').innerText")
        .await;
    assert!(main.as_str().unwrap().contains("In the beginning God created"));
    assert_eq!(d.js("return document.documentElement.lang").await, "en");
    let css_ok = d
        .js("return getComputedStyle(document.querySelector('.sidebar')).position")
        .await;
    assert_eq!(css_ok, "sticky", "the stylesheet is served and applied");
    d.screenshot(Path::new("/tmp/tx-deployer-bible.png")).await;

    // The sidebar leads to the next book.
    d.click("#sidebar a[href='02-EXO.html']").await;
    d.wait_for("location.pathname.endsWith('/02-EXO.html')", 10).await;
    assert_eq!(
        d.js("return document.querySelector('main h1').textContent").await,
        "Exodus"
    );

    // A chapter link goes to the chapter's anchor and shows it.
    d.click(".sections a[href='#ch-2']").await;
    d.wait_for("location.hash === '#ch-2'", 10).await;
    d.wait_for(
        "(function(){var r=document.getElementById('ch-2').getBoundingClientRect();return r.top>=0&&r.top<innerHeight/2})()",
        5,
    )
    .await;

    // A link inside the converted text reaches another page's anchor.
    d.click("main .scripture a[href='01-GEN.html#ch-2']").await;
    d.wait_for(
        "location.pathname.endsWith('/01-GEN.html') && location.hash === '#ch-2'",
        10,
    )
    .await;

    // The repository's address goes on to the latest build; #builds shows the list.
    d.goto(&format!("{site}/u/door43/en_ulb/")).await;
    d.wait_for("location.pathname.endsWith('/1111111111/index.html')", 10)
        .await;
    d.goto(&format!("{site}/u/door43/en_ulb/index.html#builds")).await;
    d.wait_for("document.querySelector('table.builds')", 10).await;
    d.screenshot(Path::new("/tmp/tx-deployer-landing.png")).await;
    let rows = d
        .js("return document.querySelectorAll('table.builds tbody tr').length")
        .await;
    assert_eq!(rows, 1);

    // The site's front page lists the project under its language.
    d.goto(&format!("{site}/")).await;
    d.wait_for("document.querySelector('.site-index')", 10).await;
    d.screenshot(Path::new("/tmp/tx-deployer-site.png")).await;
    let front = d.js("return document.querySelector('main').innerText").await;
    assert!(front.as_str().unwrap().contains("English"));
    d.click(".card__title").await;
    d.wait_for("location.pathname.endsWith('/1111111111/index.html')", 10)
        .await;

    // Narrow screens: the sidebar hides behind the Contents button.
    d.s("POST", "/window/rect", Some(json!({"width": 420, "height": 860})))
        .await;
    d.goto(&format!("{build_url}02-EXO.html")).await;
    d.wait_for("document.querySelector('.nav-toggle')", 10).await;
    assert_eq!(
        d.js("return getComputedStyle(document.getElementById('sidebar')).display")
            .await,
        "none"
    );
    d.click(".nav-toggle").await;
    assert_eq!(
        d.js("return getComputedStyle(document.getElementById('sidebar')).display")
            .await,
        "block"
    );
    d.screenshot(Path::new("/tmp/tx-deployer-mobile.png")).await;
    d.quit().await;
}
