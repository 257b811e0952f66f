//! A bucket as a directory. Objects are written to a temporary file and
//! renamed into place, so readers never see half an object; when the bucket
//! has a notification configured, each matching put appends an S3-shaped
//! `ObjectCreated:Put` record to the event log after the object is in place.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::event_log::EventLog;
use super::stream_record::s3_put_record;
use crate::ports::object_store::validate_key;
use crate::ports::{ObjectStore, StoreError};

/// Where a bucket's notifications go and which keys fire them.
#[derive(Clone)]
struct Notification {
    log: EventLog,
    source: String,
    fires: fn(&str) -> bool,
}

/// A directory bucket.
#[derive(Clone)]
pub struct DirBucket {
    name: String,
    root: PathBuf,
    notification: Option<Notification>,
}

const TMP_PREFIX: &str = ".tx-tmp-";

impl DirBucket {
    /// The bucket `name` stored under `root` (created if needed).
    pub fn open(name: impl Into<String>, root: impl Into<PathBuf>) -> Result<DirBucket, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(DirBucket {
            name: name.into(),
            root,
            notification: None,
        })
    }

    /// Sends `ObjectCreated` records for keys where `fires(key)` to `source`
    /// in `log` (the local twin of an S3 bucket notification).
    pub fn with_notification(mut self, log: EventLog, source: &str, fires: fn(&str) -> bool) -> DirBucket {
        self.notification = Some(Notification {
            log,
            source: source.to_string(),
            fires,
        });
        self
    }

    /// The directory holding the objects.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        validate_key(key)?;
        if key.ends_with('/') {
            return Err(StoreError::InvalidKey(key.to_string()));
        }
        Ok(self.root.join(key))
    }

    fn temp_beside(path: &Path) -> PathBuf {
        let name = format!("{TMP_PREFIX}{}", uuid::Uuid::new_v4().simple());
        path.with_file_name(name)
    }

    fn notify(&self, key: &str, size: u64, etag: &str) -> Result<(), StoreError> {
        if let Some(n) = &self.notification
            && (n.fires)(key)
        {
            let now = Utc::now();
            n.log
                .append(&n.source, |seq| {
                    s3_put_record(&self.name, key, size, etag, seq, now)
                })
                .map_err(|e| StoreError::Backend(e.to_string()))?;
        }
        Ok(())
    }
}

#[async_trait]
impl ObjectStore for DirBucket {
    fn bucket(&self) -> &str {
        &self.name
    }

    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let size = body.len() as u64;
        // Only a notified object's record carries an ETag: the others (every
        // page of a build) are not hashed at all.
        let notified = self.notification.as_ref().is_some_and(|n| (n.fires)(key));
        // One hop to a blocking thread for the folder, the write and the
        // rename, instead of one per call.
        let etag = tokio::task::spawn_blocking(move || -> std::io::Result<Option<String>> {
            let tmp = Self::temp_beside(&path);
            let write = || {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&tmp, &body)?;
                std::fs::rename(&tmp, &path)
            };
            if let Err(e) = write() {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            Ok(notified.then(|| hex::encode(&Sha256::digest(&body)[..16])))
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))??;
        match etag {
            Some(etag) => self.notify(key, size, &etag),
            None => Ok(()),
        }
    }

    async fn put_file(&self, key: &str, source: &Path, _content_type: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let tmp = Self::temp_beside(&path);
        let write = async {
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            let size = tokio::fs::copy(source, &tmp).await?;
            tokio::fs::rename(&tmp, &path).await?;
            Ok::<u64, std::io::Error>(size)
        };
        match write.await {
            Ok(size) => self.notify(key, size, &uuid::Uuid::new_v4().simple().to_string()),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e.into())
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn get_to_file(&self, key: &str, dest: &Path) -> Result<bool, StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::copy(&path, dest).await {
            Ok(_) => Ok(true),
            Err(e) if is_missing(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        if !prefix.is_empty() {
            validate_key(prefix)?;
        }
        let root = self.root.clone();
        let prefix = prefix.to_string();
        let keys = tokio::task::spawn_blocking(move || walk(&root, &prefix))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))??;
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn is_missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// Every key under `prefix`, sorted. Starts from the deepest directory the
/// prefix names so listing one build does not walk the whole bucket.
fn walk(root: &Path, prefix: &str) -> Result<Vec<String>, StoreError> {
    let start_rel = match prefix.rfind('/') {
        Some(i) => &prefix[..i],
        None => "",
    };
    let mut out = Vec::new();
    let mut stack = vec![root.join(start_rel)];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if is_missing(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        for entry in entries {
            let entry = entry?;
            let file_type = entry.file_type()?;
            let path = entry.path();
            if file_type.is_dir() {
                stack.push(path);
            } else if file_type.is_file() {
                if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                    continue;
                }
                let Ok(rel) = path.strip_prefix(root) else {
                    continue;
                };
                let key = rel.to_string_lossy().replace('\\', "/");
                if key.starts_with(prefix) {
                    out.push(key);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}
