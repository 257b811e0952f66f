//! The source of a conversion: a folder on disk or a zip archive read in
//! place, and the sorted list of its files.
//!
//! A forge's archive is read straight from the zip, one entry at a time, so
//! a repository is inflated once and never written to disk and read back
//! (en_ult is 80 MB of USFM); a whole Bible is never held in memory twice,
//! since each converter reads one file at a time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tx_shared::archive::SafeZip;

use crate::error::ConvertError;

/// Files of a repository, relative to its root (the forge's top folder
/// already stripped), `/`-separated and sorted.
#[derive(Clone)]
pub struct SourceTree {
    /// Relative paths of every regular file, sorted byte-wise.
    pub files: Vec<String>,
    /// Largest file that will be read into memory.
    pub max_file_bytes: u64,
    source: Source,
}

/// Where the files' bytes are.
#[derive(Clone)]
enum Source {
    /// A folder holding the files (`tx build` of a folder).
    Folder(PathBuf),
    /// An archive checked by [`SafeZip::open`]; `positions` maps each
    /// relative path to its entry. Reading a zip entry needs the archive
    /// exclusively, hence the lock (conversions read one file at a time).
    Archive {
        zip: Arc<Mutex<SafeZip>>,
        positions: Arc<HashMap<String, usize>>,
    },
}

impl std::fmt::Debug for SourceTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Folder(root) => format!("folder {}", root.display()),
            Source::Archive { .. } => "archive".to_string(),
        };
        f.debug_struct("SourceTree")
            .field("source", &source)
            .field("files", &self.files.len())
            .finish()
    }
}

/// Names that operating systems and tools leave behind and that are never content.
pub fn is_junk(rel: &str) -> bool {
    rel.split('/').any(|seg| {
        seg == "__MACOSX"
            || seg == ".DS_Store"
            || seg == ".git"
            || seg == "Thumbs.db"
            || seg.starts_with("._")
    })
}

impl SourceTree {
    /// Builds a tree from a folder, skipping symlinks and junk files, and
    /// stripping a single top folder the way forge archives need.
    pub fn from_folder(folder: &Path, max_file_bytes: u64) -> Result<SourceTree, ConvertError> {
        let mut files = Vec::new();
        walk(folder, folder, &mut files)?;
        files.retain(|f| !is_junk(f));
        files.sort();
        let (prefix, stripped) = strip_common_top(&files);
        let root = match prefix {
            Some(p) => folder.join(p),
            None => folder.to_path_buf(),
        };
        Ok(SourceTree {
            files: stripped,
            max_file_bytes,
            source: Source::Folder(root),
        })
    }

    /// A tree of `files` (relative, sorted) under the folder `root`.
    pub fn in_folder(root: &Path, files: Vec<String>, max_file_bytes: u64) -> SourceTree {
        SourceTree {
            files,
            max_file_bytes,
            source: Source::Folder(root.to_path_buf()),
        }
    }

    /// A tree read from `zip` in place: `entries` are `(relative path,
    /// entry position)`, the forge's top folder already stripped.
    pub fn in_archive(zip: SafeZip, entries: Vec<(String, usize)>, max_file_bytes: u64) -> SourceTree {
        let mut files: Vec<String> = entries.iter().map(|(rel, _)| rel.clone()).collect();
        files.sort();
        files.dedup();
        SourceTree {
            files,
            max_file_bytes,
            source: Source::Archive {
                zip: Arc::new(Mutex::new(zip)),
                positions: Arc::new(entries.into_iter().collect()),
            },
        }
    }

    /// Whether the file exists (exact relative path).
    pub fn has(&self, rel: &str) -> bool {
        self.files.binary_search_by(|f| f.as_str().cmp(rel)).is_ok()
    }

