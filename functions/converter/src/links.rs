//! Rewriting links between resources into working site links.
//!
//! Door43 content links with `rc://LANG/RES/TYPE/…` URIs and with relative
//! paths between source files (`../figs-verbs/01.md`). Inside the resource
//! being converted both become `page.html#anchor`; links to other resources
//! become links to their source on Door43's forge, which always exist.

use std::collections::HashMap;

use tx_shared::rc::RcLink;

use crate::usfm::books;

/// One part of a reference to a note: a number, `front` or `intro`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A chapter or verse number (the first of a range `1–2`).
    Num(u32),
    /// `front` (the book's front matter, as a chapter).
    Front,
    /// `intro` (a chapter's introduction, as a verse).
    Intro,
}

impl Part {
    /// Reads `04`, `4.md`, `1–2.md` (a range: its first verse), `front`, `intro`.
    fn parse(s: &str) -> Option<Part> {
        let s = s.trim_end_matches(".md");
        match s {
            "front" => return Some(Part::Front),
            "intro" => return Some(Part::Intro),
            _ => {}
        }
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &s[digits..];
        let range = rest.is_empty()
            || ["-", "–", "—"].iter().any(|d| {
                rest.strip_prefix(d)
                    .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
            });
        if digits == 0 || !range {
            return None;
        }
        s[..digits].parse().ok().map(Part::Num)
    }

    fn label(self) -> String {
        match self {
            Part::Num(n) => n.to_string(),
            Part::Front => "front".into(),
            Part::Intro => "intro".into(),
        }
    }
}

/// A reference to a place in a tN or tQ book: `["act", "04", "32"]`, with
/// an optional fourth segment naming one note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRef {
    /// The book.
    pub book: &'static books::Book,
    /// The chapter, if any (`None`: the book's page).
    pub chapter: Option<Part>,
    /// The verse, if any.
    pub verse: Option<Part>,
    /// A note id (`tn-ID` on the page).
    pub id: Option<String>,
}

impl NoteRef {
    /// Reads `[book, chapter?, verse?, id?]`.
    pub fn parse(segs: &[&str]) -> Option<NoteRef> {
        let book = books::by_code(segs.first()?)?;
        if segs.len() > 4 {
            return None;
        }
        let chapter = match segs.get(1) {
            Some(c) => Some(Part::parse(c)?),
            None => None,
        };
        let verse = match segs.get(2) {
            Some(v) => Some(Part::parse(v)?),
            None => None,
        };
        let id = segs.get(3).filter(|id| !id.is_empty()).map(|id| id.to_string());
        Some(NoteRef {
            book,
            chapter,
            verse,
            id,
        })
    }

    /// The page of the book (`45-ACT.html`).
    pub fn page(&self) -> String {
        format!("{}.html", self.book.stem())
    }

    /// The anchor of the chapter and verse, as the TSV renderer writes them
    /// (`ch-4-v-32`, `ch-4-intro`, `front-intro`, `ch-4`, `front`); `None`
    /// for the book itself.
    pub fn place_anchor(&self) -> Option<String> {
        let chapter = self.chapter?.label();
        Some(match self.verse {
            None => tx_shared::rc::chapter_anchor(&chapter),
            Some(v) => tx_shared::rc::verse_anchor(&chapter, &v.label()),
        })
    }

    /// The chapter's own anchor (`ch-4`, `front`), if a chapter is named.
    pub fn chapter_anchor(&self) -> Option<String> {
        NoteRef {
            verse: None,
            id: None,
            ..self.clone()
        }
        .place_anchor()
    }

    /// `page.html#anchor`, without looking at what the page holds.
    pub fn link(&self) -> String {
        let page = self.page();
        match (&self.id, self.place_anchor()) {
            (Some(id), Some(_)) if self.verse.is_some() => format!("{page}#tn-{id}"),
            (_, Some(a)) => format!("{page}#{a}"),
            (_, None) => page,
        }
    }

    /// How a reader would write it (`Acts 4:32`), for warnings.
    pub fn label(&self) -> String {
        match (self.chapter, self.verse) {
            (None, _) => self.book.name.to_string(),
            (Some(c), None) => format!("{} {}", self.book.name, c.label()),
            (Some(c), Some(v)) => format!("{} {}:{}", self.book.name, c.label(), v.label()),
        }
    }
}

/// The page and anchor of a book, chapter and verse in a tN or tQ site
/// (`["act", "04", "32"]` → `44-ACT.html#ch-4-v-32`), the form every
/// reference to a note takes, so that a reference keeps its verse.
/// A fourth segment is a note id (`#tn-ID`); a missing verse is the chapter.
pub fn bible_ref_link(segs: &[&str]) -> Option<String> {
    NoteRef::parse(segs).map(|r| r.link())
}

