//! Translation helps that say what they are about (issue 10), on the corpus:
//! tN notes link their SupportReference and mark their Quote with the source
//! language, verse headings read "Ruth 1:1", no helps page skips a heading
//! level or goes below h4, OBS images say which frame they show and the
//! front matter has its real title. The oracles read the sources by their
//! own route (the TSV split on tabs by header name, the story Markdown line
//! by line) and the pages with an HTML parser, never the converter's code.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use scraper::{ElementRef, Html, Selector};
use tx_converter::{Limits, convert_path_to_dir};
use tx_shared::domain::navigation::Navigation;

use super::kit::corpus;

/// Converts a corpus archive into a fresh folder.
fn build(corpus: &Path, name: &str) -> (tempfile::TempDir, PathBuf) {
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    convert_path_to_dir(&corpus.join("repos").join(name), "", &site, &Limits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (out, site)
}

/// One file of a corpus archive, by the end of its path.
fn source(corpus: &Path, zip: &str, ends_with: &str) -> String {
    let f = std::fs::File::open(corpus.join("repos").join(zip)).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let name = z
        .file_names()
        .find(|n| n.ends_with(ends_with))
        .unwrap_or_else(|| panic!("{ends_with} not in {zip}"))
        .to_string();
    let mut s = String::new();
    z.by_name(&name).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// Rows of a TSV as header name → cell.
fn tsv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

fn text(e: ElementRef) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_hebrew(s: &str) -> bool {
    s.chars().any(|c| ('\u{05D0}'..='\u{05EA}').contains(&c))
}

fn is_greek(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{0370}'..='\u{03FF}').contains(&c) || ('\u{1F00}'..='\u{1FFF}').contains(&c))
}

#[test]
fn tn_notes_link_their_article_mark_their_quote_and_head_by_reference() {
    let Some(corpus) = corpus() else { return };
    let (_keep, site) = build(&corpus, "en_tn.v84.zip");
    let note_sel = sel("div.tn-note[id]");
    let (quote_sel, support_sel) = (sel(".tn-quote"), sel(".tn-support a"));
    for (code, page, name, script) in [
        ("RUT", "08-RUT.html", "Ruth", is_hebrew as fn(&str) -> bool),
        ("TIT", "57-TIT.html", "Titus", is_greek),
    ] {
        let doc = Html::parse_fragment(&std::fs::read_to_string(site.join(page)).unwrap());
        let notes: HashMap<&str, ElementRef> = doc
            .select(&note_sel)
            .filter_map(|n| Some((n.value().attr("id")?.strip_prefix("tn-")?, n)))
            .collect();
        let headings: Vec<String> = doc.select(&sel("h3.tn-verse")).map(text).collect();
        let (mut linked, mut quoted) = (0, 0);
        for row in tsv_rows(&source(&corpus, "en_tn.v84.zip", &format!("tn_{code}.tsv"))) {
            let reference = &row["Reference"];
            if let Some((c, v)) = reference.split_once(':')
                && v.bytes().all(|b| b.is_ascii_digit())
            {
                let want = format!("{name} {c}:{v}");
                assert!(headings.contains(&want), "{page}: no heading {want:?}");
            }
            let note = notes[row["ID"].as_str()];
            let support = row["SupportReference"].trim();
            if let Some(slug) = support.strip_prefix("rc://*/ta/man/translate/") {
                let a = note
                    .select(&support_sel)
                    .next()
                    .unwrap_or_else(|| panic!("{page} {reference}: no link for {support}"));
                assert_eq!(
                    a.value().attr("href"),
                    // Another resource: the deployer resolves it (site or forge).
                    Some(format!("rc://en/ta/man/translate/{slug}").as_str()),
                    "{page} {reference}"
                );
                assert_eq!(text(a), format!("translationAcademy: {slug}"));
                linked += 1;
            } else if support.is_empty() {
                assert!(note.select(&support_sel).next().is_none(), "{page} {reference}");
            }
            let quote = row["Quote"].trim();
            if !quote.is_empty() {
                let q = note.select(&quote_sel).next().unwrap();
                assert_eq!(text(q), quote.split_whitespace().collect::<Vec<_>>().join(" "));
                let (lang, dir) = (q.value().attr("lang"), q.value().attr("dir"));
                if is_hebrew(quote) {
                    assert_eq!((lang, dir), (Some("hbo"), Some("rtl")), "{page} {reference}");
                } else if is_greek(quote) {
                    assert!(lang.is_some_and(|l| l.starts_with("el")), "{page} {reference}");
                    assert_eq!(dir, Some("ltr"), "{page} {reference}");
                }
                quoted += usize::from(script(quote));
            }
        }
        eprintln!("{page}: {linked} SupportReference links, {quoted} source-language quotes checked");
        assert!(
            linked > 100 && quoted > 100,
            "{page}: {linked} links, {quoted} quotes"
        );
    }
}

/// Every pair of consecutive headings of every page of a site.
fn heading_levels(site: &Path) -> Vec<(String, Vec<u8>)> {
    let h = sel("h1, h2, h3, h4, h5, h6");
    let mut out = Vec::new();
    for e in std::fs::read_dir(site).unwrap().filter_map(|e| e.ok()) {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "html") {
            let doc = Html::parse_fragment(&std::fs::read_to_string(&p).unwrap());
            let levels = doc
                .select(&h)
                .map(|e| e.value().name()[1..].parse::<u8>().unwrap())
                .collect();
            out.push((p.file_name().unwrap().to_string_lossy().into_owned(), levels));
        }
    }
    out
}

#[test]
fn helps_headings_go_down_one_level_at_a_time_and_never_below_h4() {
    let Some(corpus) = corpus() else { return };
    for name in [
        "en_ta.v14.zip",
        "en_tn.v84.zip",
        "en_tw.zip",
        "en_tq_two_books.zip",
    ] {
        let (_keep, site) = build(&corpus, name);
        let (mut headings, mut deepest) = (0, 0);
        for (page, levels) in heading_levels(&site) {
            headings += levels.len();
            deepest = deepest.max(levels.iter().copied().max().unwrap_or(0));
            for w in levels.windows(2) {
                assert!(w[1] <= w[0] + 1, "{name} {page}: h{} after h{}", w[1], w[0]);
            }
            assert!(levels.iter().all(|&l| l <= 4), "{name} {page}: {levels:?}");
        }
        eprintln!("{name}: {headings} headings, deepest h{deepest}");
        assert!(
            headings > 50 && deepest >= 3,
            "{name}: {headings} headings, deepest h{deepest}"
        );
    }
}

#[test]
fn obs_images_say_which_frame_they_show_and_the_front_matter_has_its_title() {
    let Some(corpus) = corpus() else { return };
    let (_keep, site) = build(&corpus, "en-obs.zip");
    let img = sel("img");
    let mut checked = 0;
    for story in [1u32, 50] {
        // The oracle: the frames of the story's Markdown, image then text.
        let md = source(&corpus, "en-obs.zip", &format!("content/{story:02}.md"));
        let lines: Vec<&str> = md.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let frames: Vec<String> = lines
            .windows(2)
            .filter(|w| w[0].starts_with("![") && !w[1].starts_with("!["))
            .map(|w| w[1].split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect();
        let html = std::fs::read_to_string(site.join(format!("{story:02}.html"))).unwrap();
        let doc = Html::parse_fragment(&html);
        let alts: Vec<&str> = doc.select(&img).filter_map(|i| i.value().attr("alt")).collect();
        assert_eq!(alts.len(), frames.len(), "story {story}");
        for (n, (alt, words)) in alts.iter().zip(&frames).enumerate() {
            let want = format!("Open Bible Stories {story}-{}: ", n + 1);
            assert!(alt.starts_with(&want), "{alt:?} is not {want:?}…");
            assert!(alt.contains(words.as_str()), "{alt:?} lacks {words:?}");
            checked += 1;
        }
    }
    let nav: Navigation =
        serde_json::from_str(&std::fs::read_to_string(site.join("index.json")).unwrap()).unwrap();
    let front = nav
        .items
        .iter()
        .find(|i| i.href.as_deref() == Some("front.html"))
        .unwrap();
    assert_eq!(
        front.title, nav.title,
        "the front matter is titled as the stories are"
    );
    assert_ne!(front.title, "Notices:");
    eprintln!(
        "{checked} OBS image alt texts checked; front matter: {:?}",
        front.title
    );
}
