//! `POST /client/callback`: a finished job's real output zip is published,
//! the manifest row upserted, the forge told, and `build_log.json` written
//! last (checked through the local bucket's notification log).

mod common;

use std::io::Write;

use bytes::Bytes;
use common::{CALLBACK_SECRET, Harness, answer, callback, job_for};
use tx_shared::domain::job::{CommitInfo, Job, JobResult, JobStatus};
use tx_shared::domain::job_request::JobRequest;
use tx_shared::domain::manifest::{Language, NormalizedManifest, Project, ResourceType};
use tx_shared::ports::{ManifestTable, ObjectStore};
use tx_webhook_client::handle_http;

const SHA: &str = "ed87f2c2fc87d289a848d0de8af4aab8317ea3b5";
const PREFIX: &str = "u/Door43-Catalog/ne-ulb/ed87f2c2fc/";

fn manifest() -> NormalizedManifest {
    NormalizedManifest {
        source_format: "rc0.2".into(),
        language: Language {
            id: "ne".into(),
            name: "नेपाली".into(),
            direction: "ltr".into(),
        },
        resource_id: "ulb".into(),
        resource_type: ResourceType::Bible,
        title: "Unlocked Literal Bible - Nepali".into(),
        projects: vec![Project {
            identifier: "gen".into(),
            title: "Genesis".into(),
            sort: 1,
            path: "./01-GEN.usfm".into(),
        }],
    }
}

/// A converter output zip with the given entries.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default();
        for (name, data) in entries {
            if name.ends_with('/') {
                zip.add_directory(*name, options).unwrap();
            } else {
                zip.start_file(*name, options).unwrap();
                zip.write_all(data).unwrap();
            }
        }
        zip.finish().unwrap();
    }
    cursor.into_inner()
}

fn finished_job(h: &Harness, result: JobResult, output: Option<&str>) -> Job {
    let request = JobRequest {
        repo_owner: "Door43-Catalog".parse().unwrap(),
        repo_name: "ne-ulb".parse().unwrap(),
        repo_url: Some(format!("{}/Door43-Catalog/ne-ulb", h.forge_url)),
        git_ref: "refs/heads/master".parse().unwrap(),
        commit: CommitInfo {
            commit_id: SHA.into(),
            committed_by: Some("phillip-hopper".into()),
            ..Default::default()
        },
        delivery_id: Some("d-1".into()),
        resource_type: None,
        input_format: None,
        output_format: Some("html".into()),
        source: format!("{}/Door43-Catalog/ne-ulb/archive/{SHA}.zip", h.forge_url),
        callback: Some("http://api.test/client/callback?forge=gitea".into()),
        default_branch: None,
        assets: Vec::new(),
    };
    let mut job = job_for(&request, "job-7");
    job.status = JobStatus::Finished;
    job.result = Some(result);
    job.started_at = Some(job.created_at);
    job.ended_at = Some(job.created_at + chrono::Duration::seconds(30));
    job.log = vec!["converted 01-GEN.usfm".into()];
    if result == JobResult::Failed {
        job.errors = vec!["01-GEN.usfm: no \\id marker".into()];
        job.message = Some("nothing could be converted".into());
    }
    job.output = output.map(str::to_string);
    job
}

async fn put_zip(h: &Harness, key: &str, zip: Vec<u8>) {
    h.backend
        .cdn
        .put(key, Bytes::from(zip), "application/zip")
        .await
        .unwrap();
}

