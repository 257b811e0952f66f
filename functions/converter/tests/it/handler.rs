//! The Lambda handler body against real local buckets (directory buckets
//! from tx-shared) and a real HTTP server on localhost.

use std::io::Write;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tx_converter::{ConverterDeps, Limits, handle};
use tx_shared::domain::convert::ConvertRequest;
use tx_shared::local::DirBucket;
use tx_shared::ports::ObjectStore;

fn zip_bytes(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const PHP: &str = "\\id PHP\n\\h Philippians\n\\c 1\n\\p\n\\v 1 Paul and Timothy.\n\\v 2 Grace.\n";

fn request(source: &str, key: &str) -> ConvertRequest {
    ConvertRequest {
        job_id: "j1".into(),
        identifier: "o/en_ulb/0123456789".into(),
        repo_name: "en_ulb".into(),
        resource_type: "unknown".into(),
        input_format: "unknown".into(),
        output_format: "html".into(),
        source: source.into(),
        output_key: key.into(),
        assets: Vec::new(),
    }
}

fn deps(dir: &std::path::Path) -> (ConverterDeps, Arc<DirBucket>, Arc<DirBucket>) {
    let cdn = Arc::new(DirBucket::open("cdn", dir.join("cdn")).unwrap());
    let pre = Arc::new(DirBucket::open("pre", dir.join("pre")).unwrap());
    let d = ConverterDeps {
        cdn: cdn.clone(),
        preconvert: pre.clone(),
        http: reqwest::Client::new(),
        limits: Limits::default(),
    };
    (d, cdn, pre)
}

#[tokio::test]
async fn s3_source_is_converted_and_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, cdn, pre) = deps(dir.path());
    let zip = zip_bytes(&[("en_ulb/51-PHP.usfm", PHP), ("en_ulb/LICENSE.md", "x")]);
    pre.put("uploads/a.zip", zip.into(), "application/zip")
        .await
        .unwrap();
    let r = handle(request("s3://pre/uploads/a.zip", "tx/job/j1.zip"), &deps).await;
    assert!(r.success, "{r:?}");
    assert_eq!(r.output.as_deref(), Some("tx/job/j1.zip"));
    assert_eq!(r.resource_type.as_deref(), Some("bible"));
    assert_eq!(r.input_format.as_deref(), Some("usfm"));
    assert!(
        r.log
            .iter()
            .any(|l| l.contains("51-PHP.usfm") && l.contains("51-PHP.html")),
        "{:?}",
        r.log
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("missing chapters of PHP")),
        "{:?}",
        r.warnings
    );
    let out = cdn.get("tx/job/j1.zip").await.unwrap().expect("zip uploaded");
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(out.to_vec())).unwrap();
    for name in ["51-PHP.html", "index.json", "manifest.json", "manifest.yaml"] {
        assert!(z.by_name(name).is_ok(), "{name} missing");
    }
}

#[tokio::test]
async fn failures_are_clear_results_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, _cdn, pre) = deps(dir.path());
    let r = handle(request("s3://other/x.zip", "tx/job/j1.zip"), &deps).await;
    assert!(
        !r.success && r.errors[0].contains("not the preconvert bucket"),
        "{r:?}"
    );
    let r = handle(request("s3://pre/missing.zip", "tx/job/j1.zip"), &deps).await;
    assert!(!r.success && r.errors[0].contains("no such object"), "{r:?}");
    let r = handle(request("ftp://x/y.zip", "tx/job/j1.zip"), &deps).await;
    assert!(!r.success && r.errors[0].contains("not an http(s)"), "{r:?}");
    pre.put("bad.zip", b"not a zip".to_vec().into(), "application/zip")
        .await
        .unwrap();
    let r = handle(request("s3://pre/bad.zip", "tx/job/j1.zip"), &deps).await;
    assert!(!r.success && r.errors[0].contains("bad archive"), "{r:?}");
    let unknown = zip_bytes(&[(
        "r/manifest.json",
        r#"{"package_version":7,"project":{"id":"unk"},"resource":{"id":"zzz"}}"#,
    )]);
    pre.put("u.zip", unknown.into(), "application/zip").await.unwrap();
    let r = handle(request("s3://pre/u.zip", "tx/job/j1.zip"), &deps).await;
    assert!(
        !r.success && r.errors[0].contains("unsupported resource type \"zzz\""),
        "{r:?}"
    );
    let r = handle(request("s3://pre/u.zip", "../escape.zip"), &deps).await;
    assert!(!r.success && r.errors[0].contains("invalid object key"), "{r:?}");
}

/// Build logs are public: what went wrong is said without the server's
/// temporary paths.
#[tokio::test]
async fn failure_messages_name_no_server_path() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, _cdn, pre) = deps(dir.path());
    let tmp = std::env::temp_dir().display().to_string();
    for (key, body) in [
        ("bad.zip", b"not a zip".to_vec()),
        ("empty.zip", zip_bytes(&[])),
        (
            "u.zip",
            zip_bytes(&[(
                "r/manifest.json",
                r#"{"package_version":7,"resource":{"id":"zzz"}}"#,
            )]),
        ),
    ] {
        pre.put(key, body.into(), "application/zip").await.unwrap();
        let r = handle(request(&format!("s3://pre/{key}"), "tx/job/j1.zip"), &deps).await;
        assert!(!r.success, "{key}: {r:?}");
        for line in r.errors.iter().chain(&r.log).chain(&r.warnings) {
            assert!(!line.contains(&tmp) && !line.contains(".tmp"), "{key}: {line}");
        }
    }
}

/// Serves `body` once per connection with the given status line.
async fn serve(status: &'static str, body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}/archive/master.zip")
}

#[tokio::test]
async fn http_sources_are_downloaded_within_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (mut deps, cdn, _pre) = deps(dir.path());
    let url = serve("200 OK", zip_bytes(&[("en_ulb/51-PHP.usfm", PHP)])).await;
    let r = handle(request(&url, "tx/job/j2.zip"), &deps).await;
    assert!(r.success, "{r:?}");
    assert!(cdn.get("tx/job/j2.zip").await.unwrap().is_some());

    let url404 = serve("404 Not Found", b"nope".to_vec()).await;
    let r = handle(request(&url404, "tx/job/j3.zip"), &deps).await;
    assert!(!r.success && r.errors[0].contains("HTTP 404"), "{r:?}");

    deps.limits = Limits {
        max_archive_bytes: 10,
        ..Limits::default()
    };
    let r = handle(request(&url, "tx/job/j4.zip"), &deps).await;
    assert!(!r.success && r.errors[0].contains("limit"), "{r:?}");
}

/// A forge that answers, then sends a byte every 300 ms (each well within
/// the client's idle timeout), for at most 30 s.
async fn serve_trickle() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut buf = vec![0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\nconnection: close\r\n\r\n";
        if sock.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for _ in 0..100 {
            if sock.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    });
    format!("http://{addr}/archive/master.zip")
}

#[tokio::test]
async fn a_trickling_forge_fails_the_build_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, cdn, _pre) = deps(dir.path());
    let url = serve_trickle().await;
    let started = std::time::Instant::now();
    let r = handle(request(&url, "tx/job/slow.zip"), &deps).await;
    let took = started.elapsed();
    assert!(!r.success, "{r:?}");
    assert!(r.errors[0].contains("download given up"), "{r:?}");
    assert!(took < std::time::Duration::from_secs(8), "gave up after {took:?}");
    assert!(cdn.get("tx/job/slow.zip").await.unwrap().is_none());
}
