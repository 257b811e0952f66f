//! Chapter and verse bookkeeping for one book: duplicates, gaps and chapters
//! missing against the book's chapter count.
//!
//! Fed by the renderer as it meets `\c` and `\v`, so checking costs no second
//! pass over the text.

use super::books::Book;
use crate::warnings::FileWarnings;

/// A verse label's numbers: `5` → (5, 5), `2-4` → (2, 4), `3a` → (3, 3) segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerseSpan {
    /// First verse.
    pub start: u32,
    /// Last verse (same as start when not a range).
    pub end: u32,
    /// Whether the label had a segment letter (`3a`), which may repeat a verse.
    pub segment: bool,
}

/// Parses a verse label; `None` when it holds no number.
pub fn parse_verse_label(label: &str) -> Option<VerseSpan> {
    let label = label.trim();
    let digits = label.bytes().take_while(u8::is_ascii_digit).count();
    let start: u32 = label.get(..digits)?.parse().ok()?;
    let rest = &label[digits..];
    let segment = rest.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    let end = rest
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .strip_prefix(['-', ',', '–'])
        .map(|r| {
            let d = r.bytes().take_while(u8::is_ascii_digit).count();
            r[..d].parse::<u32>().unwrap_or(start)
        })
        .unwrap_or(start);
    let end = if end < start || end - start > 200 {
        start
    } else {
        end
    };
    Some(VerseSpan { start, end, segment })
}

/// Highest chapter or verse number tracked: far above any real book (Psalms
/// has 150 chapters, Psalm 119 has 176 verses), low enough that a corrupt
/// `\v 4294967295` cannot make the checker allocate gigabytes.
pub const MAX_NUMBER: u32 = 1000;

/// Running state of the chapter/verse checks of one book.
#[derive(Debug, Default)]
pub struct Checker {
    chapters_seen: Vec<bool>,
    chapter: u32,
    chapter_offset: usize,
    verses: Vec<bool>,
    segments: Vec<bool>,
    /// Total verse numbers seen in the book (ranges expanded).
    pub verse_count: usize,
}

impl Checker {
    /// Records a `\c`.
    pub fn chapter(&mut self, n: u32, offset: usize, w: &mut FileWarnings) {
        self.end_chapter(w);
        if n > MAX_NUMBER {
            w.at(offset, format_args!("\\c {n} is not a plausible chapter number"));
            self.end_chapter(w);
            self.chapter = n;
            self.chapter_offset = offset;
            return;
        }
        let i = n as usize;
        if self.chapters_seen.len() <= i {
            self.chapters_seen.resize(i + 1, false);
        }
        if n == 0 {
            w.at(offset, "\\c without a valid chapter number");
        } else if self.chapters_seen[i] {
            w.at(offset, format_args!("\\c {n} duplicate chapter"));
        }
        self.chapters_seen[i] = true;
        self.chapter = n;
        self.chapter_offset = offset;
    }

    /// Records a `\v` with its label.
    pub fn verse(&mut self, label: &str, offset: usize, w: &mut FileWarnings) {
        let Some(span) = parse_verse_label(label) else {
            w.at(offset, format_args!("\\v {label} has no verse number"));
            return;
        };
        if self.chapter == 0 {
            w.at(offset, format_args!("\\v {label} before any \\c"));
        }
        if span.end > MAX_NUMBER {
            w.at(
                offset,
                format_args!("\\v {label} is not a plausible verse number"),
            );
            return;
        }
        let end = span.end as usize;
        if self.verses.len() <= end {
            self.verses.resize(end + 1, false);
            self.segments.resize(end + 1, false);
        }
        let start = span.start as usize;
        let repeat = (start..=end).any(|v| self.verses[v]);
        let allowed =
            span.segment && self.segments[start] || span.segment && start == end && self.verses[start];
        if repeat && !allowed {
            w.at(offset, format_args!("\\v {label} duplicate verse"));
        }
        for v in start..=end {
            if !self.verses[v] {
                self.verse_count += 1;
            }
            self.verses[v] = true;
        }
        if span.segment {
            self.segments[start] = true;
        }
    }