/// The reference a relative link in a note of `book` makes (TSV notes are
/// written as if each verse were a file `BOOK/CC/VV.md`): `../02/03.md` is
/// verse 2:3 of the same book, `../act/04/32.md` a verse of another,
/// `../02/03/abcd` one note; with the link's `#fragment`, if any. `None`
/// when the link is not of that form.
pub fn note_ref<'u>(book: &books::Book, url: &'u str) -> Option<(NoteRef, Option<&'u str>)> {
    let (path, frag) = match url.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (url, None),
    };
    let rest = path.strip_prefix("../")?;
    let segs: Vec<&str> = rest.split('/').collect();
    let code = book.code.to_ascii_lowercase();
    let mut full: Vec<&str> = Vec::with_capacity(4);
    if segs.first().is_some_and(|s| books::by_code(s).is_some()) {
        full.extend(&segs);
    } else {
        full.push(&code);
        full.extend(&segs);
    }
    if full.len() < 2 {
        return None;
    }
    Some((NoteRef::parse(&full)?, frag))
}

/// The site link of a relative link in a note of `book` (see [`note_ref`]),
/// without looking at what the target page holds.
pub fn note_link(book: &books::Book, url: &str) -> Option<String> {
    let (r, frag) = note_ref(book, url)?;
    let link = r.link();
    Some(match frag {
        Some(f) if !link.contains('#') => format!("{link}#{f}"),
        _ => link,
    })
}

/// The anchors every tN book of a site holds, read from all the TSVs before
/// any is rendered, so a link to another book's verse is checked against
/// what that page will hold: a note's references name verses of the Bible,
/// and a verse inside a range of notes (`1:2-3`) or with no notes at all has
/// no anchor of its own.
#[derive(Debug, Default)]
pub struct NoteIndex {
    books: HashMap<&'static str, BookAnchors>,
}

/// The anchors of one tN book.
#[derive(Debug, Default)]
pub struct BookAnchors {
    /// Every place anchor (`ch-4`, `ch-4-v-32`, `ch-4-intro`).
    pub ids: std::collections::HashSet<String, crate::markdown::FastHash>,
    /// Every note id (`ID` of the anchor `tn-ID`): one per row, so kept
    /// without the prefix (one allocation each, no formatting).
    pub note_ids: std::collections::HashSet<Box<str>, crate::markdown::FastHash>,
    /// Verse ranges of rows (`chapter anchor`, first, last).
    pub ranges: Vec<(String, u32, u32)>,
    /// The last verse with notes in each chapter, by chapter anchor.
    pub last_verse: HashMap<String, u32>,
}

/// Where a reference to a note leads.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Its own anchor.
    Found(String),
    /// A nearby anchor that holds it (the range a verse is in, the chapter
    /// of a verse with no notes), with a reason to warn about when the
    /// reference is likely a mistake.
    Near(String, Option<String>),
    /// Nothing on the site.
    Missing,
}

impl NoteIndex {
    /// The anchors of `book`, to be filled in.
    pub fn book_mut(&mut self, book: &books::Book) -> &mut BookAnchors {
        self.books.entry(book.code).or_default()
    }

    /// Where `r` leads on the site.
    pub fn resolve(&self, r: &NoteRef) -> Resolved {
        let page = r.page();
        let Some(anchors) = self.books.get(r.book.code) else {
            return Resolved::Missing;
        };
        let Some(place) = r.place_anchor() else {
            return Resolved::Found(page);
        };
        if let Some(id) = &r.id {
            if anchors.note_ids.contains(id.as_str()) {
                return Resolved::Found(format!("{page}#tn-{id}"));
            }
            let found = match self.resolve(&NoteRef {
                id: None,
                ..r.clone()
            }) {
                Resolved::Found(h) | Resolved::Near(h, _) => h,
                Resolved::Missing => return Resolved::Missing,
            };
            let anchor = format!("tn-{id}");
            return Resolved::Near(found, Some(format!("no note {anchor:?} in {}", r.label())));
        }
        if anchors.ids.contains(&place) {
            return Resolved::Found(format!("{page}#{place}"));
        }
        let Some(chapter) = r.chapter_anchor().filter(|c| anchors.ids.contains(c)) else {
            return Resolved::Missing;
        };
        if let Some(Part::Num(v)) = r.verse {
            if let Some((_, first, _)) = anchors
                .ranges
                .iter()
                .find(|(c, a, b)| *c == chapter && (*a..=*b).contains(&v))
            {
                return Resolved::Near(format!("{page}#{chapter}-v-{first}"), None);
            }
            let last = anchors.last_verse.get(&chapter).copied().unwrap_or(0);
            let why = (v > last).then(|| {
                format!(
                    "{} is after the last verse with notes ({last}), so likely no verse",
                    r.label()
                )
            });
            return Resolved::Near(format!("{page}#{chapter}"), why);
        }
        Resolved::Near(format!("{page}#{chapter}"), None)
    }
}