fn good_zip() -> Vec<u8> {
    let manifest = serde_json::to_vec(&manifest()).unwrap();
    zip_of(&[
        ("manifest.json", &manifest),
        ("manifest.yaml", b"dublin_core: {}\n"),
        ("index.json", br#"{"pages":[]}"#),
        ("01-GEN.html", b"<h1>Genesis</h1>"),
        ("css/", b""),
        ("css/site.css", b"body{}"),
        ("build_log.json", b"{\"status\":\"success\"}"),
    ])
}

#[tokio::test]
async fn published_output_is_unpacked_and_build_log_written_last() {
    let h = Harness::new(None, &[]).await;
    put_zip(&h, "tx/job/job-7.zip", good_zip()).await;
    let job = finished_job(&h, JobResult::Success, Some("tx/job/job-7.zip"));
    let (status, json) = answer(
        handle_http(callback(&job, CALLBACK_SECRET, "?forge=gitea"), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["status"], "success");
    assert_eq!(json["files"], 5);
    assert_eq!(json["site_url"], format!("http://site.test/{PREFIX}"));

    // Every page is in the build's folder, the zip's own build log is not.
    let keys: Vec<String> = h
        .cdn_keys()
        .await
        .into_iter()
        .filter(|k| k.starts_with(PREFIX))
        .collect();
    let expected: Vec<String> = [
        "01-GEN.html",
        "build_log.json",
        "css/site.css",
        "index.json",
        "manifest.json",
        "manifest.yaml",
    ]
    .iter()
    .map(|f| format!("{PREFIX}{f}"))
    .collect();
    assert_eq!(keys, expected);
    assert_eq!(
        &h.backend
            .cdn
            .get(&format!("{PREFIX}01-GEN.html"))
            .await
            .unwrap()
            .unwrap()[..],
        b"<h1>Genesis</h1>"
    );
    let log = h.build_log(PREFIX).await.unwrap();
    assert_eq!(log["status"], "success");
    assert_eq!(log["success"], true);
    assert_eq!(log["job_id"], "job-7");

    // Ordering: the build log is the last put and found every page in place;
    // it is the only key that fired a notification.
    let puts = h.store.puts.lock().unwrap().clone();
    assert_eq!(
        puts.last().map(String::as_str),
        Some(format!("{PREFIX}build_log.json").as_str())
    );
    assert_eq!(puts.iter().filter(|k| k.ends_with("build_log.json")).count(), 1);
    assert_eq!(*h.store.pages_before_build_log.lock().unwrap(), vec![5]);
    assert_eq!(h.notified_keys(), vec![format!("{PREFIX}build_log.json")]);

    // The manifest row is the zip's manifest plus the build.
    let row = h
        .backend
        .manifests
        .get("Door43-Catalog/ne-ulb")
        .await
        .unwrap()
        .expect("row");
    assert_eq!(
        (row.language_id.as_str(), row.resource_id.as_str()),
        ("ne", "ulb")
    );
    assert_eq!(row.resource_type, ResourceType::Bible);
    assert_eq!(row.title, "Unlocked Literal Bible - Nepali");
    assert_eq!(
        (
            row.last_job_id.as_str(),
            row.last_commit_id.as_str(),
            row.last_status.as_str()
        ),
        ("job-7", SHA, "success")
    );
    assert_eq!(row.manifest, manifest());

    // The forge shows success, linking the site.
    let calls = h.forge.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].path,
        format!("/api/v1/repos/Door43-Catalog/ne-ulb/statuses/{SHA}")
    );
    assert_eq!(calls[0].body["state"], "success");
    assert_eq!(calls[0].body["target_url"], format!("http://site.test/{PREFIX}"));
}

