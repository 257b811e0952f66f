//! Resource limits for untrusted archives.
//!
//! A push can hold anything, including a zip bomb or an archive far larger than
//! a Lambda's /tmp. Every limit is checked while streaming, on the bytes really
//! read, never only on the sizes an archive claims.

/// Bounds applied to every fetched or unpacked archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest archive accepted for download or conversion, in bytes.
    pub max_archive_bytes: u64,
    /// Largest total of unpacked bytes across all entries.
    pub max_unpacked_bytes: u64,
    /// Most entries (files and folders) an archive may hold.
    pub max_entries: usize,
    /// Largest unpacked/packed ratio of an entry (zip-bomb guard); applied to
    /// entries whose unpacked size exceeds [`Limits::ratio_floor_bytes`].
    pub max_ratio: u64,
    /// Entries smaller than this are never refused for their ratio: tiny
    /// repetitive files compress extremely well and are harmless.
    pub ratio_floor_bytes: u64,
    /// Largest single source file converted (a USFM book, a TSV file).
    pub max_file_bytes: u64,
}

impl Default for Limits {
    /// Sized for the heaviest real repository (en_ult: 7 MB zipped, 80 MB of
    /// USFM) with ample headroom, and for a 512 MB Lambda /tmp.
    fn default() -> Self {
        Limits {
            max_archive_bytes: 256 * 1024 * 1024,
            max_unpacked_bytes: 1024 * 1024 * 1024,
            max_entries: 100_000,
            max_ratio: 200,
            ratio_floor_bytes: 1024 * 1024,
            max_file_bytes: 64 * 1024 * 1024,
        }
    }
}
