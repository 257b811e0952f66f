//! Rewriting links between resources into working site links.
//!
//! Door43 content links with `rc://LANG/RES/TYPE/…` URIs and with relative
//! paths between source files (`../figs-verbs/01.md`). Inside the resource
//! being converted both become `page.html#anchor`; links to other resources
//! become links to their source on Door43's forge, which always exist.

use std::collections::HashMap;

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
        let c = self.chapter?;
        Some(match (c, self.verse) {
            (Part::Front, None) => "front".to_string(),
            (c, None) => format!("ch-{}", c.label()),
            (Part::Front, Some(Part::Intro)) => "front-intro".to_string(),
            (c, Some(Part::Intro)) => format!("ch-{}-intro", c.label()),
            (c, Some(v)) => format!("ch-{}-v-{}", c.label(), v.label()),
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
    /// Every plain anchor (`ch-4`, `ch-4-v-32`, `ch-4-intro`, `tn-ID`).
    pub ids: std::collections::HashSet<String, crate::markdown::FastHash>,
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
            let id = format!("tn-{id}");
            if anchors.ids.contains(&id) {
                return Resolved::Found(format!("{page}#{id}"));
            }
            let found = match self.resolve(&NoteRef {
                id: None,
                ..r.clone()
            }) {
                Resolved::Found(h) | Resolved::Near(h, _) => h,
                Resolved::Missing => return Resolved::Missing,
            };
            return Resolved::Near(found, Some(format!("no note {id:?} in {}", r.label())));
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

/// Where the forge serves other resources' sources.
pub const FORGE_BASE: &str = "https://git.door43.org/unfoldingWord";

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

/// The warning for a link in `text` (the source file `from`) that `rewrite`
/// could not resolve, as `FILE:LINE: link to nothing: URL`, or `None` when
/// the link is not meant to be resolved here (another site, an anchor of
/// the same page, mail). A reader would follow such a link into nothing.
pub fn dead_link(from: &str, text: &str, url: &str) -> Option<String> {
    if url.contains("://") || url.starts_with('#') || url.starts_with("mailto:") {
        return None;
    }
    Some(format!("{from}:{}: link to nothing: {url}", line_of(text, url)))
}

/// The line of `text` where `url` first appears (0 when it does not).
pub fn line_of(text: &str, url: &str) -> usize {
    text.find(url).map_or(0, |at| {
        1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..at]).count()
    })
}

impl Linker {
    /// [`Linker::rewrite`], recording in `dead` a warning for every link to
    /// nothing (see [`dead_link`]); `text` is the source, for line numbers.
    pub fn rewrite_or_warn(
        &self,
        from: &str,
        text: &str,
        url: &str,
        dead: &std::cell::RefCell<Vec<String>>,
    ) -> Option<String> {
        let found = self.rewrite(from, url);
        if found.is_none()
            && let Some(w) = dead_link(from, text, url)
        {
            dead.borrow_mut().push(w);
        }
        found
    }

    /// The site link for `url` found in file `from`, or `None` to keep it.
    pub fn rewrite(&self, from: &str, url: &str) -> Option<String> {
        if let Some(rest) = url.strip_prefix("rc://") {
            return Some(self.rc_link(rest));
        }
        if url.contains("://") || url.starts_with('#') || url.starts_with("mailto:") {
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

    fn rc_link(&self, rest: &str) -> String {
        let mut parts = rest.trim_end_matches('/').split('/');
        let lang = match parts.next() {
            Some("*") | Some("") | None => self.language.as_str(),
            Some(l) => l,
        };
        let res = parts.next().unwrap_or("").to_ascii_lowercase();
        let _kind = parts.next();
        let tail: Vec<&str> = parts.collect();
        let tail_path = tail.join("/");
        let key = match res.as_str() {
            "tw" => tail_path.trim_start_matches("bible/").to_string(),
            _ => tail_path.clone(),
        };
        if res == self.resource
            && let Some(href) = self.rc.get(&key)
        {
            return href.clone();
        }
        if matches!(res.as_str(), "tn" | "tq")
            && let Some(link) = bible_ref_link(&tail)
        {
            if res == self.resource {
                return link;
            }
            if res == "tn"
                && let Some(book) = tail.first().and_then(|c| books::by_code(c))
            {
                return format!("{FORGE_BASE}/{lang}_tn/src/branch/master/tn_{}.tsv", book.code);
            }
        }
        match res.as_str() {
            "ta" => format!("{FORGE_BASE}/{lang}_ta/src/branch/master/{tail_path}/01.md"),
            "tw" => format!("{FORGE_BASE}/{lang}_tw/src/branch/master/{tail_path}.md"),
            "tn" | "tq" => format!("{FORGE_BASE}/{lang}_{res}/src/branch/master"),
            _ => format!("{FORGE_BASE}/{lang}_{res}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Some("https://git.door43.org/unfoldingWord/en_tw/src/branch/master/bible/kt/god.md")
        );
        assert_eq!(l.rewrite("a/b.md", "https://x.org/"), None);
        assert_eq!(l.rewrite("a/b.md", "../../nowhere.md"), None);
        assert_eq!(resolve("a/b/c.md", "../d.md").as_deref(), Some("a/d.md"));
        assert_eq!(
            l.rewrite("a/b.md", "rc://en/tn/help/act/04/32").as_deref(),
            Some("https://git.door43.org/unfoldingWord/en_tn/src/branch/master/tn_ACT.tsv")
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
