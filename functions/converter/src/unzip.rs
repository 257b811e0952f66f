//! Opening a repository's source archive: the shared safe-archive rules
//! ([`tx_shared::archive`], the same every unpacking stage applies), then
//! the converter's own two: junk (`__MACOSX/`, `.DS_Store`, …) is left out
//! and the forge's single top folder is stripped. The files are read from
//! the archive in place, each inflated when converted.

use std::path::Path;

use tx_shared::archive::{ArchiveError, SafeZip};

use crate::error::ConvertError;
use crate::limits::Limits;
use crate::tree::{SourceTree, is_junk, strip_common_top};

impl From<ArchiveError> for ConvertError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Unreadable(m) => ConvertError::Archive(m),
            ArchiveError::UnsafeEntry { entry, reason } => ConvertError::UnsafeEntry {
                entry,
                reason: reason.to_string(),
            },
            ArchiveError::Limit(m) => ConvertError::Limit(m),
            ArchiveError::Io(source) => ConvertError::Io {
                path: "the unpacked source".into(),
                source,
            },
        }
    }
}

/// Opens `archive` as a source tree read in place, with the forge's single
/// top folder stripped.
pub fn open(archive: &Path, limits: &Limits) -> Result<SourceTree, ConvertError> {
    let zip = SafeZip::open(archive, limits.archive())?;
    let kept: Vec<(usize, String)> = zip
        .positions()
        .into_iter()
        .filter_map(|i| zip.name(i).map(|n| (i, n.to_string())))
        .filter(|(_, n)| !is_junk(n))
        .collect();
    let names: Vec<String> = kept.iter().map(|(_, n)| n.clone()).collect();
    let (_, stripped) = strip_common_top(&names);
    let entries = kept
        .into_iter()
        .map(|(i, _)| i)
        .zip(stripped)
        .map(|(i, rel)| (rel, i))
        .collect();
    Ok(SourceTree::in_archive(zip, entries, limits.max_file_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;
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
    fn reads_in_place_and_strips_top_folder() {
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
        let tree = open(&zip_path, &Limits::default()).unwrap();
        assert_eq!(
            tree.files,
            vec!["01-GEN.usfm".to_string(), "sub/x.md".to_string()]
        );
        assert_eq!(tree.read_text("sub/x.md").unwrap().0, "# x");
        assert!(!dir.path().join("sub").exists(), "nothing is written to disk");
    }

    #[test]
    fn zip_slip_is_refused_with_the_entry_named() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("a.zip");
        make_zip(&zip_path, &[("ok.md", b"x"), ("../evil.sh", b"x")]);
        let err = open(&zip_path, &Limits::default()).unwrap_err().to_string();
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
        let err = open(&zip_path, &Limits::default()).unwrap_err().to_string();
        assert!(err.contains("symbolic link") && err.contains("link"), "{err}");
    }

    #[test]
    fn bombs_and_oversize_are_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("bomb.zip");
        let zeros = vec![0u8; 8 * 1024 * 1024];
        make_zip(&zip_path, &[("zeros.txt", &zeros)]);
        let tree = open(&zip_path, &Limits::default()).unwrap();
        let err = tree.read_bytes("zeros.txt").unwrap_err().to_string();
        assert!(err.contains("zeros.txt") && err.contains("zip bomb"), "{err}");

        let small = Limits {
            max_unpacked_bytes: 1000,
            ..Limits::default()
        };
        let err = open(&zip_path, &small).unwrap_err().to_string();
        assert!(err.contains("more than 1000 bytes"), "{err}");

        let few = Limits {
            max_entries: 0,
            ..Limits::default()
        };
        assert!(open(&zip_path, &few).unwrap_err().to_string().contains("entries"));
    }
}
