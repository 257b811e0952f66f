//! Refs and entry points (DESIGN.md § "Build identity and what readers
//! see"): the landing page follows the default branch, each ref has its own
//! page, a failed rebuild never takes a published commit's pages down, and a
//! removed ref loses its page and nothing else.

mod common;

use std::path::Path;

use bytes::Bytes;
use chrono::Duration;
use common::*;
use tx_deployer::{Outcome, deploy_build, handle_s3};
use tx_shared::domain::job::{Job, JobResult};
use tx_shared::domain::project::{ProjectIndex, RefRecord, RefRemoval};
use tx_shared::identity::{GitRef, RefKind};
use tx_shared::ports::ObjectStore;

const C1: &str = "1111111111aaaa";
const C2: &str = "2222222222bbbb";
const C3: &str = "3333333333cccc";

fn on_ref(mut job: Job, full: &str, id: &str) -> Job {
    job.git_ref = full.parse().unwrap();
    job.coalesce_key = format!("{}/{full}", job.repo);
    job.job_id = id.to_string();
    job
}

/// Every relative `href`/`src` of the page at `key` names a file in the
/// website folder (anchors and absolute URLs aside).
fn assert_links_resolve(root: &Path, key: &str) {
    let page = std::fs::read_to_string(root.join(key)).unwrap();
    let dir = Path::new(key).parent().unwrap().to_path_buf();
    for attr in ["href=\"", "src=\""] {
        for chunk in page.split(attr).skip(1) {
            let target = chunk.split('"').next().unwrap();
            let target = target.split('#').next().unwrap();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let mut path = dir.clone();
            for part in target.split('/') {
                match part {
                    ".." => {
                        path.pop();
                    }
                    "." | "" => {}
                    p => path.push(p),
                }
            }
            assert!(
                root.join(&path).is_file(),
                "{key} links to {target}, which is missing ({path:?})"
            );
        }
    }
}

async fn project(f: &Fixture) -> ProjectIndex {
    serde_json::from_str(&f.website_text("u/o/r/project.json").await).unwrap()
}

