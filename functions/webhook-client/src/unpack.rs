//! Publishing a converter's output zip into a build's folder of the CDN
//! bucket, safely: the zip comes from another function, but an entry named
//! `../../x` or `/etc/x` must still never land outside the build's folder, and
//! a zip bomb must not fill the disk. The rules are the shared ones
//! ([`tx_shared::archive`]) with [`ArchiveLimits::OUTPUT`], the limits the
//! converter checks its zip against before uploading it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tx_shared::archive::{ArchiveError, ArchiveLimits, SafeZip};
use tx_shared::domain::build_log::BUILD_LOG;
use tx_shared::domain::convert::output_files::MANIFEST_JSON;
use tx_shared::domain::manifest::NormalizedManifest;
use tx_shared::ports::object_store::{content_type_for, validate_key};
use tx_shared::ports::{ObjectStore, StoreError};

/// How many uploads run at once: a Bible is a thousand pages or more, and
/// one at a time to S3 would not fit in API Gateway's 29 seconds.
pub const UPLOAD_CONCURRENCY: usize = 16;

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
    /// Over [`ArchiveLimits::OUTPUT`].
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
    limits: ArchiveLimits,
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

impl From<ArchiveError> for UnpackError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Unreadable(m) => UnpackError::BadZip(m),
            ArchiveError::UnsafeEntry { entry, reason } => UnpackError::BadEntry(entry, reason),
            ArchiveError::Limit(m) => UnpackError::TooLarge(m),
            ArchiveError::Io(e) => UnpackError::Io(e),
        }
    }
}

/// Unpacks `zip_path` into `out`, returning `(entry name, file)` sorted by
/// name. A `build_log.json` entry is skipped: the client writes that itself.
fn extract(
    zip_path: &Path,
    out: &Path,
    limits: ArchiveLimits,
) -> Result<Vec<(String, PathBuf)>, UnpackError> {
    let zip = SafeZip::open(zip_path, limits)?;
    Ok(zip.extract(out, |name| {
        if name.rsplit('/').next() == Some(BUILD_LOG) {
            tracing::warn!(entry = %name, "output zip holds a build log; skipped (the client writes it)");
            None
        } else {
            Some(name.to_string())
        }
    })?)
}
