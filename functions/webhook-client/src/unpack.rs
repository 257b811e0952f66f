//! Publishing a converter's output zip into a build's folder of the CDN
//! bucket, safely: the zip comes from another function, but an entry named
//! `../../x` or `/etc/x` must still never land outside the build's folder, and
//! a zip bomb must not fill the disk. The rules are the shared ones
//! ([`tx_shared::archive`]) with [`ArchiveLimits::OUTPUT`], the limits the
//! converter checks its zip against before uploading it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

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

/// An entry read from the output zip, ready to upload: in memory, or, past
/// [`IN_MEMORY_BYTES`], in a temporary file (a release's downloads may be
/// as large as a source archive).
enum Entry {
    Bytes(Bytes),
    File(PathBuf),
}

/// Largest entry uploaded from memory; with [`UPLOAD_CONCURRENCY`] entries
/// in flight and as many read ahead, this bounds what a publish holds.
const IN_MEMORY_BYTES: u64 = 8 * 1024 * 1024;

/// Downloads `output_key` from the CDN bucket, reads it entry by entry and
/// writes every file under `prefix` (`u/<o>/<r>/<c10>/`) as it is read: one
/// write of each byte, no unpacked copy on disk read back. Entries named
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
    let (sender, entries) = tokio::sync::mpsc::channel(UPLOAD_CONCURRENCY);
    let large = work.path().join("large");
    let reader = tokio::task::spawn_blocking(move || read_entries(&zip_path, &large, limits, sender));
    let uploaded = upload(cdn, prefix, entries).await;
    let read = reader
        .await
        .map_err(|e| UnpackError::Io(std::io::Error::other(e.to_string())))?;
    // A bad zip stops the reader, which closes the uploads: its error is the
    // cause, and what was written of it is taken down again.
    if let Err(e) = read {
        if let Ok((keys, _)) = &uploaded {
            for key in keys {
                if let Err(d) = cdn.delete(key).await {
                    tracing::warn!(key, "cannot remove a file of a refused output: {d}");
                }
            }
        }
        return Err(e);
    }
    let (keys, manifest) = uploaded?;
    let (manifest, manifest_problem) = match manifest {
        None => (None, Some(format!("output has no {MANIFEST_JSON}"))),
        Some(bytes) => match serde_json::from_slice::<NormalizedManifest>(&bytes) {
            Ok(m) => (Some(m), None),
            Err(e) => (
                None,
                Some(format!(
                    "output {MANIFEST_JSON} is not a normalised manifest: {e}"
                )),
            ),
        },
    };
    Ok(Unpacked {
        keys,
        manifest,
        manifest_problem,
    })
}

/// Writes every entry received under `prefix`, [`UPLOAD_CONCURRENCY`] at a
/// time; returns the keys in name order once all are in place, and the
/// bytes of `manifest.json` if there was one.
async fn upload(
    cdn: &Arc<dyn ObjectStore>,
    prefix: &str,
    mut entries: tokio::sync::mpsc::Receiver<(String, Entry)>,
) -> Result<(Vec<String>, Option<Bytes>), UnpackError> {
    let mut running = tokio::task::JoinSet::new();
    let mut keys = Vec::new();
    let mut manifest = None;
    let mut open = true;
    while open || !running.is_empty() {
        tokio::select! {
            next = entries.recv(), if open && running.len() < UPLOAD_CONCURRENCY => match next {
                Some((name, entry)) => {
                    if name == MANIFEST_JSON && let Entry::Bytes(bytes) = &entry {
                        manifest = Some(bytes.clone());
                    }
                    running.spawn(put_entry(Arc::clone(cdn), format!("{prefix}{name}"), entry));
                }
                None => open = false,
            },
            Some(done) = running.join_next() => {
                let key = done.map_err(|e| UnpackError::Io(std::io::Error::other(e.to_string())))??;
                keys.push(key);
            }
        }
    }
    keys.sort();
    Ok((keys, manifest))
}

/// Writes one entry at `key`; answers the key.
async fn put_entry(cdn: Arc<dyn ObjectStore>, key: String, entry: Entry) -> Result<String, UnpackError> {
    let content_type = content_type_for(&key);
    match entry {
        Entry::Bytes(bytes) => cdn.put(&key, bytes, content_type).await?,
        Entry::File(path) => cdn.put_file(&key, &path, content_type).await?,
    }
    Ok(key)
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

/// Reads `zip_path` entry by entry into `sender`, in archive order; large
/// entries go to files under `large`. A `build_log.json` entry is skipped
/// (the client writes that itself); of two entries with one name the first
/// is read ([`SafeZip::positions`]). Stops early, without error, when the
/// uploads stopped.
fn read_entries(
    zip_path: &Path,
    large: &Path,
    limits: ArchiveLimits,
    sender: tokio::sync::mpsc::Sender<(String, Entry)>,
) -> Result<(), UnpackError> {
    let mut zip = SafeZip::open(zip_path, limits)?;
    for position in zip.positions() {
        let Some(name) = zip.name(position).map(str::to_string) else {
            continue;
        };
        if name.rsplit('/').next() == Some(BUILD_LOG) {
            tracing::warn!(entry = %name, "output zip holds a build log; skipped (the client writes it)");
            continue;
        }
        let entry = if zip.declared_size(position).unwrap_or(0) > IN_MEMORY_BYTES {
            let path = large.join(position.to_string());
            std::fs::create_dir_all(large)?;
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            zip.copy_to(position, &mut file)?;
            std::io::Write::flush(&mut file)?;
            Entry::File(path)
        } else {
            Entry::Bytes(Bytes::from(zip.read(position)?))
        };
        if sender.blocking_send((name, entry)).is_err() {
            return Ok(());
        }
    }
    Ok(())
}
