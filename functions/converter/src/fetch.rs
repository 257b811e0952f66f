//! Fetching the source archive: an `http(s)://` URL (a forge's archive of a
//! commit) or `s3://bucket/key` in the preconvert bucket. Streams to a file
//! and stops at the size limit, so a huge download never fills memory or disk.

use std::path::Path;

use tokio::io::AsyncWriteExt;
use tx_shared::ports::ObjectStore;

use crate::error::ConvertError;
use crate::limits::Limits;

/// Splits `s3://bucket/key`.
pub fn parse_s3(source: &str) -> Option<(&str, &str)> {
    let rest = source.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// Downloads `source` into `dest`; returns the bytes written.
pub async fn fetch(
    source: &str,
    dest: &Path,
    http: &reqwest::Client,
    preconvert: &dyn ObjectStore,
    limits: &Limits,
) -> Result<u64, ConvertError> {
    if let Some((bucket, key)) = parse_s3(source) {
        if bucket != preconvert.bucket() {
            return Err(ConvertError::Fetch(format!(
                "{source}: bucket {bucket:?} is not the preconvert bucket {:?}",
                preconvert.bucket()
            )));
        }
        if !preconvert
            .get_to_file(key, dest)
            .await
            .map_err(|e| ConvertError::Fetch(format!("{source}: {e}")))?
        {
            return Err(ConvertError::Fetch(format!("{source}: no such object")));
        }
        let size = tokio::fs::metadata(dest)
            .await
            .map_err(|e| ConvertError::io(&dest.display().to_string(), e))?
            .len();
        if size > limits.max_archive_bytes {
            return Err(ConvertError::Limit(format!(
                "{source}: {size} bytes, over the {} byte limit",
                limits.max_archive_bytes
            )));
        }
        return Ok(size);
    }
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        return Err(ConvertError::Fetch(format!(
            "{source:?}: not an http(s):// or s3:// source"
        )));
    }
    let mut resp = http
        .get(source)
        .send()
        .await
        .map_err(|e| ConvertError::Fetch(format!("{source}: {}", with_causes(&e))))?;
    if !resp.status().is_success() {
        return Err(ConvertError::Fetch(format!("{source}: HTTP {}", resp.status())));
    }
    if let Some(len) = resp.content_length()
        && len > limits.max_archive_bytes
    {
        return Err(ConvertError::Limit(format!(
            "{source}: {len} bytes announced, over the {} byte limit",
            limits.max_archive_bytes
        )));
    }
    let label = dest.display().to_string();
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| ConvertError::io(&label, e))?;
    let mut total: u64 = 0;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ConvertError::Fetch(format!("{source}: {}", with_causes(&e))))?
    {
        total += chunk.len() as u64;
        if total > limits.max_archive_bytes {
            return Err(ConvertError::Limit(format!(
                "{source}: download passed the {} byte limit",
                limits.max_archive_bytes
            )));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| ConvertError::io(&label, e))?;
    }
    file.flush().await.map_err(|e| ConvertError::io(&label, e))?;
    Ok(total)
}

/// An HTTP error with its causes (`error sending request: … dns error: …`):
/// reqwest's own message alone does not say why a forge was unreachable.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_sources_split() {
        assert_eq!(parse_s3("s3://pre/a/b.zip"), Some(("pre", "a/b.zip")));
        assert_eq!(parse_s3("s3://pre/"), None);
        assert_eq!(parse_s3("https://x"), None);
    }
}
