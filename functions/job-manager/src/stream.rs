//! Thread 2's entry: a batch of `tx-job` stream records.
//!
//! Each record whose new image is a `requested` job is run (claimed,
//! converted, finished). Records are independent, so they run concurrently;
//! a record that fails for a retryable reason (the table unreachable) is
//! reported in `batchItemFailures` so only it is redelivered, never the batch.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use futures::future::join_all;
use serde_json::json;
use tx_shared::domain::job::{Job, JobStatus};
use tx_shared::dynamo_json::from_item;

use crate::deps::ManagerDeps;
use crate::run::{RunOutcome, run_job};

/// Handles one batch; answers the failures to redeliver.
pub async fn handle_stream(event: Event, deps: &ManagerDeps) -> DynamoDbEventResponse {
    let results = join_all(event.records.iter().map(|r| handle_record(r, deps))).await;
    let failures: Vec<_> = event
        .records
        .iter()
        .zip(results)
        .filter(|(_, ok)| !ok)
        .map(|(r, _)| json!({ "itemIdentifier": r.change.sequence_number.clone().unwrap_or_default() }))
        .collect();
    serde_json::from_value(json!({ "batchItemFailures": failures })).unwrap_or_default()
}

/// Runs one record; `false` when it should be delivered again.
async fn handle_record(record: &EventRecord, deps: &ManagerDeps) -> bool {
    if !matches!(record.event_name.as_str(), "INSERT" | "MODIFY") {
        return true;
    }
    let job: Job = match from_item(record.change.new_image.clone()) {
        Ok(job) => job,
        Err(e) => {
            // Redelivering a record that cannot be read would fail forever.
            tracing::error!(event_id = %record.event_id, "stream image is not a job: {e}");
            return true;
        }
    };
    if job.status != JobStatus::Requested {
        return true;
    }
    match run_job(job, deps).await {
        Ok(RunOutcome::Finished(j)) => {
            tracing::info!(job_id = %j.job_id, result = ?j.result, "job finished");
            true
        }
        Ok(outcome) => {
            tracing::debug!(?outcome, "record handled");
            true
        }
        Err(e) => {
            tracing::warn!(event_id = %record.event_id, "job could not run, will be redelivered: {e}");
            false
        }
    }
}
