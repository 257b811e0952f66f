//! The operator's controls over the HTTP API: rebuild and cancel, refused
//! without the operator token, answered in JSON.

mod common;

use common::{OPERATOR, SECRET, deps};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use tx_job_manager::{ManagerDeps, handle_http};
use tx_shared::domain::convert::ConvertResult;
use tx_shared::ports::TableError;
use tx_shared::signature::sign_hex;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn request(method: &str, path: &str, body: &[u8], auth: Option<&str>) -> Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("https://api.example.org{path}"));
    if let Some(token) = auth {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::Binary(body.to_vec())).unwrap()
}

async fn call(deps: &ManagerDeps, req: Request) -> (u16, Value) {
    let response = handle_http(req, deps).await.unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(tx_shared::api::body_bytes(response.body())).unwrap_or(Value::Null);
    (status, body)
}

/// Requests a build through `POST /tx/job`; answers its job id.
async fn requested(deps: &ManagerDeps) -> String {
    let body = serde_json::to_vec(&json!({
        "repo_owner": "demo", "repo_name": "en_ulb", "ref": "refs/heads/master",
        "commit_id": COMMIT,
        "source": format!("https://forge.example.org/demo/en_ulb/archive/{COMMIT}.zip"),
        "delivery_id": "d-1"
    }))
    .unwrap();
    let mut req = request("POST", "/tx/job", &body, None);
    req.headers_mut().insert(
        "x-tx-signature",
        format!("sha256={}", sign_hex(SECRET.as_bytes(), &body))
            .parse()
            .unwrap(),
    );
    let (status, answer) = call(deps, req).await;
    assert_eq!(status, 202, "{answer}");
    answer["job"]["job_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn controls_are_refused_without_the_operator_token() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    let id = requested(&deps).await;
    for action in ["rebuild", "cancel"] {
        let path = format!("/api/builds/{id}/{action}");
        let (status, body) = call(&deps, request("POST", &path, b"", None)).await;
        assert_eq!(status, 401, "{action} without a token: {body}");
        assert_eq!(body["error"], "operator_only");
        let (status, _) = call(&deps, request("POST", &path, b"", Some("wrong"))).await;
        assert_eq!(status, 401, "{action} with a wrong token");
        let (status, _) = call(&deps, request("GET", &path, b"", Some(OPERATOR))).await;
        assert_eq!(status, 405, "{action} is a POST");
    }
    let job = deps.jobs.get(&id).await.unwrap().unwrap();
    assert_eq!(job.status.as_str(), "requested", "nothing was changed");
    let (status, body) = call(
        &deps,
        request("POST", "/api/builds/nope/cancel", b"", Some(OPERATOR)),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, _) = call(
        &deps,
        request("POST", "/api/builds/nope/rebuild", b"", Some(OPERATOR)),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn cancel_then_rebuild_through_the_queue_slot() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    let id = requested(&deps).await;

    // A waiting job of the same commit is what a rebuild would queue.
    let path = format!("/api/builds/{id}/rebuild");
    let (status, body) = call(&deps, request("POST", &path, b"", Some(OPERATOR))).await;
    assert_eq!(
        (status, body["disposition"].as_str()),
        (200, Some("existing")),
        "{body}"
    );
    assert_eq!(body["job"]["job_id"], id.as_str());

    let path = format!("/api/builds/{id}/cancel");
    let (status, body) = call(&deps, request("POST", &path, b"", Some(OPERATOR))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job"]["status"], "cancelled");
    assert!(body["job"]["message"].as_str().unwrap().contains("operator"));
    let (status, body) = call(&deps, request("POST", &path, b"", Some(OPERATOR))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_cancellable")),
        "{body}"
    );

    // The cancelled commit is built again by a new job holding the slot.
    let path = format!("/api/builds/{id}/rebuild");
    let (status, body) = call(&deps, request("POST", &path, b"", Some(OPERATOR))).await;
    assert_eq!(
        (status, body["disposition"].as_str()),
        (202, Some("created")),
        "{body}"
    );
    let fresh = body["job"]["job_id"].as_str().unwrap().to_string();
    assert_ne!(fresh, id);
    assert_eq!(body["job"]["commit_id"], COMMIT);
    assert_eq!(body["job"]["status"], "requested");
    let original = deps.jobs.get(&id).await.unwrap().unwrap();
    let rebuilt = deps.jobs.get(&fresh).await.unwrap().unwrap();
    assert_eq!(rebuilt.source, original.source);
    assert_eq!(rebuilt.callback, original.callback);
    assert_eq!(rebuilt.git_ref, original.git_ref);
    let slot = deps.jobs.queue_slot(&original.coalesce_key).await.unwrap();
    assert!(slot.is_held_by(&fresh), "the rebuild went through the slot");

    // Another rebuild while it waits queues nothing more.
    let (status, body) = call(&deps, request("POST", &path, b"", Some(OPERATOR))).await;
    assert_eq!(
        (status, body["job"]["job_id"].as_str()),
        (200, Some(fresh.as_str()))
    );
    let all = deps.jobs.by_repo("demo/en_ulb", 10).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().filter(|j| j.status.as_str() == "requested").count(), 1);
}

#[tokio::test]
async fn a_finished_build_is_rebuilt_and_a_late_result_of_a_cancelled_one_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    let id = requested(&deps).await;
    let job = deps.jobs.get(&id).await.unwrap().unwrap();
    let started = deps
        .jobs
        .update(
            &job.claimed(
                deps.clock.now(),
                chrono::Duration::minutes(5),
                None,
                "test runner",
            ),
            job.version,
        )
        .await
        .unwrap();

    let (status, body) = call(
        &deps,
        request("POST", &format!("/api/builds/{id}/cancel"), b"", Some(OPERATOR)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["job"]["message"]
            .as_str()
            .unwrap()
            .contains("during attempt 1")
    );
    // The converter's result, written on the claim's version, loses.
    let late = started.finished(
        deps.clock.now(),
        ConvertResult {
            success: true,
            ..ConvertResult::default()
        },
    );
    let written = deps.jobs.update(&late, started.version).await;
    assert!(matches!(written, Err(TableError::Conflict(_))), "{written:?}");
    assert_eq!(
        deps.jobs.get(&id).await.unwrap().unwrap().status.as_str(),
        "cancelled"
    );

    // A failed build is rebuilt (never answered `existing`).
    let (status, body) = call(
        &deps,
        request("POST", &format!("/api/builds/{id}/rebuild"), b"", Some(OPERATOR)),
    )
    .await;
    assert_eq!(
        (status, body["disposition"].as_str()),
        (202, Some("created")),
        "{body}"
    );
    let fresh = body["job"]["job_id"].as_str().unwrap().to_string();
    let waiting = deps.jobs.get(&fresh).await.unwrap().unwrap();
    let failed = deps
        .jobs
        .update(
            &waiting.failed(deps.clock.now(), "forge said 500".into()),
            waiting.version,
        )
        .await
        .unwrap();
    let (status, body) = call(
        &deps,
        request(
            "POST",
            &format!("/api/builds/{}/rebuild", failed.job_id),
            b"",
            Some(OPERATOR),
        ),
    )
    .await;
    assert_eq!(
        (status, body["disposition"].as_str()),
        (202, Some("created")),
        "{body}"
    );
    assert_ne!(body["job"]["job_id"], fresh.as_str());
}
