//! translationNotes TSV → HTML, grouped by chapter and verse.
//!
//! Handles the 7-column layout (`Reference ID Tags SupportReference Quote
//! Occurrence Note`, en_tn v84) and the older 9-column one (`Book Chapter
//! Verse ID SupportReference OrigQuote Occurrence GLQuote OccurrenceNote`),
//! found by header names. Anchors: `front-intro`, `ch-C`, `ch-C-intro`,
//! `ch-C-v-V` (first verse of a range), `tn-ID` per note. Notes hold Markdown
//! with `\n` escapes and `<br>`, both turned into line breaks first.

use std::borrow::Cow;
use std::collections::HashMap;

use tx_shared::domain::navigation::NavItem;
use tx_shared::rc;

use crate::html::{push_attr, push_escaped};
use crate::markdown::{self, IdSet, Mark, MdOptions};
use crate::page::nav;
use crate::simple_markdown;
use crate::usfm::books::Book;
use crate::warnings::FileWarnings;

/// A rendered notes book.
#[derive(Debug)]
pub struct RenderedNotes {
    /// Body content.
    pub html: String,
    /// Chapters, for navigation.
    pub chapters: Vec<NavItem>,
    /// Warnings as `FILE:LINE: message`.
    pub warnings: Vec<String>,
    /// Notes rendered.
    pub notes: usize,
}

struct Columns {
    reference: Option<usize>,
    chapter: Option<usize>,
    verse: Option<usize>,
    id: Option<usize>,
    support: Option<usize>,
    quote: Option<usize>,
    /// Whether the quote column holds the original-language text (`Quote`,
    /// `OrigQuote`) rather than the gateway language's (`GLQuote`).
    quote_is_source: bool,
    note: usize,
    width: usize,
}

fn columns(header: &str) -> Option<Columns> {
    let names: Vec<String> = header
        .split('\t')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let find = |n: &[&str]| names.iter().position(|h| n.contains(&h.as_str()));
    let note = find(&["note", "occurrencenote"])?;
    let gl_quote = find(&["quote", "glquote"]);
    let quote_is_source = match gl_quote {
        Some(k) => names[k] == "quote",
        None => true,
    };
    Some(Columns {
        reference: find(&["reference"]),
        chapter: find(&["chapter"]),
        verse: find(&["verse"]),
        id: find(&["id"]),
        support: find(&["supportreference"]),
        quote: gl_quote.or_else(|| find(&["origquote"])),
        quote_is_source,
        note,
        width: names.len(),
    })
}

/// Consecutive notes with the same heading depth, rendered in one parse.
/// The notes' Markdown is separated by blank lines; the structural HTML
/// around them (chapter and verse headings, note wrappers) is kept apart as
/// marks and written at its place while rendering, never parsed — except a
/// wrapper that must close a list, written into the Markdown and listed in
/// `trusted` so the sanitiser's watch knows it for the converter's own.
struct Batch {
    md: String,
    trusted: Vec<std::ops::Range<usize>>,
    marks: Vec<Mark>,
    marks_text: String,
    demote: u8,
}

impl Batch {
    /// Appends structural HTML before whatever Markdown comes next.
    fn structure(&mut self, write: impl FnOnce(&mut String)) {
        let start = self.marks_text.len();
        write(&mut self.marks_text);
        let end = self.marks_text.len();
        match self.marks.last_mut() {
            Some(last) if last.offset == self.md.len() && last.html.end == start => last.html.end = end,
            _ => self.marks.push(Mark {
                offset: self.md.len(),
                html: start..end,
            }),
        }
    }

    fn flush(&mut self, html: &mut String, links: &dyn Fn(&str) -> Option<String>, ids: &mut IdSet) {
        if !self.md.is_empty() || !self.marks.is_empty() {
            let opts = MdOptions {
                demote: self.demote,
                id_prefix: "tn-",
                links: Some(links),
            };
            markdown::render_marked_into(
                html,
                &self.md,
                &self.trusted,
                &self.marks,
                &self.marks_text,
                &opts,
                ids,
            );
            self.md.clear();
            self.trusted.clear();
            self.marks.clear();
            self.marks_text.clear();
        }
    }
}

