//! The event router: what Lambda's event source mappings do on AWS.
//!
//! It reads the durable event log from each consumer's checkpoint, applies
//! the same filter the SAM template gives the mapping, and delivers batches as
//! `aws_lambda_events` types. At least once: the checkpoint moves only after
//! the handler answered, so records in flight when the process stops are
//! delivered again after a restart. A record that keeps failing is retried a
//! bounded number of times, then parked as a dead letter (the local twin of
//! the mapping's on-failure destination) so it never blocks the ones after it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tx_shared::filter::{JOB_STREAM_PATTERN, matches};
use tx_shared::local::{CDN_NOTIFICATIONS, EventLog, JOB_STREAM, LoggedEvent};

use super::functions::Functions;

/// Records per delivery (the mappings' `BatchSize`).
const BATCH: usize = 10;

/// Deliveries of one record before it is parked.
const MAX_ATTEMPTS: u32 = 3;

/// How often the log is polled when no bell rang.
const POLL: Duration = Duration::from_millis(500);

/// The two mappings of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// `tx-job` stream → job manager.
    JobStream,
    /// CDN bucket notifications → deployer.
    CdnNotifications,
}

impl Mapping {
    fn consumer(self) -> &'static str {
        match self {
            Mapping::JobStream => "job-manager",
            Mapping::CdnNotifications => "deployer",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Mapping::JobStream => JOB_STREAM,
            Mapping::CdnNotifications => CDN_NOTIFICATIONS,
        }
    }
}

/// Runs one mapping until `stop` turns true.
pub async fn run(
    mapping: Mapping,
    log: EventLog,
    functions: Arc<Functions>,
    mut stop: watch::Receiver<bool>,
) {
    let pattern: Value = serde_json::from_str(JOB_STREAM_PATTERN).unwrap_or(Value::Null);
    let mut attempts: HashMap<i64, u32> = HashMap::new();
    loop {
        if *stop.borrow() {
            return;
        }
        match deliver_once(mapping, &log, &functions, &pattern, &mut attempts).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(consumer = mapping.consumer(), "event router: {e}"),
        }
        tokio::select! {
            _ = log.wait() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Delivers one batch; `Ok(true)` when there may be more waiting.
async fn deliver_once(
    mapping: Mapping,
    log: &EventLog,
    functions: &Functions,
    pattern: &Value,
    attempts: &mut HashMap<i64, u32>,
) -> anyhow::Result<bool> {
    let consumer = mapping.consumer();
    let pending = log.pending(mapping.source(), consumer, BATCH)?;
    let Some(last) = pending.last().map(|e| e.seq) else {
        return Ok(false);
    };
    let selected: Vec<&LoggedEvent> = pending
        .iter()
        .filter(|e| mapping != Mapping::JobStream || matches(pattern, &e.record))
        .collect();
    if selected.is_empty() {
        log.checkpoint(consumer, last)?;
        return Ok(true);
    }
    let failed_from = deliver(mapping, functions, &selected).await;
    match failed_from {
        None => {
            for e in &selected {
                attempts.remove(&e.seq);
            }
            log.checkpoint(consumer, last)?;
        }
        Some(first_failed) => {
            // Everything before the first failure is done; retry from there.
            log.checkpoint(consumer, first_failed - 1)?;
            let n = attempts.entry(first_failed).or_insert(0);
            *n += 1;
            if *n >= MAX_ATTEMPTS {
                if let Some(event) = pending.iter().find(|e| e.seq == first_failed) {
                    log.dead_letter(consumer, event, &format!("failed {MAX_ATTEMPTS} deliveries"))?;
                }
                tracing::error!(
                    consumer,
                    seq = first_failed,
                    "record parked after {MAX_ATTEMPTS} deliveries"
                );
                attempts.remove(&first_failed);
                log.checkpoint(consumer, first_failed)?;
            } else {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(*n))).await;
            }
        }
    }
    Ok(true)
}

/// Hands a batch to its function; answers the sequence of the first record
/// to deliver again, if any.
async fn deliver(mapping: Mapping, functions: &Functions, batch: &[&LoggedEvent]) -> Option<i64> {
    let records: Vec<&Value> = batch.iter().map(|e| &e.record).collect();
    let event = json!({ "Records": records });
    match mapping {
        Mapping::JobStream => {
            let event = match serde_json::from_value(event) {
                Ok(ev) => ev,
                Err(e) => {
                    tracing::error!("stream batch is not a DynamoDB event: {e}");
                    return batch.first().map(|e| e.seq);
                }
            };
            let response = tx_job_manager::handle_stream(event, &functions.manager).await;
            let failed: Vec<String> = response
                .batch_item_failures
                .iter()
                .filter_map(|f| f.item_identifier.clone())
                .collect();
            batch
                .iter()
                .find(|e| {
                    e.record["dynamodb"]["SequenceNumber"]
                        .as_str()
                        .is_some_and(|s| failed.iter().any(|f| f == s))
                })
                .map(|e| e.seq)
        }
        Mapping::CdnNotifications => {
            let event = match serde_json::from_value(event) {
                Ok(ev) => ev,
                Err(e) => {
                    tracing::error!("notification batch is not an S3 event: {e}");
                    return batch.first().map(|e| e.seq);
                }
            };
            match tx_deployer::handle_s3(event, &functions.deployer).await {
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!("deployer failed, will retry: {e}");
                    batch.first().map(|e| e.seq)
                }
            }
        }
    }
}
