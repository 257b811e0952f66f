//! Every forge's real payloads from the corpus: signed the way each forge
//! signs, checked, and read into what the pipeline builds.

mod common;

use common::{WEBHOOK_SECRET, corpus, corpus_file, registry};
use http::{HeaderMap, HeaderValue};
use tx_shared::domain::job_request::ReleaseAsset;
use tx_shared::domain::project::RefRemoval;
use tx_shared::forges::{ForgeRegistry, Secret};
use tx_shared::identity::{CommitId, GitRef, RefName};
use tx_shared::ports::ForgeKind;
use tx_shared::signature::sign_hex;
use tx_webhook_client::event::release::{ReleaseTarget, ReleaseTrigger};
use tx_webhook_client::event::{BuildTrigger, ForgeEvent, RefRemovalTrigger, claim, parse};
use tx_webhook_client::forge::{Delivery, detect};
use tx_webhook_client::signature_check::verify;

/// The payload's own host configured as a forge of `kind` (each corpus file
/// comes from its own forge; several share `localhost:3000`).
fn forge_of(kind: ForgeKind, body: &[u8]) -> ForgeRegistry {
    let claimed = claim("push", body).expect("claim");
    let origin = reqwest::Url::parse(&claimed.repo_url)
        .expect("repository URL")
        .origin()
        .ascii_serialization();
    let kind = format!("{kind:?}").to_lowercase();
    registry(serde_json::json!([{"id": "corpus", "kind": kind, "url": origin, "secret": WEBHOOK_SECRET}]))
}

fn secret(value: &str) -> Secret {
    registry(serde_json::json!([{"id": "x", "kind": "gitea", "url": "https://x", "secret": value}])).forges()
        [0]
    .secret_for("o/r")
    .clone()
}

/// Headers exactly as each forge sends them (PROVENANCE.md), signed with `secret`.
fn forge_headers(forge: ForgeKind, event: &str, body: &[u8], secret: &str) -> HeaderMap {
    let sig = sign_hex(secret.as_bytes(), body);
    let pairs: Vec<(&str, String)> = match forge {
        ForgeKind::Gitea => vec![
            ("x-gitea-event", event.into()),
            ("x-gitea-delivery", "gitea-delivery".into()),
            ("x-gitea-signature", sig.clone()),
            ("x-gogs-event", event.into()),
            ("x-gogs-delivery", "gitea-delivery".into()),
            ("x-gogs-signature", sig.clone()),
            ("x-hub-signature-256", format!("sha256={sig}")),
            ("x-github-event", event.into()),
            ("x-github-delivery", "gitea-delivery".into()),
        ],
        ForgeKind::Gogs => vec![
            ("x-gogs-event", event.into()),
            ("x-gogs-delivery", "gogs-delivery".into()),
            ("x-gogs-signature", sig.clone()),
            ("x-github-event", event.into()),
            ("x-github-delivery", "gogs-delivery".into()),
        ],
        ForgeKind::Github => vec![
            ("x-github-event", event.into()),
            ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958".into()),
            ("x-hub-signature-256", format!("sha256={sig}")),
        ],
        ForgeKind::Gitlab => vec![
            ("x-gitlab-event", event.into()),
            ("x-gitlab-event-uuid", "gitlab-event-uuid".into()),
            ("x-gitlab-token", secret.into()),
        ],
    };
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(k, HeaderValue::from_str(&v).expect("header"));
    }
    h
}

