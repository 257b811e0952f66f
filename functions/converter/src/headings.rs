//! Heading levels that read right: a helps page is stitched together from
//! the converter's own structure (book, chapter, verse; manual, section;
//! category, word) and from Markdown files whose authors chose levels for a
//! file of their own (`### Description` at the top of a tA article). Demoting
//! those by a fixed amount skips levels (h2 → h5) and pushes subheadings to
//! `<h6>`, smaller than the body text. [`normalise`] renumbers a finished
//! page's headings after the fact, so every renderer gets the same rule.

/// The deepest level written: below it headings render smaller than the
/// text they head (the site's styles size h5/h6 under the body size).
pub const DEEPEST: u8 = 4;

/// Renumbers the headings of a page's HTML in place: each heading goes at
/// most one level below the nearest heading before it that is shallower in
/// the source (a stack of open levels), never deeper than [`DEEPEST`]; the
/// first heading keeps its level. Levels only change digit for digit, so ids,
/// text and everything else stay byte for byte.
///
/// Only `<hN>` / `<hN …>` and `</hN>` for N in 1..=6 are headings: `<hr>`,
/// `<header>` and text (escaped as `&lt;`) are never touched. Heading
/// elements do not nest, so a closing tag takes its opening tag's new level.
pub fn normalise(html: &mut String) {
    // Found on the bytes, then applied: a digit replaced by a digit is a
    // one-byte `replace_range` (nothing moves), so a 40 MB page is neither
    // copied nor checked as UTF-8 again.
    let mut edits: Vec<(usize, u8)> = Vec::new();
    let bytes = html.as_bytes();
    // (source level, written level) of the headings still open as context.
    let mut stack: Vec<(u8, u8)> = Vec::with_capacity(8);
    let mut current: Option<u8> = None;
    // Only `<h` and `</h` can start a heading (every renderer, and ammonia
    // for repository HTML, writes tags in lower case): two substring scans
    // skip the page's other tags, which are most of its `<`.
    let mut opens = memchr::memmem::find_iter(bytes, b"<h").peekable();
    let mut closes = memchr::memmem::find_iter(bytes, b"</h").peekable();
    let tags = std::iter::from_fn(|| match (opens.peek(), closes.peek()) {
        (Some(&o), Some(&c)) if c < o => closes.next(),
        (Some(_), _) => opens.next(),
        (None, _) => closes.next(),
    });
    for i in tags {
        let closing = bytes.get(i + 1) == Some(&b'/');
        let h = if closing { i + 2 } else { i + 1 };
        let (Some(&tag), Some(&digit), Some(&after)) = (bytes.get(h), bytes.get(h + 1), bytes.get(h + 2))
        else {
            continue;
        };
        if tag != b'h'
            || !(b'1'..=b'6').contains(&digit)
            || !matches!(after, b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')
        {
            continue;
        }
        let level = digit - b'0';
        if closing {
            if let Some(new) = current.take() {
                edits.push((h + 1, new));
            }
            continue;
        }
        while stack.last().is_some_and(|&(src, _)| src >= level) {
            stack.pop();
        }
        let new = match stack.last() {
            Some(&(_, parent)) => (parent + 1).min(level),
            None => level,
        }
        .min(DEEPEST);
        stack.push((level, new));
        edits.push((h + 1, new));
        current = Some(new);
    }
    const DIGITS: [&str; 7] = ["0", "1", "2", "3", "4", "5", "6"];
    for (at, level) in edits {
        if html.as_bytes().get(at) != Some(&(b'0' + level)) {
            html.replace_range(at..at + 1, DIGITS[usize::from(level)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        let mut s = s.to_string();
        normalise(&mut s);
        s
    }

    #[test]
    fn levels_go_down_one_at_a_time_and_stop_at_h4() {
        assert_eq!(
            n("<h1>a</h1><h2 id=\"x\">b</h2><h5>c</h5><h6>d</h6><h2>e</h2><h6>f</h6>"),
            "<h1>a</h1><h2 id=\"x\">b</h2><h3>c</h3><h4>d</h4><h2>e</h2><h3>f</h3>"
        );
        assert_eq!(
            n("<h3>a</h3><h4>b</h4><h5>c</h5><h6>d</h6>"),
            "<h3>a</h3><h4>b</h4><h4>c</h4><h4>d</h4>"
        );
        // Not headings: rules, header elements, escaped text.
        let other = "<hr><header>&lt;h6&gt;</header><h7>";
        assert_eq!(n(other), other);
        // A shallower heading after a deep one closes the deeper context.
        assert_eq!(
            n("<h2>a</h2><h5>b</h5><h4>c</h4>"),
            "<h2>a</h2><h3>b</h3><h3>c</h3>"
        );
    }
}