/// Whether a note could continue the previous note's list when it follows
/// it after a blank line (indented, or itself a list item): such a note is
/// opened by a raw HTML block in the Markdown, which closes every container.
fn may_continue_a_list(note: &str) -> bool {
    matches!(
        note.as_bytes().first(),
        Some(b' ' | b'\t' | b'-' | b'*' | b'+' | b'0'..=b'9')
    )
}

/// Whether a note gets a parse of its own: one with raw HTML (any `<`),
/// which could leave elements open for the notes after it or close the
/// wrappers around it, and is sanitised, when it must be, alone; or one with
/// a code fence, which could swallow the notes after it.
fn must_render_alone(
    note: &str,
    backticks: &memchr::memmem::Finder,
    tildes: &memchr::memmem::Finder,
) -> bool {
    let b = note.as_bytes();
    memchr::memchr(b'<', b).is_some()
        || (memchr::memchr2(b'`', b'~', b).is_some()
            && (backticks.find(b).is_some() || tildes.find(b).is_some()))
}

/// Un-escapes a Note cell: literal `\\n` and `<br>` become newlines.
pub fn note_markdown(cell: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'\\', b'<', cell.as_bytes()).is_none() {
        return Cow::Borrowed(cell);
    }
    let mut out = String::with_capacity(cell.len());
    append_note(&mut out, cell);
    Cow::Owned(out)
}

/// Appends a Note cell to Markdown being built, in one pass: `\\n` and
/// `<br>` become newlines and `[[rc://…]]` becomes a Markdown link (what
/// [`markdown::expand_wiki_links`] would do, without another copy).
pub fn append_note(out: &mut String, cell: &str) {
    let bytes = cell.as_bytes();
    let mut done = 0;
    for i in memchr::memchr3_iter(b'\\', b'<', b'[', bytes) {
        if i < done {
            continue;
        }
        let tail = &cell[i..];
        let (skip, with): (usize, &str) = if tail.starts_with("\\n") {
            (2, "\n")
        } else if tail.starts_with("<br>") {
            (4, "\n")
        } else if tail.starts_with("<br/>") {
            (5, "\n")
        } else if tail.starts_with("<br />") {
            (6, "\n")
        } else if let Some(inner) = tail.strip_prefix("[[") {
            match inner.find("]]") {
                Some(end) if end > 0 && !inner[..end].contains(['\n', '[']) => {
                    let target = inner[..end].trim();
                    let label = target.trim_end_matches('/').rsplit('/').next().unwrap_or(target);
                    out.push_str(&cell[done..i]);
                    out.push('[');
                    out.push_str(label);
                    out.push_str("](");
                    out.push_str(target);
                    out.push(')');
                    done = i + 2 + end + 2;
                    continue;
                }
                _ => continue,
            }
        } else {
            continue;
        };
        out.push_str(&cell[done..i]);
        out.push_str(with);
        done = i + skip;
    }
    out.push_str(&cell[done..]);
}

/// The lines of a TSV without their `\n`, as `str::split_terminator` gives
/// them, found with SIMD `memchr`: `str`'s own search for a `char` looks at
/// a word at a time, and splitting 33 MB of notes twice was a tenth of a tN
/// build.
fn rows(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    std::iter::from_fn(move || {
        let end = match ends.next() {
            Some(end) => end,
            None if start < text.len() => text.len(),
            None => return None,
        };
        let row = text.get(start..end);
        start = end + 1;
        row
    })
}

