//! Old-format milestones: `\zaln-s |x-strong="G3588" x-lemma="ὁ" …` written
//! without the closing `\*` (usfm-js "oldformat", early Door43 alignment).
//! The parser ends such a milestone at the next marker, so its attributes
//! arrive as text; they are metadata, never verse text.

/// What is left of the text inside an unclosed milestone once its
/// attribute list (`|key="value" key="value"`) is removed.
pub fn after_attributes(text: &str) -> &str {
    let t = text.trim_start();
    let Some(mut rest) = t.strip_prefix('|') else {
        return text;
    };
    loop {
        let r = rest.trim_start();
        let key = r
            .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == ':'))
            .unwrap_or(r.len());
        if key == 0 {
            return rest;
        }
        let Some(after_eq) = r[key..].strip_prefix('=') else {
            return rest;
        };
        let Some(quoted) = after_eq.strip_prefix('"') else {
            return rest;
        };
        match quoted.find('"') {
            Some(close) => rest = &quoted[close + 1..],
            None => return "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::after_attributes;

    #[test]
    fn attributes_are_removed_and_text_kept() {
        assert_eq!(after_attributes(" |x-strong=\"G1\" x-lemma=\"ὁ\"\n"), "\n");
        assert_eq!(after_attributes(" | x-tw=\"rc://x\" words"), " words");
        assert_eq!(after_attributes(" plain"), " plain");
        assert_eq!(after_attributes(" |x=\"open"), "");
    }
}
