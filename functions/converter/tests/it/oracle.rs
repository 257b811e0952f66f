//! The verse-text oracle: every verse's text read back from the HTML equals
//! the same verse's text computed from the source by another route, the
//! `usfm3` crate's own `Document::vref_text()` (notes excluded, character
//! markers dropped with their delimiter space, headings and other non-verse
//! paragraphs left out), and no verse number lies inside a note.
//!
//! The HTML side is read with an HTML parser (html5ever, through `scraper`),
//! by these rules, which know the page's vocabulary but nothing of how it is
//! made: a verse runs from its number (`span.v-num`, id `ch-C-v-V`) to the
//! next; verse numbers (`.v-num`, `.va`, `.vp`, `.ca`), note callers and the
//! notes (`div.footnotes`) are not verse text; headings and sidebars
//! (`aside`) are not verse text unless a verse begins inside them; block
//! boundaries separate words. Both sides have ASCII whitespace collapsed;
//! nothing else is normalised.
//!
//! Verses that must differ are listed in [`EXPECTED`] with the rule that
//! makes them differ.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use scraper::{ElementRef, Html, Node};
use tx_converter::bundle::MemorySink;
use tx_converter::manifest;
use tx_converter::preprocess::{Context, bible};
use tx_converter::tree::{SourceTree, decode_text};
use tx_converter::{Limits, convert_tree, usfm};

use super::kit::corpus;

/// A verse: (chapter, first verse number).
type Key = (u32, u32);

/// Verses whose text must differ from `vref_text`, and why: (file, verse,
/// the rule of USFM 3 that the page follows and the other route does not).
const EXPECTED: &[(&str, &str, &str)] = &[
    (
        "acts-1-20.aligned.usfm",
        "1:20",
        "a paragraph marker between two words (`desolate,\\q\\zaln-s`) breaks them; usfm3 joins them",
    ),
    (
        "acts-1-20.aligned.crammed.oldformat.usfm",
        "1:20",
        "a paragraph marker between two words (`Psalms\\zaln-e\\*,\\q'`) breaks them; usfm3 joins them",
    ),
    (
        "mat-4-6.usfm",
        "4:6",
        "a paragraph marker between two words (`hands,\\q\\zaln-s`) breaks them; usfm3 joins them",
    ),
    (
        "45-ACT.ugnt.oldformat.usfm",
        "7:59",
        "text after an unclosed milestone's attributes is text (a milestone holds attributes only); usfm3 drops it with the milestone",
    ),
    (
        "inline_words.usfm",
        "1:13",
        "an introduction paragraph (`\\ip`) after a verse is shown after it; usfm3 leaves it out as not verse text",
    ),
    (
        "usfmIntroTest.usfm",
        "1:13",
        "an introduction paragraph (`\\ip`) after a verse is shown after it; usfm3 leaves it out as not verse text",
    ),
    (
        "usfmIntroTestCleaned.usfm",
        "1:13",
        "an introduction paragraph (`\\ip`) after a verse is shown after it; usfm3 leaves it out as not verse text",
    ),
    (
        "missing_chapters.usfm",
        "0:1",
        "verses before any `\\c`: usfm3 files them under chapter 0, the page under 1",
    ),
    (
        "missing_chapters.usfm",
        "0:2",
        "verses before any `\\c`: usfm3 files them under chapter 0, the page under 1",
    ),
    (
        "missing_chapters.usfm",
        "1:1",
        "verses before any `\\c`: usfm3 files them under chapter 0, the page under 1",
    ),
    (
        "missing_chapters.usfm",
        "1:2",
        "verses before any `\\c`: usfm3 files them under chapter 0, the page under 1",
    ),
];

fn expected(file: &str, key: Key) -> bool {
    let label = format!("{}:{}", key.0, key.1);
    EXPECTED.iter().any(|(f, v, _)| file.ends_with(f) && *v == label)
}

/// Collapses runs of ASCII whitespace to one space, trimmed.
fn collapse(s: &str) -> String {
    s.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// Verse texts of a USFM source, by the `usfm3` crate's own route.
fn source_verses(src: &str) -> BTreeMap<Key, Vec<String>> {
    let doc = usfm3::parse(src, usfm3::Version::V3_1);
    let mut out: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for (r, text) in doc.vref_text().iter() {
        out.entry((r.chapter() as u32, r.verse() as u32))
            .or_default()
            .push(collapse(text));
    }
    out
}

#[derive(Default)]
struct HtmlVerses {
    rows: Vec<(Key, String)>,
    /// Ids of verse numbers found inside notes.
    in_notes: Vec<String>,
}

fn verse_key(id: &str) -> Option<Key> {
    let rest = id.strip_prefix("ch-")?;
    let (c, v) = rest.split_once("-v-")?;
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    Some((c.parse().ok()?, digits.parse().unwrap_or(0)))
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "section"
            | "aside"
            | "li"
            | "ul"
            | "ol"
            | "br"
            | "blockquote"
            | "figure"
    )
}

