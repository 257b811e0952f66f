//! The canonical book table: codes, Door43 file numbers, English names and
//! chapter counts.
//!
//! Door43 and tX name every book file `NN-CODE` (01-GEN … 39-MAL, 41-MAT …
//! 67-REV; 40 is skipped so the New Testament starts at 41), whatever the
//! translator called it, so pages sort in canonical order and links between
//! resources agree. The chapter counts let the checker report missing chapters.

/// One book of the canon (or a peripheral book such as front matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Book {
    /// Upper-case USFM code (`GEN`).
    pub code: &'static str,
    /// Door43 file number (`01`, `41`, `A0`).
    pub number: &'static str,
    /// English name, shown when the file gives none.
    pub name: &'static str,
    /// Chapters in the standard versification; 0 for peripherals (not checked).
    pub chapters: u32,
}

impl Book {
    /// File stem Door43 uses (`01-GEN`).
    pub fn stem(&self) -> String {
        format!("{}-{}", self.number, self.code)
    }

    /// Lower-case identifier as RC manifests spell it (`gen`).
    pub fn identifier(&self) -> String {
        self.code.to_ascii_lowercase()
    }

    /// Whether this is a book of the 66-book canon (and so has verses to check).
    pub fn is_canonical(&self) -> bool {
        self.chapters > 0
    }
}

const fn b(code: &'static str, number: &'static str, name: &'static str, chapters: u32) -> Book {
    Book {
        code,
        number,
        name,
        chapters,
    }
}

/// Every known book in canonical order, then the peripheral books.
pub static BOOKS: &[Book] = &[
    b("GEN", "01", "Genesis", 50),
    b("EXO", "02", "Exodus", 40),
    b("LEV", "03", "Leviticus", 27),
    b("NUM", "04", "Numbers", 36),
    b("DEU", "05", "Deuteronomy", 34),
    b("JOS", "06", "Joshua", 24),
    b("JDG", "07", "Judges", 21),
    b("RUT", "08", "Ruth", 4),
    b("1SA", "09", "1 Samuel", 31),
    b("2SA", "10", "2 Samuel", 24),
    b("1KI", "11", "1 Kings", 22),
    b("2KI", "12", "2 Kings", 25),
    b("1CH", "13", "1 Chronicles", 29),
    b("2CH", "14", "2 Chronicles", 36),
    b("EZR", "15", "Ezra", 10),
    b("NEH", "16", "Nehemiah", 13),
    b("EST", "17", "Esther", 10),
    b("JOB", "18", "Job", 42),
    b("PSA", "19", "Psalms", 150),
    b("PRO", "20", "Proverbs", 31),
    b("ECC", "21", "Ecclesiastes", 12),
    b("SNG", "22", "Song of Songs", 8),
    b("ISA", "23", "Isaiah", 66),
    b("JER", "24", "Jeremiah", 52),
    b("LAM", "25", "Lamentations", 5),
    b("EZK", "26", "Ezekiel", 48),
    b("DAN", "27", "Daniel", 12),
    b("HOS", "28", "Hosea", 14),
    b("JOL", "29", "Joel", 3),
    b("AMO", "30", "Amos", 9),
    b("OBA", "31", "Obadiah", 1),
    b("JON", "32", "Jonah", 4),
    b("MIC", "33", "Micah", 7),
    b("NAM", "34", "Nahum", 3),
    b("HAB", "35", "Habakkuk", 3),
    b("ZEP", "36", "Zephaniah", 3),
    b("HAG", "37", "Haggai", 2),
    b("ZEC", "38", "Zechariah", 14),
    b("MAL", "39", "Malachi", 4),
    b("MAT", "41", "Matthew", 28),
    b("MRK", "42", "Mark", 16),
    b("LUK", "43", "Luke", 24),
    b("JHN", "44", "John", 21),
    b("ACT", "45", "Acts", 28),
    b("ROM", "46", "Romans", 16),
    b("1CO", "47", "1 Corinthians", 16),
    b("2CO", "48", "2 Corinthians", 13),
    b("GAL", "49", "Galatians", 6),
    b("EPH", "50", "Ephesians", 6),
    b("PHP", "51", "Philippians", 4),
    b("COL", "52", "Colossians", 4),
    b("1TH", "53", "1 Thessalonians", 5),
    b("2TH", "54", "2 Thessalonians", 3),
    b("1TI", "55", "1 Timothy", 6),
    b("2TI", "56", "2 Timothy", 4),
    b("TIT", "57", "Titus", 3),
    b("PHM", "58", "Philemon", 1),
    b("HEB", "59", "Hebrews", 13),
    b("JAS", "60", "James", 5),
    b("1PE", "61", "1 Peter", 5),
    b("2PE", "62", "2 Peter", 3),
    b("1JN", "63", "1 John", 5),
    b("2JN", "64", "2 John", 1),
    b("3JN", "65", "3 John", 1),
    b("JUD", "66", "Jude", 1),
    b("REV", "67", "Revelation", 22),
    b("FRT", "A0", "Front Matter", 0),
    b("BAK", "A1", "Back Matter", 0),
    b("OTH", "A2", "Other Matter", 0),
    b("INT", "A7", "Introductions", 0),
    b("CNC", "A8", "Concordance", 0),
    b("GLO", "A9", "Glossary", 0),
    b("TDX", "B0", "Topical Index", 0),
    b("NDX", "B1", "Names Index", 0),
];

/// The book with this code (any case), if known.
pub fn by_code(code: &str) -> Option<&'static Book> {
    let code = code.trim();
    if code.len() != 3 {
        return None;
    }
    BOOKS.iter().find(|bk| bk.code.eq_ignore_ascii_case(code))
}

/// Finds the book a file or repository name points at: `01-GEN.usfm`,
/// `EXO.usfm`, `lev.usfm`, `kpb_mat_text_udb`, `51-PHP`, `tn_GEN.tsv`.
/// Tokens are split on `-`, `_`, `.` and spaces; the first token that is a book
/// code wins.
pub fn from_name(name: &str) -> Option<&'static Book> {
    name.split(['-', '_', '.', ' ', '/'])
        .filter(|t| t.len() == 3)
        .find_map(by_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_skips_forty_and_counts_are_sane() {
        assert_eq!(by_code("mal").map(|b| b.stem()), Some("39-MAL".to_string()));
        assert_eq!(by_code("MAT").map(|b| b.stem()), Some("41-MAT".to_string()));
        assert_eq!(by_code("rev").map(|b| b.stem()), Some("67-REV".to_string()));
        let canon: Vec<_> = BOOKS.iter().filter(|b| b.is_canonical()).collect();
        assert_eq!(canon.len(), 66);
        assert_eq!(canon.iter().map(|b| b.chapters).sum::<u32>(), 1189);
    }

    #[test]
    fn names_point_at_books() {
        for (name, code) in [
            ("01-GEN.usfm", "GEN"),
            ("EXO.usfm", "EXO"),
            ("lev.usfm", "LEV"),
            ("kpb_mat_text_udb", "MAT"),
            ("aa_php_text_ulb", "PHP"),
            ("51-PHP", "PHP"),
            ("tn_1JN.tsv", "1JN"),
        ] {
            assert_eq!(from_name(name).map(|b| b.code), Some(code), "{name}");
        }
        assert_eq!(from_name("en-obs"), None);
        assert_eq!(from_name("README.md"), None);
    }
}
