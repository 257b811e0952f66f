//! The CDN bucket's notifications → deployer, through the SQS queue the
//! bucket notifies: what the template's S3 event on the deployer function
//! does for the deployed stack.
//!
//! A message is acknowledged (deleted) only after the deployer succeeded; a
//! failed one stays in the queue and is received again after the queue's
//! visibility timeout, so every build log is deployed at least once. The
//! messages of one receive are deployed at once (Lambda's SQS mapping runs
//! its batches concurrently; a standard queue keeps no order anyway).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tx_shared::aws::{QueuedS3Event, S3EventQueue};

use crate::runtime::functions::Functions;

/// Long-poll wait of one receive (bounded, so a stop is noticed soon).
const WAIT_SECONDS: i32 = 2;

/// Longest pause after failed receives.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Receives and delivers notifications until `stop` turns true. A receive in
/// flight when it does is abandoned: its messages become visible again after
/// the visibility timeout, for the next runtime.
pub async fn run(queue: S3EventQueue, functions: Arc<Functions>, mut stop: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    loop {
        if *stop.borrow() {
            return;
        }
        let received = tokio::select! {
            r = queue.receive(WAIT_SECONDS) => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        match received {
            Ok(messages) => {
                failures = 0;
                futures::future::join_all(messages.into_iter().map(|m| deliver(&queue, m, &functions))).await;
            }
            Err(e) => {
                failures += 1;
                tracing::error!(queue = %queue.queue_url(), failures, "receiving CDN notifications: {e}");
                let pause = (Duration::from_millis(500) * failures).min(MAX_BACKOFF);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        }
    }
}

/// Hands one notification to the deployer; acknowledges it on success.
async fn deliver(queue: &S3EventQueue, message: QueuedS3Event, functions: &Functions) {
    let QueuedS3Event {
        event,
        receipt_handle,
    } = message;
    match tx_deployer::handle_s3(event, &functions.deployer).await {
        Ok(()) => {
            if let Err(e) = queue.ack(&receipt_handle).await {
                // Not lost either way: it is deployed again (a no-op) when it comes back.
                tracing::warn!(queue = %queue.queue_url(), "acknowledging a notification: {e}");
            }
        }
        Err(e) => tracing::warn!(
            queue = %queue.queue_url(),
            "deployer failed; the notification is delivered again after the visibility timeout: {e}"
        ),
    }
}
