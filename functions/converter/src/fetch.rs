//! Fetching the source archive: an `http(s)://` URL (a forge's archive of a
//! commit) or `s3://bucket/key` in the preconvert bucket. Streams to a file
//! and stops at the size limit, so a huge download never fills memory or disk.
//!
//! A forge that fails for a moment (a 5xx, a 408 or 429, a timeout, a
//! refused or dropped connection) is tried again, [`RETRIES`] times with
//! exponential backoff (backon), before the build fails; each retry is a
//! line of the build log. A 404 or a limit is final at once.
//!
//! A forge that answers but then sends a trickle (a byte now and then, each
//! within the client's idle timeout) is given up once a [`RATE_WINDOW`]
//! passes with less than [`MIN_BYTES_PER_WINDOW`]: the build fails in
//! seconds, with the reason in its log, instead of holding a runner for the
//! client's whole timeout. At most [`DOWNLOADS_PER_HOST`] downloads from
//! one host run at once in a process (`tx serve` converts many
//! repositories at a time), so one forge is not flooded and a slow one
//! holds only its own builds.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
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

/// Retries of a download after its first try.
pub const RETRIES: usize = 2;

/// The wait before the first retry; each next one doubles it (with jitter).
const FIRST_WAIT: Duration = Duration::from_millis(500);

/// The span over which a download's pace is judged.
pub const RATE_WINDOW: Duration = Duration::from_secs(5);

/// Downloads from one host (and port) at once in this process.
pub const DOWNLOADS_PER_HOST: usize = 4;

/// One semaphore per host downloaded from.
static HOSTS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>> = LazyLock::new(Mutex::default);

/// Waits for a download slot of `source`'s host.
async fn host_slot(source: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let url = reqwest::Url::parse(source).ok()?;
    let host = format!("{}:{}", url.host_str()?, url.port_or_known_default()?);
    let gate = {
        let mut hosts = HOSTS.lock().ok()?;
        hosts
            .entry(host)
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(DOWNLOADS_PER_HOST)))
            .clone()
    };
    gate.acquire_owned().await.ok()
}

/// Least a download must bring in each [`RATE_WINDOW`] (64 KiB in 5 s,
/// 13 KB/s: far below any forge that is working).
pub const MIN_BYTES_PER_WINDOW: u64 = 64 * 1024;

/// Downloads `source` into `dest`; returns the bytes written. Every retry
/// of a transient failure is added to `log` (the build log).
pub async fn fetch(
    source: &str,
    dest: &Path,
    http: &reqwest::Client,
    preconvert: &dyn ObjectStore,
    limits: &Limits,
    log: &mut Vec<String>,
) -> Result<u64, ConvertError> {
    if let Some((bucket, key)) = parse_s3(source) {
        return fetch_s3(source, bucket, key, dest, preconvert, limits).await;
    }
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        return Err(ConvertError::Fetch(format!(
            "{source:?}: not an http(s):// or s3:// source"
        )));
    }
    let mut retried = Vec::new();
    let backoff = ExponentialBuilder::default()
        .with_min_delay(FIRST_WAIT)
        .with_max_times(RETRIES)
        .with_jitter();
    let fetched = (|| download(source, dest, http, limits))
        .retry(backoff)
        .when(|failed: &Failed| failed.transient)
        .notify(|failed: &Failed, wait: Duration| {
            retried.push(format!(
                "{}; retrying in {:.1} s",
                failed.error,
                wait.as_secs_f64()
            ));
        })
        .await;
    let retries = retried.len();
    log.extend(retried);
    fetched.map_err(|failed| match failed.error {
        ConvertError::Fetch(m) if retries > 0 => {
            ConvertError::Fetch(format!("{m} (after {retries} retries)"))
        }
        e => e,
    })
}

/// A failed try of a download, and whether another may succeed.
struct Failed {
    error: ConvertError,
    transient: bool,
}

impl Failed {
    fn final_(error: ConvertError) -> Failed {
        Failed {
            error,
            transient: false,
        }
    }

    /// A request that failed on the way (not an answer): transient unless
    /// a redirect was refused.
    fn sending(source: &str, err: &reqwest::Error) -> Failed {
        Failed {
            transient: !err.is_redirect(),
            error: public_error(source, err),
        }
    }
}

/// One try of an `http(s)://` download.
async fn download(source: &str, dest: &Path, http: &reqwest::Client, limits: &Limits) -> Result<u64, Failed> {
    let _slot = host_slot(source).await;
    let mut resp = http
        .get(source)
        .send()
        .await
        .map_err(|e| Failed::sending(source, &e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Failed {
            error: ConvertError::Fetch(format!("{source}: HTTP {status}")),
            transient: status.is_server_error()
                || status == reqwest::StatusCode::REQUEST_TIMEOUT
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS,
        });
    }
    if let Some(len) = resp.content_length()
        && len > limits.max_archive_bytes
    {
        return Err(Failed::final_(ConvertError::Limit(format!(
            "{source}: {len} bytes announced, over the {} byte limit",
            limits.max_archive_bytes
        ))));
    }
    // Created (emptied) on every try: a retry never appends to a broken one.
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| Failed::final_(ConvertError::io(DOWNLOAD, e)))?;
    let mut total: u64 = 0;
    let mut pace = Pace::new();
    while let Some(chunk) = pace.next(source, &mut resp).await? {
        total += chunk.len() as u64;
        if total > limits.max_archive_bytes {
            return Err(Failed::final_(ConvertError::Limit(format!(
                "{source}: download passed the {} byte limit",
                limits.max_archive_bytes
            ))));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| Failed::final_(ConvertError::io(DOWNLOAD, e)))?;
    }
    file.flush()
        .await
        .map_err(|e| Failed::final_(ConvertError::io(DOWNLOAD, e)))?;
    Ok(total)
}