impl HtmlVerses {
    fn read(html: &str) -> HtmlVerses {
        let doc = Html::parse_fragment(html);
        let mut v = HtmlVerses::default();
        v.walk(doc.root_element(), false, false);
        v
    }

    fn push(&mut self, s: &str) {
        if let Some((_, text)) = self.rows.last_mut() {
            text.push_str(s);
        }
    }

    /// `note`: inside the notes; `aside`: inside a heading or sidebar where
    /// no verse has begun yet.
    fn walk(&mut self, el: ElementRef<'_>, note: bool, aside: bool) {
        let mut aside = aside;
        for child in el.children() {
            match child.value() {
                Node::Text(t) if !note && !aside => self.push(t),
                Node::Element(e) => {
                    let Some(child_el) = ElementRef::wrap(child) else {
                        continue;
                    };
                    let has = |c: &str| e.classes().any(|x| x == c);
                    if has("v-num") {
                        let id = e.id().unwrap_or("").to_string();
                        if note {
                            self.in_notes.push(id);
                        } else if let Some(key) = verse_key(&id) {
                            self.rows.push((key, String::new()));
                            aside = false;
                        }
                        continue;
                    }
                    if has("footnote-ref") || has("xref-ref") || has("va") || has("vp") || has("ca") {
                        continue;
                    }
                    let name = e.name();
                    let block = is_block(name);
                    if block {
                        self.push(" ");
                    }
                    let heading = name.len() == 2 && name.starts_with('h') || name == "aside";
                    let before = self.rows.len();
                    self.walk(child_el, note || has("footnotes"), aside || heading);
                    if heading && self.rows.len() > before {
                        // A verse began inside: what follows is verse text.
                        aside = false;
                    }
                    if block {
                        self.push(" ");
                    }
                }
                _ => {}
            }
        }
    }

    fn by_key(&self) -> BTreeMap<Key, Vec<String>> {
        let mut out: BTreeMap<Key, Vec<String>> = BTreeMap::new();
        for (k, t) in &self.rows {
            out.entry(*k).or_default().push(collapse(t));
        }
        out
    }
}

/// What one file's comparison found.
#[derive(Default)]
struct Tally {
    verses: usize,
    differing: Vec<String>,
    in_notes: Vec<String>,
}

impl Tally {
    fn compare(&mut self, file: &str, src: &str, html: &str) {
        let want = source_verses(src);
        let read = HtmlVerses::read(html);
        let got = read.by_key();
        for id in read.in_notes {
            self.in_notes.push(format!("{file} {id}"));
        }
        for (key, texts) in &want {
            self.verses += texts.len();
            let label = format!("{}:{}", key.0, key.1);
            if expected(file, *key) {
                continue;
            }
            let have = got.get(key).cloned().unwrap_or_default();
            if &have != texts {
                self.differing
                    .push(format!("{file} {label}\n  source: {texts:?}\n  html:   {have:?}"));
            }
        }
        for key in got
            .keys()
            .filter(|k| !want.contains_key(k) && !expected(file, **k))
        {
            self.differing
                .push(format!("{file} {}:{} only in the HTML", key.0, key.1));
        }
    }

    fn assert_clean(&self, what: &str) {
        let report = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("verse-oracle-{}.txt", what.replace(['/', ' '], "-")));
        let mut all = self.differing.join("\n");
        all.push('\n');
        all.push_str(&self.in_notes.join("\n"));
        std::fs::write(&report, all).unwrap();
        eprintln!(
            "{what}: {} verses compared, {} differ, {} inside notes",
            self.verses,
            self.differing.len(),
            self.in_notes.len()
        );
        assert!(
            self.differing.is_empty() && self.in_notes.is_empty(),
            "{what}: {} verses differ, {} verse numbers inside notes (all in {}); first:\n{}\n{}",
            self.differing.len(),
            self.in_notes.len(),
            report.display(),
            self.differing
                .iter()
                .take(12)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n"),
            self.in_notes
                .iter()
                .take(12)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(self.verses > 0, "{what}: no verses compared");
    }
}

fn sorted_files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Renders each loose USFM file of `dir` and compares it.
fn compare_folder(dir: &Path, tally: &mut Tally) {
    for path in sorted_files(dir, "usfm") {
        let (src, _) = decode_text(std::fs::read(&path).unwrap());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let html = usfm::render_book(&src, &name, usfm::from_name(&name)).html;
        tally.compare(&name, &src, &html);
    }
}

