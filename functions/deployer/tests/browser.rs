//! A real browser on the rendered site (the test kit's chromium over
//! WebDriver, the site on a loopback static server).
//!
//! Skipped with a message when chromium or chromedriver is not installed,
//! unless `CI=true`, where their absence is a failure.

mod common;

use std::path::Path;

use common::*;
use serde_json::json;
use tx_deployer::deploy_build;
use tx_shared::domain::job::JobResult;
use tx_testkit::browser::{Driver, browser, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_follows_a_build_and_then_reads_it() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let f = Fixture::new();
    let addr = serve(f.website_root(), tx_deployer::templates::CONTENT_SECURITY_POLICY).await;
    let site = format!("http://{addr}");

    // A push: the build is requested, the placeholder is published.
    let j = job("door43", "en_ulb", "1111111111aaaa", 0);
    f.save_job(&j).await;
    f.write_log(&j).await;
    deploy_build(&j.site_prefix(), &f.deps).await.unwrap();

    let d = Driver::start(&chromium, &chromedriver).await;
    let build_url = format!("{site}/u/door43/en_ulb/1111111111/");
    d.goto(&build_url).await;
    d.wait_for("document.querySelector('[data-follow-log]')", 10)
        .await;
    let status = d
        .js("return document.querySelector('[data-status-label]').textContent")
        .await;
    assert_eq!(status, "Waiting to build");
    d.screenshot(Path::new("/tmp/tx-deployer-placeholder.png")).await;

    // The build finishes; the deployer publishes it; the open page reloads by itself.
    let done = finished(j, JobResult::Warnings);
    f.finished(&done, &bible("en", "English", "ltr")).await;
    deploy_build(&done.site_prefix(), &f.deps).await.unwrap();
    d.wait_for("document.querySelector('.toc-page')", 40).await;
    assert_eq!(d.url().await, build_url, "same address, now the finished build");
    let toc_text = d.js("return document.querySelector('main').innerText").await;
    assert!(toc_text.as_str().unwrap().contains("Start reading"), "{toc_text}");
    d.screenshot(Path::new("/tmp/tx-deployer-toc.png")).await;
    let banner = d
        .js("return document.querySelector('.build-banner').innerText")
        .await;
    assert!(banner.as_str().unwrap().contains("1 warning"), "{banner}");

    // Start reading: the first book, its text in the main area.
    d.click("a.button").await;
    d.wait_for("location.pathname.endsWith('/01-GEN.html')", 10).await;
    let main = d
        .js("return document.querySelector('main .scripture').innerText")
        .await;
    assert!(main.as_str().unwrap().contains("In the beginning God created"));
    assert_eq!(d.js("return document.documentElement.lang").await, "en");
    let css_ok = d
        .js("return getComputedStyle(document.querySelector('.sidebar')).position")
        .await;
    assert_eq!(css_ok, "sticky", "the stylesheet is served and applied");
    d.screenshot(Path::new("/tmp/tx-deployer-bible.png")).await;

    // The sidebar leads to the next book.
    d.click("#sidebar a[href='02-EXO.html']").await;
    d.wait_for("location.pathname.endsWith('/02-EXO.html')", 10).await;
    assert_eq!(
        d.js("return document.querySelector('main h1').textContent").await,
        "Exodus"
    );

    // A chapter link goes to the chapter's anchor and shows it.
    d.click(".sections a[href='#ch-2']").await;
    d.wait_for("location.hash === '#ch-2'", 10).await;
    d.wait_for(
        "(function(){var r=document.getElementById('ch-2').getBoundingClientRect();return r.top>=0&&r.top<innerHeight/2})()",
        5,
    )
    .await;

    // A link inside the converted text reaches another page's anchor.
    d.click("main .scripture a[href='01-GEN.html#ch-2']").await;
    d.wait_for(
        "location.pathname.endsWith('/01-GEN.html') && location.hash === '#ch-2'",
        10,
    )
    .await;

    // The repository's address goes on to the latest build; #builds shows the list.
    d.goto(&format!("{site}/u/door43/en_ulb/")).await;
    d.wait_for("location.pathname.endsWith('/1111111111/index.html')", 10)
        .await;
    d.goto(&format!("{site}/u/door43/en_ulb/index.html#builds")).await;
    d.wait_for("document.querySelector('table.builds')", 10).await;
    d.screenshot(Path::new("/tmp/tx-deployer-landing.png")).await;
    let rows = d
        .js("return document.querySelectorAll('table.builds tbody tr').length")
        .await;
    assert_eq!(rows, 1);

    // The site's front page lists the project under its language.
    d.goto(&format!("{site}/")).await;
    d.wait_for("document.querySelector('.site-index')", 10).await;
    d.screenshot(Path::new("/tmp/tx-deployer-site.png")).await;
    let front = d.js("return document.querySelector('main').innerText").await;
    assert!(front.as_str().unwrap().contains("English"));
    d.click(".card__title").await;
    d.wait_for("location.pathname.endsWith('/1111111111/index.html')", 10)
        .await;

    // Narrow screens: the sidebar hides behind the Contents button.
    d.s("POST", "/window/rect", Some(json!({"width": 420, "height": 860})))
        .await;
    d.goto(&format!("{build_url}02-EXO.html")).await;
    d.wait_for("document.querySelector('.nav-toggle')", 10).await;
    assert_eq!(
        d.js("return getComputedStyle(document.getElementById('sidebar')).display")
            .await,
        "none"
    );
    d.click(".nav-toggle").await;
    assert_eq!(
        d.js("return getComputedStyle(document.getElementById('sidebar')).display")
            .await,
        "block"
    );
    d.screenshot(Path::new("/tmp/tx-deployer-mobile.png")).await;
    d.quit().await;
}
