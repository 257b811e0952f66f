//! Cheap refusals before authentication (DESIGN.md § "Forges and trust"):
//! what `tx serve` does with a request body before any handler can check a
//! signature, so an unauthenticated client costs little.
//!
//! - A `Content-Length` over the route's limit is refused (413) unread.
//! - Every body is read into memory reserved from one process-wide budget
//!   ([`BODY_BUDGET_BYTES`]), so a flood of large unsigned bodies waits for
//!   (or is refused, 503) room instead of growing the process: memory stays
//!   bounded whatever arrives at once.
//! - A body must arrive within [`BODY_READ_TIMEOUT`] (408); the header read
//!   timeout is the server's ([`HEADER_READ_TIMEOUT`], see `runtime::serve`).
//!
//! The limits are the handlers' own (`MAX_WEBHOOK_BYTES`, …), so the gateway
//! refuses early exactly what the handler would refuse late.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Largest body of any route (API Gateway's own limit is 10 MB).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// Bytes of request bodies held in memory at once, all requests together.
pub const BODY_BUDGET_BYTES: usize = 24 * 1024 * 1024;

/// How long a request waits for room in the budget before a 503.
pub const BUDGET_WAIT: Duration = Duration::from_secs(5);

/// Time a client has to send its request headers; a connection that has not
/// sent them by then (idle or slow) is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Time a client has to send its whole body once the headers are in.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Budget accounting unit (permits are KiB, so the semaphore's count fits).
const UNIT: usize = 1024;

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Declared or sent body over the route's limit.
    #[error("bodies on this route are limited to {limit} bytes")]
    TooLarge {
        /// The route's limit.
        limit: usize,
    },
    /// No room in the memory budget in time.
    #[error("the server is busy; retry shortly")]
    Busy,
    /// The body did not arrive in time.
    #[error("the request body was not received within {} s", BODY_READ_TIMEOUT.as_secs())]
    Timeout,
    /// The body could not be read (the client went away, bad framing).
    #[error("the request body could not be read")]
    Unreadable,
    /// The `Content-Length` header is not a number.
    #[error("invalid Content-Length")]
    BadLength,
}

impl Refusal {
    /// HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::TooLarge { .. } => 413,
            Refusal::Busy => 503,
            Refusal::Timeout => 408,
            Refusal::Unreadable | Refusal::BadLength => 400,
        }
    }

    /// Machine-readable code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooLarge { .. } => "payload_too_large",
            Refusal::Busy => "busy",
            Refusal::Timeout => "body_timeout",
            Refusal::Unreadable => "unreadable_body",
            Refusal::BadLength => "bad_content_length",
        }
    }
}

/// The largest body `path` accepts: the handler's own limit.
pub fn limit_for(path: &str) -> usize {
    let path = path.trim_end_matches('/');
    if path.ends_with("/client/webhook") {
        tx_webhook_client::webhook::MAX_WEBHOOK_BYTES
    } else if path.ends_with("/client/callback") {
        tx_webhook_client::callback::MAX_CALLBACK_BYTES
    } else if path.ends_with("/tx/job") {
        tx_job_manager::http::MAX_JOB_REQUEST_BYTES
    } else {
        MAX_BODY
    }
}

/// A body read within the budget; the reservation is released when this is
/// dropped, i.e. once the handler that owns the bytes has answered.
pub struct Admitted {
    /// The body.
    pub bytes: Vec<u8>,
    _reservation: Option<OwnedSemaphorePermit>,
}

/// The process-wide budget of buffered body bytes.
#[derive(Clone)]
pub struct Admission {
    budget: Arc<Semaphore>,
    wait: Duration,
}

impl Default for Admission {
    fn default() -> Self {
        Admission::new(BODY_BUDGET_BYTES)
    }
}

impl Admission {
    /// A budget of `bytes`; a request waits [`BUDGET_WAIT`] for room.
    pub fn new(bytes: usize) -> Admission {
        Admission::with_wait(bytes, BUDGET_WAIT)
    }

