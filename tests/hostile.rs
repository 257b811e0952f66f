//! Hostile repository content, end to end: repositories of every Markdown
//! kind (OBS, tA, tW, tQ, generic) and TSV notes, full of script vectors
//! (issue 8's list and the OWASP XSS filter-evasion classics), are pushed to
//! a loopback forge and built by the embedded runtime like any other. Every
//! page published — the templated site and the converter's own fragments —
//! is then read with html5ever, as a browser would, and must hold no script
//! but the site's own, no event handler, no style, no `javascript:`,
//! `data:` or `vbscript:` URL, no frame, plugin, form, `<base>` or meta
//! refresh; while the harmless content around the vectors (a heading with
//! its anchor, an https link, a relative link, an id) must still be there.

use std::io::Write;
use std::time::Duration;

use scraper::{Html, Selector};
use tx::demo::DEMO_OWNER;
use tx::demo::forge::DemoForge;
use tx::runtime::Runtime;
use tx_shared::domain::build_log::BuildLog;
use tx_shared::domain::job::{commit10, site_prefix};
use tx_shared::ports::ObjectStore;

/// The webhook secret the test's forge is configured with.
const SECRET: &str = "hostile-test-secret";

/// Script vectors, each a Markdown block (or raw HTML) of its own.
const VECTORS: &[&str] = &[
    // Issue 8's list.
    "<script>alert('XSS')</script>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=\"alert(1)\"/>",
    "<svg><script>alert(1)</script></svg>",
    "[md link](javascript:alert(1))",
    "[mixed case](JaVaScRiPt:alert(1))",
    "[entity](&#106;avascript:alert(1))",
    "[hex entity](&#x6A;avascript&#x3A;alert(1))",
    "[reference style][evil] and [data reference][evil2]\n\n[evil]: javascript:alert(1)\n[evil2]: data:text/html,alert(1)",
    "<javascript:alert(1)> <JAVASCRIPT:alert(1)> <vbscript:msgbox(1)>",
    "[pointy](<java\tscript:alert(1)>)",
    "![image](javascript:alert(1)) ![data image](data:image/svg+xml;base64,PHN2Zz4=)",
    "<iframe src=\"https://xss.example/\"></iframe>",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<form action=\"https://xss.example/\"><input name=q><button formaction=\"javascript:alert(1)\">go</button></form>",
    "<object data=\"https://xss.example/x.swf\"></object>",
    "<embed src=\"https://xss.example/x.swf\">",
    "<base href=\"https://xss.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0; URL=https://xss.example/\">",
    "<div style=\"background-image: url(javascript:alert('XSS'))\">styled</div>",
    // OWASP filter-evasion classics.
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<a href=\"  javascript:alert(1)\">leading spaces</a>",
    "<a href=\"java\nscript:alert(1)\">newline inside</a>",
    "<a href=\"javascript&colon;alert(1)\">named colon</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data link</a>",
    "<a href=\"vbscript:msgbox(1)\">vbscript link</a>",
    "<a href=\"https://ok.example/\" onmouseover=\"alert(1)\">hover</a>",
    "<SCRIPT/XSS SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<SCRIPT SRC=https://xss.example/xss.js?< B >",
    "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
    "<BODY ONLOAD=alert('XSS')>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<svg/onload=alert('XSS')>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">svg link</text></a></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">math link</mi></math>",
    "<link rel=import href=\"https://xss.example/x.html\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<style>@import 'https://xss.example/xss.css';</style>",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br></UL>",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">expression</DIV>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\"><TD BACKGROUND=\"javascript:alert('XSS')\">cell</TD></TABLE>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BGSOUND SRC=\"javascript:alert('XSS');\">",
    "<BR SIZE=\"&{alert('XSS')}\">",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<u onclick=alert(1)>underlined</u> <sup>1</sup>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv\" type=\"image/svg+xml\" AllowScriptAccess=\"always\"></EMBED>",
    "<a href=\"#x\" id=\"x\" name=\"x\">self</a></div></div></main><script>alert('breakout')</script>",
];

