//! USFM 3 → HTML fragment, rendered from the `usfm3` crate's flat tape.
//!
//! Anchors (stable, relied on by navigation and by links from notes):
//! - chapter heading: `id="ch-{C}"` (`ch-1`);
//! - verse: `id="ch-{C}-v-{V}"` (`ch-1-v-1`); a range `\v 2-4` gets the id of
//!   its first verse plus empty anchors for the others, so every verse number
//!   has a target; a repeated segment (`\v 3b`) gets `ch-1-v-3b`;
//! - notes: `fn-{N}`/`fnref-{N}` (footnotes), `xr-{N}`/`xrref-{N}` (cross
//!   references), numbered through the book, listed after each chapter.
//!
//! Alignment milestones (`\zaln-s … \zaln-e`), chunk markers (`\ts`, `\s5`)
//! and word attributes (`\w word|…\w*`) are dropped while their text is kept.
//! The walk is one linear pass over the tape with a stack of pending closing
//! tags; problems are reported through [`FileWarnings`] with line numbers.

use usfm3::low_level::{Category, Closing, MarkerInfo, MarkerTable, NodeKind, flags};

use super::books::{Book, by_code};
use super::check::{Checker, parse_verse_label};
use crate::html::{push_attr, push_escaped};
use crate::warnings::FileWarnings;

/// One chapter, for navigation.
#[derive(Debug, Clone, PartialEq)]
pub struct ChapterRef {
    /// Chapter number.
    pub number: u32,
    /// Label as written after `\c`.
    pub label: String,
}

/// The HTML fragment of a book and what navigation and checks need.
#[derive(Debug, Clone)]
pub struct RenderedBook {
    /// Body content.
    pub html: String,
    /// The book named by `\id`, else the hint.
    pub book: Option<&'static Book>,
    /// Title from `\h`, `\toc2`, `\mt` or `\toc1` (in that order).
    pub title: Option<String>,
    /// Chapters in order.
    pub chapters: Vec<ChapterRef>,
    /// Verse numbers present (ranges expanded, duplicates once).
    pub verse_count: usize,
    /// Warnings as `FILE:LINE: message`.
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy)]
enum Close {
    Nothing,
    Tag(&'static str),
    Span,
    Para,
    Note,
}

struct Frame<'s> {
    close: Close,
    name: &'s str,
    offset: u32,
    required: bool,
}

struct Renderer<'s> {
    src: &'s str,
    table: &'static MarkerTable,
    out: String,
    notes: String,
    note_depth: u32,
    note_seq: u32,
    xref_seq: u32,
    skip_caller: bool,
    trim_next: bool,
    in_table: bool,
    chapter: u32,
    anchored: Vec<bool>,
    stack: Vec<Frame<'s>>,
    checker: Checker,
    chapters: Vec<ChapterRef>,
    id_code: Option<String>,
    h: Option<String>,
    toc1: Option<String>,
    toc2: Option<String>,
    mt: Option<String>,
}

/// Renders one USFM book. `file` names it in warnings; `hint` is the book the
/// file name or manifest points at, used when `\id` is missing or unknown.
pub fn render_book(src: &str, file: &str, hint: Option<&'static Book>) -> RenderedBook {
    let doc = usfm3::parse(src, usfm3::Version::V3_1);
    let table = MarkerTable::for_version(usfm3::Version::V3_1);
    let mut w = FileWarnings::new(file, src);
    let mut r = Renderer {
        src,
        table,
        out: String::with_capacity(src.len() / 2 + 1024),
        notes: String::new(),
        note_depth: 0,
        note_seq: 0,
        xref_seq: 0,
        skip_caller: false,
        trim_next: false,
        in_table: false,
        chapter: 0,
        anchored: Vec::new(),
        stack: Vec::with_capacity(16),
        checker: Checker::default(),
        chapters: Vec::new(),
        id_code: None,
        h: None,
        toc1: None,
        toc2: None,
        mt: None,
    };
    r.walk(doc.tape().nodes.as_slice(), &mut w);
    r.close_table();
    r.flush_notes();
    let book = r.id_code.as_deref().and_then(by_code).or(hint);
    if r.id_code.is_none() {
        w.file("no \\id marker");
    } else if r.id_code.as_deref().and_then(by_code).is_none() {
        w.file(format_args!(
            "\\id {} is not a known book code",
            r.id_code.as_deref().unwrap_or("")
        ));
    }
    r.checker.finish(book, &mut w);
    let title = r.h.take().or(r.toc2.take()).or(r.mt.take()).or(r.toc1.take());
    RenderedBook {
        html: r.out,
        book,
        title,
        chapters: r.chapters,
        verse_count: r.checker.verse_count,
        warnings: w.finish(),
    }
}

