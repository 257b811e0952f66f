//! One S3 bucket as an [`ObjectStore`].
//!
//! Keys are checked with the project's rules before any request, so a key that
//! would be refused by the directory bucket is refused here too, with the same
//! [`StoreError::InvalidKey`]. Large objects stream from and to files.

use std::path::Path;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::sdk_error::describe;
use crate::ports::object_store::validate_key;
use crate::ports::{ObjectStore, StoreError};

/// A bucket on S3 (or on an S3-compatible endpoint, addressed path-style).
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    page_size: Option<i32>,
}

impl S3Store {
    /// The bucket `bucket`, through `client` (whose config decides endpoint
    /// and path-style addressing, see [`super::config::AwsClients`]).
    pub fn new(client: Client, bucket: impl Into<String>) -> S3Store {
        S3Store {
            client,
            bucket: bucket.into(),
            page_size: None,
        }
    }

    /// Caps ListObjectsV2 pages (S3's own cap is 1000 keys), so tests can
    /// exercise pagination cheaply.
    pub fn with_page_size(mut self, page_size: i32) -> S3Store {
        self.page_size = Some(page_size.clamp(1, 1000));
        self
    }

    /// GetObject on a checked key; a missing object is `None`, which both
    /// `get` and `get_to_file` report as "absent" rather than an error.
    async fn get_object(&self, key: &str) -> Result<Option<GetObjectOutput>, StoreError> {
        object_key(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }
}

/// An object key must pass [`validate_key`] and name an object, not a folder.
fn object_key(key: &str) -> Result<(), StoreError> {
    validate_key(key)?;
    if key.ends_with('/') {
        return Err(StoreError::InvalidKey(key.to_string()));
    }
    Ok(())
}

#[async_trait]
impl ObjectStore for S3Store {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), StoreError> {
        object_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| StoreError::Backend(describe(&e)))?;
        Ok(())
    }

    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), StoreError> {
        object_key(key)?;
        // A missing or unreadable file is an I/O error of ours, not the backend's.
        tokio::fs::metadata(path).await?;
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| StoreError::Backend(format!("reading {}: {e}", path.display())))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| StoreError::Backend(describe(&e)))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let Some(out) = self.get_object(key).await? else {
            return Ok(None);
        };
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Backend(format!("reading s3://{}/{key}: {e}", self.bucket)))?;
        Ok(Some(body.into_bytes()))
    }

    async fn get_to_file(&self, key: &str, path: &Path) -> Result<bool, StoreError> {
        let Some(out) = self.get_object(key).await? else {
            return Ok(false);
        };
        let copy = async {
            let mut file = tokio::fs::File::create(path).await?;
            let mut body = out.body.into_async_read();
            tokio::io::copy_buf(&mut body, &mut file).await?;
            file.flush().await?;
            file.sync_all().await
        };
        if let Err(e) = copy.await {
            // Never leave half an object behind for a caller to mistake for all of it.
            let _ = tokio::fs::remove_file(path).await;
            return Err(e.into());
        }
        Ok(true)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        if !prefix.is_empty() {
            validate_key(prefix)?;
        }
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_max_keys(self.page_size)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| StoreError::Backend(describe(&e)))?;
            keys.extend(
                out.contents
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|o| o.key)
                    // Console "folder" markers are not objects of ours (the
                    // directory bucket cannot even hold them).
                    .filter(|k| !k.ends_with('/')),
            );
            match (out.is_truncated, out.next_continuation_token) {
                (Some(true), Some(next)) => token = Some(next),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        object_key(key)?;
        // S3 answers 204 for a missing key too: deleting nothing is not an error.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| StoreError::Backend(describe(&e)))?;
        Ok(())
    }
}
