//! The one allow-list for HTML that comes from a repository.
//!
//! Anyone who can push to a repository writes the Markdown and the TSV notes
//! tX publishes, so the raw HTML and the link targets in them are untrusted
//! (DESIGN.md, "Forges and trust"). Every Markdown renderer of the converter
//! hands its output to [`Watch`] while it is made; output the watch cannot
//! vouch for is rewritten by [`clean`] (ammonia, an html5ever-based
//! allow-list sanitiser): only the elements of [`TAGS`], only the attributes
//! of [`GENERIC_ATTRIBUTES`] and [`TAG_ATTRIBUTES`], only URLs that are
//! relative, `#…` or of a scheme in [`URL_SCHEMES`].
//!
//! Why a watch and not ammonia on everything: en_tn is 33 MB of notes
//! rendered in a fifth of a second, and re-parsing all of it would cost
//! several times that. Almost no note or article holds raw HTML; those that
//! do mostly hold a few bare formatting tags (`<u>`, `<sup>`,
//! `<blockquote>`, `<br>`). The watch lets through, unsanitised, only output
//! made of
//! - pulldown-cmark's own markup of Markdown (text and attribute values
//!   escaped by it), with every link and image URL passing [`url_is_safe`]
//!   and no heading attributes (`{onclick=…}`),
//! - raw HTML that is nothing but attribute-less tags of [`BARE_TAGS`],
//!   balanced inside the Markdown block that holds them, and text,
//!
//! which is exactly what ammonia would leave as it is (the tests hold the
//! two to that). Anything else, however harmless it looks, goes to
//! ammonia.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Elements repository HTML may use: text structure and formatting, lists,
/// tables, images and links. No script, style, form, frame, embedded
/// object, `base`, `meta`, `link`, SVG or MathML.
pub const TAGS: &[&str] = &[
    "a",
    "abbr",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "section",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Elements removed together with everything inside them: their content is
/// code or a fallback, never text a reader should see in its place.
pub const DROPPED_WITH_CONTENT: &[&str] = &[
    "applet", "embed", "iframe", "math", "noembed", "noframes", "noscript", "object", "script", "select",
    "style", "svg", "template", "textarea", "title", "xmp",
];

/// Attributes any kept element may have: the site's anchors (`id`), its
/// styling hooks (`class`) and language marking.
pub const GENERIC_ATTRIBUTES: &[&str] = &["class", "dir", "id", "lang", "title"];

/// Attributes particular elements may have. `href` and `src` are held to
/// [`URL_SCHEMES`]; `name` keeps old-style anchors (`<a name="x">`).
pub const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "name"]),
    ("img", &["alt", "height", "src", "width"]),
    ("ol", &["reversed", "start", "type"]),
    ("li", &["value"]),
    ("td", &["colspan", "rowspan"]),
    ("th", &["colspan", "rowspan", "scope"]),
    ("col", &["span"]),
    ("colgroup", &["span"]),
    ("time", &["datetime"]),
    ("details", &["open"]),
];

/// URL schemes links and images may use; relative URLs (`page.html#x`,
/// `../x`, `//host/x`) and fragments (`#x`) are allowed as well. `rc` is a
/// link to another resource, which the deployer replaces, in every page it
/// publishes, by that resource's page on this site or on the forge
/// (`tx_shared::rc`): no `rc:` URL reaches a reader.
pub const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "rc"];

/// The raw tags the [`Watch`] lets through without the sanitiser, bare
/// (`<u>`, `</u>`, `<br/>`): formatting that is common in tA and harmless
/// wherever it is open or closed. A subset of [`TAGS`].
pub const BARE_TAGS: &[&str] = &[
    "b",
    "blockquote",
    "br",
    "cite",
    "code",
    "del",
    "div",
    "em",
    "hr",
    "i",
    "ins",
    "kbd",
    "mark",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "u",
];

/// Bare tags that have no end tag.
const VOID_TAGS: &[&str] = &["br", "hr"];

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(
            TAG_ATTRIBUTES
                .iter()
                .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect::<HashSet<_>>()))
                .collect::<HashMap<_, _>>(),
        )
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(ammonia::UrlRelative::PassThrough)
        // Only allow-listed attributes are kept (no `target`), so there is
        // no window to protect with `noopener`; adding `rel` would make the
        // sanitised output differ from what the watch lets through.
        .link_rel(None)
        .strip_comments(true);
    b
});