/// Drops trailing whitespace (the newline before the next marker) so block
/// elements end cleanly.
fn trim_end_in_place(s: &mut String) {
    let len = s.trim_end().len();
    s.truncate(len);
}

/// The name of a marker as written (`q1`, `nd` for `\+nd*`), from its token.
fn written_name(token: &str) -> &str {
    let s = token.strip_prefix('\\').unwrap_or(token);
    let s = s.strip_prefix('+').unwrap_or(s);
    let end = s
        .find(|c: char| c.is_whitespace() || c == '*' || c == '|' || c == '\\')
        .unwrap_or(s.len());
    &s[..end]
}

impl<'s> Renderer<'s> {
    #[inline]
    fn buf(&mut self) -> &mut String {
        if self.note_depth > 0 {
            &mut self.notes
        } else {
            &mut self.out
        }
    }

    fn text_of(&self, nodes: &[usfm3::low_level::Node], from: usize, to: usize) -> String {
        let mut s = String::new();
        for n in nodes.get(from..to).unwrap_or(&[]) {
            if n.kind == NodeKind::Text {
                s.push_str(self.slice(n.start, n.len));
            }
        }
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[inline]
    fn slice(&self, start: u32, len: u32) -> &'s str {
        let (a, b) = (start as usize, start as usize + len as usize);
        self.src.get(a..b).unwrap_or("")
    }

    fn close_table(&mut self) {
        if self.in_table {
            self.out.push_str("</table>\n");
            self.in_table = false;
        }
    }

    fn flush_notes(&mut self) {
        if !self.notes.is_empty() && self.note_depth == 0 {
            self.out.push_str("<div class=\"footnotes\">\n");
            let notes = std::mem::take(&mut self.notes);
            self.out.push_str(&notes);
            self.out.push_str("</div>\n");
        }
    }

    fn walk(&mut self, nodes: &[usfm3::low_level::Node], w: &mut FileWarnings) {
        let mut i = 1usize;
        while i < nodes.len() {
            let n = nodes[i];
            match n.kind {
                NodeKind::Text | NodeKind::Error => {
                    let mut t = self.slice(n.start, n.len);
                    if self.skip_caller {
                        self.skip_caller = false;
                        let trimmed = t.trim_start();
                        let tok = trimmed.split_whitespace().next().unwrap_or("");
                        t = trimmed[tok.len()..].trim_start();
                    } else if self.trim_next {
                        t = t.trim_start();
                    }
                    if !t.is_empty() {
                        self.trim_next = false;
                        push_escaped(self.buf(), t);
                    }
                }
                NodeKind::Attribute | NodeKind::Root => {}
                NodeKind::Chapter => self.chapter_node(n, w),
                NodeKind::Verse => self.verse_node(n, w),
                NodeKind::MarkerOpen => {
                    if let Some(skip_to) = self.open(nodes, i, w) {
                        i = skip_to;
                        continue;
                    }
                }
                NodeKind::MarkerClose | NodeKind::BlockEnd => self.close(n, w),
            }
            i += 1;
        }
        while !self.stack.is_empty() {
            let n = usfm3::low_level::Node {
                kind: NodeKind::BlockEnd,
                flags: flags::SYNTHETIC,
                marker: usfm3::low_level::MarkerId::UNKNOWN,
                start: self.src.len() as u32,
                len: 0,
                link: 0,
            };
            self.close(n, w);
        }
    }

    fn chapter_node(&mut self, n: usfm3::low_level::Node, w: &mut FileWarnings) {
        self.close_table();
        self.flush_notes();
        let token = self.slice(n.start, n.len);
        let label = token
            .split_whitespace()
            .nth(1)
            .map(str::to_string)
            .unwrap_or_else(|| n.link.to_string());
        let number = n.link;
        self.checker.chapter(number, n.start as usize, w);
        self.chapter = number;
        self.anchored.clear();
        self.out.push_str("<h2 class=\"c-num\" id=\"ch-");
        self.out.push_str(&number.to_string());
        self.out.push_str("\">");
        push_escaped(&mut self.out, &label);
        self.out.push_str("</h2>\n");
        self.chapters.push(ChapterRef { number, label });
        self.trim_next = true;
    }

