//! `HttpForgeClient` against real loopback servers speaking for each forge:
//! the URL comes from the registry entry, and so does the token.

mod common;

use std::sync::Arc;

use common::{registry, start_forge};
use tx_shared::forge_client::HttpForgeClient;
use tx_shared::ports::{CommitStatus, ForgeClient, ForgeError, ForgeKind, StatusState};

const SHA: &str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";

fn status(forge_id: &str, repo: &str, state: StatusState) -> CommitStatus {
    CommitStatus {
        forge_id: forge_id.into(),
        repo: repo.into(),
        commit_id: SHA.into(),
        state,
        target_url: "http://site.test/u/o/r/da1560886d/".into(),
        description: "x".repeat(200),
    }
}

fn client(forges: serde_json::Value) -> HttpForgeClient {
    HttpForgeClient::new(Arc::new(registry(forges))).unwrap()
}

#[tokio::test]
async fn gitea_github_and_gitlab_dialects() {
    let (gitea_url, gitea) = start_forge().await;
    let (github_url, github) = start_forge().await;
    let (gitlab_url, gitlab) = start_forge().await;
    let c = client(serde_json::json!([
        {"id": "tea", "kind": "gitea", "url": gitea_url, "token": "T0K", "secret": "s"},
        {"id": "hub", "kind": "github", "url": github_url, "token": "T1K", "secret": "s"},
        {"id": "lab", "kind": "gitlab", "url": gitlab_url, "token": "T2K", "secret": "s"},
    ]));
    c.set_status(&status("tea", "o/r", StatusState::Failure))
        .await
        .unwrap();
    c.set_status(&status("hub", "o/r", StatusState::Success))
        .await
        .unwrap();
    c.set_status(&status("lab", "group/sub/r", StatusState::Error))
        .await
        .unwrap();

    let calls = gitea.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/api/v1/repos/o/r/statuses/{SHA}"));
    assert_eq!(calls[0].authorization.as_deref(), Some("token T0K"));
    assert_eq!(calls[0].body["state"], "failure");
    assert_eq!(calls[0].body["context"], "tx");
    assert_eq!(
        calls[0].body["description"].as_str().unwrap().chars().count(),
        140
    );
    assert_eq!(calls[0].body["target_url"], "http://site.test/u/o/r/da1560886d/");

    let calls = github.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/api/v3/repos/o/r/statuses/{SHA}"));
    assert_eq!(calls[0].authorization.as_deref(), Some("Bearer T1K"));
    assert_eq!(calls[0].accept.as_deref(), Some("application/vnd.github+json"));
    assert_eq!(calls[0].body["state"], "success");

    let calls = gitlab.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].path,
        format!("/api/v4/projects/group%2Fsub%2Fr/statuses/{SHA}")
    );
    assert_eq!(calls[0].private_token.as_deref(), Some("T2K"));
    assert_eq!(calls[0].authorization, None);
    assert_eq!(calls[0].body["state"], "failed");
    assert_eq!(calls[0].body["name"], "tx");
}

#[tokio::test]
async fn gogs_missing_token_unknown_forge_and_bad_ids_make_no_request() {
    let (url, forge) = start_forge().await;
    let (other_url, other) = start_forge().await;
    let c = client(serde_json::json!([
        {"id": "gogs", "kind": "gogs", "url": url, "token": "T", "secret": "s"},
        {"id": "tea", "kind": "gitea", "url": other_url, "secret": "s"},
    ]));
    let gogs = c.set_status(&status("gogs", "o/r", StatusState::Pending)).await;
    assert!(
        matches!(gogs, Err(ForgeError::Unsupported(ForgeKind::Gogs))),
        "{gogs:?}"
    );
    let none = c.set_status(&status("tea", "o/r", StatusState::Pending)).await;
    assert!(matches!(none, Err(ForgeError::NoToken)), "{none:?}");
    let unknown = c.set_status(&status("gone", "o/r", StatusState::Pending)).await;
    assert!(matches!(unknown, Err(ForgeError::UnknownForge(_))), "{unknown:?}");
    let c = client(serde_json::json!([
        {"id": "tea", "kind": "gitea", "url": other_url, "token": "T", "secret": "s"},
    ]));
    for repo in ["o/../../admin", "o", "o/r?x=1", "o/r#f"] {
        let bad = c.set_status(&status("tea", repo, StatusState::Pending)).await;
        assert!(matches!(bad, Err(ForgeError::Invalid(_))), "{repo}: {bad:?}");
    }
    assert!(forge.calls.lock().unwrap().is_empty());
    assert!(other.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rejections_and_unreachable_forges_are_typed() {
    let (url, forge) = start_forge().await;
    *forge.answer.lock().unwrap() = 422;
    let c = client(serde_json::json!([
        {"id": "tea", "kind": "gitea", "url": url, "token": "T", "secret": "s"},
        {"id": "down", "kind": "gitea", "url": "http://127.0.0.1:1", "token": "T", "secret": "s"},
    ]));
    match c.set_status(&status("tea", "o/r", StatusState::Pending)).await {
        Err(ForgeError::Rejected { status, body }) => {
            assert_eq!(status, 422);
            assert!(body.contains("\"id\""), "{body}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    let down = c.set_status(&status("down", "o/r", StatusState::Pending)).await;
    assert!(matches!(down, Err(ForgeError::Unreachable(_))), "{down:?}");
}
