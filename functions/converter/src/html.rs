//! HTML text helpers shared by every renderer.

/// Appends `text` to `out` with `&`, `<`, `>` escaped (element content).
/// Runs between special bytes are copied whole: this sits on the hot path of
/// every renderer.
#[inline]
pub fn push_escaped(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for i in memchr::memchr3_iter(b'&', b'<', b'>', bytes) {
        out.push_str(&text[start..i]);
        out.push_str(match bytes[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            _ => "&gt;",
        });
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// Appends `text` escaped for a double-quoted attribute value.
pub fn push_attr(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// `text` escaped as element content.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    push_escaped(&mut s, text);
    s
}

/// A stable, readable anchor id: lower-case letters and digits of any
/// script kept, everything else folded to single `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                out.push(l);
            }
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "section".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_slugs() {
        assert_eq!(escape("a<b>&c\"d"), "a&lt;b&gt;&amp;c\"d");
        let mut s = String::new();
        push_attr(&mut s, "x\"y");
        assert_eq!(s, "x&quot;y");
        assert_eq!(slug("Facts: ##"), "facts");
        assert_eq!(slug("What is a Metaphor?"), "what-is-a-metaphor");
        assert_eq!(slug("Ámen, Señor"), "ámen-señor");
        assert_eq!(slug("!!"), "section");
    }
}
