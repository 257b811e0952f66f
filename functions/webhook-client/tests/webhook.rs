//! `POST /client/webhook` against a real loopback job manager and forge, with
//! the real local CDN bucket and event log.

mod common;

use common::{Harness, Reply, WEBHOOK_SECRET, answer, corpus, corpus_file, gitea_headers, pairs, webhook};
use tx_shared::ports::ObjectStore;
use tx_shared::signature::sign_hex;
use tx_webhook_client::handle_http;

const SHA_A: &str = "67b56589a45103f891bdee7c0546e5d40bc02001";
const SHA_B: &str = "0123456789abcdef0123456789abcdef01234567";

/// The real Gitea push capture, re-pointed at the fake forge so its status
/// API is reachable, optionally for another commit.
fn gitea_push(h: &Harness, sha: &str) -> Option<Vec<u8>> {
    let dir = corpus()?;
    let text = String::from_utf8(corpus_file(&dir, "gitea/push.go-playground-capture.json")).ok()?;
    Some(
        text.replace("http://localhost:3000", &h.forge_url)
            .replace(SHA_A, sha)
            .into_bytes(),
    )
}

async fn send(h: &Harness, event: &str, delivery: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let headers = gitea_headers(event, delivery, &body, WEBHOOK_SECRET);
    let response = handle_http(webhook(&pairs(&headers), body), &h.deps)
        .await
        .expect("handler");
    answer(response)
}

