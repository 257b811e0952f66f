//! The unpacked source: a folder on disk and the sorted list of its files.
//!
//! Sources are kept on disk rather than in memory so that a whole Bible is
//! never held twice; each converter reads one file at a time.

use std::path::{Path, PathBuf};

use crate::error::ConvertError;

/// Files of a repository, relative to its root (the forge's top folder
/// already stripped), `/`-separated and sorted.
#[derive(Debug, Clone)]
pub struct SourceTree {
    /// Folder holding the files.
    pub root: PathBuf,
    /// Relative paths of every regular file, sorted byte-wise.
    pub files: Vec<String>,
    /// Largest file that will be read into memory.
    pub max_file_bytes: u64,
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
            root,
            files: stripped,
            max_file_bytes,
        })
    }

    /// Whether the file exists (exact relative path).
    pub fn has(&self, rel: &str) -> bool {
        self.files.binary_search_by(|f| f.as_str().cmp(rel)).is_ok()
    }

    /// Full path of a relative one.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
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
        let path = self.path(rel);
        let meta = std::fs::metadata(&path).map_err(|e| ConvertError::io(rel, e))?;
        if meta.len() > self.max_file_bytes {
            return Err(ConvertError::Limit(format!(
                "{rel}: {} bytes is over the {} byte limit for one file",
                meta.len(),
                self.max_file_bytes
            )));
        }
        let bytes = std::fs::read(&path).map_err(|e| ConvertError::io(rel, e))?;
        Ok(decode_text(bytes))
    }

    /// Total size of all files, for reports.
    pub fn total_bytes(&self) -> u64 {
        self.files
            .iter()
            .filter_map(|f| std::fs::metadata(self.path(f)).ok())
            .map(|m| m.len())
            .sum()
    }
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