/// Harmless content that must survive around the vectors.
const BENIGN: &str = "## Benign heading\n\nSee [the outside](https://example.org/ok), \
[a relative page](other-page.html#frag) and <span id=\"kept-anchor\">an anchored span</span>.\n";

/// Markdown holding every vector, then the harmless content.
fn hostile_markdown(title: &str) -> String {
    let mut md = format!("# {title}\n\n");
    for v in VECTORS {
        md.push_str(v);
        md.push_str("\n\nText after a vector.\n\n");
    }
    // A heading with attributes (pulldown-cmark's `{…}` syntax).
    md.push_str("## Attributes {onclick=alert(1) style=color:red}\n\n");
    md.push_str(BENIGN);
    md
}

/// One TSV note cell: tabs and line breaks cannot stand in a cell.
fn note_cell(text: &str) -> String {
    text.replace('\t', "&#x09;").replace('\n', "\\n")
}

/// A Resource Container manifest of resource `id`.
fn manifest(id: &str, title: &str) -> String {
    format!(
        "dublin_core:\n  identifier: {id}\n  title: '{title}'\n  language:\n    identifier: en\n    title: '<b onmouseover=alert(1)>English</b>'\n    direction: ltr\n"
    )
}

/// The hostile repositories, each as (name, files).
fn repos() -> Vec<(&'static str, Vec<(String, String)>)> {
    let md = hostile_markdown;
    let obs = vec![
        ("content/01.md".into(), md("The Creation")),
        ("content/02.md".into(), md("The Fall")),
        ("content/front/intro.md".into(), md("Front")),
    ];
    let ta = vec![
        (
            "intro/toc.yaml".into(),
            "title: Contents\nsections:\n  - title: Hostile\n    link: hostile\n".into(),
        ),
        (
            "intro/config.yaml".into(),
            "hostile:\n  recommended: [\"javascript:alert(1)\", \"<script>x</script>\"]\n".into(),
        ),
        (
            "intro/hostile/title.md".into(),
            "<script>alert(1)</script>".into(),
        ),
        (
            "intro/hostile/sub-title.md".into(),
            "<img src=x onerror=alert(1)>?".into(),
        ),
        ("intro/hostile/01.md".into(), md("Hostile article")),
    ];
    let tw = vec![
        ("bible/kt/god.md".into(), md("God")),
        ("bible/kt/love.md".into(), md("Love")),
        ("bible/other/javascript:alert(1).md".into(), md("Named badly")),
    ];
    let tq = vec![
        ("tit/01/01.md".into(), md("Question")),
        (
            "tit/01/x\" onclick=\"alert(1).md".into(),
            md("Badly named question"),
        ),
        ("manifest.yaml".into(), manifest("tq", "Questions")),
    ];
    let generic = vec![
        ("README.md".into(), md("Read me")),
        ("docs/guide.md".into(), md("Guide")),
        ("javascript:alert(1).md".into(), md("Badly named page")),
    ];
    let mut tsv = String::from("Reference\tID\tTags\tSupportReference\tQuote\tOccurrence\tNote\n");
    for (i, v) in VECTORS.iter().enumerate() {
        tsv.push_str(&format!(
            "1:{}\tv{i:03}\t\t\tquote\t1\t{}\n",
            i % 9 + 1,
            note_cell(v)
        ));
    }
    tsv.push_str("1:1\tx\" onclick=\"alert(1)\t\t\t<script>alert(1)</script>\t1\tHostile id and quote\n");
    tsv.push_str("2:1\tref1\t\t\t\t1\t[reference][evil] in one note\n");
    tsv.push_str("2:1\tref2\t\t\t\t1\t[evil]: javascript:alert(1)\n");
    tsv.push_str(&format!("2:2\tbenign\t\t\t\t1\t{}\n", note_cell(BENIGN)));
    tsv.push_str("2:3\tlist\t\t\t\t1\t- a list <u>item</u>\\n- [another](JavaScript:alert(1))\n");
    let tn = vec![
        ("tn_TIT.tsv".into(), tsv),
        (
            "manifest.yaml".into(),
            manifest("tn", "<script>alert(1)</script> Notes"),
        ),
    ];
    vec![
        ("en_obs", obs),
        ("en_ta", ta),
        ("en_tw", tw),
        ("en_tq", tq),
        ("en_hostile", generic),
        ("en_tn", tn),
    ]
}