/// Site targets of the resource being converted.
#[derive(Debug, Default, Clone)]
pub struct Linker {
    /// Language id, substituted for `*` in `rc://*/…`.
    pub language: String,
    /// Resource id being converted (`ta`, `tw`, …).
    pub resource: String,
    /// Repo-relative source path (file, or folder of a tA section) → `page.html#anchor`.
    pub paths: HashMap<String, String>,
    /// Resource-relative rc path (`translate/figs-metaphor`, `kt/god`) → href.
    pub rc: HashMap<String, String>,
}

/// Joins `rel` onto the folder of `from` (both repo-relative), resolving `.` and `..`.
pub fn resolve(from: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Whether `url` is meant to lead to a page of this site: not another site,
/// not an anchor of the same page, not mail.
fn is_local(url: &str) -> bool {
    !(url.contains("://") || url.starts_with('#') || url.starts_with("mailto:"))
}

/// Warnings about the links of one source file, as `FILE:LINE: message`.
///
/// A rewrite closure sees a link's URL, not where it stands in the source,
/// so lines are found when the file is done, for every warned link in one
/// scan of the text: a tN book holds hundreds of such links in megabytes of
/// TSV, and searching the file again for each was a tenth of its build.
#[derive(Debug)]
pub struct LinkWarnings<'a> {
    file: &'a str,
    text: &'a str,
    /// (URL, message) in the order they were found.
    found: std::cell::RefCell<Vec<(String, String)>>,
}

impl<'a> LinkWarnings<'a> {
    /// Warnings about the links of `file`, whose source is `text`.
    pub fn new(file: &'a str, text: &'a str) -> Self {
        LinkWarnings {
            file,
            text,
            found: Default::default(),
        }
    }

    /// Records `message` about the link `url`.
    pub fn push(&self, url: &str, message: String) {
        self.found.borrow_mut().push((url.to_string(), message));
    }

    /// Records that `url` leads to nothing, unless it is not meant to lead
    /// to a page of this site (see [`is_local`]): a reader would follow it
    /// into nothing.
    pub fn dead(&self, url: &str) {
        if is_local(url) {
            self.push(url, format!("link to nothing: {url}"));
        }
    }

    /// The warnings, each with the line where its URL first appears in the
    /// source (no line when the URL was made by the converter, say from
    /// `[[rc://…]]`, and is not in the text as such).
    pub fn finish(self) -> Vec<String> {
        let found = self.found.into_inner();
        if found.is_empty() {
            return Vec::new();
        }
        let lines = first_lines(self.text, found.iter().map(|(u, _)| u.as_str()));
        found
            .iter()
            .map(|(url, message)| match lines.get(url.as_str()) {
                Some(line) => format!("{}:{line}: {message}", self.file),
                None => format!("{}: {message}", self.file),
            })
            .collect()
    }
}

/// The 1-based line of the first occurrence of each of `needles` in `text`,
/// found in one pass (Aho-Corasick); needles that do not occur are absent.
fn first_lines<'n>(text: &str, needles: impl Iterator<Item = &'n str>) -> HashMap<&'n str, usize> {
    let mut needles: Vec<&str> = needles.filter(|n| !n.is_empty()).collect();
    needles.sort_unstable();
    needles.dedup();
    let Ok(searcher) = aho_corasick::AhoCorasick::new(&needles) else {
        return HashMap::new();
    };
    let mut first: Vec<Option<usize>> = vec![None; needles.len()];
    let mut left = needles.len();
    for m in searcher.find_overlapping_iter(text) {
        let slot = &mut first[m.pattern().as_usize()];
        if slot.is_none() {
            *slot = Some(m.start());
            left -= 1;
            if left == 0 {
                break;
            }
        }
    }
    let mut at: Vec<(usize, &str)> = needles
        .iter()
        .zip(first)
        .filter_map(|(n, p)| p.map(|p| (p, *n)))
        .collect();
    at.sort_unstable();
    let (mut line, mut counted) = (1, 0);
    at.into_iter()
        .map(|(p, n)| {
            line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..p]).count();
            counted = p;
            (n, line)
        })
        .collect()
}

impl Linker {
    /// [`Linker::rewrite`], recording in `warnings` every link to nothing
    /// (see [`LinkWarnings::dead`]).
    pub fn rewrite_or_warn(&self, from: &str, url: &str, warnings: &LinkWarnings) -> Option<String> {
        let found = self.rewrite(from, url);
        if found.is_none() {
            warnings.dead(url);
        }
        found
    }