    fn verse_node(&mut self, n: usfm3::low_level::Node, w: &mut FileWarnings) {
        let token = self.slice(n.start, n.len);
        let label = token
            .split_whitespace()
            .nth(1)
            .unwrap_or_else(|| token.trim_start_matches("\\v"));
        self.checker.verse(label, n.start as usize, w);
        let ch = self.chapter.max(1);
        let span = parse_verse_label(label).filter(|s| s.end <= super::check::MAX_NUMBER);
        let out = if self.note_depth > 0 {
            &mut self.notes
        } else {
            &mut self.out
        };
        out.push_str("<span class=\"v-num\" id=\"ch-");
        out.push_str(&ch.to_string());
        out.push_str("-v-");
        match span {
            Some(s) => {
                let first = s.start as usize;
                if self.anchored.len() <= s.end as usize {
                    self.anchored.resize(s.end as usize + 1, false);
                }
                if self.anchored[first] {
                    push_attr(out, label);
                } else {
                    out.push_str(&s.start.to_string());
                }
                out.push_str("\"><sup>");
                push_escaped(out, label);
                out.push_str("</sup></span>");
                for v in s.start..=s.end {
                    if v > s.start && !self.anchored[v as usize] {
                        out.push_str("<span id=\"ch-");
                        out.push_str(&ch.to_string());
                        out.push_str("-v-");
                        out.push_str(&v.to_string());
                        out.push_str("\"></span>");
                    }
                    self.anchored[v as usize] = true;
                }
            }
            None => {
                push_attr(out, label);
                out.push_str("\"><sup>");
                push_escaped(out, label);
                out.push_str("</sup></span>");
            }
        }
        out.push(' ');
        self.trim_next = true;
    }

