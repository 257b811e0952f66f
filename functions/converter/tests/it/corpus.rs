//! Corpus tests: the real repositories, Bibles and USFM fixtures in
//! `shared/corpus` (never copied into the project). Skipped with a message
//! when the corpus is absent, unless `CI=true`, where that is a failure.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use super::kit::{corpus, repo_zips};

use tx_converter::bundle::MemorySink;
use tx_converter::tree::SourceTree;
use tx_converter::{Limits, convert_path_to_zip, convert_tree, usfm};
use tx_shared::domain::manifest::{NormalizedManifest, ResourceType};
use tx_shared::domain::navigation::Navigation;

fn expected_type(name: &str) -> Option<ResourceType> {
    use ResourceType::*;
    Some(match name {
        "unknown_resource.zip" => return None,
        n if n.contains("obs") => Obs,
        n if n.contains("_ta") || n.contains("-ta-") => Ta,
        n if n.contains("_tn") => Tn,
        n if n.contains("_tq") => Tq,
        n if n.contains("_tw") => Tw,
        _ => Bible,
    })
}

fn is_damaged(name: &str) -> bool {
    name.contains("broken") || name.contains("missing")
}

fn read_zip_entry(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> String {
    let mut s = String::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("{name} missing from output: {e}"))
        .read_to_string(&mut s)
        .unwrap();
    s
}

#[test]
fn every_repo_converts_with_the_right_type() {
    let Some(corpus) = corpus() else { return };
    let names = repo_zips(&corpus);
    assert!(names.len() >= 30, "{names:?}");
    let out = tempfile::tempdir().unwrap();
    for name in names {
        let input = corpus.join("repos").join(&name);
        let out_zip = out.path().join(&name);
        let result = convert_path_to_zip(&input, "", &out_zip, &Limits::default());
        let Some(want) = expected_type(&name) else {
            let err = result.expect_err("unknown_resource.zip must fail").to_string();
            assert!(
                err.contains("unsupported resource type") && err.contains("unkonwn"),
                "{name}: {err}"
            );
            continue;
        };
        let report = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.manifest.resource_type, want, "{name}");
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        if is_damaged(&name) {
            assert!(
                !report.warnings.is_empty(),
                "{name}: damaged input gave no warnings"
            );
        }
        assert!(report.log.len() >= 3, "{name}: {:?}", report.log);
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&out_zip).unwrap()).unwrap();
        let nav: Navigation = serde_json::from_str(&read_zip_entry(&mut zip, "index.json")).unwrap();
        let manifest: NormalizedManifest =
            serde_json::from_str(&read_zip_entry(&mut zip, "manifest.json")).unwrap();
        let _ = read_zip_entry(&mut zip, "manifest.yaml");
        assert_eq!(manifest.resource_type, want, "{name}");
        assert_eq!(nav.resource_type, want, "{name}");
        assert!(
            !nav.pages.is_empty() && nav.pages.len() == nav.items.len(),
            "{name}"
        );
        for page in &nav.pages {
            let html = read_zip_entry(&mut zip, page);
            assert!(
                !html.contains("<html") && !html.contains("<body"),
                "{name}/{page} is not a fragment"
            );
        }
        if want == ResourceType::Bible {
            for item in &nav.items {
                let href = item.href.as_deref().unwrap_or("");
                assert!(
                    href.len() > 8 && href.as_bytes()[2] == b'-',
                    "{name}: page {href} not NN-CODE.html"
                );
            }
        }
    }
}