/// Repository HTML with everything outside the allow-list removed.
pub fn clean(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

/// Replaces `out[start..]` by its sanitised form (the fragment a renderer
/// just appended).
pub fn clean_tail(out: &mut String, start: usize) {
    let Some(tail) = out.get(start..) else {
        return;
    };
    let cleaned = clean(tail);
    out.truncate(start);
    out.push_str(&cleaned);
}

/// Whether a browser reads `url` as relative, a fragment, or of a scheme in
/// [`URL_SCHEMES`] — read as the URL standard does: leading controls and
/// spaces dropped, tabs and line breaks ignored anywhere, the scheme being
/// the letters (then letters, digits, `+`, `-`, `.`) before the first `:`,
/// in any case. `false` means "let the sanitiser decide", so anything odd
/// (a `:` right at the start) answers `false` too.
pub fn url_is_safe(url: &str) -> bool {
    // Longer than any scheme of URL_SCHEMES: only its length matters then.
    let mut scheme = [0u8; 8];
    let chars = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    for (len, c) in chars.enumerate() {
        match c {
            ':' if len == 0 => return false,
            ':' => {
                return scheme
                    .get(..len)
                    .is_some_and(|s| URL_SCHEMES.iter().any(|allowed| allowed.as_bytes() == s));
            }
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if len > 0 => {}
            // A character no scheme has: the URL has no scheme, it is relative.
            _ => return true,
        }
        if let Some(slot) = scheme.get_mut(len) {
            *slot = c.to_ascii_lowercase() as u8;
        }
    }
    // No `:` at all: relative.
    true
}

/// What is open around the events a renderer has written so far.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Open {
    /// A Markdown container (paragraph, list item, emphasis…).
    Markdown,
    /// A bare raw tag, by its index in [`BARE_TAGS`].
    Raw(usize),
}

/// Follows one rendering and tells whether its output may go out as it is
/// or must be [`clean`]ed (see the module documentation for the rule).
#[derive(Debug, Default)]
pub struct Watch {
    doubtful: bool,
    open: Vec<Open>,
}

impl Watch {
    /// A Markdown element starts (`Event::Start`).
    pub fn start(&mut self) {
        self.open.push(Open::Markdown);
    }

    /// A Markdown element ends: raw tags opened inside it must be closed.
    pub fn end(&mut self) {
        match self.open.pop() {
            Some(Open::Markdown) => {}
            _ => self.doubtful = true,
        }
    }

    /// A link or image URL as it will be written.
    pub fn url(&mut self, url: &str) {
        if !url_is_safe(url) {
            self.doubtful = true;
        }
    }

    /// Something only the sanitiser can judge (heading attributes).
    pub fn doubt(&mut self) {
        self.doubtful = true;
    }

    /// Raw HTML (`Event::Html`, `Event::InlineHtml`): bare tags of
    /// [`BARE_TAGS`] and text pass, anything else (attributes, comments,
    /// other elements, a `<` that opens no such tag) is doubtful.
    pub fn raw(&mut self, html: &str) {
        if self.doubtful {
            return;
        }
        let mut rest = html;
        while let Some(lt) = memchr::memchr(b'<', rest.as_bytes()) {
            let after = &rest[lt + 1..];
            let Some(gt) = memchr::memchr(b'>', after.as_bytes()) else {
                self.doubtful = true;
                return;
            };
            if !self.bare_tag(&after[..gt]) {
                self.doubtful = true;
                return;
            }
            rest = &after[gt + 1..];
        }
    }

    /// `inner` is what stands between `<` and `>`.
    fn bare_tag(&mut self, inner: &str) -> bool {
        let (closing, name) = match inner.strip_prefix('/') {
            Some(n) => (true, n),
            None => (false, inner.strip_suffix('/').unwrap_or(inner)),
        };
        let Some(index) = BARE_TAGS.iter().position(|t| t.eq_ignore_ascii_case(name)) else {
            return false;
        };
        if VOID_TAGS.contains(&BARE_TAGS[index]) {
            return !closing;
        }
        if inner.ends_with('/') {
            // `<u/>` opens `u` in HTML; written so, it is a mistake.
            return false;
        }
        if closing {
            self.open.pop() == Some(Open::Raw(index))
        } else {
            self.open.push(Open::Raw(index));
            true
        }
    }

