//! The sample events under `events/` (what `cargo lambda invoke --data-file`
//! sends) go through `handle_http` exactly as API Gateway delivers them.

mod common;

use std::io::Write;

use bytes::Bytes;
use common::{Harness, answer, registry};
use tx_shared::ports::{ManifestTable, ObjectStore};
use tx_webhook_client::handle_http;

/// The secret the samples are signed with (events/README.md).
const SAMPLE_SECRET: &str = "events-sample-secret";

fn sample(name: &str) -> lambda_http::Request {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The samples name real forge hosts, configured here without tokens: the
/// forge client then makes no request, so the tests stay on loopback.
async fn harness() -> Harness {
    Harness::with_registry(None, &[("TX_CALLBACK_SECRET", SAMPLE_SECRET)], |_| {
        registry(serde_json::json!([
            {"id": "door43", "kind": "gitea", "url": "https://git.door43.org", "secret": SAMPLE_SECRET},
            {"id": "lab", "kind": "gitlab", "url": "https://gitlab.example.org", "secret": SAMPLE_SECRET},
        ]))
    })
    .await
}

#[tokio::test]
async fn gitea_push_sample_requests_a_job() {
    let mut h = harness().await;
    // The fake manager checks signatures with the test callback secret.
    h.sign_jobs_with(common::CALLBACK_SECRET);
    let (status, json) = answer(
        handle_http(sample("webhook-client.apigw-push.json"), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 202, "{json}");
    assert_eq!(json["identifier"], "demo/en_ulb/4f2a9c1d8e");
    let requests = h.manager.requests.lock().unwrap().clone();
    assert_eq!(
        requests[0].0.delivery_id.as_deref(),
        Some("6f1c7d7e-1f0e-4b8e-9d77-2a1de3c0a001")
    );
    assert_eq!(
        requests[0].0.source,
        "https://git.door43.org/demo/en_ulb/archive/4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39.zip"
    );
}

#[tokio::test]
async fn gitlab_push_sample_requests_a_job() {
    let mut h = harness().await;
    h.sign_jobs_with(common::CALLBACK_SECRET);
    let (status, json) = answer(
        handle_http(sample("webhook-gitlab-push.json"), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 202, "{json}");
    assert_eq!(json["site_url"], "http://site.test/u/demo/en_obs/9b1c2d3e4f/");
    let requests = h.manager.requests.lock().unwrap().clone();
    let (request, _) = &requests[0];
    assert_eq!(
        request.delivery_id.as_deref(),
        Some("8e7d6c5b-4a39-4f2a-9c1d-0a9f8e7d6c5b")
    );
    assert!(request.callback.as_deref().unwrap().ends_with("/client/callback"));
    assert_eq!(
        request.source,
        "https://gitlab.example.org/demo/en_obs/-/archive/9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c/en_obs-9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c.zip"
    );
}

#[tokio::test]
async fn finished_callback_sample_publishes_its_output() {
    let h = harness().await;
    let manifest = serde_json::json!({
        "source_format": "rc0.2",
        "language": {"id": "en", "name": "English", "direction": "ltr"},
        "resource_id": "ulb",
        "resource_type": "bible",
        "title": "Unlocked Literal Bible",
        "projects": [{"identifier": "3jn", "title": "3 John", "sort": 64, "path": "./64-3JN.usfm"}]
    });
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default();
        for (name, data) in [
            ("manifest.json", serde_json::to_vec(&manifest).unwrap()),
            ("index.json", b"{}".to_vec()),
            ("64-3JN.html", b"<h1>3 John</h1>".to_vec()),
        ] {
            zip.start_file(name, options).unwrap();
            zip.write_all(&data).unwrap();
        }
        zip.finish().unwrap();
    }
    let key = "tx/job/01JT8Z6X3W5V4R2Q9P7N6M5K4J.zip";
    h.backend
        .cdn
        .put(key, Bytes::from(cursor.into_inner()), "application/zip")
        .await
        .unwrap();
    let (status, json) = answer(
        handle_http(sample("callback-finished.json"), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["status"], "warnings");
    assert_eq!(json["files"], 3);
    assert!(
        h.backend
            .cdn
            .get("u/demo/en_ulb/4f2a9c1d8e/64-3JN.html")
            .await
            .unwrap()
            .is_some()
    );
    let row = h
        .backend
        .manifests
        .get("demo/en_ulb")
        .await
        .unwrap()
        .expect("row");
    assert_eq!(
        (row.language_id.as_str(), row.last_status.as_str()),
        ("en", "warnings")
    );
}