#[test]
fn expected_pages_for_each_layout() {
    let Some(corpus) = corpus() else { return };
    let check = |zip: &str, pages: &[&str], anchors: &[(&str, &str)]| {
        let tree = tx_converter::open_input(&corpus.join("repos").join(zip), &Limits::default()).unwrap();
        let mut sink = MemorySink::default();
        convert_tree(&tree, zip.trim_end_matches(".zip"), &mut sink).unwrap_or_else(|e| panic!("{zip}: {e}"));
        for p in pages {
            assert!(
                sink.text(p).is_some(),
                "{zip}: no {p}; got {:?}",
                sink.files.iter().map(|f| &f.0).collect::<Vec<_>>()
            );
        }
        for (page, needle) in anchors {
            let html = sink.text(page).unwrap_or_default();
            assert!(html.contains(needle), "{zip}/{page} lacks {needle:?}");
        }
    };
    check(
        "aa_php_text_ulb.zip",
        &["51-PHP.html"],
        &[("51-PHP.html", "id=\"ch-1-v-1\"")],
    );
    check(
        "en-ulb-separate-projects.zip",
        &[
            "01-GEN.html",
            "02-EXO.html",
            "03-LEV.html",
            "04-NUM.html",
            "05-DEU.html",
        ],
        &[],
    );
    check("51-PHP.zip", &["51-PHP.html"], &[]);
    check(
        "en-obs.zip",
        &["01.html", "50.html"],
        &[("01.html", "The Creation")],
    );
    check(
        "aab_obs_text_obs.zip",
        &["01.html", "50.html"],
        &[("01.html", "obs-aab-01-01.jpg")],
    );
    check("en-obs-rc-0.2.zip", &["01.html", "front.html"], &[]);
    check(
        "en_ta.zip",
        &["01-intro.html", "03-translate.html"],
        &[
            ("03-translate.html", "id=\"figs-metaphor\""),
            ("03-translate.html", "This page answers the question"),
            ("03-translate.html", "href=\"03-translate.html#figs-"),
        ],
    );
    check(
        "en_tw.zip",
        &["kt.html", "names.html", "other.html"],
        &[("kt.html", "id=\"god\"")],
    );
    check(
        "en_tn_2books.zip",
        &["02-EXO.html", "03-LEV.html"],
        &[("02-EXO.html", "id=\"ch-1-v-1\"")],
    );
    check(
        "en_tq_two_books.zip",
        &["51-PHP.html"],
        &[("51-PHP.html", "id=\"ch-1-v-1\"")],
    );
    check("en_tq_with_one_md_file.zip", &["51-PHP.html"], &[]);
    check(
        "en_tn.v84.zip",
        &["01-GEN.html", "67-REV.html"],
        &[("57-TIT.html", "id=\"ch-1-v-1\""), ("57-TIT.html", "<strong>")],
    );
}

/// `(chapter, verse)` pairs named by `\c` and `\v` in a USFM text, counted
/// independently of the converter (ranges expanded).
fn source_verses(text: &str) -> BTreeSet<(u32, u32)> {
    let mut out = BTreeSet::new();
    let mut chapter = 1;
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(p) = text[i..].find('\\') {
        let at = i + p;
        let rest = &text[at + 1..];
        let num = |s: &str| -> (Option<u32>, Option<u32>) {
            let s = s.trim_start();
            let a: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
            let after = &s[a.len()..];
            let b = after
                .strip_prefix('-')
                .map(|r| r.chars().take_while(|c| c.is_ascii_digit()).collect::<String>());
            (a.parse().ok(), b.and_then(|b| b.parse().ok()))
        };
        if (rest.starts_with("c ") || rest.starts_with("c\t")) && (at == 0 || bytes[at - 1] != b'+') {
            if let (Some(c), _) = num(&rest[2..]) {
                chapter = c;
            }
        } else if rest.starts_with("v ")
            && let (Some(a), b) = num(&rest[2..])
        {
            for v in a..=b.unwrap_or(a).max(a) {
                out.insert((chapter, v));
            }
        }
        i = at + 1;
    }
    out
}

fn html_verses(html: &str) -> BTreeSet<(u32, u32)> {
    let mut out = BTreeSet::new();
    for part in html.split("id=\"ch-").skip(1) {
        let id = &part[..part.find('"').unwrap_or(0)];
        if let Some((c, v)) = id.split_once("-v-") {
            let v: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let (Ok(c), Ok(v)) = (c.parse(), v.parse()) {
                out.insert((c, v));
            }
        }
    }
    out
}

fn check_every_verse(folder: &Path, min_books: usize) {
    let mut books = 0;
    let mut total = 0;
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "usfm"))
    {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let r = usfm::render_book(&text, &name, usfm::from_name(&name));
        if r.book.is_some_and(|b| !b.is_canonical()) {
            continue;
        }
        let want = source_verses(&text);
        let got = html_verses(&r.html);
        let missing: Vec<_> = want.difference(&got).take(5).collect();
        assert!(
            missing.is_empty(),
            "{name}: verses missing from the HTML: {missing:?}"
        );
        assert!(!want.is_empty(), "{name}: no verses counted");
        assert!(
            !r.html.contains("\\v ") && !r.html.contains("\\zaln"),
            "{name}: markers leaked into HTML"
        );
        assert_eq!(
            r.verse_count,
            want.len(),
            "{name}: renderer count differs from the source count"
        );
        books += 1;
        total += want.len();
    }
    assert!(books >= min_books, "{}: only {books} books", folder.display());
    eprintln!("{}: {books} books, {total} verses all present", folder.display());
}

#[test]
fn whole_bibles_keep_every_verse() {
    let Some(corpus) = corpus() else { return };
    check_every_verse(&corpus.join("bibles/bsb"), 66);
    check_every_verse(&corpus.join("bibles/web"), 66);
}

