//! Markdown → HTML with pulldown-cmark (tables, footnotes, strikethrough, raw
//! HTML), plus what Door43 content needs: `[[rc://…]]` wiki links expanded,
//! links rewritten to site pages, headings demoted to fit inside a page and
//! given stable, unique ids. Everything rendered is watched by
//! [`crate::sanitize`] and sanitised when the watch cannot vouch for it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{Alignment, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use crate::html::slug;
use crate::sanitize::{self, Watch};

/// Rewrites a link target (`rc://…`, `../x/01.md`) to a site link; `None`
/// keeps it as written.
pub type LinkRewriter<'a> = &'a dyn Fn(&str) -> Option<String>;

/// FNV-1a: ids and note keys are short strings, hashed by the hundred
/// thousand per book, where SipHash showed up in profiles.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// Hasher builder for short string keys.
pub type FastHash = std::hash::BuildHasherDefault<Fnv>;

/// Ids already used on one page, so headings from many files stay unique.
#[derive(Debug, Default)]
pub struct IdSet {
    used: HashMap<String, u32, FastHash>,
}

impl IdSet {
    /// Returns `base`, or `base-2`, `base-3`… when already taken.
    pub fn unique(&mut self, base: &str) -> String {
        let Some(mut n) = self.used.get(base).copied() else {
            self.used.insert(base.to_string(), 1);
            return base.to_string();
        };
        loop {
            n += 1;
            let candidate = format!("{base}-{n}");
            if !self.used.contains_key(&candidate) {
                self.used.insert(base.to_string(), n);
                self.used.insert(candidate.clone(), 1);
                return candidate;
            }
        }
    }

    /// Marks an id as used (anchors written by the caller).
    pub fn reserve(&mut self, id: &str) {
        self.used.entry(id.to_string()).or_insert(1);
    }
}

/// How one piece of Markdown is rendered into a page.
#[derive(Default)]
pub struct MdOptions<'a> {
    /// Levels to push headings down (`# x` becomes `<h{1+demote}>`).
    pub demote: u8,
    /// Prefix of generated heading ids (`tn-`), to keep them apart from
    /// structural anchors.
    pub id_prefix: &'a str,
    /// Link rewriting, if any.
    pub links: Option<LinkRewriter<'a>>,
}

fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Turns `[[rc://en/ta/man/translate/figs-metaphor]]` into a Markdown link
/// whose text is the last path segment (tX showed these as links too).
pub fn expand_wiki_links(text: &str) -> Cow<'_, str> {
    if memchr::memmem::find(text.as_bytes(), b"[[").is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find("[[") {
        let after = &rest[start + 2..];
        match after.find("]]") {
            Some(end) if !after[..end].contains('\n') && !after[..end].is_empty() => {
                let target = after[..end].trim();
                let label = target.trim_end_matches('/').rsplit('/').next().unwrap_or(target);
                out.push_str(&rest[..start]);
                out.push('[');
                out.push_str(label);
                out.push_str("](");
                out.push_str(target);
                out.push(')');
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn demoted(level: HeadingLevel, by: u8) -> HeadingLevel {
    let n = (level as u8).saturating_add(by).min(6);
    match n {
        1 => HeadingLevel::H1,
        2 => HeadingLevel::H2,
        3 => HeadingLevel::H3,
        4 => HeadingLevel::H4,
        5 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// Streams events, buffering only the events of a heading (to give it an
/// id), so no per-document event list is built.
struct Adapter<'a, 'o, I> {
    inner: I,
    opts: &'o MdOptions<'o>,
    ids: &'o mut IdSet,
    pending: std::collections::VecDeque<Event<'a>>,
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Adapter<'a, '_, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(e) = self.pending.pop_front() {
            return Some(e);
        }
        match self.inner.next()? {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let mut title = String::new();
                let mut inner = Vec::new();
                let opts = self.opts;
                for e in self.inner.by_ref() {
                    match e {
                        Event::End(TagEnd::Heading(l)) => {
                            inner.push(Event::End(TagEnd::Heading(demoted(l, opts.demote))));
                            break;
                        }
                        Event::Text(ref t) | Event::Code(ref t) => {
                            title.push_str(t);
                            inner.push(e);
                        }
                        other => inner.push(other),
                    }
                }
                let base = match id {
                    Some(given) => given.to_string(),
                    None => format!("{}{}", self.opts.id_prefix, slug(&title)),
                };
                let id = Some(CowStr::from(self.ids.unique(&base)));
                self.pending.extend(inner);
                Some(Event::Start(Tag::Heading {
                    level: demoted(level, self.opts.demote),
                    id,
                    classes,
                    attrs,
                }))
            }
            other => Some(other),
        }
    }
}

/// Sits right after the parser: rewrites links, and shows every event the
/// parser made of the repository's text to the [`Watch`] (marks, injected
/// after it, are the converter's own HTML and never judged; nor is the raw
/// HTML in `trusted` ranges of the text, written there by the caller).
struct Guard<'o, 'w, I> {
    inner: I,
    links: Option<LinkRewriter<'o>>,
    watch: &'w mut Watch,
    trusted: &'w [Range<usize>],
}

impl<'a, I: Iterator<Item = (Event<'a>, Range<usize>)>> Iterator for Guard<'_, '_, I> {
    type Item = (Event<'a>, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let (event, range) = self.inner.next()?;
        let event = match event {
            // An HTML block is raw HTML, not a Markdown element: a tag it
            // opens may be closed by a later block at the same level.
            Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => event,
            Event::Start(tag) => {
                self.watch.start();
                Event::Start(self.tag(tag))
            }
            Event::End(_) => {
                self.watch.end();
                event
            }
            Event::Html(ref h) | Event::InlineHtml(ref h) => {
                if !self.is_trusted(&range) {
                    self.watch.raw(h);
                }
                event
            }
            other => other,
        };
        Some((event, range))
    }
}

impl<'a, I> Guard<'_, '_, I> {
    fn tag(&mut self, tag: Tag<'a>) -> Tag<'a> {
        match tag {
            Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            } => {
                let dest_url = match self.links.and_then(|f| f(&dest_url)) {
                    Some(new) => CowStr::from(new),
                    None => dest_url,
                };
                self.watch.url(&dest_url);
                Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }
            }
            Tag::Image { ref dest_url, .. } => {
                self.watch.url(dest_url);
                tag
            }
            Tag::Heading { ref attrs, .. } if !attrs.is_empty() => {
                // `# x {onclick=…}`: any attribute at all is for the sanitiser.
                self.watch.doubt();
                tag
            }
            // Column alignment is written as `style` attributes, which the
            // sanitiser removes and the site's Content-Security-Policy
            // blocks: leave it out everywhere, so both paths agree.
            Tag::Table(mut alignments) => {
                alignments.fill(Alignment::None);
                Tag::Table(alignments)
            }
            other => other,
        }
    }

    fn is_trusted(&mut self, range: &Range<usize>) -> bool {
        while let Some(first) = self.trusted.first() {
            if first.end <= range.start {
                self.trusted = &self.trusted[1..];
                continue;
            }
            return first.start <= range.start && range.end <= first.end;
        }
        false
    }
}

/// Renders Markdown to an HTML fragment appended to `out`, sanitised when
/// the [`Watch`] asks for it.
pub fn render_into(out: &mut String, text: &str, opts: &MdOptions, ids: &mut IdSet) {
    let text = expand_wiki_links(text);
    let start = out.len();
    let mut watch = Watch::default();
    let guard = Guard {
        inner: Parser::new_ext(&text, parser_options()).into_offset_iter(),
        links: opts.links,
        watch: &mut watch,
        trusted: &[],
    };
    let adapter = Adapter {
        inner: guard.map(|(event, _)| event),
        opts,
        ids,
        pending: std::collections::VecDeque::new(),
    };
    html::push_html(out, adapter);
    if watch.needs_cleaning() {
        sanitize::clean_tail(out, start);
    }
}

/// Structural HTML to place before the block that starts at `offset` of a
/// batch of Markdown (see [`render_marked_into`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Byte offset in the Markdown where the next piece begins.
    pub offset: usize,
    /// Range of the HTML in the marks' text.
    pub html: std::ops::Range<usize>,
}

