//! Publishing a converter's output zip into a build's folder of the CDN
//! bucket, safely: the zip comes from another function, but an entry named
//! `../../x` or `/etc/x` must still never land outside the build's folder, and
//! a zip bomb must not fill the disk.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tx_shared::domain::build_log::BUILD_LOG;
use tx_shared::domain::convert::output_files::MANIFEST_JSON;
use tx_shared::domain::manifest::NormalizedManifest;
use tx_shared::ports::object_store::{content_type_for, validate_key};
use tx_shared::ports::{ObjectStore, StoreError};

/// How many uploads run at once: a Bible is a thousand pages or more, and
/// one at a time to S3 would not fit in API Gateway's 29 seconds.
pub const UPLOAD_CONCURRENCY: usize = 16;

/// Bounds on what one output zip may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackLimits {
    /// Most entries (files and directories).
    pub max_entries: usize,
    /// Most bytes of one unpacked file.
    pub max_entry_bytes: u64,
    /// Most bytes of all unpacked files together.
    pub max_total_bytes: u64,
}

impl Default for UnpackLimits {
    /// Generous for a whole Bible with notes (a few thousand pages, tens of
    /// MB), small enough that a bomb stops long before the disk fills.
    fn default() -> Self {
        UnpackLimits {
            max_entries: 50_000,
            max_entry_bytes: 256 * 1024 * 1024,
            max_total_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// Why an output could not be published.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// The job names an output key that is not a valid object key.
    #[error("output key {0:?} is not a valid object key")]
    BadKey(String),
    /// The output zip is not in the CDN bucket.
    #[error("output zip {0} is not in the CDN bucket")]
    Missing(String),
    /// The output is not a readable zip.
    #[error("output is not a readable zip: {0}")]
    BadZip(String),
    /// An entry's name would escape the build's folder, or is a link.
    #[error("output entry {0:?} is refused: {1}")]
    BadEntry(String, &'static str),
    /// Over [`UnpackLimits`].
    #[error("output is too large: {0}")]
    TooLarge(String),
    /// Local temporary files failed.
    #[error("temporary files: {0}")]
    Io(#[from] std::io::Error),
    /// The bucket refused a read or write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnpackError {
    /// Whether trying again cannot help (the output itself is bad), as
    /// opposed to a storage hiccup worth a redelivery.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, UnpackError::Io(_) | UnpackError::Store(_))
    }
}

/// What was published.
#[derive(Debug, Clone, PartialEq)]
pub struct Unpacked {
    /// Keys written, in the order written.
    pub keys: Vec<String>,
    /// The zip's `manifest.json`, when present and readable.
    pub manifest: Option<NormalizedManifest>,
    /// Why there is no manifest, when there is none.
    pub manifest_problem: Option<String>,
}

/// Downloads `output_key` from the CDN bucket to a temporary file, unpacks it
/// and writes every file under `prefix` (`u/<o>/<r>/<c10>/`). Entries named
/// `build_log.json` are skipped: the client writes that file itself, last.
pub async fn unpack_output(
    cdn: &Arc<dyn ObjectStore>,
    output_key: &str,
    prefix: &str,
    limits: UnpackLimits,
) -> Result<Unpacked, UnpackError> {
    validate_key(output_key).map_err(|_| UnpackError::BadKey(output_key.to_string()))?;
    let work = tempfile::tempdir()?;
    let zip_path = work.path().join("output.zip");
    if !cdn.get_to_file(output_key, &zip_path).await? {
        return Err(UnpackError::Missing(output_key.to_string()));
    }
    let files_dir = work.path().join("files");
    let entries = {
        let (zip_path, files_dir) = (zip_path.clone(), files_dir.clone());
        tokio::task::spawn_blocking(move || extract(&zip_path, &files_dir, limits))
            .await
            .map_err(|e| UnpackError::Io(std::io::Error::other(e.to_string())))??
    };
    let keys = upload(cdn, prefix, &entries).await?;
    let (manifest, manifest_problem) = match entries.iter().find(|(name, _)| name == MANIFEST_JSON) {
        None => (None, Some(format!("output has no {MANIFEST_JSON}"))),
        Some((_, path)) => match tokio::fs::read(path)
            .await
            .map(|b| serde_json::from_slice::<NormalizedManifest>(&b))
        {
            Ok(Ok(m)) => (Some(m), None),
            Ok(Err(e)) => (
                None,
                Some(format!(
                    "output {MANIFEST_JSON} is not a normalised manifest: {e}"
                )),
            ),
            Err(e) => return Err(e.into()),
        },
    };
    Ok(Unpacked {
        keys,
        manifest,
        manifest_problem,
    })
}

/// Writes every unpacked file under `prefix`, [`UPLOAD_CONCURRENCY`] at a
/// time; returns the keys in name order once all are in place.
async fn upload(
    cdn: &Arc<dyn ObjectStore>,
    prefix: &str,
    entries: &[(String, PathBuf)],
) -> Result<Vec<String>, UnpackError> {
    let mut pending = entries
        .iter()
        .map(|(name, path)| (format!("{prefix}{name}"), path.clone()));
    let mut running = tokio::task::JoinSet::new();
    let mut keys = Vec::with_capacity(entries.len());
    loop {
        while running.len() < UPLOAD_CONCURRENCY {
            let Some((key, path)) = pending.next() else {
                break;
            };
            let cdn = Arc::clone(cdn);
            running.spawn(async move {
                let written = cdn.put_file(&key, &path, content_type_for(&key)).await;
                written.map(|()| key)
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let key = done.map_err(|e| UnpackError::Io(std::io::Error::other(e.to_string())))??;
        keys.push(key);
    }
    keys.sort();
    Ok(keys)
}

/// Checks an entry name: relative, `/`-separated, no `..`/`.`/empty
/// segments, no backslashes, drive letters or control characters.
pub fn check_entry_name(name: &str) -> Result<(), &'static str> {
    if name.contains('\\') {
        return Err("backslash in name");
    }
    if name.starts_with('/') {
        return Err("absolute path");
    }
    if name.as_bytes().get(1) == Some(&b':') {
        return Err("drive letter");
    }
    if name.chars().any(char::is_control) {
        return Err("control character in name");
    }
    if name.split('/').any(|s| s == "..") {
        return Err("parent directory segment");
    }
    validate_key(name).map_err(|_| "empty or dot segment")
}

/// Unpacks `zip_path` into `out`, returning `(entry name, file)` sorted by name.
fn extract(zip_path: &Path, out: &Path, limits: UnpackLimits) -> Result<Vec<(String, PathBuf)>, UnpackError> {
    let file = File::open(zip_path)?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| UnpackError::BadZip(e.to_string()))?;
    if archive.len() > limits.max_entries {
        return Err(UnpackError::TooLarge(format!(
            "{} entries, limit {}",
            archive.len(),
            limits.max_entries
        )));
    }
    let mut total: u64 = 0;
    let mut files = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| UnpackError::BadZip(e.to_string()))?;
        let name = entry.name().to_string();
        if entry.is_dir() {
            continue;
        }
        check_entry_name(&name).map_err(|why| UnpackError::BadEntry(name.clone(), why))?;
        if entry.is_symlink() {
            return Err(UnpackError::BadEntry(name, "symbolic link"));
        }
        if name.rsplit('/').next() == Some(BUILD_LOG) {
            tracing::warn!(entry = %name, "output zip holds a build log; skipped (the client writes it)");
            continue;
        }
        let path = out.join(&name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut target = File::create(&path)?;
        // Count what is really inflated, not what the header claims.
        let written = std::io::copy(&mut (&mut entry).take(limits.max_entry_bytes + 1), &mut target)?;
        if written > limits.max_entry_bytes {
            return Err(UnpackError::TooLarge(format!(
                "{name} is over {} bytes",
                limits.max_entry_bytes
            )));
        }
        total += written;
        if total > limits.max_total_bytes {
            return Err(UnpackError::TooLarge(format!(
                "over {} bytes in all",
                limits.max_total_bytes
            )));
        }
        files.push((name, path));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files.dedup_by(|later, earlier| later.0 == earlier.0);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        for good in ["index.html", "01-GEN.html", "a/b/c.json", "manifest.json"] {
            assert_eq!(check_entry_name(good), Ok(()), "{good}");
        }
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\b",
            "C:/x",
            "a//b",
            "./a",
            "",
            "a/\u{7}",
        ] {
            assert!(check_entry_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}
