//! The one-line Markdown that most translationNotes are written in — plain
//! text, `**bold**` and `[label](target)` links — rendered without the
//! parser.
//!
//! en_tn holds about a hundred thousand such notes; handing each to
//! pulldown-cmark costs more than all the rest of the conversion. This path
//! accepts only text whose CommonMark reading is beyond doubt (every `**` is
//! unambiguously an opener or a closer, links have plain labels and simple
//! destinations, no character that could start anything else) and answers
//! `false` for everything else, which then goes to pulldown-cmark as before.
//! Its output is byte for byte what pulldown-cmark writes for the same text;
//! the corpus test holds it to that on every note of en_tn. It writes no raw
//! HTML and only links whose target passes [`url_is_safe`], so what it
//! writes never needs the sanitiser.

use pulldown_cmark_escape::{escape_href, escape_html_body_text};

use crate::markdown::LinkRewriter;
use crate::sanitize::url_is_safe;

/// Bytes that can start Markdown syntax this path does not handle (or that
/// pulldown-cmark rewrites: entities, escapes, NUL, line structure).
const UNSUPPORTED: [bool; 256] = {
    let mut table = [false; 256];
    let bytes = b"\\_<>&!#|~`\n\r\t\0";
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
};

/// Punctuation a closing `**` may be followed by (all CommonMark
/// punctuation, so a `**` between a letter and one of them only closes).
const AFTER_CLOSER: &str = ".,;:?)'\"’”-";

/// Appends the HTML paragraph of `text` to `out` and returns `true` when
/// `text` is in the subset; otherwise leaves `out` as it was and returns
/// `false`.
pub fn render_simple(out: &mut String, text: &str, links: Option<LinkRewriter>) -> bool {
    let start = out.len();
    if render(out, text, links).is_some() {
        return true;
    }
    out.truncate(start);
    false
}

fn render(out: &mut String, text: &str, links: Option<LinkRewriter>) -> Option<()> {
    // A paragraph's trailing spaces and line ends are not part of it.
    let text = text.trim_end_matches([' ', '\n']);
    let b = text.as_bytes();
    let (first, last) = (*b.first()?, *b.last()?);
    if first.is_ascii_whitespace()
        || last.is_ascii_whitespace()
        || b.iter().any(|&c| UNSUPPORTED[usize::from(c)])
    {
        return None;
    }
    if matches!(first, b'-' | b'+' | b'=') || starts_like_ordered_list(b) {
        return None;
    }
    out.push_str("<p>");
    let mut open = false;
    let mut plain_from = 0;
    let mut i = 0;
    while let Some(skip) = memchr::memchr3(b'*', b'[', b']', &b[i..]) {
        i += skip;
        match b[i] {
            b'*' => {
                let run = b[i..].iter().take_while(|&&c| c == b'*').count();
                let before = text[..i].chars().next_back();
                let after = text[i + run..].chars().next();
                let fits = if open {
                    closes(before, after)
                } else {
                    opens(before, after)
                };
                if run != 2 || !fits {
                    return None;
                }
                push_text(out, &text[plain_from..i]);
                out.push_str(if open { "</strong>" } else { "<strong>" });
                open = !open;
                i += run;
                plain_from = i;
            }
            b'[' => {
                if let Some(end) = literal_brackets(text, i) {
                    // `[words]` that is no link stays text (no definitions here).
                    i = end;
                    continue;
                }
                let (label, target, end) = inline_link(text, i)?;
                push_text(out, &text[plain_from..i]);
                let rewritten = links.and_then(|f| f(target));
                let href = rewritten.as_deref().unwrap_or(target);
                if !url_is_safe(href) {
                    // The parser's path has the sanitiser decide.
                    return None;
                }
                out.push_str("<a href=\"");
                escape_href(&mut *out, href).ok()?;
                out.push_str("\">");
                push_text(out, label);
                out.push_str("</a>");
                i = end;
                plain_from = i;
            }
            _ => return None,
        }
    }
    if open {
        return None;
    }
    push_text(out, &text[plain_from..]);
    out.push_str("</p>\n");
    Some(())
}

/// `1. x` or `1) x` would be an ordered list item.
fn starts_like_ordered_list(b: &[u8]) -> bool {
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && matches!(b.get(digits), Some(b'.' | b')'))
}

/// A `**` that can only open: after the start, a space or `(`, before a
/// letter or digit (left-flanking and not right-flanking).
fn opens(before: Option<char>, after: Option<char>) -> bool {
    matches!(before, None | Some(' ' | '(')) && after.is_some_and(char::is_alphanumeric)
}

/// A `**` that can only close: after a letter or digit and before the end,
/// a space or punctuation; or after punctuation and before the end or a
/// space (right-flanking and not left-flanking).
fn closes(before: Option<char>, after: Option<char>) -> bool {
    match before {
        Some(c) if c.is_alphanumeric() => after.is_none_or(|a| a == ' ' || AFTER_CLOSER.contains(a)),
        Some(c) if AFTER_CLOSER.contains(c) => matches!(after, None | Some(' ')),
        _ => false,
    }
}