/// Renders a batch of Markdown pieces in one parse, writing each piece's
/// structural HTML (headings, wrappers) at its mark without feeding it to
/// the parser: tN has a hundred thousand notes per repo, and raw HTML blocks
/// between them cost as much as the notes. The caller separates pieces by a
/// blank line and starts each at a column-0 line that closes every open
/// container (so a piece never continues the previous one's list); a mark
/// that still falls inside a container is written when it closes, so the
/// output stays well nested. Raw HTML the caller wrote into `text` itself
/// lies in the `trusted` ranges (sorted); the batch is sanitised as a whole
/// when the [`Watch`] asks for it.
pub fn render_marked_into(
    out: &mut String,
    text: &str,
    trusted: &[Range<usize>],
    marks: &[Mark],
    marks_text: &str,
    opts: &MdOptions,
    ids: &mut IdSet,
) {
    let start = out.len();
    let mut watch = Watch::default();
    let guard = Guard {
        inner: Parser::new_ext(text, parser_options()).into_offset_iter(),
        links: opts.links,
        watch: &mut watch,
        trusted,
    };
    let inject = Inject {
        inner: guard,
        marks,
        marks_text,
        next: 0,
        depth: 0,
        held: None,
    };
    let adapter = Adapter {
        inner: inject,
        opts,
        ids,
        pending: std::collections::VecDeque::new(),
    };
    html::push_html(out, adapter);
    if watch.needs_cleaning() {
        sanitize::clean_tail(out, start);
    }
}

/// Interleaves marks' HTML with the parser's events at depth 0.
struct Inject<'a, 'm, I> {
    inner: I,
    marks: &'m [Mark],
    marks_text: &'a str,
    next: usize,
    depth: usize,
    held: Option<Event<'a>>,
}

impl<'a, I: Iterator<Item = (Event<'a>, std::ops::Range<usize>)>> Iterator for Inject<'a, '_, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(e) = self.held.take() {
            return Some(e);
        }
        let Some((event, range)) = self.inner.next() else {
            // Marks after the last block (empty pieces at the end).
            let rest = self.marks.get(self.next..).unwrap_or_default();
            self.next = self.marks.len();
            return self.html_of(rest);
        };
        let due = match self.marks.get(self.next) {
            Some(m) if self.depth == 0 && m.offset <= range.start => self.marks[self.next..]
                .iter()
                .take_while(|m| m.offset <= range.start)
                .count(),
            _ => 0,
        };
        match &event {
            Event::Start(_) => self.depth += 1,
            Event::End(_) => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        if due == 0 {
            return Some(event);
        }
        let marks = &self.marks[self.next..self.next + due];
        self.next += due;
        self.held = Some(event);
        self.html_of(marks)
    }
}

impl<'a, I> Inject<'a, '_, I> {
    /// One raw HTML event for consecutive marks (they are contiguous in the
    /// marks' text).
    fn html_of(&self, marks: &[Mark]) -> Option<Event<'a>> {
        let (first, last) = (marks.first()?, marks.last()?);
        let html = self.marks_text.get(first.html.start..last.html.end)?;
        Some(Event::Html(CowStr::Borrowed(html)))
    }
}

/// Renders Markdown to a new HTML fragment.
pub fn render(text: &str, opts: &MdOptions) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    render_into(&mut out, text, opts, &mut IdSet::default());
    out
}

