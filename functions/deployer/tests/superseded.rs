//! Superseded commits never keep a placeholder: when a newer push to a ref
//! coalesced the waiting job into another commit, the older commit's build
//! log (which the webhook client may write after the newer push looked for
//! it) is published as cancelled, never as "Waiting to build". Real local
//! adapters; the coalescing is the job table's own.

mod common;

use common::*;
use tx_deployer::{Outcome, deploy_build};
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::job::{CommitInfo, Job, JobResult};
use tx_shared::domain::job_request::NewerCommit;
use tx_shared::ports::{JobTable, ObjectStore};

const C1: &str = "1111111111aaaa";
const C2: &str = "2222222222bbbb";
const C3: &str = "3333333333cccc";

/// Coalesces the waiting `job` into `commit`, as a newer push does.
async fn push_newer(f: &Fixture, job: &Job, commit: &str) {
    let change = NewerCommit {
        identifier: format!("{}/{}/{}", job.repo_owner, job.repo_name, &commit[..10]),
        commit: CommitInfo {
            commit_id: commit.into(),
            ..CommitInfo::default()
        },
        delivery_id: None,
        repo_url: None,
        resource_type: job.resource_type.clone(),
        input_format: job.input_format.clone(),
        output_format: job.output_format.clone(),
        source: job.source.clone(),
        callback: None,
        default_branch: None,
        assets: Vec::new(),
        note: format!("now builds {}", &commit[..10]),
    };
    f.jobs
        .coalesce(&job.job_id, &change)
        .await
        .unwrap_or_else(|e| panic!("coalesce: {e}"));
}

async fn website_log(f: &Fixture, prefix: &str) -> BuildLog {
    serde_json::from_str(&f.website_text(&format!("{prefix}build_log.json")).await).unwrap()
}

#[tokio::test]
async fn a_first_log_written_after_the_newer_push_gets_no_placeholder() {
    let f = Fixture::new();
    let older = job("door43", "en_ulb", C1, 0);
    f.save_job(&older).await;
    // The newer push coalesced the job before the older webhook's client
    // wrote its first build log (it found nothing to cancel).
    push_newer(&f, &older, C2).await;
    f.write_log(&older).await;
    let cdn_before = f.cdn.list("").await.unwrap();

    let report = deploy_build(&older.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.outcome, Outcome::NotPublished, "{report:?}");
    assert_eq!(report.status, DisplayStatus::Cancelled);
    let page = f.website_text("u/door43/en_ulb/1111111111/index.html").await;
    assert!(!page.contains("Waiting to build"), "{page}");
    assert!(page.contains("Replaced by a newer push"), "{page}");
    assert!(page.contains("superseded by 2222222222"), "{page}");
    assert!(
        !page.contains("data-follow-log"),
        "a placeholder follows its log: {page}"
    );
    let shown = website_log(&f, "u/door43/en_ulb/1111111111/").await;
    assert_eq!(shown.status, DisplayStatus::Cancelled);
    assert!(!shown.success);
    assert_eq!(
        f.cdn.list("").await.unwrap(),
        cdn_before,
        "the CDN bucket is never written"
    );

    // The commit the job builds now still gets its placeholder.
    let mut now = older.clone();
    now.commit.commit_id = C2.into();
    now.identifier = "door43/en_ulb/2222222222".into();
    f.write_log(&now).await;
    let report = deploy_build(&now.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.outcome, Outcome::Placeholder);
}

#[tokio::test]
async fn a_placeholder_shown_before_the_newer_push_is_replaced_on_the_next_event() {
    let f = Fixture::new();
    let older = job("door43", "en_ulb", C1, 0);
    f.save_job(&older).await;
    f.write_log(&older).await;
    let report = deploy_build(&older.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.outcome, Outcome::Placeholder);

    push_newer(&f, &older, C2).await;
    // The same log again (a redelivered event, a rewrite that found it
    // still in progress): the job table says the commit will not build.
    let report = deploy_build(&older.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.status, DisplayStatus::Cancelled, "{report:?}");
    let page = f.website_text("u/door43/en_ulb/1111111111/index.html").await;
    assert!(!page.contains("Waiting to build"), "{page}");
    assert_eq!(
        website_log(&f, "u/door43/en_ulb/1111111111/").await.status,
        DisplayStatus::Cancelled
    );
}

#[tokio::test]
async fn a_published_commit_keeps_its_pages_when_another_refs_superseded_build_logs_late() {
    let f = Fixture::new();
    // master published C1.
    let master = finished(job("door43", "en_ulb", C1, 0), JobResult::Success);
    f.finished(&master, &bible("en", "English", "ltr")).await;
    deploy_build(&master.site_prefix(), &f.deps).await.unwrap();
    let published = f.website_text("u/door43/en_ulb/1111111111/index.html").await;

    // A branch at C1 too, superseded by C3 before it ran; its first log is late.
    let mut branch = job("door43", "en_ulb", C1, 5);
    branch.job_id = "job-branch".into();
    branch.git_ref = "refs/heads/draft".parse().unwrap();
    branch.coalesce_key = "door43/en_ulb/refs/heads/draft".into();
    f.save_job(&branch).await;
    push_newer(&f, &branch, C3).await;
    f.write_log(&branch).await;

    let report = deploy_build(&branch.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.outcome, Outcome::Skipped, "{report:?}");
    assert_eq!(
        f.website_text("u/door43/en_ulb/1111111111/index.html").await,
        published,
        "the published pages stay"
    );
}