#[tokio::test]
async fn a_failed_tag_build_of_a_published_commit_leaves_its_site() {
    let f = Fixture::new();
    let master = finished(
        on_ref(job("o", "r", C1, 0), "refs/heads/master", "job-1"),
        JobResult::Success,
    );
    f.finished(&master, &bible("en", "English", "ltr")).await;
    deploy_build(&master.site_prefix(), &f.deps).await.unwrap();
    let genesis = f.website_text("u/o/r/1111111111/01-GEN.html").await;

    let tag = on_ref(job("o", "r", C1, 1), "refs/tags/v1.0", "job-2");
    f.save_job(&tag).await;
    f.write_log(&tag).await;
    let report = deploy_build(&tag.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(
        report.outcome,
        Outcome::Skipped,
        "no placeholder over a published build"
    );
    assert!(
        !f.website_text("u/o/r/1111111111/index.html")
            .await
            .contains("Waiting to build")
    );

    let tag = finished(tag, JobResult::Failed);
    f.save_job(&tag).await;
    f.write_log(&tag).await;
    let report = deploy_build(&tag.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.outcome, Outcome::NotPublished);

    assert_eq!(f.website_text("u/o/r/1111111111/01-GEN.html").await, genesis);
    let shown: serde_json::Value =
        serde_json::from_str(&f.website_text("u/o/r/1111111111/build_log.json").await).unwrap();
    assert_eq!(shown["job_id"], "job-1", "the folder keeps the published log");
    let own: serde_json::Value = serde_json::from_str(
        &f.website_text("u/o/r/1111111111/builds/job-2/build_log.json")
            .await,
    )
    .unwrap();
    assert_eq!(own["status"], "failed");
    assert_links_resolve(&f.website_root(), "u/o/r/1111111111/builds/job-2/build-log.html");

    let landing = f.website_text("u/o/r/index.html").await;
    assert!(!landing.contains("Nothing has been published yet"), "{landing}");
    assert!(landing.contains(r#"data-latest="1111111111/index.html""#));
    let p = project(&f).await;
    assert_eq!(p.default_branch, "master");
    assert_eq!(p.commits.len(), 2);
    assert_eq!(
        (p.commits[0].ref_name.as_str(), p.commits[0].ref_kind),
        ("v1.0", RefKind::Tag)
    );
    assert_eq!(p.commits[0].job_id, "job-2");
    assert_eq!(
        (p.commits[1].ref_name.as_str(), p.commits[1].ref_kind),
        ("master", RefKind::Branch)
    );
    let tag_page = f.website_text("u/o/r/tag/v1.0/index.html").await;
    assert!(
        tag_page.contains("Nothing has been published yet"),
        "the tag itself never built"
    );
    for key in [
        "u/o/r/index.html",
        "u/o/r/tag/v1.0/index.html",
        "u/o/r/branch/master/index.html",
    ] {
        assert_links_resolve(&f.website_root(), key);
    }
}

#[tokio::test]
async fn a_push_to_another_branch_never_moves_the_landing_page() {
    let f = Fixture::new();
    let mut master = finished(
        on_ref(job("o", "r", C1, 0), "refs/heads/master", "job-1"),
        JobResult::Success,
    );
    master.default_branch = Some("master".into());
    f.finished(&master, &bible("en", "English", "ltr")).await;
    deploy_build(&master.site_prefix(), &f.deps).await.unwrap();

    let draft = on_ref(
        job("o", "r", C2, 5),
        "refs/heads/feature/experimental-draft",
        "job-2",
    );
    let draft = finished(draft, JobResult::Success);
    f.finished(&draft, &bible("en", "English", "ltr")).await;
    let report = deploy_build(&draft.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.landing.as_deref(), Some("1111111111"));

    let landing = f.website_text("u/o/r/index.html").await;
    assert!(
        landing.contains(r#"data-latest="1111111111/index.html""#),
        "{landing}"
    );
    assert!(
        landing.contains("experimental-draft"),
        "the landing page shows each build's ref"
    );
    let branch = f
        .website_text("u/o/r/branch/feature/experimental-draft/index.html")
        .await;
    assert!(
        branch.contains(r#"data-latest="../../../2222222222/index.html""#),
        "{branch}"
    );
    assert!(
        !branch.contains("1111111111/index.html"),
        "a ref's page lists its own builds"
    );
    for key in [
        "u/o/r/index.html",
        "u/o/r/branch/feature/experimental-draft/index.html",
        "u/o/r/branch/master/index.html",
    ] {
        assert_links_resolve(&f.website_root(), key);
    }
}

#[tokio::test]
async fn an_older_push_finishing_late_never_moves_an_entry_point_back() {
    let f = Fixture::new();
    let newer = finished(
        on_ref(job("o", "r", C2, 5), "refs/heads/master", "job-2"),
        JobResult::Success,
    );
    f.finished(&newer, &bible("en", "English", "ltr")).await;
    deploy_build(&newer.site_prefix(), &f.deps).await.unwrap();
    let older = finished(
        on_ref(job("o", "r", C1, 0), "refs/heads/master", "job-1"),
        JobResult::Success,
    );
    f.finished(&older, &bible("en", "English", "ltr")).await;
    let report = deploy_build(&older.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.landing.as_deref(), Some("2222222222"));
    let branch = f.website_text("u/o/r/branch/master/index.html").await;
    assert!(
        branch.contains(r#"data-latest="../../2222222222/index.html""#),
        "{branch}"
    );
}

async fn write_record(f: &Fixture, git_ref: &GitRef, removed: RefRemoval, minutes: i64) -> String {
    let key = RefRecord::key("o", "r", git_ref);
    let record = RefRecord {
        git_ref: git_ref.clone(),
        removed,
        at: t0() + Duration::minutes(minutes),
    };
    f.cdn
        .put(
            &key,
            Bytes::from(serde_json::to_vec(&record).unwrap()),
            "application/json",
        )
        .await
        .unwrap();
    key
}

#[tokio::test]
async fn a_removed_ref_loses_its_entry_point_and_nothing_else() {
    let f = Fixture::new();
    let master = finished(
        on_ref(job("o", "r", C1, 0), "refs/heads/master", "job-1"),
        JobResult::Success,
    );
    f.finished(&master, &bible("en", "English", "ltr")).await;
    deploy_build(&master.site_prefix(), &f.deps).await.unwrap();
    let pr = finished(
        on_ref(job("o", "r", C2, 1), "refs/pull/7/head", "job-2"),
        JobResult::Success,
    );
    f.finished(&pr, &bible("en", "English", "ltr")).await;
    deploy_build(&pr.site_prefix(), &f.deps).await.unwrap();
    assert!(
        f.website_has("u/o/r/pr/7/index.html").await,
        "the preview appears"
    );
    assert_links_resolve(&f.website_root(), "u/o/r/pr/7/index.html");

    let key = write_record(&f, &GitRef::PullRequest(7), RefRemoval::Closed, 2).await;
    handle_s3(s3_event(&[key.as_str()]), &f.deps).await.unwrap();
    assert!(!f.website_has("u/o/r/pr/7/index.html").await, "the preview goes");
    assert!(
        f.website_has("u/o/r/2222222222/01-GEN.html").await,
        "commit folders stay"
    );
    assert!(f.website_has("u/o/r/branch/master/index.html").await);
    assert!(
        f.website_text("u/o/r/index.html")
            .await
            .contains("1111111111/index.html")
    );

    // A late build of the closed request does not bring it back…
    let late = finished(
        on_ref(job("o", "r", C3, 1), "refs/pull/7/head", "job-3"),
        JobResult::Success,
    );
    f.finished(&late, &bible("en", "English", "ltr")).await;
    deploy_build(&late.site_prefix(), &f.deps).await.unwrap();
    assert!(!f.website_has("u/o/r/pr/7/index.html").await);
    // …a push after the removal does.
    let reopened = finished(
        on_ref(job("o", "r", C3, 9), "refs/pull/7/head", "job-4"),
        JobResult::Success,
    );
    f.finished(&reopened, &bible("en", "English", "ltr")).await;
    deploy_build(&reopened.site_prefix(), &f.deps).await.unwrap();
    assert!(f.website_has("u/o/r/pr/7/index.html").await);
}

#[tokio::test]
async fn the_ref_record_sample_event_takes_its_preview_down() {
    let f = Fixture::new();
    let pr = on_ref(job("demo", "en_ulb", C2, 1), "refs/pull/7/head", "job-7");
    let pr = finished(pr, JobResult::Success);
    f.finished(&pr, &bible("en", "English", "ltr")).await;
    deploy_build(&pr.site_prefix(), &f.deps).await.unwrap();
    assert!(f.website_has("u/demo/en_ulb/pr/7/index.html").await);

    let path = format!(
        "{}/../../events/deployer.s3-ref-record-created.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: aws_lambda_events::event::s3::S3Event =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let record = RefRecord {
        git_ref: GitRef::PullRequest(7),
        removed: RefRemoval::Closed,
        at: t0() + Duration::minutes(2),
    };
    let key = RefRecord::key("demo", "en_ulb", &record.git_ref);
    assert_eq!(key, "u/demo/en_ulb/refs/pr/7/ref.json");
    f.cdn
        .put(
            &key,
            Bytes::from(serde_json::to_vec(&record).unwrap()),
            "application/json",
        )
        .await
        .unwrap();
    handle_s3(event, &f.deps).await.unwrap();
    assert!(!f.website_has("u/demo/en_ulb/pr/7/index.html").await);
    assert!(f.website_has("u/demo/en_ulb/2222222222/01-GEN.html").await);
}
