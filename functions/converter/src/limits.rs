//! Resource limits for untrusted archives.
//!
//! A push can hold anything, including a zip bomb or an archive far larger than
//! a Lambda's /tmp. Every limit is checked while streaming, on the bytes really
//! read, never only on the sizes an archive claims.

use tx_shared::archive::ArchiveLimits;

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
    /// The archive limits every stage shares
    /// ([`tx_shared::archive::ArchiveLimits::SOURCE`]), so the publisher never
    /// refuses what the converter accepted; 64 MiB per converted file.
    fn default() -> Self {
        let source = ArchiveLimits::SOURCE;
        Limits {
            max_archive_bytes: source.max_archive_bytes,
            max_unpacked_bytes: source.max_total_bytes,
            max_entries: source.max_entries,
            max_ratio: source.max_ratio,
            ratio_floor_bytes: source.entry_ratio_floor_bytes,
            max_file_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// These limits as the shared archive rules take them.
    pub fn archive(&self) -> ArchiveLimits {
        ArchiveLimits {
            max_archive_bytes: self.max_archive_bytes,
            max_entries: self.max_entries,
            max_total_bytes: self.max_unpacked_bytes,
            max_ratio: self.max_ratio,
            entry_ratio_floor_bytes: self.ratio_floor_bytes,
            ..ArchiveLimits::SOURCE
        }
    }
}
