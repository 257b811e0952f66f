//! The deployer against the embedded runtime's real adapters: what readers
//! find in the website bucket after each kind of build.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use common::*;
use tx_deployer::{DeployError, Outcome, deploy_build, handle_s3};
use tx_shared::domain::job::JobResult;
use tx_shared::domain::manifest::ResourceType;
use tx_shared::domain::project::ProjectIndex;
use tx_shared::ports::{ObjectStore, StoreError};

const C1: &str = "1111111111aaaa";
const C2: &str = "2222222222bbbb";

#[tokio::test]
async fn a_build_in_progress_gets_a_placeholder_that_follows_its_log() {
    let f = Fixture::new();
    let j = job("door43", "en_ulb", C1, 0);
    f.save_job(&j).await;
    f.write_log(&j).await;
    let cdn_before = f.cdn.list("").await.unwrap();

    let report = deploy_build(&j.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.outcome, Outcome::Placeholder);

    let page = f.website_text("u/door43/en_ulb/1111111111/index.html").await;
    assert!(page.contains(r#"data-follow-log="build_log.json""#), "{page}");
    assert!(page.contains("Waiting to build"));
    assert!(
        page.contains(r#"<meta http-equiv="refresh""#),
        "noscript fallback"
    );
    assert!(page.contains(r#"href="../../../../static/tx.css""#));
    assert!(f.website_has("u/door43/en_ulb/1111111111/build_log.json").await);
    assert!(f.website_has("static/tx.css").await && f.website_has("static/tx.js").await);

    let project: ProjectIndex =
        serde_json::from_str(&f.website_text("u/door43/en_ulb/project.json").await).unwrap();
    assert_eq!(project.commits.len(), 1);
    assert_eq!(project.commits[0].status.as_str(), "requested");
    let landing = f.website_text("u/door43/en_ulb/index.html").await;
    assert!(landing.contains("Nothing has been published yet"));
    assert!(!landing.contains("data-latest"));

    assert_eq!(
        f.cdn.list("").await.unwrap(),
        cdn_before,
        "the CDN bucket is never written"
    );
}

#[tokio::test]
async fn a_finished_bible_is_templated_page_by_page() {
    let f = Fixture::new();
    let j = finished(job("door43", "en_ulb", C1, 0), JobResult::Success);
    f.finished(&j, &bible("en", "English", "ltr")).await;

    let report = deploy_build("u/door43/en_ulb/1111111111/", &f.deps)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Published);
    assert_eq!(report.pages, 2);
    assert_eq!(report.landing.as_deref(), Some("1111111111"));
    assert!(report.notes.is_empty(), "{:?}", report.notes);

    let genesis = f.website_text("u/door43/en_ulb/1111111111/01-GEN.html").await;
    assert!(genesis.starts_with("<!doctype html>"));
    assert!(genesis.contains(r#"<html lang="en" dir="ltr""#));
    assert!(
        genesis.contains("In the beginning God created"),
        "fragment in the main area"
    );
    assert!(genesis.contains(r#"<main id="content""#));
    assert!(
        genesis.contains(r##"<a href="#ch-2">2</a>"##),
        "chapter nav of the book"
    );
    assert!(
        genesis.contains(r#"href="01-GEN.html" aria-current="page""#),
        "sidebar marks the page"
    );
    assert!(genesis.contains(r#"rel="next" href="02-EXO.html""#));
    assert!(
        !genesis.contains(r#"class="page-title""#),
        "the fragment's own h1 is the heading"
    );
    assert!(genesis.contains(
        r#"<link rel="canonical" href="https://site.example/u/door43/en_ulb/1111111111/01-GEN.html">"#
    ));
    assert!(genesis.contains("Published"), "build banner");

    let exo = f.website_text("u/door43/en_ulb/1111111111/02-EXO.html").await;
    assert!(
        exo.contains(r#"<a href="01-GEN.html#ch-2">See Genesis 2</a>"#),
        "fragment links kept"
    );
    assert!(exo.contains(r#"rel="prev" href="01-GEN.html""#));

    let toc = f.website_text("u/door43/en_ulb/1111111111/index.html").await;
    assert!(toc.contains("Start reading") && toc.contains(r#"href="01-GEN.html""#));
    assert!(
        toc.contains(r#"href="02-EXO.html#ch-2""#),
        "the contents list every chapter"
    );

    for key in [
        "build_log.json",
        "manifest.json",
        "manifest.yaml",
        "index.json",
        "build-log.html",
    ] {
        assert!(
            f.website_has(&format!("u/door43/en_ulb/1111111111/{key}")).await,
            "{key}"
        );
    }
    let landing = f.website_text("u/door43/en_ulb/index.html").await;
    assert!(
        landing.contains(r#"data-latest="1111111111/index.html""#),
        "{landing}"
    );
    let site = f.website_text("index.html").await;
    assert!(site.contains(r#"href="static/tx.css""#));
    assert!(site.contains("English") && site.contains(r#"href="u/door43/en_ulb/index.html""#));
    assert!(site.contains("Unlocked Literal Bible"));
}

#[tokio::test]
async fn right_to_left_languages_get_dir_rtl() {
    let f = Fixture::new();
    let j = finished(job("door43", "ar_avd", C1, 0), JobResult::Success);
    f.finished(&j, &bible("ar", "العربية", "rtl")).await;
    deploy_build(&j.site_prefix(), &f.deps).await.unwrap();
    let page = f.website_text("u/door43/ar_avd/1111111111/01-GEN.html").await;
    assert!(page.contains(r#"<html lang="ar" dir="rtl""#));
    assert!(f.website_text("index.html").await.contains("العربية"));
}

#[tokio::test]
async fn warnings_are_shown_with_file_and_line() {
    let f = Fixture::new();
    let j = finished(job("door43", "en_ulb", C1, 0), JobResult::Warnings);
    f.finished(&j, &bible("en", "English", "ltr")).await;
    deploy_build(&j.site_prefix(), &f.deps).await.unwrap();

    let page = f.website_text("u/door43/en_ulb/1111111111/01-GEN.html").await;
    assert!(page.contains("Published with warnings"));
    assert!(
        page.contains(r#"href="build-log.html#warnings">1 warning</a>"#),
        "{page}"
    );
    let log = f.website_text("u/door43/en_ulb/1111111111/build-log.html").await;
    assert!(log.contains(r#"<code class="loc">02-EXO.usfm:7</code>"#), "{log}");
    assert!(log.contains("unknown marker \\zz, kept as text"));
    assert!(log.contains("Converted 01-GEN.usfm"));
}

#[tokio::test]
async fn a_failed_build_shows_why_and_keeps_the_landing_on_the_last_good_one() {
    let f = Fixture::new();
    let good = finished(job("door43", "en_ulb", C1, 0), JobResult::Success);
    f.finished(&good, &bible("en", "English", "ltr")).await;
    deploy_build(&good.site_prefix(), &f.deps).await.unwrap();

    let bad = finished(job("door43", "en_ulb", C2, 10), JobResult::Failed);
    f.save_job(&bad).await;
    f.write_log(&bad).await;
    let report = deploy_build(&bad.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.outcome, Outcome::NotPublished);
    assert_eq!(report.pages, 0);

    let page = f.website_text("u/door43/en_ulb/2222222222/index.html").await;
    assert!(page.contains("Build failed") && page.contains("nothing was published"));
    assert!(page.contains("Nothing could be converted"));
    assert!(page.contains(r#"<code class="loc">manifest.yaml:3</code>"#));
    let landing = f.website_text("u/door43/en_ulb/index.html").await;
    assert!(landing.contains(r#"data-latest="1111111111/index.html""#));
    assert!(
        landing.contains("2222222222") && landing.contains("Build failed"),
        "listed all the same"
    );
}

#[tokio::test]
async fn an_older_build_finishing_late_does_not_move_the_landing_back() {
    let f = Fixture::new();
    let old = job("door43", "en_ulb", C1, 0);
    let new = finished(job("door43", "en_ulb", C2, 10), JobResult::Success);
    f.save_job(&started(old.clone())).await;
    f.finished(&new, &bible("en", "English", "ltr")).await;
    assert_eq!(
        deploy_build(&new.site_prefix(), &f.deps)
            .await
            .unwrap()
            .landing
            .as_deref(),
        Some("2222222222")
    );

    let old = finished(old, JobResult::Success);
    f.finished(&old, &bible("en", "English", "ltr")).await;
    let report = deploy_build(&old.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.landing.as_deref(), Some("2222222222"));
    let landing = f.website_text("u/door43/en_ulb/index.html").await;
    assert!(landing.contains(r#"data-latest="2222222222/index.html""#));

    let project: ProjectIndex =
        serde_json::from_str(&f.website_text("u/door43/en_ulb/project.json").await).unwrap();
    let ids: Vec<&str> = project.commits.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["2222222222", "1111111111"], "newest first");
    assert_eq!(project.repo_url, "https://git.example/door43/en_ulb");
}

#[tokio::test]
async fn a_newer_build_in_the_table_but_not_yet_deployed_is_not_linked() {
    let f = Fixture::new();
    let old = finished(job("door43", "en_ulb", C1, 0), JobResult::Success);
    f.finished(&old, &bible("en", "English", "ltr")).await;
    // The newer job is finished in the table, but its deployer has not run yet.
    f.save_job(&finished(job("door43", "en_ulb", C2, 10), JobResult::Success))
        .await;
    let report = deploy_build(&old.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.landing.as_deref(), Some("1111111111"));
}

#[tokio::test]
async fn a_late_in_progress_event_does_not_cover_a_finished_build() {
    let f = Fixture::new();
    let done = finished(job("door43", "en_ulb", C1, 0), JobResult::Success);
    f.finished(&done, &bible("en", "English", "ltr")).await;
    deploy_build(&done.site_prefix(), &f.deps).await.unwrap();
    let published = f.website_text("u/door43/en_ulb/1111111111/index.html").await;

    // The CDN log is (for whatever reason) back at "started" for the same job.
    f.write_log(&started(job("door43", "en_ulb", C1, 0))).await;
    let report = deploy_build(&done.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.outcome, Outcome::Skipped);
    assert_eq!(
        f.website_text("u/door43/en_ulb/1111111111/index.html").await,
        published
    );
}

#[tokio::test]
async fn s3_events_are_decoded_filtered_and_deduplicated() {
    let f = Fixture::new();
    let j = finished(job("door43", "my.repo", C1, 0), JobResult::Success);
    f.finished(&j, &bible("en", "English", "ltr")).await;
    let event = s3_event(&[
        "u/door43/my%2Erepo/1111111111/build_log.json",
        "u/door43/my.repo/1111111111/build_log.json",
        "u/door43/my+repo/1111111111/build_log.json",
        "u/door43/my.repo/1111111111/01-GEN.html",
        "tx/job/job-1.zip",
    ]);
    handle_s3(event, &f.deps).await.unwrap();
    let page = f.website_text("u/door43/my.repo/1111111111/01-GEN.html").await;
    assert!(page.contains("In the beginning"));
}

#[tokio::test]
async fn a_malformed_build_log_is_skipped_not_retried() {
    let f = Fixture::new();
    f.cdn
        .put(
            "u/o/r/0123456789/build_log.json",
            Bytes::from_static(b"{not json"),
            "application/json",
        )
        .await
        .unwrap();
    handle_s3(s3_event(&["u/o/r/0123456789/build_log.json"]), &f.deps)
        .await
        .unwrap();
    assert!(f.website.list("").await.unwrap().is_empty(), "nothing published");
    let err = deploy_build("u/o/r/0123456789/", &f.deps).await.unwrap_err();
    assert!(matches!(err, DeployError::BuildLog { .. }) && !err.is_retryable());
}

/// A website bucket that cannot be reached.
struct Unreachable;

#[async_trait]
impl ObjectStore for Unreachable {
    fn bucket(&self) -> &str {
        "website"
    }
    async fn put(&self, _: &str, _: Bytes, _: &str) -> Result<(), StoreError> {
        Err(StoreError::Backend("connection refused".into()))
    }
    async fn put_file(&self, _: &str, _: &std::path::Path, _: &str) -> Result<(), StoreError> {
        Err(StoreError::Backend("connection refused".into()))
    }
    async fn get(&self, _: &str) -> Result<Option<Bytes>, StoreError> {
        Err(StoreError::Backend("connection refused".into()))
    }
    async fn get_to_file(&self, _: &str, _: &std::path::Path) -> Result<bool, StoreError> {
        Err(StoreError::Backend("connection refused".into()))
    }
    async fn list(&self, _: &str) -> Result<Vec<String>, StoreError> {
        Err(StoreError::Backend("connection refused".into()))
    }
    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Err(StoreError::Backend("connection refused".into()))
    }
}

#[tokio::test]
async fn an_unreachable_bucket_is_retried() {
    let f = Fixture::new();
    let j = finished(job("door43", "en_ulb", C1, 0), JobResult::Success);
    f.finished(&j, &bible("en", "English", "ltr")).await;
    let mut deps = f.deps.clone();
    deps.website = Arc::new(Unreachable);
    let err = handle_s3(s3_event(&["u/door43/en_ulb/1111111111/build_log.json"]), &deps)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn templates_can_be_overridden_from_a_folder() {
    let f = Fixture::new();
    let own = tempfile::tempdir().unwrap();
    std::fs::write(
        own.path().join("bible.html"),
        "<!doctype html><title>{{ page_title }}</title><div class=mine>{{ content_head }}{{ content }}</div>",
    )
    .unwrap();
    let mut deps = f.deps.clone();
    deps.site = deps.site.clone().with_templates_dir(own.path());
    let j = finished(job("door43", "en_ulb", C1, 0), JobResult::Success);
    f.finished(&j, &bible("en", "English", "ltr")).await;
    deploy_build(&j.site_prefix(), &deps).await.unwrap();
    let page = f.website_text("u/door43/en_ulb/1111111111/01-GEN.html").await;
    assert!(
        page.starts_with("<!doctype html><title>Genesis</title><div class=mine><h1>Genesis</h1>"),
        "{page}"
    );
}

#[tokio::test]
async fn an_output_without_index_json_is_still_published() {
    let f = Fixture::new();
    let j = finished(job("door43", "notes", C1, 0), JobResult::Success);
    let mut b = bible("en", "English", "ltr");
    b.files.retain(|(n, _)| n != "index.json");
    f.finished(&j, &b).await;
    let report = deploy_build(&j.site_prefix(), &f.deps).await.unwrap();
    assert_eq!(report.pages, 2);
    let toc = f.website_text("u/door43/notes/1111111111/index.html").await;
    assert!(toc.contains(r#"href="01-GEN.html""#) && toc.contains(r#"href="02-EXO.html""#));
}

#[tokio::test]
async fn links_to_another_resource_lead_to_its_published_pages_else_the_forge() {
    let f = Fixture::new();
    let ta = finished(job("door43", "en_ta", C1, 0), JobResult::Success);
    let article = r#"<h2 id="figs-verbs">Verbs</h2>"#;
    f.finished(
        &ta,
        &help_page("ta", ResourceType::Ta, "03-translate.html", article),
    )
    .await;
    deploy_build("u/door43/en_ta/1111111111/", &f.deps).await.unwrap();
    let note = r#"<p><a href="rc://en/ta/man/translate/figs-verbs">Verbs</a> <a href="rc://en/tw/dict/bible/kt/god">God</a></p>"#;
    let tn = finished(job("door43", "en_tn", C2, 1), JobResult::Success);
    f.finished(&tn, &help_page("tn", ResourceType::Tn, "08-RUT.html", note))
        .await;
    deploy_build("u/door43/en_tn/2222222222/", &f.deps).await.unwrap();

    let page = f.website_text("u/door43/en_tn/2222222222/08-RUT.html").await;
    // Published here: the article's page and anchor, checked on the website.
    let href = "../../en_ta/1111111111/03-translate.html#figs-verbs";
    assert!(page.contains(&format!(r#"<a href="{href}">Verbs</a>"#)), "{page}");
    let (file, anchor) = href.trim_start_matches("../../").split_once('#').unwrap();
    let target = f.website_text(&format!("u/door43/{file}")).await;
    assert!(target.contains(&format!(r#"id="{anchor}""#)), "{target}");
    // Not published here: the rendered source on the forge.
    let forge = format!(
        "{}/en_tw/src/branch/master/bible/kt/god.md",
        tx_shared::rc::FORGE_BASE
    );
    assert!(page.contains(&format!(r#"<a href="{forge}">God</a>"#)), "{page}");
    assert!(!page.contains("rc://"), "{page}");
}