    /// The site link for `url` found in file `from`, or `None` to keep it.
    pub fn rewrite(&self, from: &str, url: &str) -> Option<String> {
        if url.starts_with("rc://") {
            return Some(self.rc_link(url));
        }
        if !is_local(url) {
            return None;
        }
        let (path, frag) = match url.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (url, None),
        };
        let target = resolve(from, path)?;
        let found = self
            .paths
            .get(&target)
            .or_else(|| self.paths.get(target.trim_end_matches("/01.md")))
            .or_else(|| self.paths.get(target.trim_end_matches(".md")))?;
        Some(match frag {
            Some(f) if !found.contains('#') => format!("{found}#{f}"),
            _ => found.clone(),
        })
    }

    /// The site link of an `rc://` link: inside this resource, its page and
    /// anchor; to another resource, the normalised `rc://` link, which the
    /// deployer resolves against what the site publishes (see
    /// [`tx_shared::rc`]).
    fn rc_link(&self, url: &str) -> String {
        let Some(rc) = RcLink::parse(url, &self.language) else {
            return url.to_string();
        };
        if rc.resource != self.resource {
            return rc.to_url();
        }
        if let Some(href) = self.rc.get(&rc.article_path()) {
            return href.clone();
        }
        let segs: Vec<&str> = rc.path.iter().map(String::as_str).collect();
        if matches!(rc.resource.as_str(), "tn" | "tq")
            && let Some(link) = bible_ref_link(&segs)
        {
            return link;
        }
        rc.forge_url()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warned_links_name_the_line_they_first_stand_on() {
        let text = "a\n[x](../a.md) [y](../b.md)\n\n[z](../a.md) ../b.md\n";
        let w = LinkWarnings::new("f.md", text);
        w.dead("../b.md");
        w.dead("https://elsewhere.org/");
        w.push("../a.md", "odd".into());
        w.dead("rc-made/link.md");
        assert_eq!(
            w.finish(),
            [
                "f.md:2: link to nothing: ../b.md",
                "f.md:2: odd",
                "f.md: link to nothing: rc-made/link.md"
            ]
        );
    }

    #[test]
    fn links_inside_and_outside() {
        let mut l = Linker {
            language: "en".into(),
            resource: "ta".into(),
            ..Default::default()
        };
        l.paths.insert(
            "translate/figs-verbs".into(),
            "03-translate.html#figs-verbs".into(),
        );
        l.rc.insert(
            "translate/figs-verbs".into(),
            "03-translate.html#figs-verbs".into(),
        );
        assert_eq!(
            l.rewrite("translate/figs-events/01.md", "../figs-verbs/01.md")
                .as_deref(),
            Some("03-translate.html#figs-verbs")
        );
        assert_eq!(
            l.rewrite("a/b.md", "rc://*/ta/man/translate/figs-verbs")
                .as_deref(),
            Some("03-translate.html#figs-verbs")
        );
        assert_eq!(
            l.rewrite("a/b.md", "rc://en/tw/dict/bible/kt/god").as_deref(),
            // Another resource: left for the deployer, which knows the site.
            Some("rc://en/tw/dict/bible/kt/god")
        );
        assert_eq!(l.rewrite("a/b.md", "https://x.org/"), None);
        assert_eq!(l.rewrite("a/b.md", "../../nowhere.md"), None);
        assert_eq!(resolve("a/b/c.md", "../d.md").as_deref(), Some("a/d.md"));
        assert_eq!(
            l.rewrite("a/b.md", "rc://en/tn/help/act/04/32").as_deref(),
            Some("rc://en/tn/help/act/04/32")
        );
        l.resource = "tn".into();
        assert_eq!(
            l.rewrite("a/b.md", "rc://en/tn/help/act/04/32").as_deref(),
            Some("45-ACT.html#ch-4-v-32")
        );
    }

    #[test]
    fn note_links_keep_book_chapter_and_verse() {
        let rut = books::by_code("RUT").map(|b| b.stem());
        assert_eq!(rut.as_deref(), Some("08-RUT"));
        let Some(b) = books::by_code("RUT") else { return };
        assert_eq!(
            note_link(b, "../01/02.md").as_deref(),
            Some("08-RUT.html#ch-1-v-2")
        );
        assert_eq!(
            note_link(b, "../03/7.md").as_deref(),
            Some("08-RUT.html#ch-3-v-7")
        );
        assert_eq!(
            note_link(b, "../02/20/zu5f").as_deref(),
            Some("08-RUT.html#tn-zu5f")
        );
        assert_eq!(
            note_link(b, "../act/04/32.md").as_deref(),
            Some("45-ACT.html#ch-4-v-32")
        );
        assert_eq!(
            note_link(b, "../01/intro.md").as_deref(),
            Some("08-RUT.html#ch-1-intro")
        );
        assert_eq!(
            note_link(b, "../front/intro.md").as_deref(),
            Some("08-RUT.html#front-intro")
        );
        assert_eq!(note_link(b, "../figs-x/01.md"), None);
        assert_eq!(note_link(b, "./05.md"), None);
    }
}