/// `[words]` at `at` that cannot be a link: not at the start (where it
/// could be a definition), no brackets or emphasis inside, and followed by
/// neither `(` nor `[`. Returns the index after the `]`.
fn literal_brackets(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at + 1..];
    let close = rest.find(']')?;
    let label = &rest[..close];
    let next = rest.as_bytes().get(close + 1);
    let literal =
        at > 0 && !label.is_empty() && !label.contains(['[', '*']) && !matches!(next, Some(b'(' | b'['));
    literal.then_some(at + 1 + close + 1)
}

/// `[label](target)` at `at`: a label without brackets or emphasis and a
/// target without spaces, parentheses, quotes or angle brackets. Returns
/// the label, the target and the index after the `)`.
fn inline_link(text: &str, at: usize) -> Option<(&str, &str, usize)> {
    let rest = &text[at + 1..];
    let close = rest.find(']')?;
    let label = &rest[..close];
    let after = rest[close + 1..].strip_prefix('(')?;
    let end = after.find(')')?;
    let target = &after[..end];
    let plain_label = !label.is_empty() && !label.contains(['[', '*']);
    let plain_target = !target.is_empty() && !target.contains([' ', '(', '"', '\'', '[', ']']);
    if !(plain_label && plain_target) {
        return None;
    }
    let end_index = at + 1 + close + 1 + 1 + end + 1;
    Some((label, target, end_index))
}

fn push_text(out: &mut String, text: &str) {
    // Writing to a String cannot fail.
    let _ = escape_html_body_text(&mut *out, text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::{MdOptions, render};

    fn same_as_parser(text: &str) -> Option<String> {
        let mut fast = String::new();
        if !render_simple(&mut fast, text, None) {
            return None;
        }
        let parsed = render(text, &MdOptions::default());
        assert_eq!(fast, parsed, "fast path differs from pulldown-cmark on {text:?}");
        Some(fast)
    }

    #[test]
    fn accepted_notes_render_like_the_parser() {
        for text in [
            "Paul is speaking.",
            "**Paul** writes to **Titus**.",
            "See: [Metaphor](../figs-metaphor/01.md)",
            "See: [Metaphor](https://example.org/figs-metaphor)",
            "(**God's**) word \"here\"",
            "The **Lord.** is",
            "x [a b](https://example.com/a%20b?x=1) y",
            "Ελληνικά **λόγος** τοῦ",
            "12 men",
            "Alternate translation: [had mocked him] or [mocked]",
            "ends with a line end\n",
        ] {
            assert!(
                same_as_parser(text).is_some(),
                "{text:?} should take the fast path"
            );
        }
    }

    #[test]
    fn anything_doubtful_goes_to_the_parser() {
        for text in [
            "",
            " leading",
            "- list",
            "1. list",
            "* star",
            "*em*",
            "***x***",
            "a**b**",
            "**open",
            "** x**",
            "[ref]",
            "[ref]: x",
            "a [b][c]",
            "a [**b**]",
            "[x](a b)",
            "[x]()",
            "a & b",
            "[a](x?p=1&q=2)",
            "<b>x</b>",
            "a_b",
            "line\nbreak",
            "# heading",
            "**x**y",
            "[x](javascript:alert%281%29)",
            "[x](JavaScript:void0)",
            "[x](data:text/html;base64,PHNjcmlwdD4)",
        ] {
            let mut out = String::from("kept");
            assert!(!render_simple(&mut out, text, None), "{text:?} must fall back");
            assert_eq!(out, "kept");
        }
    }

    #[test]
    fn links_are_rewritten() {
        let rewrite = |u: &str| u.strip_prefix("rc://").map(|r| format!("https://site/{r}"));
        let mut out = String::new();
        assert!(render_simple(&mut out, "[x](rc://en/tw)", Some(&rewrite)));
        assert_eq!(out, "<p><a href=\"https://site/en/tw\">x</a></p>\n");
    }

    /// Every string over a small alphabet of the tricky characters: what
    /// the fast path accepts, it renders exactly like pulldown-cmark.
    #[test]
    fn exhaustive_small_strings_agree_with_the_parser() {
        let alphabet = ['a', ' ', '*', '[', ']', '(', ')', '.', 'é'];
        let mut accepted = 0;
        let mut word = Vec::new();
        for len in 1..=6u32 {
            for mut n in 0..alphabet.len().pow(len) {
                word.clear();
                for _ in 0..len {
                    word.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let text: String = word.iter().collect();
                if same_as_parser(&text).is_some() {
                    accepted += 1;
                }
            }
        }
        assert!(accepted > 10_000, "only {accepted} accepted");
    }
}