    /// Handles an opening marker; returns the index to continue from when the
    /// whole subtree was consumed here.
    fn open(&mut self, nodes: &[usfm3::low_level::Node], i: usize, w: &mut FileWarnings) -> Option<usize> {
        let n = nodes[i];
        let token: &'s str = self.slice(n.start, n.len);
        let name = written_name(token);
        let info: Option<&MarkerInfo> = self.table.info(n.marker);
        let Some(info) = info else {
            if !name.starts_with('z') {
                w.at(n.start as usize, format_args!("\\{name} unknown marker"));
                self.push_span_open("unknown");
                self.stack.push(Frame {
                    close: Close::Span,
                    name,
                    offset: n.start,
                    required: false,
                });
            } else {
                self.stack.push(Frame {
                    close: Close::Nothing,
                    name,
                    offset: n.start,
                    required: false,
                });
            }
            return None;
        };
        let required = info.closing == Closing::Required;
        let frame = |close| Frame {
            close,
            name,
            offset: n.start,
            required,
        };
        match info.category {
            Category::Identification => {
                let link = n.link as usize;
                let text = self.text_of(nodes, i + 1, link.min(nodes.len()));
                match info.name {
                    "id" => self.id_code = text.split_whitespace().next().map(|c| c.to_ascii_uppercase()),
                    "h" if self.h.is_none() && !text.is_empty() => self.h = Some(text),
                    "toc" if name == "toc1" && self.toc1.is_none() && !text.is_empty() => {
                        self.toc1 = Some(text)
                    }
                    "toc" if name == "toc2" && self.toc2.is_none() && !text.is_empty() => {
                        self.toc2 = Some(text)
                    }
                    _ => {}
                }
                if link > i && link < nodes.len() {
                    return Some(link + 1);
                }
                self.stack.push(frame(Close::Nothing));
                None
            }
            Category::Milestone => {
                self.stack.push(frame(Close::Nothing));
                None
            }
            Category::Note => {
                let cross = matches!(info.name, "x" | "ex");
                let seq = if cross {
                    self.xref_seq += 1;
                    self.xref_seq
                } else {
                    self.note_seq += 1;
                    self.note_seq
                };
                let caller = nodes
                    .get(i + 1)
                    .filter(|c| c.kind == NodeKind::Text)
                    .and_then(|c| self.slice(c.start, c.len).split_whitespace().next())
                    .unwrap_or("+");
                let shown = if caller == "+" || caller == "-" || caller.chars().count() > 3 {
                    seq.to_string()
                } else {
                    caller.to_string()
                };
                let (p, class) = if cross { ("xr", "xref") } else { ("fn", "footnote") };
                let seq_s = seq.to_string();
                let mut link = String::with_capacity(96);
                link.push_str("<a class=\"");
                link.push_str(class);
                link.push_str("-ref\" href=\"#");
                link.push_str(p);
                link.push('-');
                link.push_str(&seq_s);
                link.push_str("\" id=\"");
                link.push_str(p);
                link.push_str("ref-");
                link.push_str(&seq_s);
                link.push_str("\"><sup>");
                push_escaped(&mut link, &shown);
                link.push_str("</sup></a>");
                self.buf().push_str(&link);
                self.note_depth += 1;
                let notes = &mut self.notes;
                notes.push_str("<p class=\"");
                notes.push_str(class);
                notes.push_str("\" id=\"");
                notes.push_str(p);
                notes.push('-');
                notes.push_str(&seq_s);
                notes.push_str("\"><a href=\"#");
                notes.push_str(p);
                notes.push_str("ref-");
                notes.push_str(&seq_s);
                notes.push_str("\">");
                push_escaped(notes, &shown);
                notes.push_str("</a> ");
                self.skip_caller = nodes.get(i + 1).is_some_and(|c| c.kind == NodeKind::Text);
                self.stack.push(frame(Close::Note));
                None
            }
            Category::Character => {
                match info.name {
                    "w" | "wg" | "wh" | "wa" => self.stack.push(frame(Close::Nothing)),
                    "th" | "thr" | "thc" if self.in_table => {
                        self.out.push_str("<th>");
                        self.stack.push(frame(Close::Tag("</th>")));
                        self.trim_next = true;
                        return None;
                    }
                    "tc" | "tcr" | "tcc" if self.in_table => {
                        self.out.push_str("<td>");
                        self.stack.push(frame(Close::Tag("</td>")));
                        self.trim_next = true;
                        return None;
                    }
                    _ => {
                        self.push_span_open(name);
                        self.stack.push(frame(Close::Span));
                    }
                }
                self.trim_next = false;
                None
            }
            Category::Paragraph | Category::Other | Category::Chapter | Category::Verse => {
                if self.note_depth > 0 {
                    self.push_span_open(name);
                    self.stack.push(frame(Close::Span));
                    return None;
                }
                if info.name == "tr" {
                    if !self.in_table {
                        self.out.push_str("<table class=\"usfm-table\">\n");
                        self.in_table = true;
                    }
                    self.out.push_str("<tr>");
                    self.stack.push(frame(Close::Tag("</tr>\n")));
                    self.trim_next = true;
                    return None;
                }
                self.close_table();
                let close = match info.name {
                    "s" if name == "s5" => Close::Nothing,
                    "mt" | "imt" => {
                        if self.mt.is_none() {
                            let link = (n.link as usize).min(nodes.len());
                            let t = self.text_of(nodes, i + 1, link);
                            if !t.is_empty() {
                                self.mt = Some(t);
                            }
                        }
                        self.open_block("h1", name);
                        Close::Tag("</h1>\n")
                    }
                    "ms" | "mr" => {
                        self.open_block("h2", name);
                        Close::Tag("</h2>\n")
                    }
                    "s" | "is" | "iex" => {
                        self.open_block("h3", name);
                        Close::Tag("</h3>\n")
                    }
                    "cl" | "cd" | "sp" | "qa" => {
                        self.open_block("h4", name);
                        Close::Tag("</h4>\n")
                    }
                    _ => {
                        self.open_block("p", name);
                        Close::Para
                    }
                };
                self.trim_next = true;
                self.stack.push(frame(close));
                None
            }
        }
    }

    fn push_span_open(&mut self, class: &str) {
        let out = self.buf();
        out.push_str("<span class=\"");
        push_attr(out, class);
        out.push_str("\">");
    }

    fn open_block(&mut self, tag: &str, class: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push_str(" class=\"");
        push_attr(&mut self.out, class);
        self.out.push_str("\">");
    }