    fn end_chapter(&mut self, w: &mut FileWarnings) {
        if self.verses.is_empty() {
            if self.chapter > 0 {
                w.at(
                    self.chapter_offset,
                    format_args!("\\c {} has no verses", self.chapter),
                );
            }
            return;
        }
        let max = self.verses.len() - 1;
        let mut v = 1;
        while v <= max {
            if !self.verses[v] {
                let from = v;
                while v <= max && !self.verses[v] {
                    v += 1;
                }
                let to = v - 1;
                let what = if from == to {
                    format!("verse {from}")
                } else {
                    format!("verses {from}-{to}")
                };
                w.at(
                    self.chapter_offset,
                    format_args!("\\c {} missing {what}", self.chapter),
                );
            }
            v += 1;
        }
        self.verses.clear();
        self.segments.clear();
    }

    /// Ends the book: missing chapters against the book's count, empty book.
    pub fn finish(&mut self, book: Option<&Book>, w: &mut FileWarnings) {
        self.end_chapter(w);
        let Some(book) = book.filter(|b| b.is_canonical()) else {
            return;
        };
        if self.verse_count == 0 {
            w.file(format_args!("empty book: no verses in {}", book.code));
            return;
        }
        let seen = |c: u32| self.chapters_seen.get(c as usize).copied().unwrap_or(false);
        let missing: Vec<u32> = (1..=book.chapters).filter(|c| !seen(*c)).collect();
        if !missing.is_empty() {
            w.file(format_args!(
                "missing chapters of {} ({} expected): {}",
                book.code,
                book.chapters,
                compress_ranges(&missing)
            ));
        }
        let extra: Vec<u32> = (book.chapters + 1..self.chapters_seen.len() as u32)
            .filter(|c| seen(*c))
            .collect();
        if !extra.is_empty() {
            w.file(format_args!(
                "chapters beyond the {} of {}: {}",
                book.chapters,
                book.code,
                compress_ranges(&extra)
            ));
        }
    }
}

/// `[1,2,3,5]` → `1-3, 5`.
pub fn compress_ranges(v: &[u32]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            v[i].to_string()
        } else {
            format!("{}-{}", v[i], v[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usfm::books::by_code;

    #[test]
    fn labels_parse() {
        assert_eq!(
            parse_verse_label("5"),
            Some(VerseSpan {
                start: 5,
                end: 5,
                segment: false
            })
        );
        assert_eq!(
            parse_verse_label("2-4"),
            Some(VerseSpan {
                start: 2,
                end: 4,
                segment: false
            })
        );
        assert_eq!(
            parse_verse_label("3a"),
            Some(VerseSpan {
                start: 3,
                end: 3,
                segment: true
            })
        );
        assert_eq!(parse_verse_label("x"), None);
        assert_eq!(compress_ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
    }

    #[test]
    fn duplicates_gaps_and_missing_chapters_are_reported() {
        let src = "l1\nl2\nl3\nl4\n";
        let mut w = FileWarnings::new("PHP.usfm", src);
        let mut c = Checker::default();
        c.chapter(1, 0, &mut w);
        c.verse("1", 3, &mut w);
        c.verse("1", 6, &mut w);
        c.verse("4-5", 9, &mut w);
        c.verse("6a", 9, &mut w);
        c.verse("6b", 9, &mut w);
        c.chapter(1, 9, &mut w);
        c.finish(by_code("PHP"), &mut w);
        let v = w.finish();
        let all = v.join("\n");
        assert!(all.contains("PHP.usfm:3: \\v 1 duplicate verse"), "{all}");
        assert!(all.contains("missing verses 2-3"), "{all}");
        assert!(all.contains("PHP.usfm:4: \\c 1 duplicate chapter"), "{all}");
        assert!(all.contains("missing chapters of PHP (4 expected): 2-4"), "{all}");
        assert!(!all.contains("6b"), "{all}");
        assert_eq!(c.verse_count, 4);
        let mut w = FileWarnings::new("X.usfm", src);
        let mut c = Checker::default();
        c.chapter(4_000_000_000, 0, &mut w);
        c.verse("4000000000", 0, &mut w);
        assert_eq!(c.verse_count, 0);
        let v = w.finish().join("\n");
        assert!(
            v.contains("not a plausible chapter") && v.contains("not a plausible verse"),
            "{v}"
        );
    }
}