/// Renders one book of notes.
pub fn render_notes(
    text: &str,
    file: &str,
    book: &Book,
    page: &str,
    links: &dyn Fn(&str) -> Option<String>,
) -> RenderedNotes {
    let mut w = FileWarnings::new(file, text);
    let mut html = String::with_capacity(text.len() + text.len() / 2);
    html.push_str("<h1 class=\"tn-book\">");
    push_escaped(&mut html, book.name);
    html.push_str("</h1>\n");
    let mut ids = IdSet::default();
    let mut note_ids: std::collections::HashSet<&str, crate::markdown::FastHash> =
        std::collections::HashSet::with_capacity_and_hasher(text.len() / 200, Default::default());
    let backticks = memchr::memmem::Finder::new("```");
    let tildes = memchr::memmem::Finder::new("~~~");
    let mut batch = Batch {
        md: String::with_capacity(64 * 1024),
        trusted: Vec::new(),
        marks: Vec::new(),
        marks_text: String::with_capacity(16 * 1024),
        demote: 2,
    };
    let mut chapters = Vec::new();
    let mut cur_chapter: Option<&str> = None;
    let mut cur_verse: Option<&str> = None;
    let mut count = 0;
    let mut offset = 0usize;
    let mut cols: Option<Columns> = None;
    let mut cells: Vec<&str> = Vec::with_capacity(16);
    let mut note_md = String::with_capacity(4096);
    let mut note_html = String::with_capacity(4096);
    let mut support_links: HashMap<&str, Option<Result<String, ()>>, crate::markdown::FastHash> =
        HashMap::default();
    for (i, raw) in rows(text).enumerate() {
        let line_start = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if i == 0 || cols.is_none() {
            match columns(line) {
                Some(c) => {
                    cols = Some(c);
                    continue;
                }
                None if i == 0 => {
                    w.at(
                        line_start,
                        "no header row (Reference … Note); assuming the 7-column layout",
                    );
                    cols = columns("Reference\tID\tTags\tSupportReference\tQuote\tOccurrence\tNote");
                }
                None => {}
            }
        }
        let Some(c) = cols.as_ref() else { continue };
        cells.clear();
        let mut from = 0;
        for t in memchr::memchr_iter(b'\t', line.as_bytes()) {
            cells.push(&line[from..t]);
            from = t + 1;
        }
        cells.push(&line[from..]);
        if cells.len() != c.width {
            w.at(
                line_start,
                format_args!("{} columns instead of {}", cells.len(), c.width),
            );
            if cells.len() <= c.note {
                continue;
            }
        }
        let get = |k: Option<usize>| k.and_then(|k| cells.get(k).copied()).map(str::trim).unwrap_or("");
        let (chap, verse) = match place(c, get) {
            Ok(p) => p,
            Err(r) => {
                w.at(line_start, format_args!("reference {r:?} is not CHAPTER:VERSE"));
                (r, "intro")
            }
        };
        if cur_chapter != Some(chap) {
            let label = if chap == "front" {
                "Introduction".to_string()
            } else {
                format!("Chapter {}", chap.trim_start_matches('0'))
            };
            let id = ids.unique(&rc::chapter_anchor(chap));
            batch.structure(|md| push_heading(md, "h2", "tn-chapter", &id, &label));
            chapters.push(nav(label, format!("{page}#{id}"), vec![]));
            cur_chapter = Some(chap);
            cur_verse = None;
        }
        if cur_verse != Some(verse) {
            let (id, numbered) = verse_anchor(chap, verse);
            let (id, label) = if !numbered {
                (
                    id,
                    if chap == "front" {
                        book.name.to_string()
                    } else {
                        format!("{} {} introduction", book.name, number(chap))
                    },
                )
            } else {
                (id, format!("{} {}:{}", book.name, number(chap), number(verse)))
            };
            let id = ids.unique(&id);
            batch.structure(|md| push_heading(md, "h3", "tn-verse", &id, &label));
            cur_verse = Some(verse);
        }
        let note = cells.get(c.note).copied().unwrap_or("");
        let demote = if verse == "intro" { 2 } else { 4 };
        if demote != batch.demote {
            batch.flush(&mut html, links, &mut ids);
            batch.demote = demote;
        }
        note_md.clear();
        append_note(&mut note_md, note);
        note_html.clear();
        let simple = simple_markdown::render_simple(&mut note_html, &note_md, Some(links));
        let alone = !simple && must_render_alone(&note_md, &backticks, &tildes);
        let note_id = get(c.id);
        let note_id = if note_id.is_empty() {
            None
        } else if note_ids.insert(note_id) {
            Some(("tn-", Cow::Borrowed(note_id)))
        } else {
            Some(("", Cow::Owned(ids.unique(&format!("tn-{note_id}")))))
        };
        let quote = get(c.quote);
        let quote_lang = if c.quote_is_source {
            source_language(book)
        } else {
            None
        };
        let support = get(c.support);
        // A few hundred articles over a hundred thousand notes: each cell's
        // link is worked out once.
        let support = match support_links.entry(support).or_insert_with(|| {
            support_article(support).map(|a| {
                a.map(|article| {
                    let mut tag = String::new();
                    if let Some(href) = links(&format!("rc://*/ta/man/{article}")) {
                        push_support(&mut tag, &href, &article);
                    }
                    tag
                })
            })
        }) {
            Some(Ok(tag)) => Some(tag.as_str()),
            Some(Err(())) => {
                w.at(
                    line_start,
                    format_args!("SupportReference {support:?} names no translationAcademy article"),
                );
                None
            }
            None => None,
        };
        let open = |md: &mut String| {
            md.push_str("<div class=\"tn-note\"");
            if let Some((prefix, id)) = &note_id {
                md.push_str(" id=\"");
                md.push_str(prefix);
                push_attr(md, id);
                md.push('"');
            }
            md.push_str(">\n");
            if !quote.is_empty() {
                md.push_str("<h4 class=\"tn-quote\"");
                if let Some((lang, dir)) = quote_lang {
                    md.push_str(" lang=\"");
                    md.push_str(lang);
                    md.push_str("\" dir=\"");
                    md.push_str(dir);
                    md.push('"');
                }
                md.push('>');
                if quote.contains(['\r', '\n']) {
                    push_escaped(md, &quote.replace(['\r', '\n'], " "));
                } else {
                    push_escaped(md, quote);
                }
                md.push_str("</h4>\n");
            }
            if let Some(tag) = support {
                md.push_str(tag);
            }
        };
        if simple {
            // Rendered already: the note goes in with its wrapper, unparsed.
            batch.structure(|md| {
                open(md);
                md.push_str(&note_html);
                md.push_str("</div>\n");
            });
        } else if alone {
            // After the notes before it, so ids stay in reading order.
            batch.flush(&mut html, links, &mut ids);
            open(&mut html);
            let opts = MdOptions {
                demote,
                id_prefix: "tn-",
                links: Some(links),
            };
            markdown::render_into(&mut html, &note_md, &opts, &mut ids);
            html.push_str("</div>\n");
        } else {
            if may_continue_a_list(note) {
                // As a raw HTML block, the opening closes the previous note's list.
                let from = batch.md.len();
                open(&mut batch.md);
                batch.trusted.push(from..batch.md.len());
                batch.md.push('\n');
            } else {
                batch.structure(open);
            }
            batch.md.push_str(&note_md);
            batch.md.push_str("\n\n");
            batch.structure(|md| md.push_str("</div>\n"));
        }
        count += 1;
    }
    batch.flush(&mut html, links, &mut ids);
    if count == 0 {
        w.file("no notes");
    }
    RenderedNotes {
        html,
        chapters,
        warnings: w.finish(),
        notes: count,
    }
}