#[test]
fn whole_bibles_read_back_verse_for_verse() {
    let Some(corpus) = corpus() else { return };
    for bible in ["bibles/bsb", "bibles/web"] {
        let mut tally = Tally::default();
        compare_folder(&corpus.join(bible), &mut tally);
        tally.assert_clean(bible);
    }
}

#[test]
fn usfm_js_fixtures_read_back_verse_for_verse() {
    let Some(corpus) = corpus() else { return };
    let mut tally = Tally::default();
    compare_folder(&corpus.join("usfm-fixtures/usfm-js"), &mut tally);
    tally.assert_clean("usfm-js fixtures");
}

/// The USFM of every book a Bible repository publishes, and its page: the
/// files as written, or the book translationStudio chunks assemble into.
fn repo_books(zip: &Path) -> Vec<(String, String, String)> {
    let tree = tx_converter::open_input(zip, &Limits::default()).unwrap();
    let name = zip.file_stem().unwrap().to_string_lossy().into_owned();
    let mut sink = MemorySink::default();
    convert_tree(&tree, &name, &mut sink).unwrap();
    let page = |stem: String| sink.text(&format!("{stem}.html")).unwrap_or_default();
    let mut books = Vec::new();
    for f in tree
        .files
        .iter()
        .filter(|f| f.to_ascii_lowercase().ends_with(".usfm"))
    {
        let (src, _) = tree.read_text(f).unwrap();
        if let Some(book) = bible::id_code(&src) {
            books.push((f.clone(), page(book.stem()), src));
        }
    }
    if books.is_empty() {
        books.extend(assembled_book(&tree, &name).map(|(b, src)| (b.clone(), page(b), src)));
    }
    books
}

fn assembled_book(tree: &SourceTree, name: &str) -> Option<(String, String)> {
    let (m, _) = manifest::detect(tree, name).ok()?;
    let book = m
        .projects
        .iter()
        .find_map(|p| usfm::by_code(&p.identifier))
        .or(usfm::from_name(name))?;
    let ctx = Context {
        tree,
        manifest: &m,
        repo_name: name,
    };
    let (src, _) = bible::assemble_ts_book(&ctx, book, &mut Vec::new()).ok()?;
    Some((book.stem(), src))
}

fn is_bible_repo(name: &str) -> bool {
    !["obs", "_ta", "-ta-", "_tn", "_tq", "_tw", "unknown"]
        .iter()
        .any(|t| name.contains(t))
}

#[test]
fn every_bible_repo_reads_back_verse_for_verse() {
    let Some(corpus) = corpus() else { return };
    let mut tally = Tally::default();
    let mut repos = 0;
    for zip in sorted_files(&corpus.join("repos"), "zip") {
        let name = zip.file_name().unwrap().to_string_lossy().into_owned();
        if !is_bible_repo(&name) {
            continue;
        }
        let books = repo_books(&zip);
        assert!(!books.is_empty(), "{name}: no USFM book found");
        for (file, html, src) in books {
            assert!(!html.is_empty(), "{name}: no page for {file}");
            tally.compare(&format!("{name}/{file}"), &src, &html);
        }
        repos += 1;
    }
    assert!(repos >= 13, "only {repos} Bible repositories");
    tally.assert_clean("Bible repositories");
}

#[test]
fn the_reported_verses_read_right() {
    let Some(corpus) = corpus() else { return };
    let verse = |zip: &str, book: &str, key: Key| -> String {
        let books = repo_books(&corpus.join("repos").join(zip));
        let (_, html, _) = books.iter().find(|(f, _, _)| f.contains(book)).unwrap();
        let got = HtmlVerses::read(html).by_key();
        got.get(&key).map(|t| t.join(" ")).unwrap_or_default()
    };
    let gen_1_27 = verse("en-ulb.zip", "GEN", (1, 27));
    assert!(
        gen_1_27.starts_with("God created man in his own image"),
        "{gen_1_27}"
    );
    let ruth = verse("en_ult.zip", "RUT", (1, 6));
    assert!(ruth.contains("her daughters-in-law"), "{ruth}");
    let exo = verse("en_ult.zip", "EXO", (12, 37));
    assert!(exo.contains("600,000"), "{exo}");
    let mut s = String::new();
    std::fs::File::open(corpus.join("usfm-fixtures/usfm-js/misc_footnotes.usfm"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    let html = usfm::render_book(&s, "misc_footnotes.usfm", None).html;
    let (text, _) = html
        .split_once("<div class=\"footnotes\">")
        .unwrap_or((&html, ""));
    assert_eq!(
        text.matches("class=\"v-num\"").count(),
        s.matches("\\v ").count(),
        "{html}"
    );
}
