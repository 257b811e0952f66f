//! Object store port: one bucket (S3, or a directory on the embedded runtime).

use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;

/// Why a bucket operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key would escape the bucket or is not a valid object key.
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    /// The backend could not be reached or refused the call.
    #[error("object store backend: {0}")]
    Backend(String),
    /// Local file I/O failed.
    #[error("object store i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// One bucket. Keys are `/`-separated, never start with `/`, never hold `..`.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// The bucket's name (as events and URLs name it).
    fn bucket(&self) -> &str;

    /// Stores an object, replacing any older one.
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), StoreError>;

    /// Stores a local file without reading it into memory first (large zips).
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), StoreError>;

    /// Reads an object; `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError>;

    /// Copies an object into a local file without holding it in memory;
    /// `false` when there is none.
    async fn get_to_file(&self, key: &str, path: &Path) -> Result<bool, StoreError>;

    /// Every key under `prefix`, sorted (all pages, not just the first).
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// Removes an object; removing a missing one is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// Checks a key the way the project requires everywhere: relative, no `..`,
/// no empty segments, no backslashes or NULs.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key.contains('\\')
        || key.contains('\0')
        || key
            .split('/')
            .enumerate()
            .any(|(i, seg)| seg == ".." || seg == "." || (seg.is_empty() && i + 1 != key.split('/').count()));
    if bad {
        Err(StoreError::InvalidKey(key.to_string()))
    } else {
        Ok(())
    }
}

/// Content type for a key, from its extension (what S3 websites serve).
pub fn content_type_for(key: &str) -> &'static str {
    let ext = key.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "yaml" | "yml" => "application/yaml",
        "zip" => "application/zip",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" | "md" | "usfm" | "tsv" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_escape_are_refused() {
        for bad in ["", "/abs", "a/../b", "..", "a//b", "a\\b", "./a"] {
            assert!(validate_key(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["a", "u/o/r/c/index.html", "tx/job/1.zip", "u/o/r/"] {
            assert!(validate_key(good).is_ok(), "{good:?} refused");
        }
    }
}