/// The anchor of a verse's heading (`ch-3-v-7` for `3:7` and `3:7-9`,
/// `ch-3-intro`) and whether it is a numbered verse; [`index_notes`] and
/// [`render_notes`] must agree on it.
fn verse_anchor(chap: &str, verse: &str) -> (String, bool) {
    let digits = verse.bytes().take_while(u8::is_ascii_digit).count();
    if verse != "intro" && digits > 0 {
        return (rc::verse_anchor(chap, &verse[..digits]), true);
    }
    let mut anchor = rc::chapter_anchor(chap);
    anchor.push('-');
    anchor.push_str(&crate::html::slug(verse));
    (anchor, false)
}

/// The chapter and verse cells of a row.
fn place<'l>(c: &Columns, get: impl Fn(Option<usize>) -> &'l str) -> Result<(&'l str, &'l str), &'l str> {
    match c.reference {
        Some(_) => {
            let r = get(c.reference);
            r.split_once(':').ok_or(r)
        }
        None => Ok((get(c.chapter), get(c.verse))),
    }
}

/// Records the anchors [`render_notes`] will write for `text` (the same
/// rules, without rendering): chapter and verse headings, note ids, and
/// the verses each row's range covers.
pub fn index_notes(text: &str, into: &mut crate::links::BookAnchors) {
    let mut cols: Option<Columns> = None;
    let mut last_place: Option<(&str, &str)> = None;
    let mut cells: Vec<&str> = Vec::with_capacity(16);
    for (i, raw) in rows(text).enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if i == 0 || cols.is_none() {
            match columns(line) {
                Some(c) => {
                    cols = Some(c);
                    continue;
                }
                None if i == 0 => {
                    cols = columns("Reference\tID\tTags\tSupportReference\tQuote\tOccurrence\tNote");
                }
                None => {}
            }
        }
        let Some(c) = cols.as_ref() else { continue };
        cells.clear();
        // Rows the renderer skips (no Note cell) have no anchors.
        if c.note > 0
            && memchr::memchr_iter(b'\t', line.as_bytes())
                .nth(c.note - 1)
                .is_none()
        {
            continue;
        }
        let needed = [c.reference, c.chapter, c.verse, c.id]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
        cells.extend(line.splitn(needed + 2, '\t'));
        if cells.len() <= needed {
            continue;
        }
        let get = |k: Option<usize>| k.and_then(|k| cells.get(k).copied()).map(str::trim).unwrap_or("");
        let (chap, verse) = place(c, get).unwrap_or_else(|r| (r, "intro"));
        let id = get(c.id);
        if !id.is_empty() {
            into.note_ids.insert(id.into());
        }
        // Notes of one verse follow each other: its anchors are in already.
        if last_place == Some((chap, verse)) {
            continue;
        }
        last_place = Some((chap, verse));
        let chapter = rc::chapter_anchor(chap);
        let (anchor, numbered) = verse_anchor(chap, verse);
        if numbered {
            let mut bounds = verse.split(['-', '–']).map(|n| {
                n.bytes().take_while(u8::is_ascii_digit).fold(0u32, |a, d| {
                    a.saturating_mul(10).saturating_add(u32::from(d - b'0'))
                })
            });
            let first = bounds.next().unwrap_or(0);
            let last = bounds.next_back().unwrap_or(first).max(first);
            let top = into.last_verse.entry(chapter.clone()).or_insert(0);
            *top = (*top).max(last);
            let range = (chapter.clone(), first, last);
            if last > first && into.ranges.last() != Some(&range) {
                into.ranges.push(range);
            }
        }
        into.ids.insert(anchor);
        into.ids.insert(chapter);
    }
}

