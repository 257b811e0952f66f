//! Warnings and errors of a build log, split into file, line and message so a
//! translator sees at once where to look.
//!
//! The converter writes them as `<file>:<line>: <message>` (optionally
//! `<file>:<line>:<column>:`), or `<file>: <message>` when no line applies;
//! anything else is shown whole.

use serde::Serialize;

/// One warning or error as the templates show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file it is about, when the line names one.
    pub file: Option<String>,
    /// The line in that file.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    /// Splits one log line.
    pub fn parse(text: &str) -> Diagnostic {
        let whole = || Diagnostic {
            file: None,
            line: None,
            message: text.trim().to_string(),
        };
        let Some((head, rest)) = text.split_once(':') else {
            return whole();
        };
        if !looks_like_file(head) {
            return whole();
        }
        let file = Some(head.to_string());
        // `<file>:<line>[:<col>]: message`
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(line) = digits.parse::<u32>() {
            let mut after = &rest[digits.len()..];
            if let Some(col_rest) = after.strip_prefix(':') {
                let col: String = col_rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                after = if col.is_empty() {
                    col_rest
                } else {
                    &col_rest[col.len()..]
                };
            }
            let message = after.trim_start_matches(':').trim();
            return Diagnostic {
                file,
                line: Some(line),
                message: message.to_string(),
            };
        }
        Diagnostic {
            file,
            line: None,
            message: rest.trim().to_string(),
        }
    }

    /// Parses every line of a list.
    pub fn parse_all(lines: &[String]) -> Vec<Diagnostic> {
        lines.iter().map(|l| Diagnostic::parse(l)).collect()
    }
}

/// A file name has an extension and no spaces (so `Error: something` is not one).
fn looks_like_file(head: &str) -> bool {
    !head.is_empty()
        && !head.contains(char::is_whitespace)
        && head.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty() && !ext.is_empty() && ext.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_line_and_message_are_split() {
        let d = Diagnostic::parse("01-GEN.usfm:12: unknown marker \\zz");
        assert_eq!(d.file.as_deref(), Some("01-GEN.usfm"));
        assert_eq!(d.line, Some(12));
        assert_eq!(d.message, "unknown marker \\zz");

        let d = Diagnostic::parse("content/01.md:3:7: broken link");
        assert_eq!((d.file.as_deref(), d.line), (Some("content/01.md"), Some(3)));
        assert_eq!(d.message, "broken link");
    }

    #[test]
    fn file_without_line() {
        let d = Diagnostic::parse("manifest.yaml: no language direction, assuming ltr");
        assert_eq!(d.file.as_deref(), Some("manifest.yaml"));
        assert_eq!(d.line, None);
        assert_eq!(d.message, "no language direction, assuming ltr");
    }

    #[test]
    fn other_text_is_kept_whole() {
        for text in [
            "Error: could not download",
            "nothing to convert",
            "http://x.example: down",
        ] {
            let d = Diagnostic::parse(text);
            assert_eq!(d.file, None, "{text}");
            assert_eq!(d.message, text);
        }
    }
}
