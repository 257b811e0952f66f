//! Safe unpacking of an untrusted zip archive to a folder.
//!
//! Refuses zip-slip (absolute paths, `..`, drive letters), symlinks and device
//! files, and stops zip bombs on the bytes actually inflated: total size,
//! entry count and per-entry compression ratio. Entries are streamed to disk
//! one at a time, so memory stays flat whatever the archive holds.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use crate::error::ConvertError;
use crate::limits::Limits;
use crate::tree::{SourceTree, is_junk, strip_common_top};

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// Checks one entry name and returns it `/`-separated and relative, or says
/// why it is unsafe.
pub fn safe_entry_name(raw: &str) -> Result<String, String> {
    if raw.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    let name = raw.replace('\\', "/");
    if name.starts_with('/') {
        return Err("absolute path".into());
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Err("drive-letter path".into());
    }
    let mut parts = Vec::new();
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err("path goes up with '..'".into()),
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Err("empty path".into());
    }
    Ok(parts.join("/"))
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

/// Unpacks `archive` into `dest` (which must exist), strips the forge's single
/// top folder, and returns the resulting tree.
pub fn extract(archive: &Path, dest: &Path, limits: &Limits) -> Result<SourceTree, ConvertError> {
    let label = archive.display().to_string();
    let file = File::open(archive).map_err(|e| ConvertError::io(&label, e))?;
    let size = file.metadata().map_err(|e| ConvertError::io(&label, e))?.len();
    if size > limits.max_archive_bytes {
        return Err(ConvertError::Limit(format!(
            "archive is {size} bytes, over the {} byte limit",
            limits.max_archive_bytes
        )));
    }
    let mut zip = zip::ZipArchive::new(io::BufReader::new(file))
        .map_err(|e| ConvertError::Archive(format!("{label}: {e}")))?;
    if zip.len() > limits.max_entries {
        return Err(ConvertError::Limit(format!(
            "archive has {} entries, over the limit of {}",
            zip.len(),
            limits.max_entries
        )));
    }

    // First pass: validate every name and kind before writing anything.
    let mut plan: Vec<(usize, String)> = Vec::new();
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| ConvertError::Archive(format!("{label}: entry {i}: {e}")))?;
        let raw = entry.name().to_string();
        let name = safe_entry_name(&raw).map_err(|reason| ConvertError::UnsafeEntry {
            entry: raw.clone(),
            reason,
        })?;
        let mode = entry.unix_mode().map(|m| m & S_IFMT).unwrap_or(0);
        if mode == S_IFLNK || entry.is_symlink() {
            return Err(ConvertError::UnsafeEntry {
                entry: raw,
                reason: "symbolic link".into(),
            });
        }
        if mode != 0 && mode != S_IFREG && mode != S_IFDIR {
            return Err(ConvertError::UnsafeEntry {
                entry: raw,
                reason: "device, FIFO or socket entry".into(),
            });
        }
        if entry.is_dir() || mode == S_IFDIR {
            continue;
        }
        declared = declared.saturating_add(entry.size());
        if declared > limits.max_unpacked_bytes {
            return Err(ConvertError::Limit(format!(
                "archive unpacks to more than {} bytes (at entry {raw:?})",
                limits.max_unpacked_bytes
            )));
        }
        if !is_junk(&name) {
            plan.push((i, name));
        }
    }
    plan.sort_by(|a, b| a.1.cmp(&b.1));
    let names: Vec<String> = plan.iter().map(|(_, n)| n.clone()).collect();
    let (_, stripped) = strip_common_top(&names);

    // Second pass: stream each file out, counting real bytes.
    let mut total: u64 = 0;
    let mut files = Vec::with_capacity(plan.len());
    for ((index, raw_name), rel) in plan.into_iter().zip(stripped) {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| ConvertError::Archive(format!("{label}: {raw_name}: {e}")))?;
        let packed = entry.compressed_size().max(1);
        let remaining = limits.max_unpacked_bytes.saturating_sub(total);
        let ratio_cap = packed
            .saturating_mul(limits.max_ratio)
            .max(limits.ratio_floor_bytes);
        let cap = remaining.min(ratio_cap);
        let out_path = dest.join(&rel);
        if let Some(parent) = out_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ConvertError::io(&rel, e))?;
        }
        let mut out = io::BufWriter::new(File::create(&out_path).map_err(|e| ConvertError::io(&rel, e))?);
        let mut capped = Capped {
            inner: &mut entry,
            read: 0,
            cap,
        };
        match io::copy(&mut capped, &mut out) {
            Ok(n) => total += n,
            Err(e) if capped.read > cap => {
                let _ = e;
                return Err(if cap == remaining {
                    ConvertError::Limit(format!(
                        "archive unpacks to more than {} bytes (at entry {raw_name:?})",
                        limits.max_unpacked_bytes
                    ))
                } else {
                    ConvertError::Limit(format!(
                        "entry {raw_name:?} inflates more than {}x its packed size (zip bomb?)",
                        limits.max_ratio
                    ))
                });
            }
            Err(e) => return Err(ConvertError::Archive(format!("{raw_name}: {e}"))),
        }
        out.flush().map_err(|e| ConvertError::io(&rel, e))?;
        files.push(rel);
    }
    files.sort();
    Ok(SourceTree {
        root: dest.to_path_buf(),
        files,
        max_file_bytes: limits.max_file_bytes,
    })
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
        for bad in ["/etc/passwd", "../x", "a/../../x", "C:/win", "a\\..\\..\\b", ""] {
            assert!(safe_entry_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(safe_entry_name("./a//b/c.md").unwrap(), "a/b/c.md");
    }

    #[test]
    fn extracts_and_strips_top_folder() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("a.zip");
        make_zip(
            &zip_path,
            &[
                ("repo/01-GEN.usfm", b"\\id GEN"),
                ("repo/sub/x.md", b"# x"),
                ("__MACOSX/repo/._x", b""),
            ],
        );
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let tree = extract(&zip_path, &out, &Limits::default()).unwrap();
        assert_eq!(
            tree.files,
            vec!["01-GEN.usfm".to_string(), "sub/x.md".to_string()]
        );
        assert_eq!(std::fs::read_to_string(out.join("sub/x.md")).unwrap(), "# x");
    }

    #[test]
    fn zip_slip_is_refused_with_the_entry_named() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("a.zip");
        make_zip(&zip_path, &[("ok.md", b"x"), ("../evil.sh", b"x")]);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let err = extract(&zip_path, &out, &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("../evil.sh"), "{err}");
        assert!(!dir.path().join("evil.sh").exists());
    }

    #[test]
    fn symlinks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("a.zip");
        let mut w = zip::ZipWriter::new(File::create(&zip_path).unwrap());
        w.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        w.finish().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let err = extract(&zip_path, &out, &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("symbolic link") && err.contains("link"), "{err}");
    }

    #[test]
    fn bombs_and_oversize_are_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("bomb.zip");
        let zeros = vec![0u8; 8 * 1024 * 1024];
        make_zip(&zip_path, &[("zeros.txt", &zeros)]);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let err = extract(&zip_path, &out, &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("zeros.txt") && err.contains("zip bomb"), "{err}");

        let small = Limits {
            max_unpacked_bytes: 1000,
            ..Limits::default()
        };
        let err = extract(&zip_path, &out, &small).unwrap_err().to_string();
        assert!(err.contains("more than 1000 bytes"), "{err}");

        let few = Limits {
            max_entries: 0,
            ..Limits::default()
        };
        assert!(
            extract(&zip_path, &out, &few)
                .unwrap_err()
                .to_string()
                .contains("entries")
        );
    }
}