#[test]
fn aligned_ult_keeps_every_verse() {
    let Some(corpus) = corpus() else { return };
    // Unpacked by the zip crate itself, not by the converter's reader.
    let work = tempfile::tempdir().unwrap();
    let archive = std::fs::File::open(corpus.join("repos/en_ult.zip")).unwrap();
    zip::ZipArchive::new(archive)
        .unwrap()
        .extract(work.path())
        .unwrap();
    let top = std::fs::read_dir(work.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    check_every_verse(&top, 60);
}

#[test]
fn an_archive_read_in_place_converts_as_its_unpacked_folder() {
    let Some(corpus) = corpus() else { return };
    let zip_path = corpus.join("repos/en_ult.zip");
    let work = tempfile::tempdir().unwrap();
    zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap())
        .unwrap()
        .extract(work.path())
        .unwrap();
    let convert = |tree: &SourceTree| {
        let mut sink = MemorySink::default();
        convert_tree(tree, "en_ult", &mut sink).unwrap();
        sink.files
    };
    let in_place = convert(&tx_converter::open_input(&zip_path, &Limits::default()).unwrap());
    let from_folder = convert(&SourceTree::from_folder(work.path(), 1 << 26).unwrap());
    assert!(in_place.len() > 60, "{} pages", in_place.len());
    assert!(
        in_place == from_folder,
        "the archive and its folder convert differently"
    );
}

#[test]
fn usfm_js_fixtures_convert_without_panic() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("usfm-fixtures/usfm-js");
    let mut count = 0;
    let mut warned = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let bytes = std::fs::read(&path).unwrap();
        let (text, _) = tx_converter::tree::decode_text(bytes);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let r = usfm::render_book(&text, &name, usfm::from_name(&name));
        if !r.warnings.is_empty() {
            warned.push(name.clone());
        }
        count += 1;
    }
    assert_eq!(count, 90);
    for broken in [
        "missing_chapters.usfm",
        "missing_verses.usfm",
        "out_of_sequence_verses.usfm",
        "invalid.usfm",
    ] {
        assert!(
            warned.iter().any(|w| w == broken),
            "{broken} gave no warning; warned: {warned:?}"
        );
    }
}

/// The fast path for one-line notes renders every note of en_tn it accepts
/// exactly as pulldown-cmark does, and accepts most of them.
#[test]
fn simple_notes_render_like_pulldown_cmark() {
    use tx_converter::markdown::{MdOptions, render};
    use tx_converter::simple_markdown::render_simple;
    use tx_converter::tsv::note_markdown;
    let Some(corpus) = corpus() else { return };
    let file = std::fs::File::open(corpus.join("repos/en_tn.v84.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let rewrite = |u: &str| u.strip_prefix("rc://").map(|r| format!("https://door43.org/{r}"));
    let opts = MdOptions {
        demote: 4,
        id_prefix: "tn-",
        links: Some(&rewrite),
    };
    let (mut notes, mut accepted) = (0, 0);
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        if !entry.name().ends_with(".tsv") {
            continue;
        }
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        for line in text.lines().skip(1) {
            let Some(cell) = line.split('\t').nth(6) else {
                continue;
            };
            let md = note_markdown(cell);
            notes += 1;
            let mut fast = String::new();
            if render_simple(&mut fast, &md, Some(&rewrite)) {
                accepted += 1;
                assert_eq!(fast, render(&md, &opts), "note {md:?}");
            }
        }
    }
    eprintln!("{accepted} of {notes} notes took the fast path");
    assert!(notes > 90_000, "{notes}");
    assert!(accepted * 2 > notes, "only {accepted} of {notes}");
}

/// en_ult's manifest lists four books its archive lacks: each is said,
/// and no other.
#[test]
fn books_the_manifest_lists_but_the_repo_lacks_are_warned_about() {
    let Some(corpus) = corpus() else { return };
    let report =
        tx_converter::convert_path_dry(&corpus.join("repos/en_ult.zip"), "", &Limits::default()).unwrap();
    let absent: Vec<&String> = report
        .warnings
        .iter()
        .filter(|w| w.starts_with("the manifest lists"))
        .collect();
    for code in ["GEN", "PSA", "ISA", "EZK"] {
        assert!(
            absent.iter().any(|w| w.contains(&format!("lists {code} "))),
            "{code}: {absent:?}"
        );
    }
    assert_eq!(absent.len(), 4, "{absent:?}");
}

/// The World English Bible is clean USFM: a build of it says nothing, so a
/// warning is never noise.
#[test]
fn a_clean_bible_gives_no_warning() {
    let Some(corpus) = corpus() else { return };
    let report =
        tx_converter::convert_path_dry(&corpus.join("bibles/web"), "web", &Limits::default()).unwrap();
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
}
