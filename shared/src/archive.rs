//! Safe unpacking of untrusted zip archives: the one set of rules every stage
//! that unpacks applies (the converter on a repository's source, `tx build`
//! through the converter, the webhook client on the converter's output), so
//! an archive one stage accepts the next does not refuse after minutes of
//! work.
//!
//! [`SafeZip::open`] reads the central directory and refuses, before a byte
//! is inflated, an archive over the size or entry limits, an entry whose
//! name would escape the destination (absolute, `..`, drive letters,
//! backslashes, control characters), symbolic links and device entries, and
//! declared sizes over the limits. Entries are then read in place, one at a
//! time ([`SafeZip::copy_to`], [`SafeZip::read`]), counting the bytes really
//! inflated against the total, per-entry and compression-ratio limits (a
//! lying header changes nothing). Error messages name entries, never the server's paths: they end
//! up in public build logs.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;

const MIB: u64 = 1024 * 1024;

/// Bounds on one archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Largest archive file.
    pub max_archive_bytes: u64,
    /// Most entries (files and folders).
    pub max_entries: usize,
    /// Most bytes unpacked in all.
    pub max_total_bytes: u64,
    /// Most bytes of one unpacked entry.
    pub max_entry_bytes: u64,
    /// Largest unpacked/packed ratio, per entry and for the whole archive
    /// (zip-bomb guard), applied above the floors below.
    pub max_ratio: u64,
    /// An entry smaller than this is never refused for its ratio (tiny
    /// repetitive files compress extremely well and are harmless).
    pub entry_ratio_floor_bytes: u64,
    /// An archive unpacking to less than this is never refused for its
    /// overall ratio.
    pub total_ratio_floor_bytes: u64,
}

impl ArchiveLimits {
    /// A repository's source: sized for the heaviest real repository (en_ult,
    /// 7 MB zipped, 80 MB of USFM) with ample headroom, and for a Lambda's
    /// /tmp. The overall ratio stops a small archive of many small, highly
    /// compressible entries from filling the disk (a 1 MB archive unpacks to
    /// at most 128 MiB).
    pub const SOURCE: ArchiveLimits = ArchiveLimits {
        max_archive_bytes: 256 * MIB,
        max_entries: 50_000,
        max_total_bytes: 1024 * MIB,
        max_entry_bytes: 256 * MIB,
        max_ratio: 100,
        entry_ratio_floor_bytes: MIB,
        total_ratio_floor_bytes: 128 * MIB,
    };

    /// The converter's output for a source within [`ArchiveLimits::SOURCE`]:
    /// one page per source file plus the navigation and manifest files, and
    /// HTML a few times the size of its source. The converter checks its
    /// zip against these before uploading it, and the webhook client unpacks
    /// with them, so what the one produces the other publishes.
    pub const OUTPUT: ArchiveLimits = ArchiveLimits {
        max_archive_bytes: 1024 * MIB,
        max_entries: ArchiveLimits::SOURCE.max_entries + 1_000,
        max_total_bytes: 4 * 1024 * MIB,
        max_entry_bytes: 512 * MIB,
        max_ratio: 1_000,
        entry_ratio_floor_bytes: MIB,
        total_ratio_floor_bytes: 512 * MIB,
    };
}

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Not a readable zip.
    #[error("not a readable zip archive: {0}")]
    Unreadable(String),
    /// An entry that could write outside the destination, or is not a file.
    #[error("unsafe archive entry {entry:?}: {reason}")]
    UnsafeEntry {
        /// The entry's name as stored.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Over a limit.
    #[error("{0}")]
    Limit(String),
    /// Writing the unpacked files failed (disk full, …): worth a retry.
    #[error("writing unpacked files: {0}")]
    Io(#[from] io::Error),
}

impl ArchiveError {
    /// Whether the archive itself is at fault (trying again cannot help).
    pub fn is_permanent(&self) -> bool {
        !matches!(self, ArchiveError::Io(_))
    }
}

/// Checks one entry name and returns it `/`-separated and relative, or says
/// why it is unsafe. `./` and empty segments are dropped.
pub fn safe_entry_name(raw: &str) -> Result<String, &'static str> {
    if raw.chars().any(char::is_control) {
        return Err("control character in name");
    }
    if raw.contains('\\') {
        return Err("backslash in name");
    }
    if raw.starts_with('/') {
        return Err("absolute path");
    }
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Err("drive-letter path");
    }
    let mut parts = Vec::new();
    for seg in raw.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err("path goes up with '..'"),
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Err("empty path");
    }
    Ok(parts.join("/"))
}