/// A chapter or verse number as a reader writes it (`01` → `1`, `02-03` →
/// `2-3`): older TSVs pad them.
fn number(n: &str) -> String {
    n.split('-')
        .map(|p| {
            let t = p.trim_start_matches('0');
            if t.is_empty() && !p.is_empty() { "0" } else { t }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `lang` and `dir` of a book's original-language text, which the tN
/// `Quote` column quotes: the Hebrew Bible (UHB, `hbo`, right to left) for
/// the Old Testament, the Greek New Testament (UGNT, `el-x-koine`, the tag
/// its own manifest uses) for the New. Without them a browser picks fonts
/// and direction for the page's language, and pointed Hebrew can come out
/// as boxes or in the wrong order. `None` for peripheral books.
pub fn source_language(book: &Book) -> Option<(&'static str, &'static str)> {
    match book.number.parse::<u32>() {
        Ok(1..=39) => Some(("hbo", "rtl")),
        Ok(41..=67) => Some(("el-x-koine", "ltr")),
        _ => None,
    }
}

/// The tA article a SupportReference cell names, as `manual/slug`
/// (`translate/figs-metaphor`): `None` for an empty cell, `Err` for one that
/// names no article. Accepts what en_tn holds besides the canonical
/// `rc://*/ta/man/translate/figs-metaphor`: a bare slug (the older tN
/// layout, meaning the translate manual), `rc://ta/man/…` without its
/// language, and stray spaces around segments.
pub fn support_article(cell: &str) -> Option<Result<String, ()>> {
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    let segs: Vec<&str> = cell
        .strip_prefix("rc://")
        .unwrap_or(cell)
        .split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let tail = match segs.windows(2).position(|w| w == ["ta", "man"]) {
        Some(at) => &segs[at + 2..],
        None if segs.len() == 1 && !cell.starts_with("rc://") => &segs[..],
        None => return Some(Err(())),
    };
    let (manual, slug) = match tail {
        [slug] => ("translate", *slug),
        [manual, slug] => (*manual, *slug),
        _ => return Some(Err(())),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
    };
    if ok(manual) && ok(slug) {
        Some(Ok(format!("{manual}/{slug}")))
    } else {
        Some(Err(()))
    }
}

/// The link to a note's tA article, under its quote. Titled with the
/// article's id (`figs-metaphor`), not a title: the title is in the tA
/// repository (`title.md`), which a tN build does not see, and one made up
/// from the id would be a guess (`writing-newevent` is "Introduction of a
/// New Event").
fn push_support(md: &mut String, href: &str, article: &str) {
    let slug = article.rsplit('/').next().unwrap_or(article);
    md.push_str("<p class=\"tn-support\"><a href=\"");
    push_attr(md, href);
    md.push_str("\" title=\"translationAcademy article ");
    push_attr(md, article);
    md.push_str("\">translationAcademy: ");
    push_escaped(md, slug);
    md.push_str("</a></p>\n");
}

/// `<hN class="class" id="id">label</hN>`, the chapter and verse headings.
fn push_heading(md: &mut String, tag: &str, class: &str, id: &str, label: &str) {
    md.push('<');
    md.push_str(tag);
    md.push_str(" class=\"");
    md.push_str(class);
    md.push_str("\" id=\"");
    push_attr(md, id);
    md.push_str("\">");
    push_escaped(md, label);
    md.push_str("</");
    md.push_str(tag);
    md.push_str(">\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usfm::books::by_code;

    #[test]
    fn rows_are_the_lines_split_terminator_gives() {
        for text in ["", "\n", "a", "a\n", "a\nb", "a\r\n\nb\n", "\n\nα\tβ\n"] {
            let ours: Vec<&str> = rows(text).collect();
            let std: Vec<&str> = text.split_terminator('\n').collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn notes_group_by_chapter_and_verse() {
        let tsv = "Reference\tID\tTags\tSupportReference\tQuote\tOccurrence\tNote\nfront:intro\tm2jl\t\t\t\t0\t# Introduction to Titus\\n\\nPart 1\n1:1\trtc9\t\trc://*/ta/man/translate/figs-abstractnouns\tκατὰ πίστιν\t1\tThe words **faith**<br>See [[rc://*/ta/man/translate/figs-abstractnouns]]\n1:1\tab12\t\t\tx\t1\tsecond\n1:2-3\tcd34\t\t\t\t1\tthird\nbad line\n";
        let none = |_: &str| None;
        let r = render_notes(tsv, "tn_TIT.tsv", by_code("TIT").unwrap(), "57-TIT.html", &none);
        let h = &r.html;
        assert_eq!(r.notes, 4);
        assert!(h.contains("<h2 class=\"tn-chapter\" id=\"front\">"), "{h}");
        assert!(h.contains("<h3 class=\"tn-verse\" id=\"front-intro\">"), "{h}");
        assert!(
            h.contains("<h3 id=\"tn-introduction-to-titus\">Introduction to Titus</h3>"),
            "{h}"
        );
        assert!(h.contains("id=\"ch-1\""), "{h}");
        assert_eq!(h.matches("id=\"ch-1-v-1\"").count(), 1, "{h}");
        assert!(h.contains("id=\"ch-1-v-2\">Titus 1:2-3"), "{h}");
        assert!(h.contains("<strong>faith</strong>"), "{h}");
        assert_eq!(note_markdown("a\\nb<br>c\\x<i>"), "a\nb\nc\\x<i>");
        let mut md = String::new();
        append_note(&mut md, "See [[rc://*/ta/man/translate/figs-x]]\\n[[ x");
        assert_eq!(md, "See [figs-x](rc://*/ta/man/translate/figs-x)\n[[ x");
        assert!(h.contains("id=\"tn-rtc9\""), "{h}");
        assert!(h.contains("κατὰ πίστιν"), "{h}");
        assert!(
            r.warnings
                .iter()
                .any(|w| w.starts_with("tn_TIT.tsv:6: 1 columns")),
            "{:?}",
            r.warnings
        );
        assert_eq!(r.chapters.len(), 2);
    }

    #[test]
    fn hostile_notes_are_sanitised_and_stay_in_their_wrappers() {
        let tsv = "Reference\tID\tTags\tSupportReference\tQuote\tOccurrence\tNote\n\
1:1\th1\t\t\t\t1\t</div></div><script>steal()</script><img src=x onerror=steal()>\n\
1:1\th2\t\t\t\t1\t[a](javascript:steal()) and [b][r]\n\
1:1\th3\t\t\t\t1\t[r]: JAVASCRIPT:steal()\\n\\n- [c](data:text/html,x)\n\
1:2\th4\t\t\t\t1\t<div>open and <u>kept</u>\n\
1:2\th5\t\t\t\t1\tplain **last** [ok](https://example.org/)\n";
        let none = |_: &str| None;
        let r = render_notes(tsv, "tn_TIT.tsv", by_code("TIT").unwrap(), "57-TIT.html", &none);
        let h = r.html.to_ascii_lowercase();
        for gone in ["<script", "steal", "onerror", "\"javascript", "\"data:"] {
            assert!(!h.contains(gone), "{gone} left in {h}");
        }
        assert_eq!(r.notes, 5);
        // Every note is its own div at the top level, however its HTML ends.
        let mut depth = 0i32;
        for part in h.split('<').skip(1) {
            if part.starts_with("div class=\"tn-note\"") {
                assert_eq!(depth, 0, "a note inside another: {h}");
            }
            if part.starts_with("div") {
                depth += 1;
            } else if part.starts_with("/div") {
                depth -= 1;
                assert!(depth >= 0, "a note closed what is around it: {h}");
            }
        }
        assert_eq!(depth, 0, "{h}");
        assert!(h.contains("<u>kept</u>"), "{h}");
        assert!(
            h.contains("<strong>last</strong> <a href=\"https://example.org/\">ok</a>"),
            "{h}"
        );
    }

    #[test]
    fn notes_never_run_into_each_other() {
        let tsv = "Reference\tID\tTags\tSupportReference\tQuote\tOccurrence\tNote\n\
1:1\ta1\t\t\t\t1\t- one\\n- two\n\
1:1\ta2\t\t\t\t1\t- three\n\
1:1\ta3\t\t\t\t1\tplain **four**\n\
1:2\ta4\t\t\t\t1\t<!-- open comment\n\
1:2\ta5\t\t\t\t1\t```\\nfence\n\
1:3\ta6\t\t\tq\t1\tlast\n";
        let none = |_: &str| None;
        let r = render_notes(tsv, "tn_TIT.tsv", by_code("TIT").unwrap(), "57-TIT.html", &none);
        let h = &r.html;
        assert_eq!(r.notes, 6);
        // Every note is its own well-nested div, in order.
        let mut depth = 0i32;
        for part in h.split('<').skip(1) {
            if part.starts_with("div") {
                depth += 1;
                assert_eq!(depth, 1, "{h}");
            } else if part.starts_with("/div") {
                depth -= 1;
            } else if part.starts_with("ul") || part.starts_with("li") || part.starts_with("p>") {
                assert_eq!(depth, 1, "block outside a note: {h}");
            }
        }
        assert_eq!(depth, 0, "{h}");
        let order: Vec<_> = [
            "tn-a1",
            "one",
            "two",
            "tn-a2",
            "three",
            "tn-a3",
            "<strong>four</strong>",
            "tn-a4",
            "tn-a5",
            "fence",
            "ch-1-v-3",
            "tn-a6",
            "last",
        ]
        .iter()
        .map(|n| h.find(n).unwrap_or_else(|| panic!("{n} missing: {h}")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}: {h}");
        assert_eq!(h.matches("<ul>").count(), 2, "{h}");
        assert!(
            h.contains(
                "<div class=\"tn-note\" id=\"tn-a6\">\n<h4 class=\"tn-quote\" lang=\"el-x-koine\" dir=\"ltr\">q</h4>"
            ),
            "{h}"
        );
    }

    #[test]
    fn support_references_name_their_article_in_every_form_en_tn_uses() {
        let a = |c: &str| support_article(c);
        assert_eq!(a(""), None);
        for cell in [
            "rc://*/ta/man/translate/figs-metaphor",
            "rc://ta/man/translate/figs-metaphor",
            "rc://*/ta/man/translate/ figs-metaphor ",
            "figs-metaphor",
        ] {
            assert_eq!(a(cell), Some(Ok("translate/figs-metaphor".into())), "{cell}");
        }
        assert_eq!(
            a("rc://*/ta/man/checking/headings"),
            Some(Ok("checking/headings".into()))
        );
        assert_eq!(a("rc://*/ta/man/translate/figs-,metaphor"), Some(Err(())));
        assert_eq!(a("rc://*/tw/dict/bible/kt/god"), Some(Err(())));
        assert_eq!(number("01"), "1");
        assert_eq!(number("02-03"), "2-3");
        assert_eq!(source_language(by_code("RUT").unwrap()), Some(("hbo", "rtl")));
    }
}
