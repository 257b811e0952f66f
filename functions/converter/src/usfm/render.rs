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
//! Structure follows the tape: every open node's `link` names its close, so
//! a note or character span ends at its own end marker whatever unknown
//! marker was open inside it. Paragraph markers the marker table calls
//! verse text (`\p`, `\q1`, `\m` …) become `<p class="…">`; the ones it
//! excludes from verse text (titles, section heads, `\d`, `\r` …) become
//! headings. Alignment milestones, `\w` attributes, chunk markers (`\ts`,
//! `\s5`) and `\cat` change no text and no paragraph. Text follows
//! [`super::text`]. Problems go to [`FileWarnings`] with line numbers.

use usfm3::low_level::{Category, MarkerInfo, MarkerTable, Node, NodeKind, TextRole, flags};

use super::books::{Book, by_code};
use super::check::{Checker, parse_verse_label};
use super::diagnose::report_parser_diagnostics;
use super::leaks::Leaks;
use super::milestone::after_attributes;
use super::refs::BookLinks;
use super::text::{Flow, push_text};
use crate::html::{push_attr, push_escaped, slug};
use crate::warnings::FileWarnings;

/// One chapter, for navigation.
#[derive(Debug, Clone, PartialEq)]
pub struct ChapterRef {
    /// Chapter number.
    pub number: u32,
    /// Short label (`\cp`, else the number), for chapter chips.
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

/// Where a book is rendered: its page and the other books of the build, for
/// `\r` references.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// This book's page (`41-MAT.html`).
    pub page: &'a str,
    /// Every book of the build.
    pub books: &'a BookLinks,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Close {
    /// Nothing to write (`\w`, an unknown `\z…` span).
    Nothing,
    /// A closing tag in the text (headings, cells, rows, containers).
    Tag(&'static str),
    /// `</span>` in whichever flow is current.
    Span,
    /// `</a>` of a `\ref` link, in whichever flow is current.
    Link,
    /// `</p>` of a paragraph.
    Para,
    /// The end of a line of the main title (`\mt`), which the next line
    /// may join.
    Title,
    /// The end of a footnote or cross reference.
    Note,
}

#[derive(Debug)]
struct Frame {
    /// Tape index of the close node.
    close_at: usize,
    close: Close,
    /// Whether this frame holds phrasing content in the text flow.
    block: bool,
}

struct Renderer<'s, 'a> {
    src: &'s str,
    table: &'static MarkerTable,
    site: Site<'a>,
    out: String,
    notes: String,
    text_flow: Flow,
    note_flow: Flow,
    note_depth: u32,
    note_seq: u32,
    xref_seq: u32,
    skip_caller: bool,
    in_table: bool,
    /// Open frames that hold phrasing content in the text.
    blocks: u32,
    /// A `<p>` the renderer opened itself (loose text, or a paragraph kept
    /// open over a chunk marker) is open in the text.
    loose: bool,
    chapter: u32,
    anchored: Vec<bool>,
    stack: Vec<Frame>,
    checker: Checker,
    chapters: Vec<ChapterRef>,
    id_code: Option<String>,
    h: Option<String>,
    toc1: Option<String>,
    toc2: Option<String>,
    mt: Option<String>,
    /// Where the main title's `</h1>` ends, while nothing follows it.
    title_end: Option<usize>,
    /// `\cl` before the first chapter: the word every chapter label uses.
    book_cl: Option<String>,
    leaks: Leaks,
    /// The fast parse flagged an error: read the parser's diagnostics.
    troubled: bool,
    stray_stars: Vec<usize>,
    notes_cut_by_verse: Vec<usize>,
}

/// Renders one USFM book. `file` names it in warnings; `hint` is the book the
/// file name or manifest points at, used when `\id` is missing or unknown.
pub fn render_book(src: &str, file: &str, hint: Option<&'static Book>) -> RenderedBook {
    let books = BookLinks::default();
    render_book_in(
        src,
        file,
        hint,
        Site {
            page: "",
            books: &books,
        },
    )
}

/// [`render_book`] for a book published on `site`: `\r` references to the
/// site's books become links.
pub fn render_book_in(src: &str, file: &str, hint: Option<&'static Book>, site: Site<'_>) -> RenderedBook {
    let doc = usfm3::parse(src, usfm3::Version::V3_1);
    let mut w = FileWarnings::new(file, src);
    let mut r = Renderer {
        src,
        table: MarkerTable::for_version(usfm3::Version::V3_1),
        site,
        out: String::with_capacity(src.len() / 2 + 1024),
        notes: String::new(),
        text_flow: Flow::default(),
        note_flow: Flow::default(),
        note_depth: 0,
        note_seq: 0,
        xref_seq: 0,
        skip_caller: false,
        in_table: false,
        blocks: 0,
        loose: false,
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
        title_end: None,
        book_cl: None,
        leaks: Leaks::default(),
        troubled: false,
        stray_stars: Vec::new(),
        notes_cut_by_verse: Vec::new(),
    };
    r.walk(doc.tape().nodes.as_slice(), &mut w);
    r.end_blocks();
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
    if r.troubled {
        report_parser_diagnostics(src, &mut w);
    }
    if let Some(&at) = r.stray_stars.first() {
        w.at(
            at,
            format_args!(
                "\\* with no milestone or attribute before it; it is left out of the page{}",
                super::leaks::more(r.stray_stars.len())
            ),
        );
    }
    if let Some(&at) = r.notes_cut_by_verse.first() {
        w.at(
            at,
            format_args!(
                "a verse starts inside a note (its end marker is missing before the \\v): the note ends at the verse{}",
                super::leaks::more(r.notes_cut_by_verse.len())
            ),
        );
    }
    r.leaks.report(&mut w);
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

/// The name of a marker as written (`q1`, `nd` for `\+nd*`), from its token.
fn written_name(token: &str) -> &str {
    let s = token.strip_prefix('\\').unwrap_or(token);
    let s = s.strip_prefix('+').unwrap_or(s);
    let end = s
        .find(|c: char| c.is_whitespace() || c == '*' || c == '|' || c == '\\')
        .unwrap_or(s.len());
    &s[..end]
}

/// The close of the main title's last line.
const TITLE_CLOSE: &str = "</span></h1>\n";

/// Whether a paragraph marker is a heading: one the marker table leaves out
/// of verse text (titles, section heads, `\d`, `\r` …), apart from the
/// introduction's own paragraphs.
fn is_heading(info: &MarkerInfo) -> bool {
    info.text_role == TextRole::Excluded
        && !matches!(
            info.name,
            "ip" | "ipi" | "im" | "imi" | "ipq" | "imq" | "ipr" | "iq" | "ib" | "ili" | "io" | "iex" | "ie"
        )
}

/// Heading element of a paragraph marker that is not verse text.
fn heading_tag(info: &MarkerInfo, name: &str) -> (&'static str, &'static str) {
    match info.name {
        "mte" | "imte" => ("<h1", "</h1>\n"),
        "ms" | "mr" => ("<h2", "</h2>\n"),
        "s" | "is" if matches!(name, "s" | "s1" | "is" | "is1") => ("<h3", "</h3>\n"),
        _ => ("<h4", "</h4>\n"),
    }
}

impl<'s> Renderer<'s, '_> {
    #[inline]
    fn slice(&self, n: &Node) -> &'s str {
        let (a, b) = (n.start as usize, n.start as usize + n.len as usize);
        self.src.get(a..b).unwrap_or("")
    }