#[tokio::test]
async fn redelivered_callback_rewrites_the_same_files() {
    let h = Harness::new(None, &[]).await;
    put_zip(&h, "tx/job/job-7.zip", good_zip()).await;
    let job = finished_job(&h, JobResult::Warnings, Some("tx/job/job-7.zip"));
    for _ in 0..2 {
        let (status, json) = answer(
            handle_http(callback(&job, CALLBACK_SECRET, "?forge=gitea"), &h.deps)
                .await
                .unwrap(),
        );
        assert_eq!(
            (status, json["status"].as_str()),
            (200, Some("warnings")),
            "{json}"
        );
    }
    assert_eq!(
        h.cdn_keys()
            .await
            .iter()
            .filter(|k| k.starts_with(PREFIX))
            .count(),
        6
    );
    assert_eq!(h.notified_keys().len(), 2);
    assert_eq!(h.backend.manifests.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn failed_job_is_not_unpacked_and_reported_as_failed() {
    let h = Harness::new(None, &[]).await;
    put_zip(&h, "tx/job/job-7.zip", good_zip()).await;
    let job = finished_job(&h, JobResult::Failed, Some("tx/job/job-7.zip"));
    let (status, json) = answer(
        handle_http(callback(&job, CALLBACK_SECRET, "?forge=gitea"), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, json["status"].as_str(), json["files"].as_u64()),
        (200, Some("failed"), Some(0))
    );
    let keys: Vec<String> = h
        .cdn_keys()
        .await
        .into_iter()
        .filter(|k| k.starts_with(PREFIX))
        .collect();
    assert_eq!(keys, vec![format!("{PREFIX}build_log.json")]);
    let log = h.build_log(PREFIX).await.unwrap();
    assert_eq!(log["status"], "failed");
    assert_eq!(log["success"], false);
    assert_eq!(log["errors"][0], "01-GEN.usfm: no \\id marker");
    assert!(
        h.backend
            .manifests
            .get("Door43-Catalog/ne-ulb")
            .await
            .unwrap()
            .is_none()
    );
    let calls = h.forge.calls.lock().unwrap().clone();
    assert_eq!(calls[0].body["state"], "failure");
    assert_eq!(
        calls[0].body["target_url"],
        format!("http://cdn.test/{PREFIX}build_log.json")
    );
    assert_eq!(calls[0].body["description"], "nothing could be converted");
}

#[tokio::test]
async fn escaping_entries_fail_the_build_and_write_nothing_outside() {
    let h = Harness::new(None, &[]).await;
    put_zip(
        &h,
        "tx/job/job-7.zip",
        zip_of(&[("index.html", b"ok"), ("../../../evil.html", b"x")]),
    )
    .await;
    let job = finished_job(&h, JobResult::Success, Some("tx/job/job-7.zip"));
    let (status, json) = answer(
        handle_http(callback(&job, CALLBACK_SECRET, "?forge=gitea"), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!((status, json["status"].as_str()), (200, Some("failed")), "{json}");
    let log = h.build_log(PREFIX).await.unwrap();
    assert!(
        log["message"].as_str().unwrap().contains("goes up with '..'"),
        "{log}"
    );
    let keys = h.cdn_keys().await;
    assert!(
        keys.iter()
            .all(|k| k == "tx/job/job-7.zip" || k.starts_with(PREFIX)),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|k| k.contains("evil")), "{keys:?}");
}

#[tokio::test]
async fn missing_output_zip_fails_the_build() {
    let h = Harness::new(None, &[]).await;
    let job = finished_job(&h, JobResult::Success, Some("tx/job/job-7.zip"));
    let (status, json) = answer(
        handle_http(callback(&job, CALLBACK_SECRET, ""), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!((status, json["status"].as_str()), (200, Some("failed")), "{json}");
    let log = h.build_log(PREFIX).await.unwrap();
    assert_eq!(
        log["message"],
        "cannot publish the output: output zip tx/job/job-7.zip is not in the CDN bucket"
    );
}

#[tokio::test]
async fn forged_or_unfinished_callbacks_are_refused() {
    let h = Harness::new(None, &[]).await;
    put_zip(&h, "tx/job/job-7.zip", good_zip()).await;
    let job = finished_job(&h, JobResult::Success, Some("tx/job/job-7.zip"));
    let (status, json) = answer(
        handle_http(callback(&job, "forged-secret", ""), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!((status, json["error"].as_str()), (401, Some("bad_signature")));
    let mut unsigned = callback(&job, CALLBACK_SECRET, "");
    unsigned.headers_mut().remove("x-tx-signature");
    assert_eq!(answer(handle_http(unsigned, &h.deps).await.unwrap()).0, 401);
    let mut started = job.clone();
    started.status = JobStatus::Started;
    let (status, json) = answer(
        handle_http(callback(&started, CALLBACK_SECRET, ""), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!((status, json["error"].as_str()), (400, Some("job_not_finished")));
    assert_eq!(h.cdn_keys().await, vec!["tx/job/job-7.zip"]);
    assert!(h.notified_keys().is_empty());
    assert!(h.forge.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_registry_not_the_callback_url_picks_the_forge_told() {
    // The forge is configured as GitHub: a `?forge=gitea` left in an old
    // callback URL changes nothing.
    let h = Harness::with_registry(None, &[], |url| {
        common::registry(serde_json::json!([{
            "id": "ghe", "kind": "github", "url": url, "api_url": format!("{url}/api/v3"),
            "token": common::FORGE_TOKEN, "secret": common::WEBHOOK_SECRET,
        }]))
    })
    .await;
    let job = finished_job(&h, JobResult::Failed, None);
    let (status, _) = answer(
        handle_http(callback(&job, CALLBACK_SECRET, "?forge=gitea"), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 200);
    let calls = h.forge.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].path,
        format!("/api/v3/repos/Door43-Catalog/ne-ulb/statuses/{SHA}")
    );
    assert_eq!(calls[0].authorization.as_deref(), Some("Bearer test-forge-token"));

    // A job whose repository is on a host no longer configured tells nobody.
    let mut elsewhere = finished_job(&h, JobResult::Failed, None);
    elsewhere.repo_url = Some("http://127.0.0.1:1/Door43-Catalog/ne-ulb".into());
    let (status, _) = answer(
        handle_http(callback(&elsewhere, CALLBACK_SECRET, ""), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(h.forge.calls.lock().unwrap().len(), 1);
}
