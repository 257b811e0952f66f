//! The job API as API Gateway hands it requests: signatures, status codes,
//! JSON errors, and the read API.

mod common;

use common::{OPERATOR, SECRET, deps};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use tx_job_manager::{ManagerDeps, handle_http};
use tx_shared::signature::sign_hex;

fn request(method: &str, path: &str, body: &[u8], signature: Option<String>) -> Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("https://api.example.org{path}"));
    if let Some(sig) = signature {
        builder = builder.header("x-tx-signature", sig);
    }
    builder.body(Body::Binary(body.to_vec())).unwrap()
}

async fn call(deps: &ManagerDeps, req: Request) -> (u16, Value) {
    let response = handle_http(req, deps).await.unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(tx_shared::api::body_bytes(response.body())).unwrap_or(Value::Null);
    (status, body)
}

fn job_body() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "repo_owner": "demo", "repo_name": "en_ulb", "ref": "refs/heads/master",
        "commit_id": "0123456789abcdef0123456789abcdef01234567",
        "source": "https://forge.example.org/demo/en_ulb/archive/0123456789abcdef0123456789abcdef01234567.zip",
        "delivery_id": "d-1"
    }))
    .unwrap()
}

#[tokio::test]
async fn job_requests_must_be_signed() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    let body = job_body();
    let (status, answer) = call(&deps, request("POST", "/tx/job", &body, None)).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("bad_signature")));
    let forged = format!("sha256={}", sign_hex(b"wrong", &body));
    let (status, _) = call(&deps, request("POST", "/tx/job", &body, Some(forged))).await;
    assert_eq!(status, 401);
    let (status, answer) = call(
        &deps,
        request("GET", "/api/projects/demo/en_ulb/builds", b"", None),
    )
    .await;
    assert_eq!(status, 404, "nothing was created: {answer}");
}

#[tokio::test]
async fn a_signed_request_creates_a_job_then_finds_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    let body = job_body();
    let sig = format!("sha256={}", sign_hex(SECRET.as_bytes(), &body));
    let (status, answer) = call(&deps, request("POST", "/tx/job", &body, Some(sig.clone()))).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["disposition"], "created");
    assert_eq!(answer["job"]["status"], "requested");
    assert_eq!(answer["job"]["identifier"], "demo/en_ulb/0123456789");
    let id = answer["job"]["job_id"].as_str().unwrap().to_string();

    let (status, again) = call(&deps, request("POST", "/tx/job", &body, Some(sig))).await;
    assert_eq!((status, again["disposition"].as_str()), (200, Some("existing")));
    assert_eq!(again["job"]["job_id"], id.as_str());

    // Job details are the operator's.
    let path = format!("/tx/job/{id}");
    let (status, got) = call(&deps, request("GET", &path, b"", None)).await;
    assert_eq!(
        (status, got["error"].as_str()),
        (401, Some("operator_only")),
        "{got}"
    );
    let (status, _) = call(&deps, with_auth(request("GET", &path, b"", None), "Bearer wrong")).await;
    assert_eq!(status, 401);
    let (status, got) = call(
        &deps,
        with_auth(request("GET", &path, b"", None), &format!("Bearer {OPERATOR}")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got["job"]["job_id"], id.as_str());
    assert_eq!(got["job"]["delivery_id"], "d-1");

    // Build status is public and names no source, callback or delivery.
    let (status, builds) = call(
        &deps,
        request("GET", "/api/projects/demo/en_ulb/builds", b"", None),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(builds["commits"][0]["id"], "0123456789");
    assert_eq!(builds["commits"][0]["status"], "requested");
    let text = builds.to_string();
    assert!(
        !text.contains("archive") && !text.contains("d-1") && !text.contains("callback"),
        "{text}"
    );
}

#[tokio::test]
async fn without_an_operator_token_job_details_are_open_to_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let mut deps = deps(dir.path());
    deps.config.operator_token = None;
    let (status, got) = call(
        &deps,
        with_auth(request("GET", "/tx/job/x", b"", None), "Bearer "),
    )
    .await;
    assert_eq!(
        (status, got["error"].as_str()),
        (403, Some("operator_only")),
        "{got}"
    );
}

fn with_auth(mut req: Request, value: &str) -> Request {
    req.headers_mut()
        .insert("authorization", http::HeaderValue::from_str(value).unwrap());
    req
}

#[tokio::test]
async fn bad_requests_get_clear_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    let body = b"{not json";
    let sig = format!("sha256={}", sign_hex(SECRET.as_bytes(), body));
    let (status, answer) = call(&deps, request("POST", "/tx/job", body, Some(sig))).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("malformed_payload"))
    );

    let mut v: Value = serde_json::from_slice(&job_body()).unwrap();
    v["source"] = json!("file:///etc/passwd");
    let body = serde_json::to_vec(&v).unwrap();
    let sig = format!("sha256={}", sign_hex(SECRET.as_bytes(), &body));
    let (status, answer) = call(&deps, request("POST", "/tx/job", &body, Some(sig))).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")));
    assert!(answer["message"].as_str().unwrap().contains("file:///etc/passwd"));

    let (status, _) = call(
        &deps,
        with_auth(
            request("GET", "/tx/job/nope", b"", None),
            &format!("Bearer {OPERATOR}"),
        ),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(&deps, request("DELETE", "/tx/job", b"", None)).await;
    assert_eq!(status, 405);
    let (status, _) = call(&deps, request("GET", "/elsewhere", b"", None)).await;
    assert_eq!(status, 404);
}
