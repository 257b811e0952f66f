//! Thread 2's entry: a batch of `tx-job` stream records.
//!
//! Each record whose new image is a `requested` job is run (claimed,
//! converted, finished); one whose old image was a `requested` job of
//! another commit (a coalesced push) also tells the forge that commit will
//! not be built. Records are independent, so they run concurrently;
//! a record that fails for a retryable reason (the table unreachable) is
//! reported in `batchItemFailures` so only it is redelivered, never the batch.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use futures::future::join_all;
use serde_json::json;
use tx_shared::domain::job::{Job, JobStatus};
use tx_shared::dynamo_json::from_item;

use crate::announce;
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
    let old_image = &record.change.old_image;
    let old: Option<Job> = if old_image.is_empty() {
        None
    } else {
        from_item(old_image.clone()).ok()
    };
    let superseded = announce::superseded(old.as_ref(), &job, deps);
    let (outcome, ()) = tokio::join!(run_job(job.clone(), deps), superseded);
    match outcome {
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
