//! The job table's stream → job manager, on DynamoDB Streams: what Lambda's
//! event source mapping in `infra/template.yaml` does for the deployed stack.
//!
//! Records are read from the oldest one still in the stream (the template's
//! `TRIM_HORIZON`), filtered with the template's pattern, and handed to the
//! job manager as the Lambda event type. At least once: a record the handler
//! reports in `batchItemFailures` is read again from its sequence number, up
//! to the template's `MaximumRetryAttempts`, then skipped with an error (the
//! sweep re-announces a job whose record was skipped), so it never blocks the
//! records after it. The shards of one poll are handled at once, as the
//! mapping's concurrent batches are: a slow build holds its own shard.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use tokio::sync::watch;
use tx_shared::aws::{AwsClients, ShardBatch, StartPosition, StreamReader};
use tx_shared::filter::{JOB_STREAM_PATTERN, matches};

use crate::runtime::functions::Functions;

/// Records per shard per poll (handed to the job manager as one batch, whose
/// records it runs concurrently).
const BATCH: i32 = 10;

/// Deliveries of one record before it is skipped (the template's
/// `MaximumRetryAttempts`).
const MAX_ATTEMPTS: u32 = 3;

/// Pause between polls of a stream that had nothing new (Lambda polls each
/// shard about four times a second).
const IDLE: Duration = Duration::from_millis(250);

/// Longest pause after failures (reading the stream, or a record).
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Consecutive failed polls after which the reader is opened again: a shard
/// iterator expires after 15 minutes (a suspended machine), and a new reader
/// replays the stream from its oldest record, which the job manager treats
/// as no-ops for jobs already past `requested`.
const REOPEN_AFTER: u32 = 5;

/// A reader of the job table's stream that delivers to the job manager.
pub struct JobStreamPoller {
    clients: AwsClients,
    table: String,
    reader: StreamReader,
    pattern: Value,
    attempts: HashMap<String, u32>,
}

impl JobStreamPoller {
    /// Opens the stream of `table`; fails when the table or its stream is
    /// missing, so `tx serve` says so at start-up.
    pub async fn open(clients: &AwsClients, table: &str) -> anyhow::Result<JobStreamPoller> {
        let pattern = serde_json::from_str(JOB_STREAM_PATTERN).context("the job stream filter pattern")?;
        Ok(JobStreamPoller {
            clients: clients.clone(),
            table: table.to_string(),
            reader: open_reader(clients, table).await?,
            pattern,
            attempts: HashMap::new(),
        })
    }

    /// Delivers the stream's records until `stop` turns true; the batch in
    /// hand is finished first.
    pub async fn run(mut self, functions: Arc<Functions>, mut stop: watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        loop {
            if *stop.borrow() {
                return;
            }
            let pause = match self.reader.poll().await {
                Ok(batches) if batches.is_empty() => {
                    failures = 0;
                    IDLE
                }
                Ok(batches) => {
                    failures = 0;
                    let pattern = &self.pattern;
                    let handled = futures::future::join_all(
                        batches.into_iter().map(|b| handle(pattern, b, &functions)),
                    )
                    .await;
                    handled
                        .into_iter()
                        .flatten()
                        .map(|h| self.settle(h))
                        .max()
                        .unwrap_or(Duration::ZERO)
                }
                Err(e) => {
                    failures += 1;
                    tracing::error!(table = %self.table, failures, "reading the job stream: {e}");
                    if failures >= REOPEN_AFTER {
                        self.reopen().await;
                        failures = 0;
                    }
                    backoff(failures.max(1))
                }
            };
            if pause.is_zero() {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// Counts the attempts of a handled shard batch; answers how long to
    /// wait before the next poll (zero when all went through).
    fn settle(&mut self, handled: Handled) -> Duration {
        let Handled {
            shard_id,
            sequence,
            failed,
        } = handled;
        for seq in &sequence {
            if !failed.contains(seq) {
                self.attempts.remove(seq);
            }
        }
        // Lambda rewinds to the first failed record; one that ran out of
        // attempts is skipped and the next failed one decides.
        for seq in sequence.iter().filter(|s| failed.contains(s)) {
            let n = self.attempts.entry(seq.clone()).or_insert(0);
            *n += 1;
            if *n >= MAX_ATTEMPTS {
                tracing::error!(
                    table = %self.table,
                    sequence_number = %seq,
                    "stream record skipped after {MAX_ATTEMPTS} deliveries (the sweep retries its job)"
                );
                self.attempts.remove(seq);
                continue;
            }
            let n = *n;
            tracing::warn!(sequence_number = %seq, attempt = n, "stream record failed; reading again from it");
            self.reader.retry_from(&shard_id, seq);
            return backoff(n);
        }
        Duration::ZERO
    }

    /// Replaces the reader with a new one (keeping the old one if the stream
    /// cannot be opened now; the next failures try again).
    async fn reopen(&mut self) {
        match open_reader(&self.clients, &self.table).await {
            Ok(reader) => {
                tracing::warn!(table = %self.table, "job stream reopened from its oldest record");
                self.reader = reader;
            }
            Err(e) => tracing::error!(table = %self.table, "reopening the job stream: {e:#}"),
        }
    }
}

async fn open_reader(clients: &AwsClients, table: &str) -> anyhow::Result<StreamReader> {
    Ok(
        StreamReader::for_table(clients, table, StartPosition::TrimHorizon)
            .await
            .with_context(|| format!("opening the stream of table {table}"))?
            .with_batch_size(BATCH),
    )
}

/// 200 ms per failure so far, at most [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    (Duration::from_millis(200) * failures).min(MAX_BACKOFF)
}

/// A shard batch the job manager answered: its records' sequence numbers
/// and those to deliver again.
struct Handled {
    shard_id: String,
    sequence: Vec<String>,
    failed: Vec<String>,
}

/// Hands one shard's records that pass `pattern` to the job manager; `None`
/// when none did.
async fn handle(pattern: &Value, batch: ShardBatch, functions: &Functions) -> Option<Handled> {
    let ShardBatch { shard_id, mut event } = batch;
    event
        .records
        .retain(|r| serde_json::to_value(r).is_ok_and(|v| matches(pattern, &v)));
    if event.records.is_empty() {
        return None;
    }
    let sequence: Vec<String> = event
        .records
        .iter()
        .filter_map(|r| r.change.sequence_number.clone())
        .collect();
    let response = tx_job_manager::handle_stream(event, &functions.manager).await;
    let failed = response
        .batch_item_failures
        .into_iter()
        .filter_map(|f| f.item_identifier)
        .collect();
    Some(Handled {
        shard_id,
        sequence,
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(3), Duration::from_millis(600));
        assert_eq!(backoff(1000), MAX_BACKOFF);
    }
}