    /// The text of the nodes in `from..to`, whitespace collapsed.
    fn text_of(&self, nodes: &[Node], from: usize, to: usize) -> String {
        let mut s = String::new();
        for n in nodes.get(from..to).unwrap_or(&[]) {
            if n.kind == NodeKind::Text {
                s.push_str(self.slice(n));
            }
        }
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The current flow: the notes while a note is open, else the text.
    #[inline]
    fn flow(&mut self) -> (&mut String, &mut Flow) {
        if self.note_depth > 0 {
            (&mut self.notes, &mut self.note_flow)
        } else {
            (&mut self.out, &mut self.text_flow)
        }
    }

    /// Writes text of the source (starting at byte `offset`) to the current
    /// flow, recording any markup left in it.
    fn push_source_text(&mut self, text: &str, offset: usize) {
        let (out, flow) = if self.note_depth > 0 {
            (&mut self.notes, &mut self.note_flow)
        } else {
            (&mut self.out, &mut self.text_flow)
        };
        push_text(out, flow, text, offset, &mut self.leaks);
    }

    /// Before phrasing content in the text: a paragraph must be open.
    fn ensure_block(&mut self) {
        if self.note_depth == 0 && self.blocks == 0 && !self.loose {
            self.close_table();
            self.out.push_str("<p class=\"p\">");
            self.text_flow.block_start();
            self.loose = true;
        }
    }

    /// Before a block: the paragraph the renderer opened itself ends.
    fn end_loose(&mut self) {
        if self.loose {
            self.out.push_str("</p>\n");
            self.loose = false;
            self.text_flow.block_start();
        }
    }

    fn close_table(&mut self) {
        if self.in_table {
            self.out.push_str("</table>\n");
            self.in_table = false;
        }
    }

    fn end_blocks(&mut self) {
        self.end_loose();
        self.close_table();
    }

    fn flush_notes(&mut self) {
        if !self.notes.is_empty() && self.note_depth == 0 {
            self.out.push_str("<div class=\"footnotes\">\n");
            let notes = std::mem::take(&mut self.notes);
            self.out.push_str(&notes);
            self.out.push_str("</div>\n");
        }
    }

    fn walk(&mut self, nodes: &[Node], w: &mut FileWarnings) {
        let mut i = 1usize;
        while i < nodes.len() {
            let n = nodes[i];
            // The `\z…` namespace is the spec's extension space: flagged on
            // the tape but never a diagnostic, so no reason to ask for them.
            let z_extension =
                || self.table.info(n.marker).is_none() && written_name(self.slice(&n)).starts_with('z');
            if n.flags & flags::HAS_ERROR != 0 && !z_extension() {
                self.troubled = true;
            }
            let next = match n.kind {
                NodeKind::Text => {
                    self.text(&n);
                    None
                }
                NodeKind::Error => {
                    self.troubled = true;
                    if self.slice(&n) == "\\*" {
                        self.stray_stars.push(n.start as usize);
                    }
                    None
                }
                NodeKind::Attribute | NodeKind::Root => None,
                NodeKind::Chapter => self.chapter_node(nodes, i, w),
                NodeKind::Verse => self.verse_node(nodes, i, w),
                NodeKind::MarkerOpen => self.open(nodes, i),
                NodeKind::MarkerClose | NodeKind::BlockEnd => {
                    self.close(nodes, i);
                    None
                }
            };
            i = next.unwrap_or(i + 1);
        }
        while let Some(f) = self.stack.pop() {
            self.finish_frame(f);
        }
    }

    fn text(&mut self, n: &Node) {
        let mut t = self.slice(n);
        if self.skip_caller {
            self.skip_caller = false;
            let trimmed = t.trim_start();
            let tok = trimmed.split_whitespace().next().unwrap_or("");
            t = &trimmed[tok.len()..];
            let (_, flow) = self.flow();
            flow.after_open();
        }
        if t.bytes().all(|b| b.is_ascii_whitespace()) {
            // Whitespace alone never opens a paragraph.
            let (out, flow) = self.flow();
            let mut leaks = Leaks::default();
            push_text(out, flow, t, n.start as usize, &mut leaks);
            return;
        }
        self.ensure_block();
        let offset = n.start as usize + (self.slice(n).len() - t.len());
        self.push_source_text(t, offset);
    }

    /// `\c`: ends the chapter's notes, reads `\cl`, `\cp` and `\ca` that
    /// follow it, and writes the chapter heading.
    fn chapter_node(&mut self, nodes: &[Node], i: usize, w: &mut FileWarnings) -> Option<usize> {
        self.end_blocks();
        self.flush_notes();
        let n = nodes[i];
        let number = n.link;
        self.checker.chapter(number, n.start as usize, w);
        self.chapter = number;
        self.anchored.clear();
        let (mut cl, mut cp, mut ca) = (None, None, None);
        let mut j = i + 1;
        while let Some(m) = nodes.get(j) {
            match m.kind {
                NodeKind::Text if self.slice(m).trim().is_empty() => j += 1,
                NodeKind::MarkerOpen if m.link as usize > j => {
                    let slot = match self.table.info(m.marker).map(|x| x.name) {
                        Some("cl") => &mut cl,
                        Some("cp") => &mut cp,
                        Some("ca") => &mut ca,
                        _ => break,
                    };
                    *slot = Some(self.text_of(nodes, j + 1, m.link as usize));
                    j = m.link as usize + 1;
                }
                _ => break,
            }
        }
        let short = cp.clone().unwrap_or_else(|| number.to_string());
        let label = match (cl, &self.book_cl) {
            (Some(cl), _) => cl,
            (None, Some(word)) => format!("{word} {short}"),
            (None, None) => match self.h.as_ref().or(self.toc2.as_ref()).or(self.mt.as_ref()) {
                Some(title) => format!("{title} {short}"),
                None => format!("Chapter {short}"),
            },
        };
        self.out.push_str("<h2 class=\"c-num\" id=\"ch-");
        self.out.push_str(&number.to_string());
        self.out.push_str("\">");
        push_escaped(&mut self.out, &label);
        if let Some(ca) = ca {
            self.out.push_str(" <span class=\"ca\">");
            push_escaped(&mut self.out, &ca);
            self.out.push_str("</span>");
        }
        self.out.push_str("</h2>\n");
        self.chapters.push(ChapterRef { number, label: short });
        Some(j)
    }

    /// `\v`: a note still open ends here (a note never spans verses); the
    /// number, with `\vp` shown in its place when one follows.
    fn verse_node(&mut self, nodes: &[Node], i: usize, w: &mut FileWarnings) -> Option<usize> {
        let n = nodes[i];
        if self.note_depth > 0 {
            self.notes_cut_by_verse.push(n.start as usize);
            while let Some(f) = self.stack.pop() {
                let was_note = f.close == Close::Note;
                self.finish_frame(f);
                if was_note && self.note_depth == 0 {
                    break;
                }
            }
        }
        self.ensure_block();
        let token = self.slice(&n);
        let label = token
            .split_whitespace()
            .nth(1)
            .unwrap_or_else(|| token.trim_start_matches("\\v"));
        self.checker.verse(label, n.start as usize, w);
        let mut next = None;
        let mut shown = label.to_string();
        let mut j = i + 1;
        if nodes
            .get(j)
            .is_some_and(|m| m.kind == NodeKind::Text && self.slice(m).trim().is_empty())
        {
            j += 1;
        }
        if let Some(m) = nodes.get(j)
            && m.kind == NodeKind::MarkerOpen
            && m.link as usize > j
            && self.table.info(m.marker).is_some_and(|x| x.name == "vp")
        {
            shown = self.text_of(nodes, j + 1, m.link as usize);
            next = Some(m.link as usize + 1);
        }
        let ch = self.chapter.max(1);
        let span = parse_verse_label(label).filter(|s| s.end <= super::check::MAX_NUMBER);
        let out = &mut self.out;
        self.text_flow.flush_all(out);
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
                push_escaped(out, &shown);
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
                push_escaped(out, &shown);
                out.push_str("</sup></span>");
            }
        }
        self.text_flow.space();
        next
    }

    fn push_frame(&mut self, close_at: u32, close: Close, block: bool) {
        if block {
            self.blocks += 1;
        }
        self.stack.push(Frame {
            close_at: close_at as usize,
            close,
            block,
        });
    }

    /// Handles an opening marker; returns the index to continue from when the
    /// whole subtree was consumed here.
    fn open(&mut self, nodes: &[Node], i: usize) -> Option<usize> {
        let n = nodes[i];
        let close_at = n.link as usize;
        let leaf = close_at <= i || close_at >= nodes.len();
        let skip = Some(close_at + 1).filter(|_| !leaf);
        let token: &'s str = self.slice(&n);
        let name = written_name(token);
        let Some(info) = self.table.info(n.marker) else {
            // Unknown: contained, its text kept. A leaf (inside a note or a
            // span) only continues the text around it.
            if leaf {
                return None;
            }
            if nodes[close_at].kind == NodeKind::MarkerClose {
                self.open_span(
                    if name.starts_with('z') {
                        None
                    } else {
                        Some("unknown")
                    },
                    n.link,
                );
            } else if self.note_depth > 0 {
                self.open_span(Some("unknown"), n.link);
            } else {
                self.open_para("unknown", n.link);
            }
            return None;
        };
        if leaf {
            return None;
        }
        match info.category {
            Category::Identification => {
                if info.usx_element == "periph" {
                    return self.open_periph(nodes, i);
                }
                let text = self.text_of(nodes, i + 1, close_at);
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
                skip
            }
            Category::Milestone => self.milestone(nodes, i),
            Category::Note => {
                self.open_note(nodes, i, info);
                None
            }
            Category::Character => self.open_character(nodes, i, info, name),
            Category::Paragraph | Category::Other | Category::Chapter | Category::Verse => {
                self.open_paragraph(nodes, i, info, name)
            }
        }
    }

    /// A milestone changes no text: a closed one is skipped whole; one
    /// without its `\*` (old format, one milestone a line) loses its
    /// attributes and the line end that ends it, and keeps any other text.
    fn milestone(&mut self, nodes: &[Node], i: usize) -> Option<usize> {
        let close_at = nodes[i].link as usize;
        if nodes[close_at].kind == NodeKind::BlockEnd {
            for m in &nodes[i + 1..close_at] {
                if m.kind == NodeKind::Text {
                    let t = self.slice(m);
                    let rest = after_attributes(t);
                    if rest.trim().is_empty() {
                        continue;
                    }
                    let offset = m.start as usize + (t.len() - rest.len());
                    self.push_source_text(rest, offset);
                }
            }
        }
        Some(close_at + 1)
    }

    fn open_span(&mut self, class: Option<&str>, close_at: u32) {
        let (out, flow) = self.flow();
        match class {
            Some(class) => {
                flow.flush(out);
                out.push_str("<span class=\"");
                push_attr(out, class);
                out.push_str("\">");
                flow.after_open();
                self.push_frame(close_at, Close::Span, false);
            }
            None => {
                flow.after_open();
                self.push_frame(close_at, Close::Nothing, false);
            }
        }
    }

    fn open_para(&mut self, class: &str, close_at: u32) {
        self.end_blocks();
        self.out.push_str("<p class=\"");
        push_attr(&mut self.out, class);
        self.out.push_str("\">");
        self.text_flow.block_start();
        self.push_frame(close_at, Close::Para, true);
    }

    fn open_note(&mut self, nodes: &[Node], i: usize, info: &MarkerInfo) {
        let n = nodes[i];
        self.ensure_block();
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
            .and_then(|c| self.slice(c).split_whitespace().next())
            .unwrap_or("+");
        let shown = if caller == "+" || caller == "-" || caller.chars().count() > 3 {
            seq.to_string()
        } else {
            caller.to_string()
        };
        let (p, class) = if cross { ("xr", "xref") } else { ("fn", "footnote") };
        let seq_s = seq.to_string();
        {
            let (out, flow) = self.flow();
            out.push_str("<a class=\"");
            out.push_str(class);
            out.push_str("-ref\" href=\"#");
            out.push_str(p);
            out.push('-');
            out.push_str(&seq_s);
            out.push_str("\" id=\"");
            out.push_str(p);
            out.push_str("ref-");
            out.push_str(&seq_s);
            out.push_str("\"><sup>");
            push_escaped(out, &shown);
            out.push_str("</sup></a>");
            let _ = flow;
        }
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
        self.note_flow.block_start();
        self.skip_caller = nodes.get(i + 1).is_some_and(|c| c.kind == NodeKind::Text);
        self.push_frame(n.link, Close::Note, false);
    }

    fn open_character(&mut self, nodes: &[Node], i: usize, info: &MarkerInfo, name: &str) -> Option<usize> {
        let n = nodes[i];
        match info.name {
            // Metadata about the note or sidebar, not shown.
            "cat" => return Some(n.link as usize + 1),
            "w" | "wg" | "wh" | "wa" => {
                self.ensure_block();
                self.open_span(None, n.link);
            }
            "ref" => {
                self.ensure_block();
                let close_at = n.link as usize;
                let target = nodes[i + 1..close_at]
                    .iter()
                    .find(|m| m.kind == NodeKind::Attribute)
                    .and_then(|m| self.slice(m).strip_prefix('|'))
                    .and_then(|t| self.site.books.href_of_target(t, self.site.page));
                let Some(href) = target else {
                    self.open_span(Some("ref"), n.link);
                    return None;
                };
                let (out, flow) = self.flow();
                flow.flush(out);
                out.push_str("<a class=\"ref\" href=\"");
                push_attr(out, &href);
                out.push_str("\">");
                flow.after_open();
                self.push_frame(n.link, Close::Link, false);
            }
            "th" | "thr" | "thc" | "tc" | "tcr" | "tcc" if self.in_table && self.note_depth == 0 => {
                let (open, close) = if info.name.starts_with("th") {
                    ("<th>", "</th>")
                } else {
                    ("<td>", "</td>")
                };
                self.out.push_str(open);
                self.text_flow.block_start();
                self.push_frame(n.link, Close::Tag(close), true);
            }
            _ => {
                self.ensure_block();
                self.open_span(Some(name), n.link);
            }
        }
        None
    }

    fn open_paragraph(&mut self, nodes: &[Node], i: usize, info: &MarkerInfo, name: &str) -> Option<usize> {
        let n = nodes[i];
        let close_at = n.link as usize;
        if self.note_depth > 0 {
            self.open_span(Some(name), n.link);
            return None;
        }
        match info.name {
            "tr" => {
                self.end_loose();
                if !self.in_table {
                    self.out.push_str("<table class=\"usfm-table\">\n");
                    self.in_table = true;
                }
                self.out.push_str("<tr>");
                self.push_frame(n.link, Close::Tag("</tr>\n"), true);
                return None;
            }
            // Door43's chunk marker: no heading, no paragraph break; what
            // the parser hangs under it continues the paragraph before.
            "s" if self.chunk_marker_at(nodes, i) => {
                self.push_frame(n.link, Close::Nothing, false);
                return None;
            }
            "esb" => {
                self.end_blocks();
                self.out.push_str("<aside class=\"sidebar\">\n");
                self.push_frame(n.link, Close::Tag("</aside>\n"), false);
                return None;
            }
            "cl" if self.chapter == 0 => {
                let t = self.text_of(nodes, i + 1, close_at);
                if !t.is_empty() {
                    self.book_cl = Some(t);
                }
                return Some(close_at + 1);
            }
            "mt" | "imt" if self.mt.is_none() => {
                let t = self.text_of(nodes, i + 1, close_at);
                if !t.is_empty() {
                    self.mt = Some(t);
                }
            }
            _ => {}
        }
        if !is_heading(info) {
            self.open_para(name, n.link);
            return None;
        }
        self.end_blocks();
        if matches!(info.name, "mt" | "imt") {
            self.open_title(name, n.link);
            return None;
        }
        let (open, close) = heading_tag(info, name);
        self.out.push_str(open);
        self.out.push_str(" class=\"");
        push_attr(&mut self.out, name);
        self.out.push_str("\">");
        self.text_flow.block_start();
        let has_refs = || {
            nodes[i + 1..close_at].iter().any(|m| {
                m.kind == NodeKind::MarkerOpen && self.table.info(m.marker).is_some_and(|x| x.name == "ref")
            })
        };
        if info.name == "r" && !has_refs() {
            let t = self.text_of(nodes, i + 1, close_at);
            self.site.books.push_linked(&mut self.out, &t, self.site.page);
            self.out.push_str(close);
            return Some(close_at + 1);
        }
        self.push_frame(n.link, Close::Tag(close), true);
        None
    }

    /// `\mt2 The Gospel According to` `\mt1 John`: the lines of one main
    /// title, so one `<h1>` (the page's heading) with a span per line.
    fn open_title(&mut self, name: &str, close_at: u32) {
        if self.title_end == Some(self.out.len()) {
            // Reopen the heading: keep the previous line's `</span>`.
            self.out.truncate(self.out.len() - "</h1>\n".len());
            self.out.push_str(" <span class=\"");
        } else {
            self.out.push_str("<h1 class=\"mt\"><span class=\"");
        }
        push_attr(&mut self.out, name);
        self.out.push_str("\">");
        self.text_flow.block_start();
        self.push_frame(close_at, Close::Title, true);
    }

    /// `\periph Title|id="…"`: a section of its own, titled.
    fn open_periph(&mut self, nodes: &[Node], i: usize) -> Option<usize> {
        self.end_blocks();
        let n = nodes[i];
        let mut j = i + 1;
        let mut title = String::new();
        while let Some(m) = nodes.get(j) {
            match m.kind {
                NodeKind::Text => title.push_str(self.slice(m)),
                NodeKind::Attribute => {}
                _ => break,
            }
            j += 1;
        }
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        self.out.push_str("<section class=\"periph\" id=\"periph-");
        push_attr(&mut self.out, &slug(&title));
        self.out.push_str("\">\n<h2 class=\"periph-title\">");
        push_escaped(&mut self.out, &title);
        self.out.push_str("</h2>\n");
        self.push_frame(n.link, Close::Tag("</section>\n"), false);
        Some(j)
    }

    /// A close node: ends its own frame, and any left open inside it. A
    /// close whose frame already ended (a note cut short by a verse) is
    /// nothing. A paragraph that a chunk marker (`\s5`) interrupts stays
    /// open.
    fn close(&mut self, nodes: &[Node], j: usize) {
        let Some(pos) = self.stack.iter().rposition(|f| f.close_at == j) else {
            return;
        };
        while self.stack.len() > pos + 1 {
            if let Some(f) = self.stack.pop() {
                self.finish_frame(f);
            }
        }
        let Some(f) = self.stack.pop() else { return };
        if f.close == Close::Para && self.chunk_marker_at(nodes, j + 1) {
            self.blocks -= 1;
            self.loose = true;
            return;
        }
        self.finish_frame(f);
    }

    /// Whether `nodes[k]` opens Door43's chunk marker: an `\s5` with no
    /// heading text of its own (the parser hangs the verses that follow
    /// under it, as under any paragraph marker).
    fn chunk_marker_at(&self, nodes: &[Node], k: usize) -> bool {
        let Some(m) = nodes.get(k) else { return false };
        if m.kind != NodeKind::MarkerOpen || written_name(self.slice(m)) != "s5" {
            return false;
        }
        nodes[k + 1..]
            .iter()
            .take_while(|x| x.kind == NodeKind::Text)
            .all(|x| self.slice(x).trim().is_empty())
    }

    fn finish_frame(&mut self, f: Frame) {
        if f.block {
            self.blocks -= 1;
        }
        match f.close {
            Close::Nothing => {}
            Close::Link => {
                let (out, _) = self.flow();
                out.push_str("</a>");
            }
            Close::Tag(t) => {
                self.out.push_str(t);
                self.text_flow.block_start();
            }
            Close::Span => {
                let (out, _) = self.flow();
                out.push_str("</span>");
            }
            Close::Para => {
                self.out.push_str("</p>\n");
                self.text_flow.block_start();
            }
            Close::Title => {
                self.out.push_str(TITLE_CLOSE);
                self.text_flow.block_start();
                self.title_end = Some(self.out.len());
            }
            Close::Note => {
                self.note_depth = self.note_depth.saturating_sub(1);
                self.notes.push_str("</p>\n");
                self.note_flow.block_start();
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
        assert!(
            h.contains("<h1 class=\"mt\"><span class=\"mt1\">Genesis</span></h1>"),
            "{h}"
        );
        assert!(
            h.contains("<h2 class=\"c-num\" id=\"ch-1\">Genesis 1</h2>"),
            "{h}"
        );
        assert!(h.contains("<h3 class=\"s1\">The Creation</h3>"), "{h}");
        assert!(h.contains("id=\"ch-1-v-1\""), "{h}");
        assert!(h.contains("id=\"ch-1-v-2\"><sup>2-3</sup>"), "{h}");
        assert!(h.contains("<span id=\"ch-1-v-3\"></span>"), "{h}");
        assert!(
            h.contains("In the <span class=\"nd\">Lord</span> beginning"),
            "{h}"
        );
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
        assert!(
            warns.contains("GEN.usfm:11: \\add is missing its explicit \\add*"),
            "{warns}"
        );
        assert!(
            warns.contains("GEN.usfm:12: \\xyz is not a known marker"),
            "{warns}"
        );
        assert!(
            warns.contains("missing chapters of GEN (50 expected): 3-50"),
            "{warns}"
        );
    }

    #[test]
    fn a_note_ends_at_its_own_end_marker_whatever_is_open_inside() {
        let src = "\\id GEN\n\\c 1\n\\p\n\\v 26 God said\\f + \\ft Some \\fqb text \\fqb more\\f*.\n\\v 27 So God created\n";
        let r = render_book(src, "GEN.usfm", None);
        let (text, notes) = r.html.split_once("<div class=\"footnotes\">").unwrap();
        assert!(text.contains("So God created"), "{}", r.html);
        assert!(!notes.contains("So God"), "{}", r.html);
        assert!(notes.contains("Some text more"), "{}", r.html);
        let warns = r.warnings.join("\n");
        assert!(!warns.contains("not closed"), "{warns}");
        assert!(
            warns.contains("GEN.usfm:4: \\fqb is not a known marker"),
            "{warns}"
        );
        assert_eq!(warns.matches("fqb").count(), 1, "once per marker: {warns}");
    }

    #[test]
    fn chunk_markers_keep_the_paragraph() {
        let src = "\\id GEN\n\\c 1\n\\p\n\\v 1 one\n\\s5\n\\v 2 two\n\\p\n\\v 3 three\n";
        let h = render_book(src, "GEN.usfm", None).html;
        assert_eq!(h.matches("<p ").count(), 2, "{h}");
        assert!(
            h.contains("one <span class=\"v-num\" id=\"ch-1-v-2\"><sup>2</sup></span> two</p>"),
            "{h}"
        );
    }

    #[test]
    fn special_markers_follow_the_spec() {
        let src = "\\id PSA\n\\h Psalms\n\\cl Psalm\n\\c 23\n\\d A psalm\n\\q1\n\\v 1 \\vp 1a\\vp* The~Lord \\va 2\\va*is//my \\qs Selah\\qs*\n\\c 24\n\\cl Psalm Twenty-four\n\\p\n\\v 1 x\\f + \\cat People\\cat*\\ft n\\f*\n";
        let r = render_book(src, "PSA.usfm", None);
        let h = &r.html;
        assert!(h.contains("id=\"ch-23\">Psalm 23</h2>"), "{h}");
        assert!(h.contains("id=\"ch-24\">Psalm Twenty-four</h2>"), "{h}");
        assert!(h.contains("<h4 class=\"d\">A psalm</h4>"), "{h}");
        assert!(h.contains("<sup>1a</sup></span> The\u{a0}Lord <span class=\"va\">2</span>is<wbr>my <span class=\"qs\">Selah</span>"), "{h}");
        assert!(!h.contains("People"), "{h}");
    }

    #[test]
    fn the_lines_of_the_main_title_are_one_heading() {
        let src = "\\id JHN\n\\h John\n\\mt2 The Gospel According to\n\\mt1 John\n\\c 1\n\\p\n\\v 1 In\n";
        let h = render_book(src, "JHN.usfm", None).html;
        assert!(
            h.starts_with("<h1 class=\"mt\"><span class=\"mt2\">The Gospel According to</span> <span class=\"mt1\">John</span></h1>\n"),
            "{h}"
        );
        assert_eq!(h.matches("<h1").count(), 1, "{h}");
    }

    #[test]
    fn a_verse_inside_an_unclosed_note_ends_the_note() {
        let src = "\\id GEN\n\\c 1\n\\p\n\\v 1 a\\f + \\ft note\n\\v 2 b\\f*\n";
        let r = render_book(src, "GEN.usfm", None);
        let (text, notes) = r.html.split_once("<div class=\"footnotes\">").unwrap();
        assert!(
            text.contains("id=\"ch-1-v-2\"><sup>2</sup></span> b"),
            "{}",
            r.html
        );
        assert!(notes.contains("note") && !notes.contains("v-num"), "{}", r.html);
        assert!(
            r.warnings
                .join("\n")
                .contains("GEN.usfm:5: a verse starts inside a note"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn old_format_milestones_lose_their_attributes_with_one_warning() {
        let src = "\\id TIT\n\\c 1\n\\p\n\\v 1 \\zaln-s |x-strong=\"G1\" x-lemma=\"a\"\n\\w Paul\\w*\n\\zaln-e\\*, \\zaln-s |x-strong=\"G2\"\n\\w a\\w*\\zaln-e\\*\n";
        let r = render_book(src, "TIT.usfm", None);
        assert!(r.html.contains("Paul, a"), "{}", r.html);
        assert!(!r.html.contains("x-strong"), "{}", r.html);
        let w = r.warnings.join("\n");
        assert!(
            w.contains("TIT.usfm:4: milestone \\zaln-s is missing its self-closing \\*"),
            "{w}"
        );
        assert!(w.contains("(and 1 more in this file)"), "{w}");
    }

    #[test]
    fn peripherals_and_sidebars_are_sections_of_their_own() {
        let src = "\\id FRT\n\\periph Title Page|id=\"title\"\n\\mt1 Holy Bible\n\\p Some text\n\\esb \\cat People\\cat*\n\\ms Sidebar\n\\p inside \\esbe\n";
        let h = render_book(src, "FRT.usfm", None).html;
        assert!(h.contains("<section class=\"periph\" id=\"periph-title-page\">\n<h2 class=\"periph-title\">Title Page</h2>"), "{h}");
        assert!(h.contains("<p class=\"p\">Some text</p>"), "{h}");
        assert!(h.contains("<aside class=\"sidebar\">\n<h2 class=\"ms\">Sidebar</h2>\n<p class=\"p\">inside</p>\n</aside>"), "{h}");
        assert!(!h.contains("People") && !h.contains("esbe"), "{h}");
    }

    #[test]
    fn entities_and_stray_close_markers_are_warned_about_not_hidden() {
        let src = "\\id PSA\n\\c 119\n\\p\n\\v 1 &#1488; Aleph \\ts* b\n";
        let r = render_book(src, "PSA.usfm", None);
        assert!(
            r.html.contains("&amp;#1488; Aleph b"),
            "shown as typed, marker dropped: {}",
            r.html
        );
        let w = r.warnings.join("\n");
        assert!(w.contains("PSA.usfm:4: an HTML character reference"), "{w}");
        assert!(
            w.contains("PSA.usfm:4: \\ts* has no matching opening marker; it is left out of the page"),
            "{w}"
        );
    }
}