    /// A budget of `bytes` where a request waits `wait` for room.
    pub fn with_wait(bytes: usize, wait: Duration) -> Admission {
        Admission {
            budget: Arc::new(Semaphore::new(bytes.div_ceil(UNIT))),
            wait,
        }
    }

    /// Reads `body` (at most `limit` bytes) after reserving room for it:
    /// its declared length, or the whole limit when none is declared.
    pub async fn read(
        &self,
        declared: Option<&http::HeaderValue>,
        body: Body,
        limit: usize,
    ) -> Result<Admitted, Refusal> {
        let declared = match declared {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or(Refusal::BadLength)?,
            ),
        };
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(Refusal::TooLarge { limit });
        }
        let reserve = declared.map(|n| n as usize).unwrap_or(limit);
        if reserve == 0 {
            return Ok(Admitted {
                bytes: Vec::new(),
                _reservation: None,
            });
        }
        let units = u32::try_from(reserve.div_ceil(UNIT)).map_err(|_| Refusal::TooLarge { limit })?;
        let permit = tokio::time::timeout(self.wait, self.budget.clone().acquire_many_owned(units))
            .await
            .map_err(|_| Refusal::Busy)?
            .map_err(|_| Refusal::Busy)?;
        let bytes = tokio::time::timeout(BODY_READ_TIMEOUT, collect(body, reserve, limit))
            .await
            .map_err(|_| Refusal::Timeout)??;
        Ok(Admitted {
            bytes,
            _reservation: Some(permit),
        })
    }
}

/// Collects at most `limit` bytes, never holding more capacity than
/// `reserve` (what was reserved for it).
async fn collect(mut body: Body, reserve: usize, limit: usize) -> Result<Vec<u8>, Refusal> {
    let mut bytes: Vec<u8> = Vec::with_capacity(reserve.min(64 * 1024));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Refusal::Unreadable)?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        let needed = bytes.len() + chunk.len();
        if needed > limit || needed > reserve {
            return Err(Refusal::TooLarge { limit });
        }
        if needed > bytes.capacity() {
            let grown = (bytes.capacity() * 2).max(needed).min(reserve);
            bytes.reserve_exact(grown - bytes.len());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(n: usize) -> http::HeaderValue {
        http::HeaderValue::from_str(&n.to_string()).unwrap()
    }

    #[tokio::test]
    async fn declared_lengths_over_the_limit_are_refused_unread() {
        let a = Admission::new(1024 * 1024);
        let r = a.read(Some(&len(11)), Body::from(vec![0u8; 11]), 10).await;
        assert_eq!(r.err(), Some(Refusal::TooLarge { limit: 10 }));
        let bad = http::HeaderValue::from_static("lots");
        assert_eq!(
            a.read(Some(&bad), Body::empty(), 10).await.err(),
            Some(Refusal::BadLength)
        );
        let ok = a.read(Some(&len(3)), Body::from("abc"), 10).await.unwrap();
        assert_eq!(ok.bytes, b"abc");
    }

    #[tokio::test]
    async fn undeclared_bodies_stop_at_the_limit() {
        let a = Admission::new(1024 * 1024);
        let r = a.read(None, Body::from(vec![1u8; 5000]), 4096).await;
        assert_eq!(r.err(), Some(Refusal::TooLarge { limit: 4096 }));
        let ok = a.read(None, Body::from(vec![1u8; 4000]), 4096).await.unwrap();
        assert_eq!(ok.bytes.len(), 4000);
        assert!(ok.bytes.capacity() <= 4096);
    }

    #[tokio::test]
    async fn the_budget_is_shared_and_released() {
        let a = Admission::with_wait(8 * 1024, Duration::from_millis(50));
        let held = a
            .read(Some(&len(6000)), Body::from(vec![0u8; 6000]), 10_000)
            .await
            .unwrap();
        // No room for a second 6000-byte body while the first is held.
        let busy = a
            .read(Some(&len(6000)), Body::from(vec![0u8; 6000]), 10_000)
            .await;
        assert_eq!(busy.err(), Some(Refusal::Busy));
        drop(held);
        assert!(
            a.read(Some(&len(6000)), Body::from(vec![0u8; 6000]), 10_000)
                .await
                .is_ok()
        );
    }
}