    /// Files directly or indirectly under `dir` (`""` for all), sorted.
    pub fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        let dir = dir.trim_matches('/');
        self.files.iter().filter(move |f| {
            dir.is_empty() || (f.len() > dir.len() && f.starts_with(dir) && f.as_bytes()[dir.len()] == b'/')
        })
    }

    /// Reads a text file: UTF-8 with its BOM dropped; invalid bytes are
    /// replaced (and reported by the returned flag) rather than refused, since
    /// old translationStudio files are sometimes mis-encoded.
    pub fn read_text(&self, rel: &str) -> Result<(String, bool), ConvertError> {
        Ok(decode_text(self.read_bytes(rel)?))
    }

    /// Reads a file whole, refusing one over [`SourceTree::max_file_bytes`].
    pub fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, ConvertError> {
        let size = self.size(rel)?;
        if size > self.max_file_bytes {
            return Err(ConvertError::Limit(format!(
                "{rel}: {size} bytes is over the {} byte limit for one file",
                self.max_file_bytes
            )));
        }
        match &self.source {
            Source::Folder(root) => std::fs::read(root.join(rel)).map_err(|e| ConvertError::io(rel, e)),
            Source::Archive { .. } => self.in_zip(rel, |zip, position| Ok(zip.read(position)?)),
        }
    }

    /// The first `limit` bytes of a file as text (lossy), or nothing when
    /// it cannot be read: enough to sniff a marker without reading it all.
    pub fn read_head(&self, rel: &str, limit: usize) -> String {
        let head = match &self.source {
            Source::Folder(root) => {
                use std::io::Read;
                let mut buf = Vec::with_capacity(limit);
                std::fs::File::open(root.join(rel))
                    .and_then(|f| f.take(limit as u64).read_to_end(&mut buf))
                    .map(|_| buf)
                    .unwrap_or_default()
            }
            Source::Archive { .. } => self
                .in_zip(rel, |zip, position| Ok(zip.head(position, limit)?))
                .unwrap_or_default(),
        };
        String::from_utf8_lossy(&head[..head.len().min(limit)]).into_owned()
    }

    /// Size of a file in bytes (in an archive, what its entry declares;
    /// what is inflated is counted again while reading).
    pub fn size(&self, rel: &str) -> Result<u64, ConvertError> {
        match &self.source {
            Source::Folder(root) => std::fs::metadata(root.join(rel))
                .map(|m| m.len())
                .map_err(|e| ConvertError::io(rel, e)),
            Source::Archive { .. } => self.in_zip(rel, |zip, position| {
                zip.declared_size(position).ok_or_else(|| missing(rel))
            }),
        }
    }

    /// Runs `f` on the archive and the position of `rel` in it (an archive
    /// is read by one caller at a time).
    fn in_zip<T>(
        &self,
        rel: &str,
        f: impl FnOnce(&mut SafeZip, usize) -> Result<T, ConvertError>,
    ) -> Result<T, ConvertError> {
        let Source::Archive { zip, positions } = &self.source else {
            return Err(missing(rel));
        };
        let position = positions.get(rel).copied().ok_or_else(|| missing(rel))?;
        let mut zip = zip
            .lock()
            .map_err(|_| ConvertError::Output("the source archive's reader failed".into()))?;
        f(&mut zip, position)
    }

    /// Total size of all files, for reports.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().filter_map(|f| self.size(f).ok()).sum()
    }
}

/// A file the listing names but the source does not hold.
fn missing(rel: &str) -> ConvertError {
    ConvertError::io(rel, std::io::Error::from(std::io::ErrorKind::NotFound))
}

/// UTF-8 (BOM dropped) or, failing that, a lossy decoding; the flag says whether bytes were replaced.
pub fn decode_text(mut bytes: Vec<u8>) -> (String, bool) {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    }
}

/// A path as the repository names it (relative to its root): errors end up
/// in public build logs, which must not show where the server unpacks.
fn repo_path(base: &Path, path: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) if rel.as_os_str().is_empty() => "the repository's top folder".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    }
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), ConvertError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ConvertError::io(&repo_path(base, dir), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ConvertError::io(&repo_path(base, dir), e))?;
        let ft = entry
            .file_type()
            .map_err(|e| ConvertError::io(&repo_path(base, &entry.path()), e))?;
        let path = entry.path();
        if ft.is_symlink() {
            continue;
        }
        if ft.is_dir() {
            if entry.file_name() == ".git" {
                continue;
            }
            walk(base, &path, out)?;
        } else if ft.is_file()
            && let Ok(rel) = path.strip_prefix(base)
        {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// When every path starts with the same folder (`<repo>/…`, as forges pack
/// archives), returns it and the paths without it.
pub fn strip_common_top(files: &[String]) -> (Option<String>, Vec<String>) {
    let mut top: Option<&str> = None;
    for f in files {
        match f.split_once('/') {
            Some((first, _)) => match top {
                None => top = Some(first),
                Some(t) if t == first => {}
                Some(_) => return (None, files.to_vec()),
            },
            None => return (None, files.to_vec()),
        }
    }
    match top {
        Some(t) => {
            let cut = t.len() + 1;
            (
                Some(t.to_string()),
                files.iter().map(|f| f[cut..].to_string()).collect(),
            )
        }
        None => (None, files.to_vec()),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn errors_name_paths_as_the_repository_does() {
        let base = Path::new("/tmp/.tmpAbC/extract");
        assert_eq!(repo_path(base, &base.join("01/02.txt")), "01/02.txt");
        assert_eq!(repo_path(base, base), "the repository's top folder");
        assert_eq!(repo_path(base, Path::new("/elsewhere/x.usfm")), "x.usfm");
    }

    use super::*;

    #[test]
    fn strips_only_a_shared_top_folder() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (p, f) = strip_common_top(&v(&["r/a.usfm", "r/b/c.md"]));
        assert_eq!(p.as_deref(), Some("r"));
        assert_eq!(f, v(&["a.usfm", "b/c.md"]));
        let (p, _) = strip_common_top(&v(&["r/a.usfm", "s/b.md"]));
        assert_eq!(p, None);
        let (p, _) = strip_common_top(&v(&["a.usfm", "r/b.md"]));
        assert_eq!(p, None);
    }

    #[test]
    fn junk_is_recognised() {
        assert!(is_junk("__MACOSX/x/._01.txt"));
        assert!(is_junk("a/.DS_Store"));
        assert!(!is_junk("content/01.md"));
    }

    #[test]
    fn decoding_drops_bom_and_survives_bad_bytes() {
        assert_eq!(
            decode_text(b"\xEF\xBB\xBF\\id GEN".to_vec()),
            ("\\id GEN".to_string(), false)
        );
        let (s, bad) = decode_text(b"a\xFFb".to_vec());
        assert!(bad);
        assert_eq!(s, "a\u{FFFD}b");
    }
}