/// The corpus's GitLab release example is JSONC (a `// deprecated` note);
/// GitLab itself sends plain JSON, so the comment is dropped.
fn strip_line_comments(text: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(text)
        .lines()
        .map(|l| match l.find(" // ") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

fn read(forge: ForgeKind, event: &str, rel: &str) -> Option<(Delivery, Vec<u8>, ForgeEvent)> {
    let dir = corpus()?;
    let mut body = corpus_file(&dir, rel);
    if rel.ends_with(".jsonc") {
        body = strip_line_comments(&body);
    }
    let headers = forge_headers(forge, event, &body, WEBHOOK_SECRET);
    let delivery = detect(&headers).expect("forge detected");
    assert_eq!(delivery.forge, forge, "{rel}");
    let ours = secret(WEBHOOK_SECRET);
    verify(delivery.forge, &headers, &body, &ours, 0).unwrap_or_else(|e| panic!("{rel}: {e}"));
    // The same headers under another secret, or the body altered by a byte, fail.
    assert!(
        verify(
            delivery.forge,
            &forge_headers(forge, event, &body, "other"),
            &body,
            &ours,
            0
        )
        .is_err()
    );
    let mut tampered = body.clone();
    if let Some(b) = tampered.iter_mut().find(|b| b.is_ascii_digit()) {
        *b = if *b == b'9' { b'8' } else { *b + 1 };
    }
    if forge != ForgeKind::Gitlab {
        assert!(
            verify(delivery.forge, &headers, &tampered, &ours, 0).is_err(),
            "{rel}: tampering unnoticed"
        );
    }
    let forges = forge_of(forge, &body);
    let event = parse(&delivery, &forges.forges()[0], &body).unwrap_or_else(|e| panic!("{rel}: {e}"));
    Some((delivery, body, event))
}

fn build(forge: ForgeKind, event: &str, rel: &str) -> Option<BuildTrigger> {
    let (_, _, parsed) = read(forge, event, rel)?;
    match parsed {
        ForgeEvent::Build(t) => Some(*t),
        other => panic!("{rel}: expected a build, got {other:?}"),
    }
}

fn ignored(forge: ForgeKind, event: &str, rel: &str) -> Option<String> {
    let (_, _, parsed) = read(forge, event, rel)?;
    match parsed {
        ForgeEvent::Ignored(reason) => Some(reason),
        other => panic!("{rel}: expected ignored, got {other:?}"),
    }
}

#[test]
fn gitea_push_new_branch() {
    let Some(t) = build(ForgeKind::Gitea, "push", "gitea/push.go-playground-capture.json") else {
        return;
    };
    assert_eq!((t.owner.as_str(), t.repo.as_str()), ("example", "example"));
    assert_eq!(t.git_ref, "refs/heads/master");
    assert_eq!(t.commit.commit_id, "67b56589a45103f891bdee7c0546e5d40bc02001");
    assert_eq!(t.commit.commit_message.as_deref(), Some("example"));
    assert_eq!(t.commit.committed_by.as_deref(), Some("example"));
    assert_eq!(
        t.commit.commit_url.as_deref(),
        Some("http://localhost:3000/example/example/commit/67b56589a45103f891bdee7c0546e5d40bc02001")
    );
    assert!(
        t.commit
            .compare_url
            .as_deref()
            .unwrap_or_default()
            .contains("/compare/0000000000")
    );
    assert_eq!(
        t.source,
        "http://localhost:3000/example/example/archive/67b56589a45103f891bdee7c0546e5d40bc02001.zip"
    );
    assert_eq!(t.forge_id, "corpus");
    assert_eq!(t.delivery_id.as_deref(), Some("gitea-delivery"));
    assert_eq!(t.forge, ForgeKind::Gitea);
}

#[test]
fn gitea_docs_push_to_develop() {
    let Some(t) = build(ForgeKind::Gitea, "push", "gitea/push.docs-example.json") else {
        return;
    };
    assert_eq!((t.owner.as_str(), t.repo.as_str()), ("gitea", "webhooks"));
    assert_eq!(t.branch(), Some("develop"));
    assert_eq!(t.commit.commit_id, "bffeb74224043ba2feb48d137756c8a9331c449a");
    assert_eq!(t.commit.committed_by.as_deref(), Some("gitea"));
    assert_eq!(t.commit.commit_message.as_deref(), Some("Webhooks Yay!"));
}

fn release(forge: ForgeKind, rel: &str) -> Option<ReleaseTrigger> {
    let (_, _, parsed) = read(forge, "release", rel)?;
    match parsed {
        ForgeEvent::Release(r) => Some(*r),
        other => panic!("{rel}: expected a release, got {other:?}"),
    }
}

#[test]
fn gitea_release_naming_a_branch_resolves_its_tag() {
    let Some(r) = release(
        ForgeKind::Gitea,
        "gitea/release.published.go-playground-capture.json",
    ) else {
        return;
    };
    // target_commitish is "master": the tag's commit is looked up on the forge.
    assert_eq!(r.target, ReleaseTarget::Tag(RefName::parse("example").unwrap()));
    assert_eq!(r.build.git_ref, "refs/tags/example");
    assert_eq!(
        r.build.source,
        "http://localhost:3000/example/example/archive/example.zip"
    );
    assert!(r.assets.is_empty());
}

/// The real Gitea release, as Gitea sends it when the release was made from
/// a commit and carries a bundle: `target_commitish` a SHA, one zip asset.
fn gitea_release_with(dir: &std::path::Path, assets: &str) -> Vec<u8> {
    let text = String::from_utf8(corpus_file(
        dir,
        "gitea/release.published.go-playground-capture.json",
    ))
    .unwrap();
    let text = text
        .replace(
            r#""target_commitish": "master""#,
            r#""target_commitish": "67b56589a45103f891bdee7c0546e5d40bc02001""#,
        )
        .replace(r#""assets": []"#, assets);
    assert!(
        text.contains("67b56589a4") && text.contains(r#""assets": ["#),
        "corpus file changed shape"
    );
    text.into_bytes()
}

#[test]
fn gitea_release_of_a_commit_builds_its_tag_and_publishes_its_assets() {
    let Some(dir) = corpus() else { return };
    let delivery = Delivery {
        forge: ForgeKind::Gitea,
        event: "release".into(),
        delivery_id: Some("r1".into()),
    };
    let with_zip = gitea_release_with(
        &dir,
        r#""assets": [{"id": 1, "name": "en_ulb.zip", "size": 7, "browser_download_url": "http://169.254.169.254/attachments/ab12"}]"#,
    );
    let forges = forge_of(ForgeKind::Gitea, &with_zip);
    let ForgeEvent::Release(r) = parse(&delivery, &forges.forges()[0], &with_zip).unwrap() else {
        panic!("not a release")
    };
    let sha = "67b56589a45103f891bdee7c0546e5d40bc02001";
    assert_eq!(
        r.target,
        ReleaseTarget::Commit(CommitId::parse_full(sha).unwrap())
    );
    // Built from the registry, the tag and the asset's name; the payload's
    // browser_download_url is not used. A zip asset is a download, not the source.
    assert_eq!(
        r.assets,
        vec![ReleaseAsset {
            name: "en_ulb.zip".into(),
            url: "http://localhost:3000/example/example/releases/download/example/en_ulb.zip".into(),
            size: Some(7),
        }]
    );
    let (t, _) = r.with_commit(&CommitId::parse_full(sha).unwrap());
    assert_eq!(t.git_ref, "refs/tags/example");
    assert_eq!(t.commit.commit_id, sha);
    assert_eq!(
        t.source,
        "http://localhost:3000/example/example/archive/example.zip"
    );
    assert_eq!(t.commit.commit_message.as_deref(), Some("0.0.0"));
    assert_eq!(
        t.commit.commit_url.as_deref(),
        Some("http://localhost:3000/example/example/releases/tag/example")
    );
}

#[test]
fn gitea_create_branch_is_ignored_delete_removes_and_pull_request_builds() {
    let Some(r) = ignored(
        ForgeKind::Gitea,
        "create",
        "gitea/create.branch.go-playground-capture.json",
    ) else {
        return;
    };
    assert!(r.starts_with("ignored: create branch master"), "{r}");
    let r = removal(
        ForgeKind::Gitea,
        "delete",
        "gitea/delete.branch.go-playground-capture.json",
    )
    .unwrap();
    assert_eq!(r.git_ref, GitRef::branch("example3").unwrap());
    assert_eq!(r.removed, RefRemoval::Deleted);
    let t = build(
        ForgeKind::Gitea,
        "pull_request",
        "gitea/pull_request.opened.go-playground-capture.json",
    )
    .unwrap();
    assert_eq!(t.git_ref, GitRef::PullRequest(2));
    assert_eq!(t.commit.commit_id, "48e773f892a831faa47c0a160d1b7f0cd369ae2a");
    assert_eq!((t.owner.as_str(), t.repo.as_str()), ("example", "example"));
    assert!(
        t.source
            .ends_with("/example/example/archive/48e773f892a831faa47c0a160d1b7f0cd369ae2a.zip"),
        "{}",
        t.source
    );
}

fn removal(forge: ForgeKind, event: &str, rel: &str) -> Option<RefRemovalTrigger> {
    let (_, _, parsed) = read(forge, event, rel)?;
    match parsed {
        ForgeEvent::RemoveRef(r) => Some(*r),
        other => panic!("{rel}: expected a ref removal, got {other:?}"),
    }
}

#[test]
fn a_closed_pull_request_removes_its_preview() {
    let Some((_, body, _)) = read(
        ForgeKind::Github,
        "pull_request",
        "github/pull_request.opened.json",
    ) else {
        return;
    };
    let mut value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    value["action"] = "closed".into();
    let closed = serde_json::to_vec(&value).unwrap();
    let delivery = Delivery {
        forge: ForgeKind::Github,
        event: "pull_request".into(),
        delivery_id: None,
    };
    let forges = forge_of(ForgeKind::Github, &closed);
    let ForgeEvent::RemoveRef(r) = parse(&delivery, &forges.forges()[0], &closed).unwrap() else {
        panic!("closed is a removal");
    };
    assert_eq!(
        (r.git_ref, r.removed),
        (GitRef::PullRequest(2), RefRemoval::Closed)
    );
    assert_eq!(
        tx_webhook_client::event::default_branch(&closed).as_deref(),
        Some("master")
    );
}

#[test]
fn gogs_bible_bundle_payload_from_door43() {
    let Some(t) = build(ForgeKind::Gogs, "push", "gogs/bible_bundle_payload.json") else {
        return;
    };
    assert_eq!((t.owner.as_str(), t.repo.as_str()), ("Door43-Catalog", "ne-ulb"));
    assert_eq!(t.commit.commit_id, "ed87f2c2fc87d289a848d0de8af4aab8317ea3b5");
    assert_eq!(t.commit.committed_by.as_deref(), Some("phillip-hopper"));
    assert_eq!(t.commit.commit_message.as_deref(), Some("Publish more books"));
    assert_eq!(
        t.source,
        "https://git.door43.org/Door43-Catalog/ne-ulb/archive/ed87f2c2fc87d289a848d0de8af4aab8317ea3b5.zip"
    );
    assert_eq!(t.repo_url, "https://git.door43.org/Door43-Catalog/ne-ulb");
    assert_eq!(t.delivery_id.as_deref(), Some("gogs-delivery"));
    assert_eq!(
        t.commit.compare_url.as_deref(),
        Some(
            "https://git.door43.org/Door43-Catalog/ne-ulb/compare/602eac4c42397895054a44d54ec63ae5707be2b3…ed87f2c2fc87d289a848d0de8af4aab8317ea3b5"
        )
    );
}

#[test]
fn gogs_other_pushes() {
    let Some(t) = build(ForgeKind::Gogs, "push", "gogs/webhook_post.json") else {
        return;
    };
    assert_eq!(
        (t.owner.as_str(), t.repo.as_str()),
        ("tx-manager-test-data", "en-obs-rc-0.2")
    );
    assert_eq!(t.commit.commit_id, "93829a566c4816593923ada57b4cda5da4bc7af1");
    assert_eq!(t.commit.committed_by.as_deref(), Some("Richard Mahn"));
    let t = build(ForgeKind::Gogs, "push", "gogs/push.docs-example.json").unwrap();
    assert_eq!(
        (t.owner.as_str(), t.repo.as_str(), t.branch()),
        ("alice", "moonlanding", Some("main"))
    );
    let t = build(ForgeKind::Gogs, "push", "gogs/push.docs-legacy-2017.json").unwrap();
    assert!(
        t.source
            .ends_with(&format!("/archive/{}.zip", t.commit.commit_id))
    );
}

#[test]
fn github_push_new_branch() {
    let Some(t) = build(ForgeKind::Github, "push", "github/push.new-branch.json") else {
        return;
    };
    assert_eq!((t.owner.as_str(), t.repo.as_str()), ("Codertocat", "Hello-World"));
    assert_eq!(t.commit.commit_id, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert_eq!(t.commit.commit_message.as_deref(), Some("Initial commit"));
    assert_eq!(t.commit.committed_by.as_deref(), Some("Codertocat"));
    assert_eq!(
        t.source,
        "https://github.com/Codertocat/Hello-World/archive/6113728f27ae82c7b1a177c8d03f9e96e0adf246.zip"
    );
    assert_eq!(t.status_repo, "Codertocat/Hello-World");
    let t2 = build(
        ForgeKind::Github,
        "push",
        "github/push.new-branch.no-username-committer.json",
    )
    .unwrap();
    assert_eq!(t2.commit.commit_id, t.commit.commit_id);
    assert!(t2.commit.committed_by.is_some());
}

#[test]
fn github_tag_pushes() {
    let Some(t) = build(ForgeKind::Github, "push", "github/push.tag-created.ghes-35.json") else {
        return;
    };
    assert!(t.is_tag());
    assert_eq!(t.git_ref, "refs/tags/simple-tag");
    assert_eq!(t.commit.commit_id, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    for rel in [
        "github/push.tag-deleted.json",
        "github/push.tag-deleted.with-organization.json",
    ] {
        let r = removal(ForgeKind::Github, "push", rel).unwrap();
        assert_eq!(r.git_ref, GitRef::tag("simple-tag").unwrap(), "{rel}");
        assert_eq!(r.removed, RefRemoval::Deleted);
    }
}

#[test]
fn github_release_create_ping_and_others() {
    for rel in [
        "github/release.published.json",
        "github/release.published.with-discussion-url.json",
    ] {
        let Some(r) = release(ForgeKind::Github, rel) else {
            return;
        };
        assert_eq!(
            r.target,
            ReleaseTarget::Tag(RefName::parse("0.0.1").unwrap()),
            "{rel}"
        );
    }
    let r = ignored(ForgeKind::Github, "create", "github/create.tag.json").unwrap();
    assert!(r.contains("names no commit"), "{r}");
    let r = removal(ForgeKind::Github, "delete", "github/delete.tag.json").unwrap();
    assert!(r.git_ref.is_tag(), "{r:?}");
    for rel in [
        "github/pull_request.opened.json",
        "github/pull_request.synchronize.json",
    ] {
        let t = build(ForgeKind::Github, "pull_request", rel).unwrap();
        assert_eq!(t.git_ref, GitRef::PullRequest(2), "{rel}");
        assert!(t.source.contains("/Codertocat/Hello-World/"), "{}", t.source);
    }
    for rel in ["github/ping.json", "github/ping.with-organization.json"] {
        let (_, _, e) = read(ForgeKind::Github, "ping", rel).unwrap();
        assert_eq!(
            e,
            ForgeEvent::Ping {
                zen: Some("Anything added dilutes everything else.".into())
            }
        );
    }
}

#[test]
fn gitlab_push_tag_push_and_release() {
    let Some(t) = build(ForgeKind::Gitlab, "Push Hook", "gitlab/push.json") else {
        return;
    };
    assert_eq!((t.owner.as_str(), t.repo.as_str()), ("mike", "diaspora"));
    assert_eq!(t.commit.commit_id, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
    assert_eq!(t.commit.commit_message.as_deref(), Some("fixed readme"));
    assert_eq!(t.commit.committed_by.as_deref(), Some("GitLab dev user"));
    assert_eq!(
        t.source,
        "http://example.com/mike/diaspora/-/archive/da1560886d4f094c3e6c9ef40349f7d38b5d27d7/diaspora-da1560886d4f094c3e6c9ef40349f7d38b5d27d7.zip"
    );
    assert_eq!(
        t.commit.compare_url.as_deref(),
        Some(
            "http://example.com/mike/diaspora/-/compare/95790bf891e76fee5e1747ab589903a6a1f80f22...da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
        )
    );
    assert_eq!(t.status_repo, "mike/diaspora");
    assert_eq!(t.delivery_id.as_deref(), Some("gitlab-event-uuid"));

    let t = build(ForgeKind::Gitlab, "Tag Push Hook", "gitlab/tag_push.json").unwrap();
    assert_eq!(t.git_ref, "refs/tags/v1.0.0");
    assert_eq!(t.commit.commit_id, "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7");
    assert_eq!((t.owner.as_str(), t.repo.as_str()), ("jsmith", "example"));
    assert_eq!(t.commit.committed_by.as_deref(), Some("John Smith"));

    let t = build(ForgeKind::Gitlab, "Release Hook", "gitlab/release.create.jsonc").unwrap();
    assert_eq!(t.git_ref, "refs/tags/v1.1");
    assert_eq!(t.commit.commit_id, "ee0a3fb31ac16e11b9dbb596ad16d4af654d08f8");
    assert_eq!(
        (t.owner.as_str(), t.repo.as_str()),
        ("gitlab-org", "release-webhook-example")
    );
    // The only link is a changelog, so the tag's zip archive is the source.
    assert_eq!(
        t.source,
        "https://example.com/gitlab-org/release-webhook-example/-/archive/v1.1/release-webhook-example-v1.1.zip"
    );
}

#[test]
fn wrong_secret_fails_for_every_payload() {
    let Some(dir) = corpus() else { return };
    let cases = [
        (ForgeKind::Gitea, "gitea/push.docs-example.json"),
        (ForgeKind::Gogs, "gogs/bible_bundle_payload.json"),
        (ForgeKind::Github, "github/push.new-branch.json"),
        (ForgeKind::Gitlab, "gitlab/push.json"),
    ];
    for (forge, rel) in cases {
        let body = corpus_file(&dir, rel);
        let headers = forge_headers(forge, "push", &body, "not-the-secret");
        assert!(
            verify(forge, &headers, &body, &secret(WEBHOOK_SECRET), 0).is_err(),
            "{rel}"
        );
        assert!(
            verify(forge, &HeaderMap::new(), &body, &secret(WEBHOOK_SECRET), 0).is_err(),
            "{rel}"
        );
    }
}

#[test]
fn gitlab_merge_requests_build_a_preview_and_closing_removes_it() {
    let body = |action: &str| {
        serde_json::to_vec(&serde_json::json!({
            "object_kind": "merge_request",
            "project": {
                "name": "en_ulb", "web_url": "https://gitlab.example/door43/en_ulb",
                "path_with_namespace": "door43/en_ulb", "default_branch": "main"
            },
            "object_attributes": {
                "iid": 5, "action": action, "title": "Fix Genesis 1",
                "last_commit": {"id": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}
            }
        }))
        .unwrap()
    };
    let delivery = Delivery {
        forge: ForgeKind::Gitlab,
        event: "Merge Request Hook".into(),
        delivery_id: None,
    };
    let open = body("open");
    let forges = forge_of(ForgeKind::Gitlab, &open);
    let ForgeEvent::Build(t) = parse(&delivery, &forges.forges()[0], &open).unwrap() else {
        panic!("open builds");
    };
    assert_eq!(t.git_ref, GitRef::PullRequest(5));
    assert_eq!(t.commit.commit_id, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert!(t.source.starts_with("https://gitlab.example/"), "{}", t.source);
    assert_eq!(
        tx_webhook_client::event::default_branch(&open).as_deref(),
        Some("main")
    );
    for action in ["close", "merge"] {
        let ForgeEvent::RemoveRef(r) = parse(&delivery, &forges.forges()[0], &body(action)).unwrap() else {
            panic!("{action} removes");
        };
        assert_eq!(
            (r.git_ref, r.removed),
            (GitRef::PullRequest(5), RefRemoval::Closed)
        );
    }
    assert!(matches!(
        parse(&delivery, &forges.forges()[0], &body("approved")).unwrap(),
        ForgeEvent::Ignored(_)
    ));
}
