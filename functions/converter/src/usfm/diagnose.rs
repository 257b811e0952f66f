//! The parser's own diagnostics, read only where the fast parse shows there
//! is something to say (a node flagged with an error, or bytes it could not
//! interpret): a clean book costs one parse, a broken one a second parse
//! with diagnostics on.
//!
//! Only the structural findings are reported (an unknown marker, a close
//! with no opening, a marker or note left open, a milestone without its
//! `\*`): each changes what a reader sees. Chapter and verse order is the
//! checker's ([`super::check`]); the validator's style advice (blank lines,
//! empty attribute values) is not a problem on the page. Each finding is
//! reported once per marker per file, at its first line, with the count of
//! the others.

use usfm3::{DiagnosticCode, ParseOptions, Severity, Version};

use super::leaks::more;
use crate::warnings::FileWarnings;

/// What the page does about each finding, said after the parser's message.
fn consequence(code: DiagnosticCode) -> Option<&'static str> {
    use DiagnosticCode::*;
    Some(match code {
        UnknownMarker => "its text is shown as ordinary text",
        StrayCloseMarker | StrayBackslash => "it is left out of the page",
        MissingMilestoneSelfClose => "its attributes are left out of the page",
        UnclosedNote | ImplicitClose | UnclosedAtEof => "it was closed there",
        _ => return None,
    })
}

/// Reports the structural diagnostics of `src` into `w`.
pub fn report_parser_diagnostics(src: &str, w: &mut FileWarnings) {
    // The validation pass that comes with diagnostics has panicked on
    // hostile input (a chapter number of u32::MAX overflows it): a fault
    // there must cost the build its advice, never the book.
    let diagnostics = std::panic::catch_unwind(|| {
        usfm3::parse_with(src, Version::V3_1, ParseOptions { diagnostics: true })
            .diagnostics()
            .to_vec()
    });
    let Ok(diagnostics) = diagnostics else {
        w.file("the USFM parser failed while checking this file; its structural warnings are missing");
        return;
    };
    // (code, marker) → (offset, message, count), in order of first sight.
    let mut found: Vec<(DiagnosticCode, &str, usize, String, usize)> = Vec::new();
    for d in &diagnostics {
        if d.severity == Severity::Info {
            continue;
        }
        let Some(what) = consequence(d.code) else { continue };
        let start = d.span.start as usize;
        let token = src.get(start..start + d.span.len as usize).unwrap_or("");
        let marker = marker_of(token);
        match found.iter_mut().find(|f| f.0 == d.code && f.1 == marker) {
            Some(f) => f.4 += 1,
            None => found.push((d.code, marker, start, format!("{}; {what}", d.message), 1)),
        }
    }
    for (_, _, at, message, n) in found {
        w.at(at, format_args!("{message}{}", more(n)));
    }
}

/// The marker a diagnostic's span starts with (`\zaln-s`, `\ts*`), or the
/// whole span when it holds none.
fn marker_of(token: &str) -> &str {
    let end = token
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace() || *c == '|' || *c == '\\')
        .map_or(token.len(), |(i, _)| i);
    &token[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_grouped_per_marker_with_line_and_count() {
        let src = "\\id GEN\n\\c 1\n\\p\n\\v 1 a \\ts* b \\fqb c\n\\v 2 \\fqb d \\ts*\n\\v 3 \\zaln-s |x=\"1\"\n\\w e\\w*\n";
        let mut w = FileWarnings::new("GEN.usfm", src);
        report_parser_diagnostics(src, &mut w);
        let got = w.finish().join("\n");
        assert!(got.contains("GEN.usfm:4: \\ts* has no matching opening marker; it is left out of the page (and 1 more in this file)"), "{got}");
        assert!(got.contains("GEN.usfm:4: \\fqb is not a known marker"), "{got}");
        assert!(
            got.contains("GEN.usfm:6: milestone \\zaln-s is missing its self-closing \\*"),
            "{got}"
        );
        assert_eq!(got.lines().count(), 3, "{got}");
    }
}
