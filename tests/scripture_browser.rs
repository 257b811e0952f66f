//! Scripture as a reader sees it, in a real browser: BSB Psalms built with
//! `tx build` (the converter and the site templates), served on loopback,
//! read by Debian's chromium over WebDriver at desktop and phone widths.
//! Screenshots go to `target/`.
//!
//! Skipped with a message where the corpus or the browser is absent, unless
//! `CI=true`, where that is a failure.

use std::path::Path;

use serde_json::json;
use tx_testkit::browser::{Driver, browser, serve};
use tx_testkit::corpus;

/// Left edge of the first line of the first `\q` paragraph of this class in
/// Psalm 23 (text-indent included: a hanging indent starts left of it).
const FIRST_LINE_LEFT: &str = "return (function(cls){\
  var ch = document.getElementById('ch-23');\
  var el = ch.nextElementSibling;\
  while (el && !el.classList.contains(cls)) el = el.nextElementSibling;\
  var r = document.createRange(); r.selectNodeContents(el);\
  return r.getClientRects()[0].left; })(arguments[0])";

async fn left_of(d: &Driver, class: &str) -> f64 {
    let v = d
        .s(
            "POST",
            "/execute/sync",
            Some(json!({"script": FIRST_LINE_LEFT, "args": [class]})),
        )
        .await;
    v.as_f64()
        .unwrap_or_else(|| panic!("no {class} line in Psalm 23: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psalm_23_reads_as_poetry_on_desktop_and_phone() {
    let Some(corpus) = corpus() else { return };
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let repo = tempfile::tempdir().unwrap();
    for book in ["PSA.usfm", "JHN.usfm"] {
        std::fs::copy(corpus.join("bibles/bsb").join(book), repo.path().join(book)).unwrap();
    }
    let site = tempfile::tempdir().unwrap();
    tx::preview::build(repo.path(), site.path()).unwrap();
    let addr = serve(
        site.path().to_path_buf(),
        tx_deployer::templates::CONTENT_SECURITY_POLICY,
    )
    .await;
    let d = Driver::start(&chromium, &chromedriver).await;
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for (width, name) in [(1280, "desktop"), (390, "phone")] {
        d.s(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": 900})),
        )
        .await;
        d.goto(&format!("http://{addr}/19-PSA.html#ch-23")).await;
        d.wait_for("document.getElementById('ch-23')", 10).await;
        let (q1, q2) = (left_of(&d, "q1").await, left_of(&d, "q2").await);
        assert!(q2 > q1 + 8.0, "{name}: \\q2 starts at {q2}px, \\q1 at {q1}px");
        let heading = d.js("return document.getElementById('ch-23').textContent").await;
        assert_eq!(heading, "Psalm 23", "{name}");
        let title = d
            .js("return getComputedStyle(document.querySelector('#ch-23 ~ .d')).fontStyle")
            .await;
        assert_eq!(title, "italic", "{name}: the superscription is styled");
        d.screenshot(&shots.join(format!("psalm-23-{name}.png"))).await;
    }
    words_of_jesus_turn_red_on_request(&d, &format!("http://{addr}/44-JHN.html")).await;
    d.quit().await;
}

/// The page's script (served under the site's Content-Security-Policy)
/// offers red letters for `\wj` and remembers the choice.
async fn words_of_jesus_turn_red_on_request(d: &Driver, url: &str) {
    let color = "return getComputedStyle(document.querySelector('.scripture .wj')).color";
    d.goto(url).await;
    d.wait_for("document.querySelector('.red-letter-toggle input')", 10)
        .await;
    let plain = d.js(color).await;
    d.click(".red-letter-toggle input").await;
    let red = d.js(color).await;
    assert_ne!(plain, red, "\\wj changes colour when asked");
    d.goto(url).await;
    d.wait_for("document.querySelector('.red-letter-toggle input')", 10)
        .await;
    assert_eq!(d.js(color).await, red, "the choice is remembered");
    d.screenshot(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("john-3-red-letters.png"))
        .await;
}
