//! A real browser on a rendered site: Debian's chromium driven through
//! chromedriver (W3C WebDriver over loopback HTTP), the site served by a
//! plain static file server on 127.0.0.1 the way an S3 website serves it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The first of `names` found on `PATH`.
pub fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Serves `root` like a static website host: `dir/` → `dir/index.html`.
/// Every page carries `csp` as its Content-Security-Policy, as the site's
/// host sends it, so the browser tests read the pages under the policy.
pub async fn serve(root: PathBuf, csp: &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let root = root.clone();
        async move { serve_file(&root, &uri, csp).await }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn serve_file(root: &Path, uri: &Uri, csp: &'static str) -> Response {
    let path = percent_encoding::percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .into_owned();
    let mut key = path.trim_start_matches('/').to_string();
    if key.is_empty() || key.ends_with('/') {
        key.push_str("index.html");
    }
    if tx_shared::ports::object_store::validate_key(&key).is_err() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match tokio::fs::read(root.join(&key)).await {
        Ok(body) => {
            let ct = tx_shared::ports::object_store::content_type_for(&key);
            let mut resp = body.into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            resp.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
            resp
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A chromedriver session on a headless chromium, stopped when dropped.
pub struct Driver {
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
    /// Starts chromedriver on a free loopback port and opens a session.
    pub async fn start(chromium: &Path, chromedriver: &Path) -> Driver {
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

    /// One WebDriver command; a WebDriver error fails the test.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
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

    /// A command of this session.
    pub async fn s(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.s("POST", "/url", Some(json!({ "url": url }))).await;
    }

    /// The current address.
    pub async fn url(&self) -> String {
        self.s("GET", "/url", None).await.as_str().unwrap().to_string()
    }

    /// Runs `script` in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.s(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
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
    pub async fn wait_for(&self, expr: &str, secs: u64) {
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

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) {
        let b64 = self.s("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Ends the session.
    pub async fn quit(&self) {
        self.s("DELETE", "", None).await;
    }
}

/// chromium and chromedriver, if installed: `None` (with a message) when
/// they are not, unless `CI=true`, where their absence is a failure.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
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