#[tokio::test]
async fn created_job_writes_requested_build_log_and_calls_no_forge() {
    let h = Harness::new(None, &[]).await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let (status, json) = send(&h, "push", "d-1", body).await;
    assert_eq!(status, 202, "{json}");
    assert_eq!(json["disposition"], "created");
    assert_eq!(json["job_id"], "job-1");
    assert_eq!(json["status"], "requested");
    assert_eq!(
        json["build_log_url"],
        "http://cdn.test/u/example/example/67b56589a4/build_log.json"
    );
    assert_eq!(json["site_url"], "http://site.test/u/example/example/67b56589a4/");

    // The manager got a signed request for the right commit and source.
    let requests = h.manager.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let (req, _) = &requests[0];
    assert_eq!(req.commit.commit_id, SHA_A);
    assert_eq!(req.git_ref, "refs/heads/master");
    assert_eq!(req.delivery_id.as_deref(), Some("d-1"));
    assert_eq!(
        req.source,
        format!("{}/example/example/archive/{SHA_A}.zip", h.forge_url)
    );
    let api_url = &h.deps.config.api_url;
    assert_eq!(
        req.callback.as_deref(),
        Some(format!("{api_url}/client/callback").as_str())
    );
    assert_eq!(*h.manager.bad_signatures.lock().unwrap(), 0);

    // The first build log, status requested, is the only object and fired once.
    let log = h
        .build_log("u/example/example/67b56589a4/")
        .await
        .expect("build log");
    assert_eq!(log["status"], "requested");
    assert_eq!(log["commit_id"], SHA_A);
    assert_eq!(log["committed_by"], "example");
    assert_eq!(log["job_id"], "job-1");
    assert_eq!(
        h.cdn_keys().await,
        vec!["u/example/example/67b56589a4/build_log.json"]
    );
    assert_eq!(
        h.notified_keys(),
        vec!["u/example/example/67b56589a4/build_log.json"]
    );

    // The webhook told the forge nothing: the pending status is set from
    // the job table's stream, so a slow status API cannot hold this answer.
    assert!(h.forge.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn manager_down_is_503_and_nothing_is_written() {
    // Port 1 on loopback: nothing listens there.
    let h = Harness::new(Some("http://127.0.0.1:1"), &[]).await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let (status, json) = send(&h, "push", "d-1", body).await;
    assert_eq!(status, 503, "{json}");
    assert_eq!(json["error"], "job_manager_unavailable");
    assert!(
        json["message"].as_str().unwrap().contains("127.0.0.1:1"),
        "{json}"
    );
    assert!(h.cdn_keys().await.is_empty());
    assert!(h.notified_keys().is_empty());
    assert!(h.forge.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn manager_refusing_the_signature_is_502() {
    let h = Harness::new(
        None,
        &[("TX_CALLBACK_SECRET", "a-secret-the-manager-does-not-share")],
    )
    .await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let (status, json) = send(&h, "push", "d-1", body).await;
    assert_eq!(status, 502, "{json}");
    assert_eq!(json["error"], "job_manager_refused");
    assert_eq!(*h.manager.bad_signatures.lock().unwrap(), 1);
    assert!(h.cdn_keys().await.is_empty());
}

#[tokio::test]
async fn coalesced_job_cancels_the_older_build_log() {
    let h = Harness::new(None, &[]).await;
    let Some(first) = gitea_push(&h, SHA_A) else {
        return;
    };
    let second = gitea_push(&h, SHA_B).expect("corpus");
    assert_eq!(send(&h, "push", "d-1", first).await.0, 202);
    h.manager.replies.lock().unwrap().push_back(Reply::Coalesce {
        older_commit: SHA_A.into(),
    });
    let (status, json) = send(&h, "push", "d-2", second).await;
    assert_eq!(status, 202, "{json}");
    assert_eq!(json["disposition"], "coalesced");
    assert_eq!(json["superseded"]["identifier"], "example/example/67b56589a4");

    let old = h
        .build_log("u/example/example/67b56589a4/")
        .await
        .expect("old log");
    assert_eq!(old["status"], "cancelled");
    assert_eq!(old["success"], false);
    assert_eq!(old["message"], "superseded by 0123456789");
    let new = h
        .build_log("u/example/example/0123456789/")
        .await
        .expect("new log");
    assert_eq!(new["status"], "requested");
    assert_eq!(new["job_id"], old["job_id"]);

    assert!(
        h.forge.calls.lock().unwrap().is_empty(),
        "statuses are the stream's"
    );
    assert_eq!(h.notified_keys().len(), 3, "first log, cancellation, second log");
}

#[tokio::test]
async fn a_cancelled_or_final_old_log_is_not_rewritten() {
    let h = Harness::new(None, &[]).await;
    let Some(first) = gitea_push(&h, SHA_A) else {
        return;
    };
    assert_eq!(send(&h, "push", "d-1", first).await.0, 202);
    // The older build finished before the coalescing request was answered.
    let key = "u/example/example/67b56589a4/build_log.json";
    let mut log = h.build_log("u/example/example/67b56589a4/").await.unwrap();
    log["status"] = "success".into();
    let bytes = bytes::Bytes::from(serde_json::to_vec(&log).unwrap());
    h.backend.cdn.put(key, bytes, "application/json").await.unwrap();
    h.manager.replies.lock().unwrap().push_back(Reply::Coalesce {
        older_commit: SHA_A.into(),
    });
    assert_eq!(
        send(&h, "push", "d-2", gitea_push(&h, SHA_B).unwrap()).await.0,
        202
    );
    assert_eq!(
        h.build_log("u/example/example/67b56589a4/").await.unwrap()["status"],
        "success"
    );
}

#[tokio::test]
async fn redelivery_answers_200_with_the_same_job_and_writes_nothing() {
    let h = Harness::new(None, &[]).await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let (_, first) = send(&h, "push", "d-1", body.clone()).await;
    let puts_before = h.store.puts.lock().unwrap().len();
    let forge_calls_before = h.forge.calls.lock().unwrap().len();
    h.manager.replies.lock().unwrap().push_back(Reply::Existing);
    let (status, again) = send(&h, "push", "d-1", body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["disposition"], "existing");
    assert_eq!(again["job_id"], first["job_id"]);
    assert_eq!(again["build_log_url"], first["build_log_url"]);
    assert_eq!(h.store.puts.lock().unwrap().len(), puts_before);
    assert_eq!(h.forge.calls.lock().unwrap().len(), forge_calls_before);
    assert_eq!(h.notified_keys().len(), 1);
}

#[tokio::test]
async fn wrong_or_missing_signature_is_401_and_nothing_is_stored() {
    let h = Harness::new(None, &[]).await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let headers = gitea_headers("push", "d-1", &body, "not-our-secret");
    let (status, json) = answer(
        handle_http(webhook(&pairs(&headers), body.clone()), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 401);
    assert_eq!(json["error"], "bad_signature");
    let (status, _) = answer(
        handle_http(webhook(&[("X-Gitea-Event", "push")], body), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 401);
    assert!(h.manager.requests.lock().unwrap().is_empty());
    assert!(h.cdn_keys().await.is_empty());
    assert!(h.forge.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn malformed_oversized_and_unknown_requests() {
    let h = Harness::new(None, &[]).await;
    let (status, json) = send(&h, "push", "d", b"{\"ref\": ".to_vec()).await;
    assert_eq!(status, 400);
    assert_eq!(json["error"], "malformed_payload");
    assert!(
        json["message"].as_str().unwrap().contains("not valid push JSON"),
        "{json}"
    );

    let (status, json) = send(
        &h,
        "push",
        "d",
        br#"{"ref":"refs/heads/master","after":"67b56589a45103f891bdee7c0546e5d40bc02001"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(json["message"].as_str().unwrap().contains("repository"), "{json}");

    let big = vec![b' '; 5 * 1024 * 1024 + 1];
    let (status, json) = send(&h, "push", "d", big).await;
    assert_eq!((status, json["error"].as_str()), (413, Some("payload_too_large")));

    let body = b"{}".to_vec();
    let sig = sign_hex(WEBHOOK_SECRET.as_bytes(), &body);
    let (status, json) = answer(
        handle_http(webhook(&[("X-Signature", &sig)], body), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!((status, json["error"].as_str()), (400, Some("unknown_forge")));
    assert!(h.cdn_keys().await.is_empty());
}

#[tokio::test]
async fn ping_and_ignored_events_answer_200() {
    let h = Harness::with_registry(None, &[], |_| {
        common::registry(serde_json::json!([
            {"id": "capture", "kind": "gitea", "url": "http://localhost:3000", "secret": WEBHOOK_SECRET},
            {"id": "github", "kind": "github", "url": "https://github.com", "secret": WEBHOOK_SECRET},
        ]))
    })
    .await;
    let Some(dir) = corpus() else { return };
    let body = corpus_file(&dir, "github/ping.json");
    let sig = format!("sha256={}", sign_hex(WEBHOOK_SECRET.as_bytes(), &body));
    let headers = [
        ("X-GitHub-Event", "ping"),
        ("X-GitHub-Delivery", "p1"),
        ("X-Hub-Signature-256", sig.as_str()),
    ];
    let (status, json) = answer(handle_http(webhook(&headers, body), &h.deps).await.unwrap());
    assert_eq!(status, 200);
    assert_eq!(json["pong"], "Anything added dilutes everything else.");

    let body = corpus_file(&dir, "github/push.tag-deleted.json");
    let sig = format!("sha256={}", sign_hex(WEBHOOK_SECRET.as_bytes(), &body));
    let headers = [("X-GitHub-Event", "push"), ("X-Hub-Signature-256", sig.as_str())];
    let (status, json) = answer(handle_http(webhook(&headers, body), &h.deps).await.unwrap());
    assert_eq!(status, 200);
    assert_eq!(json["status"], "removed", "{json}");
    assert_eq!(json["entry_point"], "u/Codertocat/Hello-World/tag/simple-tag/");
    assert!(
        h.manager.requests.lock().unwrap().is_empty(),
        "a deletion builds nothing"
    );
    assert_eq!(
        h.cdn_keys().await,
        vec!["u/Codertocat/Hello-World/refs/tag/simple-tag/ref.json".to_string()],
        "only the ref record is written"
    );
}

#[tokio::test]
async fn an_unconfigured_forge_is_refused_with_403_naming_the_host_and_creates_nothing() {
    // The registry names another forge: the fake forge's deliveries are refused.
    let h = Harness::with_registry(None, &[], |_| {
        common::registry(serde_json::json!([
            {"id": "door43", "kind": "gitea", "url": "https://git.door43.org", "secret": WEBHOOK_SECRET},
        ]))
    })
    .await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let host = h.forge_url.trim_start_matches("http://").to_string();
    let (status, json) = send(&h, "push", "d", body).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (403, Some("forge_not_configured")),
        "{json}"
    );
    assert_eq!(json["host"], host.as_str());
    assert_eq!(json["configure"]["entry"]["url"], h.forge_url.as_str());
    assert_eq!(json["configure"]["where"], "test registry");
    assert!(json["message"].as_str().unwrap().contains(&host), "{json}");
    assert!(h.manager.requests.lock().unwrap().is_empty());
    assert!(h.cdn_keys().await.is_empty());
    assert!(h.notified_keys().is_empty());
    assert!(h.forge.calls.lock().unwrap().is_empty());

    // An empty registry refuses every host: never "accept any".
    let h = Harness::with_registry(None, &[], |_| {
        tx_shared::forges::ForgeRegistry::empty("TX_FORGES")
    })
    .await;
    let body = gitea_push(&h, SHA_A).unwrap();
    let (status, json) = send(&h, "push", "d", body).await;
    assert_eq!(status, 403, "{json}");
    assert!(h.manager.requests.lock().unwrap().is_empty());
    assert!(h.cdn_keys().await.is_empty());
}

#[tokio::test]
async fn a_repository_with_its_own_secret_is_not_verified_by_the_forge_secret() {
    let h = Harness::with_registry(None, &[], |url| {
        common::registry(serde_json::json!([{
            "id": "test-forge", "kind": "gitea", "url": url, "secret": WEBHOOK_SECRET,
            "repos": {"example/example": {"secret": "the-repos-own-secret"}},
        }]))
    })
    .await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let (status, json) = send(&h, "push", "d", body.clone()).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (401, Some("bad_signature")),
        "{json}"
    );
    // Leaving out full_name does not fall back to the forge's secret.
    let text = String::from_utf8(body.clone()).unwrap();
    let without = text
        .replace("\"full_name\": \"example/example\"", "\"full_name\": null")
        .into_bytes();
    assert_ne!(without, body, "corpus file changed shape");
    let (status, _) = send(&h, "push", "d", without).await;
    assert_eq!(status, 401);
    assert!(h.manager.requests.lock().unwrap().is_empty());
    let headers = gitea_headers("push", "d", &body, "the-repos-own-secret");
    let (status, json) = answer(
        handle_http(webhook(&pairs(&headers), body), &h.deps)
            .await
            .unwrap(),
    );
    assert_eq!(status, 202, "{json}");
}

#[tokio::test]
async fn branch_filters() {
    let h = Harness::new(None, &[("TX_BRANCHES", "main")]).await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let (status, json) = send(&h, "push", "d", body).await;
    assert_eq!(status, 200);
    assert_eq!(
        json["message"],
        "ignored: branch master is not built here (TX_BRANCHES)"
    );
    assert!(h.manager.requests.lock().unwrap().is_empty());

    let h = Harness::new(None, &[("TX_BRANCHES", "master")]).await;
    let body = gitea_push(&h, SHA_A).unwrap();
    assert_eq!(send(&h, "push", "d", body).await.0, 202);
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let h = Harness::new(None, &[]).await;
    let req = http::Request::builder()
        .method("POST")
        .uri("https://api.test/client/other")
        .body(lambda_http::Body::Empty)
        .unwrap();
    let (status, json) = answer(handle_http(req, &h.deps).await.unwrap());
    assert_eq!((status, json["error"].as_str()), (404, Some("not_found")));
    let req = http::Request::builder()
        .method("GET")
        .uri("https://api.test/prod/client/webhook")
        .body(lambda_http::Body::Empty)
        .unwrap();
    assert_eq!(answer(handle_http(req, &h.deps).await.unwrap()).0, 405);
}

#[tokio::test]
async fn form_encoded_deliveries_are_verified_the_way_each_forge_signs_them() {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let form_type = ("content-type", "application/x-www-form-urlencoded");
    let req = |form: &str, headers: &[(&str, &str)]| {
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("https://api.test/client/webhook");
        for (k, v) in headers.iter().chain([&form_type]) {
            builder = builder.header(*k, *v);
        }
        builder
            .body(lambda_http::Body::from(form.as_bytes().to_vec()))
            .unwrap()
    };
    let form_of = |json: &[u8]| {
        format!(
            "payload={}",
            utf8_percent_encode(std::str::from_utf8(json).unwrap(), NON_ALPHANUMERIC)
        )
    };

    // Gitea signs the JSON, not the form.
    let h = Harness::new(None, &[]).await;
    let Some(json) = gitea_push(&h, SHA_A) else {
        return;
    };
    let form = form_of(&json);
    let gitea_sig = sign_hex(WEBHOOK_SECRET.as_bytes(), &json);
    let headers = [
        ("X-Gitea-Event", "push"),
        ("X-Gitea-Signature", gitea_sig.as_str()),
    ];
    let (status, json_answer) = answer(handle_http(req(&form, &headers), &h.deps).await.unwrap());
    assert_eq!(status, 202, "{json_answer}");
    // …and a Gitea signature over the form body is refused.
    let wrong = sign_hex(WEBHOOK_SECRET.as_bytes(), form.as_bytes());
    let headers = [("X-Gitea-Event", "push"), ("X-Gitea-Signature", wrong.as_str())];
    assert_eq!(
        answer(handle_http(req(&form, &headers), &h.deps).await.unwrap()).0,
        401
    );

    // GitHub signs the body as sent.
    let h = Harness::with_registry(None, &[], |url| {
        common::registry(serde_json::json!([
            {"id": "ghe", "kind": "github", "url": url, "secret": WEBHOOK_SECRET},
        ]))
    })
    .await;
    let form = form_of(&gitea_push(&h, SHA_A).unwrap());
    let github_sig = format!("sha256={}", sign_hex(WEBHOOK_SECRET.as_bytes(), form.as_bytes()));
    let headers = [
        ("X-GitHub-Event", "push"),
        ("X-Hub-Signature-256", github_sig.as_str()),
    ];
    let (status, json_answer) = answer(handle_http(req(&form, &headers), &h.deps).await.unwrap());
    assert_eq!(status, 202, "{json_answer}");
}

#[tokio::test]
async fn a_manager_that_never_answers_times_out_into_503() {
    // A loopback listener that accepts connections and never replies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..8 {
            let Ok((socket, _)) = listener.accept().await else {
                break;
            };
            held.push(socket);
        }
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    });
    let h = Harness::new(Some(&url), &[]).await;
    let Some(body) = gitea_push(&h, SHA_A) else {
        return;
    };
    let started = std::time::Instant::now();
    let (status, json) = send(&h, "push", "d-1", body).await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{json}");
    assert!(took < std::time::Duration::from_secs(8), "took {took:?}");
    assert!(
        took >= tx_webhook_client::job_api::JOB_REQUEST_TIMEOUT,
        "took {took:?}"
    );
    assert!(h.cdn_keys().await.is_empty());
}
