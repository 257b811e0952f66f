//! The read API's pages: `limit` and `cursor` walk every build once, every
//! project with a build is listed whatever its results, bad values are 400s.

mod common;

use std::collections::HashSet;

use common::{SECRET, deps};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use tx_job_manager::{ManagerDeps, handle_http};
use tx_shared::signature::sign_hex;

async fn get(deps: &ManagerDeps, path: &str) -> (u16, Value) {
    let req: Request = http::Request::builder()
        .method("GET")
        .uri(format!("https://api.example.org{path}"))
        .body(Body::Empty)
        .unwrap();
    let response = handle_http(req, deps).await.unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(tx_shared::api::body_bytes(response.body())).unwrap_or(Value::Null);
    (status, body)
}

/// Queues a build of `owner/repo` on branch `b<n>`; answers its job id.
async fn build(deps: &ManagerDeps, repo: &str, n: usize) -> String {
    let (owner, name) = repo.split_once('/').unwrap();
    let commit = format!("{n:0>40}");
    let body = serde_json::to_vec(&json!({
        "repo_owner": owner, "repo_name": name, "ref": format!("refs/heads/b{n}"),
        "commit_id": commit,
        "source": format!("https://forge.example.org/{repo}/archive/{commit}.zip"),
    }))
    .unwrap();
    let req: Request = http::Request::builder()
        .method("POST")
        .uri("https://api.example.org/tx/job")
        .header(
            "x-tx-signature",
            format!("sha256={}", sign_hex(SECRET.as_bytes(), &body)),
        )
        .body(Body::Binary(body))
        .unwrap();
    let response = handle_http(req, deps).await.unwrap();
    let answer: Value = serde_json::from_slice(tx_shared::api::body_bytes(response.body())).unwrap();
    assert_eq!(response.status().as_u16(), 202, "{answer}");
    answer["job"]["job_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn pages_walk_every_build_once() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(build(&deps, "ana/en_ulb", n).await);
    }
    let mut seen = Vec::new();
    let mut path = "/api/projects/ana/en_ulb/builds?limit=3".to_string();
    let mut pages = 0;
    loop {
        let (status, body) = get(&deps, &path).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        let commits = body["commits"].as_array().unwrap();
        assert!(commits.len() <= 3);
        seen.extend(commits.iter().map(|c| c["job_id"].as_str().unwrap().to_string()));
        // A build added mid-walk sorts before the walk's start: not seen.
        if pages == 1 {
            build(&deps, "ana/en_ulb", 99).await;
        }
        match body["next_cursor"].as_str() {
            Some(next) => path = format!("/api/projects/ana/en_ulb/builds?limit=3&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    ids.reverse();
    assert_eq!(seen, ids, "every build once, newest first");
}

#[tokio::test]
async fn projects_are_listed_whatever_their_builds_and_paged() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    let repos = ["ana/en_ulb", "bob/fr_tn", "cy/es_obs", "dee/de_ta", "eve/hi_tq"];
    for (n, repo) in repos.iter().enumerate() {
        let id = build(&deps, repo, n).await;
        if n == 1 {
            // A project whose only build failed is listed too.
            let job = deps.jobs.get(&id).await.unwrap().unwrap();
            deps.jobs
                .update(
                    &job.failed(deps.clock.now(), "forge said 500".into()),
                    job.version,
                )
                .await
                .unwrap();
        }
    }
    let mut seen = Vec::new();
    let mut path = "/api/projects?limit=2".to_string();
    loop {
        let (status, body) = get(&deps, &path).await;
        assert_eq!(status, 200, "{body}");
        for p in body["projects"].as_array().unwrap() {
            seen.push(p["repo"].as_str().unwrap().to_string());
            if p["repo"] == "bob/fr_tn" {
                assert_eq!(p["last_status"], "failed", "{p}");
            }
        }
        match body["next_cursor"].as_str() {
            Some(next) => path = format!("/api/projects?limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, repos, "every project once, sorted");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), repos.len());
    let (status, body) = get(&deps, "/api/projects").await;
    assert_eq!((status, body["projects"].as_array().unwrap().len()), (200, 5));
    assert!(body.get("next_cursor").is_none(), "{body}");
}

#[tokio::test]
async fn bad_limits_and_cursors_are_400s() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    build(&deps, "ana/en_ulb", 1).await;
    for query in [
        "limit=0",
        "limit=101",
        "limit=x",
        "limit=-1",
        "cursor=zz",
        "cursor=00",
        "cursor=",
    ] {
        for base in ["/api/projects", "/api/projects/ana/en_ulb/builds"] {
            let (status, body) = get(&deps, &format!("{base}?{query}")).await;
            assert_eq!(status, 400, "{base}?{query}: {body}");
            assert_eq!(body["error"], "invalid_parameter");
        }
    }
    let (status, _) = get(&deps, "/api/projects?limit=100&other=1").await;
    assert_eq!(status, 200);
}