    fn close(&mut self, n: usfm3::low_level::Node, w: &mut FileWarnings) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if frame.required && n.is_synthetic() {
            w.at(frame.offset as usize, format_args!("\\{} not closed", frame.name));
        }
        match frame.close {
            Close::Nothing => {}
            Close::Tag(t) => {
                let out = self.buf();
                if t.starts_with("</h") || t.starts_with("</t") {
                    trim_end_in_place(out);
                }
                out.push_str(t);
            }
            Close::Span => self.buf().push_str("</span>"),
            Close::Para => {
                trim_end_in_place(&mut self.out);
                self.out.push_str("</p>\n");
            }
            Close::Note => {
                self.note_depth = self.note_depth.saturating_sub(1);
                self.notes.push_str("</p>\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\\id GEN test\n\\ide UTF-8\n\\h Genesis\n\\toc1 Book of Genesis\n\\mt1 Genesis\n\\s5\n\\c 1\n\\s1 The Creation\n\\p\n\\v 1 In the \\nd Lord\\nd* beginning\\f + \\fr 1.1 \\ft a note\\f*.\n\\v 2-3 \\zaln-s |x-strong=\"H1\"\\*\\w God|x-occurrence=\"1\"\\w*\\zaln-e\\* said \\add unclosed\n\\q1 poetry \\xyz odd\n\\ts\\*\n\\c 2\n\\p\n\\v 1 text\\x - \\xo 2.1 \\xt Jn 1.1\\x*\n\\tr \\th1 A \\th2 B\n\\tr \\tc1 a<b \\tc2 b\n";

    #[test]
    fn renders_structure_anchors_and_notes() {
        let r = render_book(SAMPLE, "GEN.usfm", None);
        let h = &r.html;
        assert_eq!(r.book.map(|b| b.code), Some("GEN"));
        assert_eq!(r.title.as_deref(), Some("Genesis"));
        assert!(h.contains("<h1 class=\"mt1\">Genesis</h1>"), "{h}");
        assert!(h.contains("<h2 class=\"c-num\" id=\"ch-1\">1</h2>"), "{h}");
        assert!(h.contains("<h3 class=\"s1\">The Creation</h3>"), "{h}");
        assert!(h.contains("id=\"ch-1-v-1\""), "{h}");
        assert!(h.contains("id=\"ch-1-v-2\"><sup>2-3</sup>"), "{h}");
        assert!(h.contains("<span id=\"ch-1-v-3\"></span>"), "{h}");
        assert!(h.contains("<span class=\"nd\"> Lord</span>"), "{h}");
        assert!(h.contains("href=\"#fn-1\""), "{h}");
        assert!(h.contains("<p class=\"footnote\" id=\"fn-1\">"), "{h}");
        assert!(h.contains("a note"), "{h}");
        assert!(h.contains("href=\"#xr-1\""), "{h}");
        assert!(h.contains("God said"), "alignment dropped, text kept: {h}");
        assert!(
            !h.contains("x-strong") && !h.contains("zaln") && !h.contains("occurrence"),
            "{h}"
        );
        assert!(h.contains("<p class=\"q1\">poetry"), "{h}");
        assert!(
            h.contains("<table class=\"usfm-table\">\n<tr><th>A</th><th>B</th></tr>"),
            "{h}"
        );
        assert!(h.contains("a&lt;b"), "{h}");
        assert!(!h.contains("Book of Genesis"), "identification not shown: {h}");
        assert_eq!(r.chapters.len(), 2);
        assert_eq!(r.verse_count, 4);
        let warns = r.warnings.join("\n");
        assert!(warns.contains("GEN.usfm:11: \\add not closed"), "{warns}");
        assert!(warns.contains("GEN.usfm:12: \\xyz unknown marker"), "{warns}");
        assert!(
            warns.contains("missing chapters of GEN (50 expected): 3-50"),
            "{warns}"
        );
    }

    #[test]
    fn empty_and_idless_books_warn() {
        let r = render_book("\\c 1\n\\p\n", "x.usfm", by_code("JUD"));
        assert_eq!(r.book.map(|b| b.code), Some("JUD"));
        let warns = r.warnings.join("\n");
        assert!(warns.contains("no \\id"), "{warns}");
        assert!(warns.contains("empty book"), "{warns}");
    }
}
