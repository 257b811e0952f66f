//! Verse text as USFM 3 defines it, written as HTML element content.
//!
//! The rules (USFM 3.1, "Whitespace" and "Special characters"):
//! - the one space after an opening marker (`\nd Lord`) delimits the marker;
//!   it is not text, so `王后\pn 以斯帖\pn*` reads `王后以斯帖`;
//! - any run of ASCII whitespace is one word break;
//! - `~` is a no-break space (U+00A0), `//` an optional line break (`<wbr>`);
//! - a break made of line ends only, before punctuation that closes the word
//!   before it, is layout (aligned USFM puts one word per line:
//!   `\w Paul\w*⏎\zaln-e\*,` reads `Paul,`), the same rule the `usfm3` crate
//!   follows for its plain text.
//!
//! A word break is written lazily, before the next visible character, so a
//! break at the end of a block or before a closing tag costs nothing and
//! never doubles. Text that still looks like markup (an HTML entity typed in
//! the source, `|x-…="…"` attributes outside their marker) is written as
//! typed, escaped, and recorded so the build can warn about it.

use super::leaks::{Leak, Leaks};

/// Pending whitespace since the last visible character.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
enum Gap {
    #[default]
    None,
    /// Line ends only: layout, dropped before closing punctuation.
    LineBreak,
    /// At least one space or tab: a word break the author typed.
    Space,
}

/// Whitespace state of one output flow (the text, or the notes).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flow {
    gap: Gap,
    /// The next text starts with the delimiter of the marker just opened.
    delimiter: bool,
    /// Something visible was written since the block began: leading
    /// whitespace of a block is not a word break.
    content: bool,
}

impl Flow {
    /// A block (paragraph, heading, cell, note) begins: no pending break.
    pub fn block_start(&mut self) {
        *self = Flow::default();
    }

    /// An opening marker was written: the next space is its delimiter.
    pub fn after_open(&mut self) {
        self.delimiter = true;
    }

    /// Writes a pending word break now, before an element opens, so the
    /// break stays outside it (a reader who skips the element, as the
    /// verse-text oracle skips `\va`, still sees the words apart). A break
    /// of line ends only stays pending: it may be layout before punctuation.
    pub fn flush(&mut self, out: &mut String) {
        if self.gap == Gap::Space {
            if self.content {
                out.push(' ');
            }
            self.gap = Gap::None;
        }
    }

    /// Writes any pending break now, line ends included: before a verse
    /// number, which is never punctuation.
    pub fn flush_all(&mut self, out: &mut String) {
        if self.gap != Gap::None && self.content {
            out.push(' ');
        }
        self.gap = Gap::None;
    }

    /// A word break that the markup implies (after a verse number).
    pub fn space(&mut self) {
        self.gap = Gap::Space;
        self.content = true;
        self.delimiter = true;
    }
}

const PLAIN: u8 = 0;
const NEWLINE: u8 = 1;
const SPACE: u8 = 2;
const TILDE: u8 = 3;
const SLASH: u8 = 4;
const LT: u8 = 5;
const GT: u8 = 6;
const AMP: u8 = 7;
const BAR: u8 = 8;

/// What each byte needs; every special byte is ASCII, so every index the
/// scan stops at is a char boundary.
static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    t[b'\n' as usize] = NEWLINE;
    t[b'\r' as usize] = NEWLINE;
    t[b' ' as usize] = SPACE;
    t[b'\t' as usize] = SPACE;
    t[0x0c] = SPACE;
    t[b'~' as usize] = TILDE;
    t[b'/' as usize] = SLASH;
    t[b'<' as usize] = LT;
    t[b'>' as usize] = GT;
    t[b'&' as usize] = AMP;
    t[b'|' as usize] = BAR;
    t
};