/// The text of the first heading of a Markdown file, if any (page titles).
pub fn first_heading(text: &str) -> Option<String> {
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('#') {
            let t = l.trim_start_matches('#').trim().trim_end_matches('#').trim();
            if !t.is_empty() {
                return Some(t.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_footnotes_html_and_ids() {
        let md = "# Title #\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1]\n\n[^1]: note\n\n<div class=\"x\">raw</div>\n\n# Title\n";
        let h = render(md, &MdOptions::default());
        assert!(h.contains("<h1 id=\"title\">Title</h1>"), "{h}");
        assert!(h.contains("<h1 id=\"title-2\">Title</h1>"), "{h}");
        assert!(h.contains("<table>"), "{h}");
        assert!(h.contains("footnote-definition"), "{h}");
        assert!(h.contains("<div class=\"x\">raw</div>"), "{h}");
    }

    #[test]
    fn headings_demote_and_links_rewrite() {
        let md = "## Facts\n\nSee [[rc://en/tw/dict/bible/kt/god]] and [x](../other/01.md).\n";
        let rewrite = |u: &str| {
            u.strip_prefix("../")
                .map(|r| format!("page.html#{}", r.trim_end_matches("/01.md")))
        };
        let opts = MdOptions {
            demote: 2,
            id_prefix: "w-",
            links: Some(&rewrite),
        };
        let h = render(md, &opts);
        assert!(h.contains("<h4 id=\"w-facts\">Facts</h4>"), "{h}");
        // An rc:// link nothing rewrote stays for the deployer, which
        // replaces every one (site_links in tx-deployer).
        assert!(
            h.contains("<a href=\"rc://en/tw/dict/bible/kt/god\">god</a>"),
            "{h}"
        );
        assert!(h.contains("<a href=\"page.html#other\">x</a>"), "{h}");
    }

    #[test]
    fn bare_formatting_tags_pass_untouched() {
        let md = "<blockquote>God has spoken by a <u>Son</u><sup>1</sup>.</blockquote>\n\nA <u>word</u> and<br>more.\n";
        let h = render(md, &MdOptions::default());
        assert_eq!(
            h,
            "<blockquote>God has spoken by a <u>Son</u><sup>1</sup>.</blockquote>\n<p>A <u>word</u> and<br>more.</p>\n"
        );
    }

    #[test]
    fn active_content_is_removed_wherever_it_hides() {
        let md = concat!(
            "# Title {#t onclick=alert(1)}\n\n",
            "<script>steal()</script>\n\n",
            "<img src=x onerror=alert(1)>\n\n",
            "<svg><script>steal()</script></svg>\n\n",
            "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](&#106;avascript:alert(1))\n\n",
            "[d][r] <javascript:alert(1)> <a href=\"java\tscript:alert(1)\">e</a>\n\n",
            "[r]: vbscript:msgbox(1)\n\n",
            "![i](data:image/svg+xml;base64,PHN2Zz4)\n\n",
            "<iframe src=\"https://e.org\"></iframe><form action=\"https://e.org\"><input></form>\n\n",
            "<object data=\"x\"></object><embed src=\"x\"><base href=\"https://e.org/\">\n\n",
            "<meta http-equiv=\"refresh\" content=\"0;url=https://e.org\">\n\n",
            "<p style=\"background:url(javascript:alert(1))\">styled</p>\n\n",
            "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n",
            "Kept: [site](https://example.org/) [page](other.html#x) [mail](mailto:a@b.org)\n",
        );
        let h = render(md, &MdOptions::default()).to_ascii_lowercase();
        for gone in [
            "<script",
            "onclick",
            "onerror",
            "<svg",
            "\"javascript",
            "\"vbscript",
            "\"data:",
            "<iframe",
            "<form",
            "<input",
            "<object",
            "<embed",
            "<base",
            "<meta",
            "style=",
            "steal",
        ] {
            assert!(!h.contains(gone), "{gone} left in {h}");
        }
        for kept in [
            "<h1 id=\"t\">title</h1>",
            "<a href=\"https://example.org/\">site</a>",
            "<a href=\"other.html#x\">page</a>",
            "<a href=\"mailto:a@b.org\">mail</a>",
            "<p>styled</p>",
            "<th>a</th>",
        ] {
            assert!(h.contains(kept), "{kept} missing from {h}");
        }
    }

    #[test]
    fn rewritten_links_are_judged_as_written() {
        // A page named after a file called `javascript:x.md`.
        let rewrite = |_: &str| Some("javascript:x.html".to_string());
        let opts = MdOptions {
            links: Some(&rewrite),
            ..MdOptions::default()
        };
        assert_eq!(render("[a](x.md)", &opts), "<p><a>a</a></p>\n");
    }

    #[test]
    fn wiki_links_and_titles() {
        assert_eq!(
            expand_wiki_links("a [[rc://x/y]] b [[ c"),
            "a [y](rc://x/y) b [[ c"
        );
        assert_eq!(first_heading("\n# God #\n\nx"), Some("God".to_string()));
        assert_eq!(first_heading("no"), None);
    }
}
