//! `HttpForgeClient` against a real loopback server speaking for each forge.

mod common;

use common::start_forge;
use tx_shared::ports::{CommitStatus, ForgeClient, ForgeError, ForgeKind, StatusState};
use tx_webhook_client::HttpForgeClient;

const SHA: &str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";

fn status(forge: ForgeKind, api_base: String, repo: &str, state: StatusState) -> CommitStatus {
    CommitStatus {
        forge,
        api_base,
        repo: repo.into(),
        commit_id: SHA.into(),
        state,
        target_url: "http://site.test/u/o/r/da1560886d/".into(),
        description: "x".repeat(200),
    }
}

fn client(token: Option<&str>) -> HttpForgeClient {
    HttpForgeClient::new(reqwest::Client::new(), token.map(str::to_string))
}

#[tokio::test]
async fn gitea_github_and_gitlab_dialects() {
    let (url, forge) = start_forge().await;
    let c = client(Some("T0K"));
    c.set_status(&status(
        ForgeKind::Gitea,
        format!("{url}/api/v1"),
        "o/r",
        StatusState::Failure,
    ))
    .await
    .unwrap();
    c.set_status(&status(
        ForgeKind::Github,
        format!("{url}/api/v3"),
        "o/r",
        StatusState::Success,
    ))
    .await
    .unwrap();
    c.set_status(&status(
        ForgeKind::Gitlab,
        format!("{url}/api/v4"),
        "group/sub/r",
        StatusState::Error,
    ))
    .await
    .unwrap();
    let calls = forge.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);

    assert_eq!(calls[0].path, format!("/api/v1/repos/o/r/statuses/{SHA}"));
    assert_eq!(calls[0].authorization.as_deref(), Some("token T0K"));
    assert_eq!(calls[0].body["state"], "failure");
    assert_eq!(calls[0].body["context"], "tx");
    assert_eq!(
        calls[0].body["description"].as_str().unwrap().chars().count(),
        140
    );
    assert_eq!(calls[0].body["target_url"], "http://site.test/u/o/r/da1560886d/");

    assert_eq!(calls[1].path, format!("/api/v3/repos/o/r/statuses/{SHA}"));
    assert_eq!(calls[1].authorization.as_deref(), Some("Bearer T0K"));
    assert_eq!(calls[1].accept.as_deref(), Some("application/vnd.github+json"));
    assert_eq!(calls[1].body["state"], "success");

    assert_eq!(
        calls[2].path,
        format!("/api/v4/projects/group%2Fsub%2Fr/statuses/{SHA}")
    );
    assert_eq!(calls[2].private_token.as_deref(), Some("T0K"));
    assert_eq!(calls[2].authorization, None);
    assert_eq!(calls[2].body["state"], "failed");
    assert_eq!(calls[2].body["name"], "tx");
}

#[tokio::test]
async fn gogs_and_missing_token_make_no_request() {
    let (url, forge) = start_forge().await;
    let gogs = client(Some("T"))
        .set_status(&status(ForgeKind::Gogs, url.clone(), "o/r", StatusState::Pending))
        .await;
    assert!(
        matches!(gogs, Err(ForgeError::Unsupported(ForgeKind::Gogs))),
        "{gogs:?}"
    );
    let none = client(None)
        .set_status(&status(
            ForgeKind::Gitea,
            url.clone(),
            "o/r",
            StatusState::Pending,
        ))
        .await;
    assert!(matches!(none, Err(ForgeError::NoToken)), "{none:?}");
    let blank = client(Some("  "))
        .set_status(&status(ForgeKind::Github, url, "o/r", StatusState::Pending))
        .await;
    assert!(matches!(blank, Err(ForgeError::NoToken)), "{blank:?}");
    assert!(forge.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rejections_and_unreachable_forges_are_typed() {
    let (url, forge) = start_forge().await;
    *forge.answer.lock().unwrap() = 422;
    let rejected = client(Some("T"))
        .set_status(&status(ForgeKind::Gitea, url, "o/r", StatusState::Pending))
        .await;
    match rejected {
        Err(ForgeError::Rejected { status, body }) => {
            assert_eq!(status, 422);
            assert!(body.contains("\"id\""), "{body}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    let down = client(Some("T"))
        .set_status(&status(
            ForgeKind::Gitea,
            "http://127.0.0.1:1/api/v1".into(),
            "o/r",
            StatusState::Pending,
        ))
        .await;
    assert!(matches!(down, Err(ForgeError::Unreachable(_))), "{down:?}");
}