/// The download's pace: the bytes of the current [`RATE_WINDOW`].
struct Pace {
    window_ends: tokio::time::Instant,
    in_window: u64,
}

impl Pace {
    fn new() -> Pace {
        Pace {
            window_ends: tokio::time::Instant::now() + RATE_WINDOW,
            in_window: 0,
        }
    }

    /// The next chunk of `resp`; fails when a window ends with less than
    /// [`MIN_BYTES_PER_WINDOW`] in it, whether or not a chunk is on its way.
    async fn next(
        &mut self,
        source: &str,
        resp: &mut reqwest::Response,
    ) -> Result<Option<bytes::Bytes>, Failed> {
        loop {
            match tokio::time::timeout_at(self.window_ends, resp.chunk()).await {
                Ok(chunk) => {
                    let chunk = chunk.map_err(|e| Failed::sending(source, &e))?;
                    self.in_window += chunk.as_ref().map_or(0, |c| c.len() as u64);
                    if chunk.is_some() && tokio::time::Instant::now() >= self.window_ends {
                        self.end_window(source)?;
                    }
                    return Ok(chunk);
                }
                Err(_) => self.end_window(source)?,
            }
        }
    }

    fn end_window(&mut self, source: &str) -> Result<(), Failed> {
        if self.in_window < MIN_BYTES_PER_WINDOW {
            return Err(Failed::final_(ConvertError::Fetch(format!(
                "{source}: the forge sent {} bytes in {} s (at least {} are needed); download given up",
                self.in_window,
                RATE_WINDOW.as_secs(),
                MIN_BYTES_PER_WINDOW
            ))));
        }
        self.window_ends += RATE_WINDOW;
        self.in_window = 0;
        Ok(())
    }
}

/// `s3://bucket/key` from the preconvert bucket (the only one allowed).
async fn fetch_s3(
    source: &str,
    bucket: &str,
    key: &str,
    dest: &Path,
    preconvert: &dyn ObjectStore,
    limits: &Limits,
) -> Result<u64, ConvertError> {
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
        .map_err(|e| ConvertError::io(DOWNLOAD, e))?
        .len();
    if size > limits.max_archive_bytes {
        return Err(ConvertError::Limit(format!(
            "{source}: {size} bytes, over the {} byte limit",
            limits.max_archive_bytes
        )));
    }
    Ok(size)
}

/// How the downloaded file is named in messages (never its temporary path:
/// messages end up in public build logs).
const DOWNLOAD: &str = "the downloaded source";

/// The build log's account of a failed download: what a translator can act
/// on (timed out, could not connect, refused redirect), without the causes
/// that would tell a stranger whether some port answers. The full chain goes
/// to the operator's log.
fn public_error(source: &str, err: &reqwest::Error) -> ConvertError {
    tracing::warn!(%source, "download failed: {}", with_causes(err));
    let what = if err.is_redirect() {
        "a redirect to another host was refused"
    } else if err.is_timeout() {
        "the forge did not answer in time"
    } else if err.is_connect() {
        "could not connect to the forge"
    } else {
        "the download was interrupted"
    };
    ConvertError::Fetch(format!("{source}: {what}"))
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

    #[tokio::test]
    async fn one_host_gets_at_most_its_share_of_downloads() {
        let source = "http://slots.test:8080/o/r/archive/a.zip";
        let mut held = Vec::new();
        for _ in 0..DOWNLOADS_PER_HOST {
            held.push(host_slot(source).await.expect("a slot"));
        }
        let wait = Duration::from_millis(50);
        assert!(
            tokio::time::timeout(wait, host_slot(source)).await.is_err(),
            "a fifth download started"
        );
        let other = tokio::time::timeout(wait, host_slot("http://other.test/o/r/archive/a.zip")).await;
        assert!(other.is_ok_and(|s| s.is_some()), "another host waited");
        held.pop();
        assert!(
            tokio::time::timeout(wait, host_slot(source)).await.is_ok(),
            "a freed slot was not given"
        );
    }

    #[test]
    fn s3_sources_split() {
        assert_eq!(parse_s3("s3://pre/a/b.zip"), Some(("pre", "a/b.zip")));
        assert_eq!(parse_s3("s3://pre/"), None);
        assert_eq!(parse_s3("https://x"), None);
    }
}