/// An opened archive whose every entry passed the checks of [`SafeZip::open`].
pub struct SafeZip {
    zip: zip::ZipArchive<BufReader<File>>,
    /// `(index, safe name)` of every file entry (folders left out).
    files: Vec<(usize, String)>,
    /// The size each of `files` declares, in the same order.
    sizes: Vec<u64>,
    packed_bytes: u64,
    limits: ArchiveLimits,
    /// Bytes inflated so far, each entry counted once.
    inflated: u64,
    /// Positions already counted in `inflated`.
    counted: std::collections::HashSet<usize>,
}

/// A reader that fails once more than `cap` bytes were read.
struct Capped<R> {
    inner: R,
    read: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.cap {
            return Err(io::Error::other("cap exceeded"));
        }
        Ok(n)
    }
}

impl SafeZip {
    /// Opens `archive` and checks its size, its entry count, every entry's
    /// name and kind, and the sizes it declares, before anything is unpacked.
    pub fn open(archive: &Path, limits: ArchiveLimits) -> Result<SafeZip, ArchiveError> {
        let file = File::open(archive)?;
        let packed_bytes = file.metadata()?.len();
        if packed_bytes > limits.max_archive_bytes {
            return Err(ArchiveError::Limit(format!(
                "archive is {packed_bytes} bytes, over the {} byte limit",
                limits.max_archive_bytes
            )));
        }
        let mut zip = zip::ZipArchive::new(BufReader::new(file))
            .map_err(|e| ArchiveError::Unreadable(e.to_string()))?;
        if zip.len() > limits.max_entries {
            return Err(ArchiveError::Limit(format!(
                "archive has {} entries, over the limit of {}",
                zip.len(),
                limits.max_entries
            )));
        }
        let mut files = Vec::with_capacity(zip.len());
        let mut sizes = Vec::with_capacity(zip.len());
        let mut declared: u64 = 0;
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|e| ArchiveError::Unreadable(format!("entry {i}: {e}")))?;
            let raw = entry.name().to_string();
            let unsafe_entry = |reason| ArchiveError::UnsafeEntry {
                entry: raw.clone(),
                reason,
            };
            let name = safe_entry_name(&raw).map_err(unsafe_entry)?;
            let mode = entry.unix_mode().map(|m| m & S_IFMT).unwrap_or(0);
            if entry.is_symlink() {
                return Err(unsafe_entry("symbolic link"));
            }
            if mode != 0 && mode != S_IFREG && mode != S_IFDIR {
                return Err(unsafe_entry("device, FIFO or socket entry"));
            }
            if entry.is_dir() || mode == S_IFDIR {
                continue;
            }
            if entry.size() > limits.max_entry_bytes {
                return Err(ArchiveError::Limit(format!(
                    "entry {raw:?} unpacks to more than {} bytes",
                    limits.max_entry_bytes
                )));
            }
            declared = declared.saturating_add(entry.size());
            if declared > limits.max_total_bytes {
                return Err(ArchiveError::Limit(format!(
                    "archive unpacks to more than {} bytes (at entry {raw:?})",
                    limits.max_total_bytes
                )));
            }
            files.push((i, name));
            sizes.push(entry.size());
        }
        Ok(SafeZip {
            zip,
            files,
            sizes,
            packed_bytes,
            limits,
            inflated: 0,
            counted: std::collections::HashSet::new(),
        })
    }

    /// The positions of the file entries, in archive order, the first of
    /// each name only: of two entries with one name, every reader of an
    /// archive (the converter's source, a release's bundle, the publisher)
    /// takes the first.
    pub fn positions(&self) -> Vec<usize> {
        let mut seen = std::collections::HashSet::new();
        (0..self.files.len())
            .filter(|&p| seen.insert(self.files[p].1.as_str()))
            .collect()
    }

    /// How many bytes the whole archive may unpack to: the total limit, and
    /// the overall ratio to its packed size above the floor.
    fn total_cap(&self) -> u64 {
        let by_ratio = self
            .packed_bytes
            .saturating_mul(self.limits.max_ratio)
            .max(self.limits.total_ratio_floor_bytes);
        self.limits.max_total_bytes.min(by_ratio)
    }

    /// How many file entries there are ([`SafeZip::name`] and
    /// [`SafeZip::read`] take positions below this, in archive order).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the archive holds no file at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The safe name of the file entry at `position`.
    pub fn name(&self, position: usize) -> Option<&str> {
        self.files.get(position).map(|(_, n)| n.as_str())
    }

    /// The size the entry at `position` declares (checked against the
    /// limits at open; what is inflated is counted again while reading).
    pub fn declared_size(&self, position: usize) -> Option<u64> {
        self.sizes.get(position).copied()
    }

    /// Reads the file entry at `position` whole, with the limits of
    /// [`SafeZip::copy_to`]: what is published or converted straight from
    /// the archive, without a copy on disk read back.
    pub fn read(&mut self, position: usize) -> Result<Vec<u8>, ArchiveError> {
        let mut bytes = Vec::new();
        self.copy_to(position, &mut bytes)?;
        Ok(bytes)
    }

    /// The first `limit` bytes of the entry at `position`, inflating no
    /// more than that: enough to sniff a marker (not counted towards the
    /// total, which a bounded read cannot threaten).
    pub fn head(&mut self, position: usize, limit: usize) -> Result<Vec<u8>, ArchiveError> {
        let (index, name) = self.entry(position)?;
        let entry = self
            .zip
            .by_index(index)
            .map_err(|e| ArchiveError::Unreadable(format!("{name}: {e}")))?;
        let mut head = Vec::with_capacity(limit);
        entry
            .take(limit as u64)
            .read_to_end(&mut head)
            .map_err(|e| ArchiveError::Unreadable(format!("{name}: {e}")))?;
        Ok(head)
    }

    /// The archive index and safe name of the file entry at `position`.
    fn entry(&self, position: usize) -> Result<(usize, String), ArchiveError> {
        self.files
            .get(position)
            .cloned()
            .ok_or_else(|| ArchiveError::Unreadable(format!("no entry at {position}")))
    }

    /// Inflates the entry at `position` into `out`, counting the bytes
    /// really inflated against the per-entry, ratio and total limits; an
    /// entry read again is not counted twice towards the total. Answers
    /// the bytes written.
    pub fn copy_to(&mut self, position: usize, out: &mut impl Write) -> Result<u64, ArchiveError> {
        let total_cap = self.total_cap();
        let limits = self.limits;
        let packed_bytes = self.packed_bytes;
        let (index, name) = self.entry(position)?;
        let first_read = !self.counted.contains(&position);
        let counted = if first_read { self.inflated } else { 0 };
        let mut entry = self
            .zip
            .by_index(index)
            .map_err(|e| ArchiveError::Unreadable(format!("{name}: {e}")))?;
        let packed = entry.compressed_size().max(1);
        let remaining = total_cap.saturating_sub(counted);
        let ratio_cap = packed
            .saturating_mul(limits.max_ratio)
            .max(limits.entry_ratio_floor_bytes);
        let cap = remaining.min(ratio_cap).min(limits.max_entry_bytes);
        let mut capped = Capped {
            inner: &mut entry,
            read: 0,
            cap,
        };
        let copied = match io::copy(&mut capped, out) {
            Ok(n) => n,
            Err(_) if capped.read > cap => {
                return Err(ArchiveError::Limit(if cap == ratio_cap {
                    format!(
                        "entry {name:?} inflates more than {}x its packed size (zip bomb?)",
                        limits.max_ratio
                    )
                } else if cap == remaining {
                    format!(
                        "archive unpacks to more than {total_cap} bytes (at entry {name:?}): over the limit for an archive of {packed_bytes} bytes"
                    )
                } else {
                    format!(
                        "entry {name:?} unpacks to more than {} bytes",
                        limits.max_entry_bytes
                    )
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(ArchiveError::Unreadable(format!("{name}: {e}")));
            }
            Err(e) => return Err(ArchiveError::Io(e)),
        };
        if first_read {
            self.counted.insert(position);
            self.inflated += copied;
        }
        Ok(copied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn make_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn names_that_escape_are_refused() {
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "C:/win",
            "a\\..\\..\\b",
            "",
            "a/\u{7}",
            "x\0y",
        ] {
            assert!(safe_entry_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(safe_entry_name("./a//b/c.md").unwrap(), "a/b/c.md");
    }

    #[test]
    fn entries_are_read_in_place_in_archive_order() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("a.zip");
        make_zip(&zip_path, &[("repo/a.md", b"# a"), ("repo/b/c.md", b"c")]);
        let mut z = SafeZip::open(&zip_path, ArchiveLimits::SOURCE).unwrap();
        let positions = z.positions();
        let names: Vec<_> = positions.iter().filter_map(|&p| z.name(p)).collect();
        assert_eq!(names, ["repo/a.md", "repo/b/c.md"]);
        assert_eq!(z.read(positions[0]).unwrap(), b"# a");
        assert_eq!(z.head(positions[1], 10).unwrap(), b"c");
        assert_eq!(z.head(positions[0], 2).unwrap(), b"# ");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().count() == 1,
            "nothing written"
        );
    }

    /// Reads every entry, as a publisher or the converter would.
    fn read_all(zip: &mut SafeZip) -> Result<(), ArchiveError> {
        for p in zip.positions() {
            zip.read(p)?;
        }
        Ok(())
    }

    #[test]
    fn zip_slip_and_links_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("a.zip");
        make_zip(&zip_path, &[("ok.md", b"x"), ("../evil.sh", b"x")]);
        let err = SafeZip::open(&zip_path, ArchiveLimits::SOURCE)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("../evil.sh") && !err.contains(&dir.path().display().to_string()),
            "{err}"
        );
        let mut w = zip::ZipWriter::new(File::create(&zip_path).unwrap());
        w.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        w.finish().unwrap();
        let err = SafeZip::open(&zip_path, ArchiveLimits::SOURCE)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }

    #[test]
    fn bombs_are_stopped_per_entry_and_overall() {
        let dir = tempfile::tempdir().unwrap();
        // One entry: 8 MiB of zeros inflates far past 100x.
        let one = dir.path().join("one.zip");
        make_zip(&one, &[("zeros.txt", &vec![0u8; 8 * 1024 * 1024])]);
        let err = read_all(&mut SafeZip::open(&one, ArchiveLimits::SOURCE).unwrap())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("zeros.txt") && err.contains("zip bomb"), "{err}");
        // Many entries each under the per-entry floor: the overall ratio stops them.
        let limits = ArchiveLimits {
            total_ratio_floor_bytes: 4 * 1024 * 1024,
            ..ArchiveLimits::SOURCE
        };
        let many = dir.path().join("many.zip");
        let zeros = vec![0u8; 1024 * 1024 - 1];
        let names: Vec<String> = (0..12).map(|i| format!("f{i}.txt")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &zeros[..])).collect();
        make_zip(&many, &entries);
        let err = read_all(&mut SafeZip::open(&many, limits).unwrap())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unpacks to more than 4194304 bytes"), "{err}");
        let few = ArchiveLimits {
            max_entries: 3,
            ..ArchiveLimits::SOURCE
        };
        assert!(
            SafeZip::open(&many, few)
                .err()
                .unwrap()
                .to_string()
                .contains("entries")
        );
    }

    #[test]
    fn what_the_converter_may_produce_the_publisher_accepts() {
        let (s, o) = (ArchiveLimits::SOURCE, ArchiveLimits::OUTPUT);
        assert!(o.max_entries > s.max_entries);
        assert!(o.max_total_bytes >= s.max_total_bytes);
        assert!(o.max_entry_bytes >= s.max_entry_bytes);
    }
}
