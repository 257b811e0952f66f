//! `tx-job` on DynamoDB.
//!
//! Writes are whole-item puts guarded by conditions, so the row a stream
//! record carries in `NewImage` is always a complete job: an insert requires
//! the id to be new, an update requires the stored `version` to be the one the
//! writer read and stores it bumped. A lost condition is
//! [`TableError::Conflict`], exactly as the SQLite table reports it.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::sdk_error::describe;
use crate::domain::job::{Job, JobStatus};
use crate::ports::{JobTable, TableError};

/// Name of the global secondary index on `repo` (partition) and `created_at`
/// (sort), declared the same way in `infra/template.yaml`.
pub const REPO_INDEX: &str = "repo-created_at-index";

/// A DynamoDB item in the SDK's representation.
type Item = HashMap<String, AttributeValue>;

/// The job table on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoJobTable {
    client: Client,
    table: String,
    page_size: Option<i32>,
}

impl DynamoJobTable {
    /// The table named `table` (from `TX_JOB_TABLE`).
    pub fn new(client: Client, table: impl Into<String>) -> DynamoJobTable {
        DynamoJobTable {
            client,
            table: table.into(),
            page_size: None,
        }
    }

    /// Caps how many items one Query/Scan page returns, so tests can exercise
    /// pagination with a handful of rows (DynamoDB's own page cap is 1 MB).
    pub fn with_page_size(mut self, page_size: i32) -> DynamoJobTable {
        self.page_size = Some(page_size.max(1));
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes `job` with `stored_version` if `condition` holds.
    async fn put_if(
        &self,
        job: &Job,
        stored_version: u64,
        condition: &str,
        expected: Option<u64>,
    ) -> Result<Job, TableError> {
        let mut stored = job.clone();
        stored.version = stored_version;
        let item = to_item(&stored)?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        if let Some(v) = expected {
            put = put
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string()));
        }
        match put.send().await {
            Ok(_) => Ok(stored),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(TableError::Conflict(job.job_id.clone()))
            }
            Err(e) => Err(TableError::Backend(describe(&e))),
        }
    }
}

#[async_trait]
impl JobTable for DynamoJobTable {
    async fn insert(&self, job: &Job) -> Result<Job, TableError> {
        self.put_if(job, 1, "attribute_not_exists(job_id)", None).await
    }

    async fn update(&self, job: &Job, expected_version: u64) -> Result<Job, TableError> {
        // `#v = :expected` is false for a missing row too, so updating a job
        // that does not exist is a Conflict, as on SQLite.
        self.put_if(
            job,
            expected_version + 1,
            "#v = :expected",
            Some(expected_version),
        )
        .await
    }

    async fn get(&self, job_id: &str) -> Result<Option<Job>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("job_id", AttributeValue::S(job_id.to_string()))
            // The job manager reads, then writes conditionally on what it read:
            // a stale read would only cost a Conflict, but a strong one avoids it.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::Backend(describe(&e)))?;
        out.item.map(from_item).transpose()
    }

    async fn by_repo(&self, repo: &str, limit: usize) -> Result<Vec<Job>, TableError> {
        let mut jobs = Vec::new();
        let mut start: Option<Item> = None;
        while jobs.len() < limit {
            let want = i32::try_from(limit - jobs.len()).unwrap_or(i32::MAX);
            let page = self.page_size.map_or(want, |p| p.min(want));
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(REPO_INDEX)
                .key_condition_expression("#r = :repo")
                .expression_attribute_names("#r", "repo")
                .expression_attribute_values(":repo", AttributeValue::S(repo.to_string()))
                .scan_index_forward(false)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| TableError::Backend(describe(&e)))?;
            for item in out.items.unwrap_or_default() {
                jobs.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        jobs.truncate(limit);
        Ok(jobs)
    }

    async fn sweep_candidates(&self) -> Result<Vec<Job>, TableError> {
        let status = |s: JobStatus| AttributeValue::S(s.as_str().to_string());
        let mut jobs = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(
                    "#s IN (:requested, :started) OR (#s = :finished AND callback_pending = :pending)",
                )
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":requested", status(JobStatus::Requested))
                .expression_attribute_values(":started", status(JobStatus::Started))
                .expression_attribute_values(":finished", status(JobStatus::Finished))
                .expression_attribute_values(":pending", AttributeValue::Bool(true))
                .set_limit(self.page_size)
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| TableError::Backend(describe(&e)))?;
            for item in out.items.unwrap_or_default() {
                jobs.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        // Same order as the SQLite table: oldest first.
        jobs.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.job_id.cmp(&b.job_id))
        });
        Ok(jobs)
    }
}

/// A job as a DynamoDB item.
fn to_item(job: &Job) -> Result<Item, TableError> {
    serde_dynamo::to_item(job).map_err(|e| TableError::Malformed(format!("job {}: {e}", job.job_id)))
}

/// A DynamoDB item as a job.
fn from_item(item: Item) -> Result<Job, TableError> {
    serde_dynamo::from_item(item).map_err(|e| TableError::Malformed(e.to_string()))
}
