//! Translation helps as a translator uses them, in a real browser (issue
//! 10): en_ta, en_tn and en_tw built with `tx build` into sibling folders of
//! one root (in that order, so each finds the ones it links to), served on
//! loopback, read by Debian's chromium over WebDriver. A tN note of Ruth 1:1
//! names its tA article and the click lands on it on the tA site beside it;
//! a relative reference in a note leads to another verse's notes; a tW
//! Bible reference leads to the right tN verse. Screenshots go to
//! `target/tmp/`.
//!
//! Skipped with a message where the corpus or the browser is absent, unless
//! `CI=true`, where that is a failure.

use std::path::Path;

use serde_json::{Value, json};
use tx_testkit::browser::{Driver, browser, serve};
use tx_testkit::corpus;

fn str_of(v: Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_leads_to_its_article_another_verse_and_a_word_to_its_verse() {
    let Some(corpus) = corpus() else { return };
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    for (zip, dir) in [
        ("en_ta.v14.zip", "en_ta"),
        ("en_tn.v84.zip", "en_tn"),
        ("en_tw.zip", "en_tw"),
    ] {
        tx::preview::build(&corpus.join("repos").join(zip), &root.path().join(dir)).unwrap();
    }
    let addr = serve(
        root.path().to_path_buf(),
        tx_deployer::templates::CONTENT_SECURITY_POLICY,
    )
    .await;
    let site = format!("http://{addr}");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let d = Driver::start(&chromium, &chromedriver).await;
    d.s(
        "POST",
        "/window/rect",
        Some(json!({"width": 1280, "height": 900})),
    )
    .await;

    // Ruth 1:1, note sb2j: SupportReference rc://*/ta/man/translate/writing-newevent.
    d.goto(&format!("{site}/en_tn/08-RUT.html#tn-sb2j")).await;
    d.wait_for("document.getElementById('tn-sb2j')", 20).await;
    let heading = d
        .js("return document.getElementById('ch-1-v-1').textContent")
        .await;
    assert_eq!(heading, "Ruth 1:1");
    let quote = d
        .js("var q = document.querySelector('#tn-sb2j .tn-quote'); return [q.lang, q.dir]")
        .await;
    assert_eq!(quote, json!(["hbo", "rtl"]));
    let support = str_of(
        d.js("return document.querySelector('#tn-sb2j .tn-support a').getAttribute('href')")
            .await,
    );
    assert_eq!(support, "../en_ta/03-translate.html#writing-newevent");
    d.screenshot(&shots.join("tn-ruth-1-1-note.png")).await;

    // Follow it: the article on the tA site built beside it.
    d.click("#tn-sb2j .tn-support a").await;
    d.wait_for(
        "location.pathname.endsWith('/en_ta/03-translate.html') && document.getElementById('writing-newevent')",
        20,
    )
    .await;
    let title = str_of(
        d.js("return document.getElementById('writing-newevent').textContent")
            .await,
    );
    assert!(title.contains("New Event"), "{title}");
    d.screenshot(&shots.join("ta-writing-newevent.png")).await;

    // A relative reference in a Ruth note (../03/01.md and the like) is a
    // link to that verse's notes on the same page: click it.
    d.goto(&format!("{site}/en_tn/08-RUT.html")).await;
    d.wait_for("document.querySelector('.tn-note a[href*=\"#ch-\"]')", 20)
        .await;
    let href = str_of(
        d.js("return document.querySelector('.tn-note a[href*=\"#ch-\"]').getAttribute('href')")
            .await,
    );
    let anchor = href.split_once('#').map(|(_, a)| a.to_string()).unwrap();
    assert!(href.starts_with("08-RUT.html#ch-"), "{href}");
    d.click(".tn-note a[href*=\"#ch-\"]").await;
    d.wait_for(&format!("location.hash === '#{anchor}'"), 10).await;
    let landed = d
        .js(&format!(
            "var e = document.getElementById('{anchor}'); var r = e.getBoundingClientRect();\
             return [e.className, r.top >= -1 && r.top < innerHeight]"
        ))
        .await;
    assert_eq!(landed, json!(["tn-verse", true]), "{href}");
    d.screenshot(&shots.join("tn-ruth-relative-reference.png")).await;

    // tW "God": its Bible reference [1 John 01:5-7](rc://en/tn/help/1jn/01/05)
    // leads to that verse's notes on the tN site beside it: click it.
    d.goto(&format!("{site}/en_tw/kt.html#god")).await;
    d.wait_for("document.getElementById('god')", 20).await;
    let reference = d
        .js(
            "var a = [...document.querySelectorAll('#god a')].find(a => a.textContent === '1 John 01:5-7');\
             if (!a) return null; a.id = 'tw-god-1jn'; return a.getAttribute('href')",
        )
        .await;
    assert_eq!(str_of(reference), "../en_tn/63-1JN.html#ch-1-v-5");
    d.screenshot(&shots.join("tw-god-bible-references.png")).await;
    d.click("#tw-god-1jn").await;
    d.wait_for(
        "location.pathname.endsWith('/en_tn/63-1JN.html') && location.hash === '#ch-1-v-5'",
        20,
    )
    .await;
    let verse = d
        .js(
            "var e = document.getElementById('ch-1-v-5'); var r = e.getBoundingClientRect();\
             return [e.textContent, r.top >= -1 && r.top < innerHeight]",
        )
        .await;
    assert_eq!(verse, json!(["1 John 1:5", true]));
    d.screenshot(&shots.join("tn-1-john-1-5.png")).await;
    d.quit().await;
}