/// Appends the text `s` (which starts at byte `offset` of the source) to
/// `out` under the rules above.
pub fn push_text(out: &mut String, flow: &mut Flow, s: &str, offset: usize, leaks: &mut Leaks) {
    let bytes = s.as_bytes();
    let mut i = 0;
    if flow.delimiter {
        flow.delimiter = false;
        if bytes
            .first()
            .is_some_and(|b| CLASS[*b as usize] == SPACE || CLASS[*b as usize] == NEWLINE)
        {
            i = 1;
        }
    }
    while i < bytes.len() {
        let class = CLASS[bytes[i] as usize];
        match class {
            NEWLINE => {
                if flow.gap == Gap::None {
                    flow.gap = Gap::LineBreak;
                }
                i += 1;
                continue;
            }
            SPACE => {
                flow.gap = Gap::Space;
                i += 1;
                continue;
            }
            SLASH if bytes.get(i + 1) == Some(&b'/') => {
                out.push_str("<wbr>");
                i += 2;
                continue;
            }
            _ => {}
        }
        if flow.gap != Gap::None {
            let separate = flow.gap == Gap::Space || !s[i..].chars().next().is_some_and(attaches_left);
            if separate && flow.content {
                out.push(' ');
            }
            flow.gap = Gap::None;
        }
        flow.content = true;
        match class {
            TILDE => out.push('\u{a0}'),
            LT => out.push_str("&lt;"),
            GT => out.push_str("&gt;"),
            AMP => {
                if looks_like_entity(&bytes[i..]) {
                    leaks.record(Leak::Entity, offset + i);
                }
                out.push_str("&amp;");
            }
            BAR => {
                if looks_like_attribute(&bytes[i + 1..]) {
                    leaks.record(Leak::Attribute, offset + i);
                }
                out.push('|');
            }
            _ => {
                // A run of plain bytes (a lone `/` included), with the single
                // spaces between its words, in one copy: what the rules would
                // write for them is the same bytes.
                let mut end = i + 1;
                while end < bytes.len() {
                    if CLASS[bytes[end] as usize] == PLAIN {
                        end += 1;
                    } else if bytes[end] == b' '
                        && bytes.get(end + 1).is_some_and(|b| CLASS[*b as usize] == PLAIN)
                    {
                        end += 2;
                    } else {
                        break;
                    }
                }
                out.push_str(&s[i..end]);
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

/// `&#1488;`, `&#x5D0;`, `&amp;`: an HTML character reference typed into
/// USFM, which is plain text, so it would show as typed.
fn looks_like_entity(b: &[u8]) -> bool {
    let rest = &b[1..];
    let body = match rest.first() {
        Some(b'#') => match rest.get(1) {
            Some(b'x' | b'X') => &rest[2..],
            _ => &rest[1..],
        },
        _ => rest,
    };
    let hexish = rest.first() == Some(&b'#');
    let n = body
        .iter()
        .take(10)
        .take_while(|c| {
            if hexish {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_alphanumeric()
            }
        })
        .count();
    n >= 1 && body.get(n) == Some(&b';') && (hexish || n >= 2)
}

/// `|x-occurrence="1"`, `|lemma="…"`: word attributes outside the marker that
/// owns them (a broken `\w` or an old-format milestone).
fn looks_like_attribute(b: &[u8]) -> bool {
    let b = b.strip_prefix(b" ").unwrap_or(b);
    if b.starts_with(b"x-") {
        return true;
    }
    let n = b
        .iter()
        .take(24)
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
        .count();
    n > 0 && b[n..].starts_with(b"=\"")
}

/// Punctuation that closes or trails the word before it (straight quotes
/// open as often as they close, so they are not in the list).
fn attaches_left(ch: char) -> bool {
    matches!(
        ch,
        ',' | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | ')'
            | ']'
            | '}'
            | '…'
            | '”'
            | '’'
            | '»'
            | '›'
            | '、'
            | '。'
            | '，'
            | '．'
            | '：'
            | '；'
            | '！'
            | '？'
            | '）'
            | '」'
            | '』'
            | '】'
            | '》'
            | '〉'
            | '،'
            | '؛'
            | '؟'
            | '۔'
            | '।'
            | '॥'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(parts: &[(&str, bool)]) -> String {
        let mut out = String::new();
        let mut flow = Flow::default();
        let mut leaks = Leaks::default();
        for (s, opened) in parts {
            if *opened {
                flow.after_open();
            }
            push_text(&mut out, &mut flow, s, 0, &mut leaks);
        }
        out
    }

    #[test]
    fn the_space_after_a_marker_is_its_delimiter() {
        assert_eq!(
            text(&[("daughters", true), ("-", false), (" in", true)]),
            "daughters-in"
        );
        assert_eq!(text(&[("王后", false), (" 以斯帖", true)]), "王后以斯帖");
        assert_eq!(text(&[("said ", false), ("  Go", true)]), "said Go");
    }

    #[test]
    fn whitespace_collapses_and_line_ends_before_punctuation_are_layout() {
        assert_eq!(text(&[("a \n\t b", false)]), "a b");
        assert_eq!(text(&[("Paul\n", false), (",", false)]), "Paul,");
        assert_eq!(text(&[("Paul ", false), (",", false)]), "Paul ,");
        assert_eq!(text(&[("  lead", false)]), "lead");
    }

    #[test]
    fn special_characters() {
        assert_eq!(
            text(&[("a~b//c / d <e> & f", false)]),
            "a\u{a0}b<wbr>c / d &lt;e&gt; &amp; f"
        );
    }

    #[test]
    fn markup_left_in_text_is_recorded() {
        let mut leaks = Leaks::default();
        let mut out = String::new();
        let mut flow = Flow::default();
        push_text(
            &mut out,
            &mut flow,
            "x &#1488; |x-occurrence=\"1\" &c. a|b",
            10,
            &mut leaks,
        );
        assert_eq!(leaks.first(Leak::Entity), Some((12, 1)));
        assert_eq!(leaks.first(Leak::Attribute), Some((20, 1)));
    }
}
