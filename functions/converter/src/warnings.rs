//! Collecting warnings with their file and line, capped per file so one broken
//! file cannot bury the rest of a build log.

/// Most warnings kept for one file; the rest are counted in one summary line.
pub const MAX_PER_FILE: usize = 100;

/// Warnings of one file, as `FILE:LINE: message`.
#[derive(Debug)]
pub struct FileWarnings<'a> {
    file: String,
    source: &'a str,
    line_starts: Option<Vec<usize>>,
    kept: Vec<String>,
    dropped: usize,
}

impl<'a> FileWarnings<'a> {
    /// Warnings about `file`, whose text is `source` (for line numbers).
    pub fn new(file: &str, source: &'a str) -> Self {
        FileWarnings {
            file: file.to_string(),
            source,
            line_starts: None,
            kept: Vec::new(),
            dropped: 0,
        }
    }

    /// 1-based line of a byte offset. The line index is built on the first
    /// warning only: clean files pay nothing.
    pub fn line_of(&mut self, offset: usize) -> usize {
        let source = self.source;
        let starts = self.line_starts.get_or_insert_with(|| {
            let mut v = vec![0];
            v.extend(memchr::memchr_iter(b'\n', source.as_bytes()).map(|i| i + 1));
            v
        });
        match starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Adds a warning at a byte offset.
    pub fn at(&mut self, offset: usize, message: impl std::fmt::Display) {
        if self.kept.len() >= MAX_PER_FILE {
            self.dropped += 1;
            return;
        }
        let line = self.line_of(offset);
        self.kept.push(format!("{}:{}: {}", self.file, line, message));
    }

    /// Adds a warning about the whole file.
    pub fn file(&mut self, message: impl std::fmt::Display) {
        if self.kept.len() >= MAX_PER_FILE {
            self.dropped += 1;
            return;
        }
        self.kept.push(format!("{}: {}", self.file, message));
    }

    /// The warnings, with a summary line when some were dropped.
    pub fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.kept
                .push(format!("{}: {} more warnings not shown", self.file, self.dropped));
        }
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_and_capped() {
        let src = "a\nb\nc\n";
        let mut w = FileWarnings::new("X.usfm", src);
        w.at(0, "first");
        w.at(4, "third");
        w.file("whole");
        for _ in 0..MAX_PER_FILE {
            w.at(2, "again");
        }
        let v = w.finish();
        assert_eq!(v[0], "X.usfm:1: first");
        assert_eq!(v[1], "X.usfm:3: third");
        assert_eq!(v[2], "X.usfm: whole");
        assert_eq!(v.len(), MAX_PER_FILE + 1);
        assert!(v.last().unwrap().contains("3 more warnings"));
    }
}
