//! Reading and writing `build_log.json` in the CDN bucket.
//!
//! Every write of a build log fires the deployer, so the helpers here write
//! only when the content is meant to be published: the first log of a new
//! job, a cancellation, the final log.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::job::site_prefix;
use tx_shared::domain::job_request::Superseded;
use tx_shared::domain::project::RefRecord;
use tx_shared::ports::{ObjectStore, StoreError};

use crate::urls::build_log_key;

/// The build log stored under `prefix`, if there is a readable one. A log
/// that no longer parses is treated as absent (it is about to be replaced).
pub async fn read(cdn: &dyn ObjectStore, prefix: &str) -> Result<Option<BuildLog>, StoreError> {
    let key = build_log_key(prefix);
    let Some(bytes) = cdn.get(&key).await? else {
        return Ok(None);
    };
    match serde_json::from_slice(&bytes) {
        Ok(log) => Ok(Some(log)),
        Err(e) => {
            tracing::warn!(%key, error = %e, "unreadable build log; treating it as absent");
            Ok(None)
        }
    }
}

/// Writes a build log under `prefix` (which fires the deployer).
pub async fn write(cdn: &dyn ObjectStore, prefix: &str, log: &BuildLog) -> Result<(), StoreError> {
    let body = serde_json::to_vec_pretty(log)
        .map_err(|e| StoreError::Backend(format!("cannot encode build log: {e}")))?;
    cdn.put(&build_log_key(prefix), Bytes::from(body), "application/json")
        .await
}

/// Marks the build a newer commit replaced as cancelled, if its log exists
/// and is not final yet. Returns whether it was rewritten.
pub async fn cancel_superseded(
    cdn: &dyn ObjectStore,
    superseded: &Superseded,
    by_commit10: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(prefix) = identifier_prefix(&superseded.identifier) else {
        tracing::warn!(identifier = %superseded.identifier, "superseded identifier is not owner/repo/commit10");
        return Ok(false);
    };
    let Some(mut log) = read(cdn, &prefix).await? else {
        return Ok(false);
    };
    if log.status.is_final() {
        return Ok(false);
    }
    log.status = DisplayStatus::Cancelled;
    log.success = false;
    log.message = Some(format!("superseded by {by_commit10}"));
    log.ended_at = Some(now);
    write(cdn, &prefix, &log).await?;
    Ok(true)
}

/// `u/<owner>/<repo>/<commit10>/` of an `owner/repo/commit10` identifier.
fn identifier_prefix(identifier: &str) -> Option<String> {
    let mut parts = identifier.split('/');
    let (owner, repo, commit10) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = parts.next().is_none()
        && [owner, repo, commit10]
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..");
    ok.then(|| site_prefix(owner, repo, commit10))
}

/// Writes the record that a ref of `owner/repo` is gone (which fires the
/// deployer, which takes the ref's entry point down). Returns its key.
pub async fn write_ref_record(
    cdn: &dyn ObjectStore,
    owner: &str,
    repo: &str,
    record: &RefRecord,
) -> Result<String, StoreError> {
    let body = serde_json::to_vec_pretty(record)
        .map_err(|e| StoreError::Backend(format!("cannot encode ref record: {e}")))?;
    let key = RefRecord::key(owner, repo, &record.git_ref);
    cdn.put(&key, Bytes::from(body), "application/json").await?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_prefixes() {
        assert_eq!(
            identifier_prefix("o/r/0123456789").as_deref(),
            Some("u/o/r/0123456789/")
        );
        assert_eq!(identifier_prefix("o/r"), None);
        assert_eq!(identifier_prefix("o/../c"), None);
        assert_eq!(identifier_prefix("o/r/c/x"), None);
    }
}