/// A forge archive: one top folder named after the repository.
fn archive(repo: &str, files: &[(String, String)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in files {
        zip.start_file(format!("{repo}/{name}"), options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Elements a page may not have at all.
const FORBIDDEN: &[&str] = &[
    "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "textarea", "select",
    "base", "style", "svg", "math", "bgsound", "video", "audio", "source", "noscript", "template",
];

/// Attributes that take a URL.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "cite",
    "srcset",
    "ping",
    "lowsrc",
    "dynsrc",
];

/// A URL as a browser reads its scheme: controls and spaces anywhere
/// ignored (more than a browser does), in lower case.
fn scheme_of(url: &str) -> String {
    url.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Everything active found in one page; `templated` pages may hold the
/// site's own script, stylesheet, meta tags and Contents button.
fn active_content(html: &str, templated: bool) -> Vec<String> {
    let doc = Html::parse_document(html);
    let mut found = Vec::new();
    let all = Selector::parse("*").unwrap();
    for el in doc.select(&all) {
        let v = el.value();
        let name = v.name();
        let own = |what: &str| format!("<{name}> {what}");
        match name {
            "script" => {
                let site_script = templated
                    && v.attr("src").is_some_and(|s| s.ends_with("static/tx.js"))
                    && el.text().all(|t| t.trim().is_empty());
                if !site_script {
                    found.push(own(&format!("script {:?}", el.html())));
                }
            }
            "link" => {
                let ok = templated
                    && matches!(v.attr("rel"), Some("stylesheet") | Some("canonical"))
                    && v.attr("href")
                        .is_some_and(|h| h.ends_with("static/tx.css") || h.starts_with("http"));
                if !ok {
                    found.push(own("link"));
                }
            }
            "meta" if !templated || v.attr("http-equiv").is_some() => {
                found.push(own(&format!("meta {:?}", el.html())));
            }
            "button" if !templated => found.push(own("button")),
            n if FORBIDDEN.contains(&n) => found.push(own("element")),
            _ => {}
        }
        for (attr, value) in v.attrs() {
            let attr = attr.to_ascii_lowercase();
            if attr.starts_with("on") {
                found.push(own(&format!("event handler {attr}={value:?}")));
            }
            if attr == "style" {
                found.push(own(&format!("style={value:?}")));
            }
            let url = scheme_of(value);
            let bad_scheme = ["javascript:", "vbscript:", "data:", "livescript:"]
                .iter()
                .any(|s| url.starts_with(s));
            if URL_ATTRIBUTES.contains(&attr.as_str()) && bad_scheme {
                found.push(own(&format!("{attr}={value:?}")));
            }
        }
    }
    found
}

/// What a published page must still show of the harmless content.
fn benign_content(html: &str) -> Vec<&'static str> {
    let doc = Html::parse_document(html);
    let checks: [(&str, &str); 4] = [
        (
            "a heading with its anchor",
            "h1[id], h2[id], h3[id], h4[id], h5[id], h6[id]",
        ),
        ("the https link", "a[href=\"https://example.org/ok\"]"),
        ("the relative link", "a[href=\"other-page.html#frag\"]"),
        ("the anchored span", "span#kept-anchor"),
    ];
    checks
        .iter()
        .filter(|(_, css)| doc.select(&Selector::parse(css).unwrap()).next().is_none())
        .map(|(what, _)| *what)
        .collect()
}

async fn text_of(store: &dyn ObjectStore, key: &str) -> String {
    let bytes = store
        .get(key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{key} is missing"));
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_repositories_publish_no_active_content() {
    let dir = tempfile::tempdir().unwrap();
    let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
    let runtime = Runtime::start(forge.runtime_options(dir.path(), SECRET))
        .await
        .unwrap();
    let backend = runtime.local().expect("local backend");
    let http = reqwest::Client::new();
    let hook = format!("{}/client/webhook", runtime.url());

    let repos = repos();
    let mut prefixes = Vec::new();
    for (i, (name, files)) in repos.iter().enumerate() {
        let commit = format!("{:040x}", 0xbad0_0000_u64 + i as u64);
        forge.publish(name, &commit, archive(name, files));
        let (status, body) = forge
            .send_push(&http, &hook, SECRET, name, &commit, "hostile push")
            .await
            .unwrap();
        assert_eq!(status, 202, "{name}: {body}");
        prefixes.push((*name, site_prefix(DEMO_OWNER, name, commit10(&commit))));
    }

    for (name, prefix) in &prefixes {
        let mut log = None;
        for _ in 0..1200 {
            if let Some(bytes) = backend
                .website
                .get(&format!("{prefix}build_log.json"))
                .await
                .unwrap()
            {
                let l: BuildLog = serde_json::from_slice(&bytes).unwrap();
                if l.status.is_final()
                    && backend
                        .website
                        .get(&format!("{prefix}index.html"))
                        .await
                        .unwrap()
                        .is_some()
                {
                    log = Some(l);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = log.unwrap_or_else(|| panic!("{name} was not published in 120 s"));
        assert!(log.success, "{name}: {:?}", log.errors);

        // The converter's fragments (served from the CDN bucket) and the
        // templated site (the website bucket): every page.
        let mut pages = 0;
        let mut benign_pages = 0;
        let mut missing = Vec::new();
        for (store, templated) in [(backend.cdn.as_ref(), false), (backend.website.as_ref(), true)] {
            for key in store.list(prefix).await.unwrap() {
                if !key.ends_with(".html") {
                    continue;
                }
                let html = text_of(store, &key).await;
                let found = active_content(&html, templated);
                assert!(found.is_empty(), "{key}: {found:#?}");
                pages += 1;
                // The harmless content survived on every page that holds it.
                if html.contains("Benign heading") {
                    benign_pages += 1;
                    missing.extend(benign_content(&html).into_iter().map(|m| format!("{key}: {m}")));
                }
            }
        }
        assert!(pages >= 4, "{name}: only {pages} pages looked at");
        assert!(
            benign_pages >= 2,
            "{name}: the benign content is on {benign_pages} pages"
        );
        assert!(missing.is_empty(), "{name}: {missing:#?}");
    }

    // `tx serve` sends the site's Content-Security-Policy with its pages.
    let (_, prefix) = &prefixes[0];
    let response = http
        .get(format!("{}/{prefix}", runtime.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-security-policy"],
        tx_deployer::templates::CONTENT_SECURITY_POLICY
    );
    runtime.stop().await;
    forge.stop().await;
}

/// The converter's fast paths (bare tags, plain notes) skip the sanitiser:
/// over every combination of a few raw-HTML and link pieces, whatever path
/// a piece takes, what comes out holds no active content.
#[test]
fn every_path_through_the_markdown_renderers_is_clean() {
    use tx_converter::markdown::{MdOptions, render};
    use tx_converter::simple_markdown::render_simple;

    let pieces = [
        "<u>",
        "</u>",
        "<b>",
        "</b>",
        "<blockquote>",
        "</blockquote>",
        "<br>",
        "<div>",
        "</div>",
        "<u onclick=alert(1)>",
        "<img src=x onerror=alert(1)>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "[a](javascript:x)",
        "[b](https://ok.example/)",
        "<javascript:x>",
        "**",
        "\n\n",
        "- ",
        "> ",
        "text",
        "<svg onload=alert(1)>",
        "[c]",
        "\n[c]: vbscript:x\n",
    ];
    let mut checked = 0;
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let md = format!("{a}{b}{c}");
                let html = render(&md, &MdOptions::default());
                let found = active_content(&html, false);
                assert!(found.is_empty(), "{md:?} → {html:?}: {found:?}");
                let mut fast = String::new();
                if render_simple(&mut fast, &md, None) {
                    assert!(active_content(&fast, false).is_empty(), "{md:?} → {fast:?}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, pieces.len().pow(3));
}