    /// Whether the output must go through [`clean`].
    pub fn needs_cleaning(&self) -> bool {
        self.doubtful || self.open.iter().any(|o| matches!(o, Open::Raw(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_lists_agree() {
        for t in BARE_TAGS {
            assert!(TAGS.contains(t), "{t} is bare but not allowed");
        }
        for t in DROPPED_WITH_CONTENT {
            assert!(!TAGS.contains(t), "{t} is both allowed and dropped");
        }
        for (t, _) in TAG_ATTRIBUTES {
            assert!(TAGS.contains(t), "{t} has attributes but is not allowed");
        }
    }

    #[test]
    fn urls_are_read_as_a_browser_reads_them() {
        for safe in [
            "https://example.org/a?b#c",
            "HTTP://x",
            "mailto:a@b.org",
            "page.html#ch-1",
            "../kt/god.md",
            "#x",
            "//host/x",
            "?q=1",
            "a/b:c",
            "java script:alert(1)",
            "java%3Ascript:x",
            "rc://en/tw/dict/bible/kt/god",
            "",
        ] {
            assert!(url_is_safe(safe), "{safe:?}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "  javascript:x",
            "\u{1}javascript:x",
            "java\tscript:x",
            "java\nscript:x",
            "jav\r\nascript:x",
            "data:text/html,<script>",
            "vbscript:msgbox",
            "httpx:x",
            ":x",
            "a-very-long-scheme-name:x",
        ] {
            assert!(!url_is_safe(bad), "{bad:?}");
        }
    }

    fn watched(raw: &[&str]) -> bool {
        let mut w = Watch::default();
        w.start();
        for r in raw {
            w.raw(r);
        }
        w.end();
        w.needs_cleaning()
    }

    #[test]
    fn only_balanced_bare_tags_pass_the_watch() {
        assert!(!watched(&["<u>", "text", "</u>"]));
        assert!(!watched(&["<blockquote>a <U>b</U> c</blockquote>\n"]));
        assert!(!watched(&["<br>", "<br/>", "<hr>", "a > b"]));
        for doubtful in [
            &["<u>"][..],
            &["</u>"],
            &["<u>", "</b>"],
            &["<u class=x>", "</u>"],
            &["<u >", "</u>"],
            &["<script>", "</script>"],
            &["<img src=x onerror=alert(1)>"],
            &["<!-- x -->"],
            &["<a"],
            &["</br>"],
            &["<u/>"],
            &["<svg/onload=alert(1)>"],
        ] {
            assert!(watched(doubtful), "{doubtful:?}");
        }
        // A raw tag may not outlive the Markdown element it was opened in.
        let mut w = Watch::default();
        w.start();
        w.raw("<u>");
        w.end();
        w.start();
        w.raw("</u>");
        w.end();
        assert!(w.needs_cleaning());
        let mut w = Watch::default();
        w.url("javascript:x");
        assert!(w.needs_cleaning());
    }

    #[test]
    fn the_sanitiser_keeps_the_site_and_drops_the_rest() {
        let kept = "<h2 class=\"tn-chapter\" id=\"ch-1\">Chapter 1</h2>\n<div class=\"tn-note\" id=\"tn-x\"><p><a href=\"01-GEN.html#ch-1\">x</a> <a href=\"https://e.org/\">y</a> <a href=\"#f\">z</a> <a href=\"mailto:a@b.org\">m</a></p></div>";
        assert_eq!(clean(kept), kept);
        let h = clean(
            "<p onclick=\"x()\" style=\"color:red\">a<script>alert(1)</script><a href=\"&#106;avascript:alert(1)\">b</a><img src=\"data:image/png;base64,xx\" alt=\"i\"><iframe src=\"https://e.org\">f</iframe></p><base href=\"https://e.org/\"><meta http-equiv=\"refresh\" content=\"0;url=https://e.org\"><form action=\"https://e.org\"><input name=\"q\"></form>",
        );
        assert_eq!(h, "<p>a<a>b</a><img alt=\"i\"></p>", "{h}");
    }
}
