//! `tx-job` on DynamoDB.
//!
//! Writes are whole-item puts guarded by conditions, so the row a stream
//! record carries in `NewImage` is always a complete job: an insert requires
//! the id to be new, an update requires the stored `version` to be the one the
//! writer read and stores it bumped. A lost condition is
//! [`TableError::Conflict`], exactly as the SQLite table reports it.
//!
//! The queue slots live in a table of their own (`TX_QUEUE_TABLE`, key
//! `coalesce_key`), beside the remembered deliveries (`delivery:ID`): an
//! item there is never a job, so the job table's stream
//! and the sweep's scan never meet one. Taking a slot is one
//! `TransactWriteItems`: the slot put conditional on its version, a
//! condition check that its holder is no longer `requested`, and the job put
//! conditional on its own version.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::sdk_error::describe;
use crate::config::default_queue_table;
use crate::domain::job::{Job, JobStatus};
use crate::domain::job_request::{Coalesced, NewerCommit};
use crate::ports::job_table::{JobCursor, JobPage, check_enqueue, page_of};
use crate::ports::{JobTable, QueueSlot, TableError};

/// The queue table's key of a remembered delivery: beside the slots (whose
/// keys are `owner/repo/ref`, and a forge name never holds `:`), with the
/// same TTL, never read as a slot.
fn delivery_key(delivery_id: &str) -> String {
    format!("delivery:{delivery_id}")
}

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
    queue_table: String,
    page_size: Option<i32>,
}

impl DynamoJobTable {
    /// Up to `limit` jobs of `repo`, newest first, from the `repo` index,
    /// starting after `start` (a key DynamoDB gave, or one built from a
    /// cursor): the one query behind [`JobTable::by_repo`] and
    /// [`JobTable::by_repo_page`], read in pages of `page_size`.
    async fn query_repo(
        &self,
        repo: &str,
        limit: usize,
        mut start: Option<Item>,
    ) -> Result<Vec<Job>, TableError> {
        let mut jobs = Vec::new();
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

    /// The table named `table` (from `TX_JOB_TABLE`), its queue slots in
    /// [`default_queue_table`] until [`DynamoJobTable::with_queue_table`] says
    /// otherwise.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoJobTable {
        let table = table.into();
        DynamoJobTable {
            client,
            queue_table: default_queue_table(&table),
            table,
            page_size: None,
        }
    }

    /// Keeps the queue slots in `queue_table` (from `TX_QUEUE_TABLE`).
    pub fn with_queue_table(mut self, queue_table: impl Into<String>) -> DynamoJobTable {
        self.queue_table = queue_table.into();
        self
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

    /// The queue-slot table's name.
    pub fn queue_table(&self) -> &str {
        &self.queue_table
    }

    /// The put of `job` at `stored_version`, conditional on the stored row
    /// being at `expected` (`None`: on the id being new).
    fn job_put(&self, job: &Job, expected: Option<u64>) -> Result<(Job, Put), TableError> {
        let mut stored = job.clone();
        stored.version = expected.map_or(1, |v| v + 1);
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&stored)?));
        put = match expected {
            None => put.condition_expression("attribute_not_exists(job_id)"),
            Some(v) => put
                .condition_expression("#v = :expected")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string())),
        };
        let put = put.build().map_err(|e| TableError::Backend(e.to_string()))?;
        Ok((stored, put))
    }

    /// Takes the slot for `job` (not its holder) in one transaction.
    async fn take_slot(
        &self,
        job: &Job,
        expected_version: Option<u64>,
        slot: &QueueSlot,
    ) -> Result<Job, TableError> {
        let (stored, job_put) = self.job_put(job, expected_version)?;
        let mut slot_put = Put::builder()
            .table_name(&self.queue_table)
            .item("coalesce_key", AttributeValue::S(slot.key.clone()))
            .item("job_id", AttributeValue::S(stored.job_id.clone()))
            .item("version", AttributeValue::N((slot.version + 1).to_string()))
            // The slot expires with the job it names (the table's TTL).
            .item("expires_at", AttributeValue::N(stored.expires_at.to_string()));
        slot_put = if slot.version == 0 {
            slot_put.condition_expression("attribute_not_exists(coalesce_key)")
        } else {
            slot_put
                .condition_expression("#v = :seen")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":seen", AttributeValue::N(slot.version.to_string()))
        };
        let slot_put = slot_put.build().map_err(|e| TableError::Backend(e.to_string()))?;
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(slot_put).build())
            .transact_items(TransactWriteItem::builder().put(job_put).build());
        if let Some(holder) = &slot.holder_id {
            let waiting = ConditionCheck::builder()
                .table_name(&self.table)
                .key("job_id", AttributeValue::S(holder.clone()))
                .condition_expression("attribute_not_exists(job_id) OR #s <> :requested")
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(
                    ":requested",
                    AttributeValue::S(JobStatus::Requested.as_str().to_string()),
                )
                .build()
                .map_err(|e| TableError::Backend(e.to_string()))?;
            request = request.transact_items(TransactWriteItem::builder().condition_check(waiting).build());
        }
        match request.send().await {
            Ok(_) => Ok(stored),
            Err(e) => {
                if let Some(cancelled) = e.as_service_error().and_then(|s| match s {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                    _ => None,
                }) {
                    // Lost conditions and concurrent transactions are races;
                    // anything else (validation, capacity) is not.
                    let raced = cancelled.cancellation_reasons().iter().all(|r| {
                        matches!(
                            r.code(),
                            None | Some("None" | "ConditionalCheckFailed" | "TransactionConflict")
                        )
                    });
                    if raced {
                        return Err(TableError::Conflict(format!(
                            "queue slot {} for job {}",
                            slot.key, job.job_id
                        )));
                    }
                }
                Err(TableError::Backend(describe(&e)))
            }
        }
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

    async fn renew_lease(&self, job_id: &str, version: u64, until: DateTime<Utc>) -> Result<(), TableError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("job_id", AttributeValue::S(job_id.to_string()))
            .update_expression("SET #l = :until")
            .condition_expression("#v = :v")
            .expression_attribute_names("#l", "lease_until")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":until", AttributeValue::S(crate::time::format(&until)))
            .expression_attribute_values(":v", AttributeValue::N(version.to_string()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(TableError::Conflict(job_id.to_string()))
            }
            Err(e) => Err(TableError::Backend(describe(&e))),
        }
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
        self.query_repo(repo, limit, None).await
    }

    async fn by_repo_page(
        &self,
        repo: &str,
        limit: usize,
        after: Option<&JobCursor>,
    ) -> Result<JobPage, TableError> {
        // One more than asked, to know whether another page follows.
        let want = limit.saturating_add(1);
        let start: Option<Item> = after.map(|c| {
            HashMap::from([
                ("job_id".to_string(), AttributeValue::S(c.job_id.clone())),
                ("repo".to_string(), AttributeValue::S(repo.to_string())),
                ("created_at".to_string(), AttributeValue::S(c.created_at.clone())),
            ])
        });
        let jobs = self.query_repo(repo, want, start).await?;
        Ok(page_of(jobs, limit))
    }

    async fn repos(&self) -> Result<Vec<String>, TableError> {
        // A scan of the `repo` attribute only: what lists projects whose
        // builds all failed (they have no manifest row).
        let mut repos = std::collections::BTreeSet::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .projection_expression("#r")
                .expression_attribute_names("#r", "repo")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| TableError::Backend(describe(&e)))?;
            for item in out.items.unwrap_or_default() {
                if let Some(AttributeValue::S(r)) = item.get("repo") {
                    repos.insert(r.clone());
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(repos.into_iter().collect())
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
                    "#s IN (:requested, :started) OR (#s IN (:finished, :cancelled) AND callback_pending = :pending)",
                )
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":requested", status(JobStatus::Requested))
                .expression_attribute_values(":started", status(JobStatus::Started))
                .expression_attribute_values(":finished", status(JobStatus::Finished))
                .expression_attribute_values(":cancelled", status(JobStatus::Cancelled))
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

    async fn remember_delivery(
        &self,
        delivery_id: &str,
        job_id: &str,
        expires_at: i64,
    ) -> Result<(), TableError> {
        self.client
            .put_item()
            .table_name(&self.queue_table)
            .item("coalesce_key", AttributeValue::S(delivery_key(delivery_id)))
            .item("job_id", AttributeValue::S(job_id.to_string()))
            .item("expires_at", AttributeValue::N(expires_at.to_string()))
            .send()
            .await
            .map_err(|e| TableError::Backend(describe(&e)))?;
        Ok(())
    }

    async fn delivery(&self, delivery_id: &str) -> Result<Option<String>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.queue_table)
            .key("coalesce_key", AttributeValue::S(delivery_key(delivery_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::Backend(describe(&e)))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        // DynamoDB deletes expired items lazily (within days): ignored here.
        let expires_at = match item.get("expires_at") {
            Some(AttributeValue::N(n)) => n.parse::<i64>().unwrap_or(0),
            _ => 0,
        };
        if expires_at <= chrono::Utc::now().timestamp() {
            return Ok(None);
        }
        Ok(match item.get("job_id") {
            Some(AttributeValue::S(id)) => Some(id.clone()),
            _ => None,
        })
    }

    async fn queue_slot(&self, key: &str) -> Result<QueueSlot, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.queue_table)
            .key("coalesce_key", AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::Backend(describe(&e)))?;
        let Some(item) = out.item else {
            return Ok(QueueSlot::empty(key));
        };
        let malformed = |what: &str| TableError::Malformed(format!("queue slot {key}: {what}"));
        let holder_id = match item.get("job_id") {
            Some(AttributeValue::S(id)) => id.clone(),
            _ => return Err(malformed("no job_id")),
        };
        let version = match item.get("version") {
            Some(AttributeValue::N(n)) => n.parse::<u64>().map_err(|e| malformed(&e.to_string()))?,
            _ => return Err(malformed("no version")),
        };
        let holder = self.get(&holder_id).await?;
        Ok(QueueSlot {
            key: key.to_string(),
            version,
            holder_id: Some(holder_id),
            holder,
        })
    }

    async fn coalesce(&self, job_id: &str, change: &NewerCommit) -> Result<Coalesced, TableError> {
        let mut e = UpdateExpr::default();
        e.set("identifier", &change.identifier);
        let commit = &change.commit;
        e.set("commit_id", &commit.commit_id);
        e.set_or_remove("committed_by", commit.committed_by.as_deref());
        e.set_or_remove("commit_url", commit.commit_url.as_deref());
        e.set_or_remove("compare_url", commit.compare_url.as_deref());
        e.set_or_remove("commit_message", commit.commit_message.as_deref());
        e.set_or_remove("delivery_id", change.delivery_id.as_deref());
        if let Some(url) = &change.repo_url {
            e.set("repo_url", url);
        }
        e.set("resource_type", &change.resource_type);
        e.set("input_format", &change.input_format);
        e.set("output_format", &change.output_format);
        e.set("source", &change.source);
        e.set_or_remove("callback", change.callback.as_deref());
        let (version, log) = (e.name("version"), e.name("log"));
        e.values.insert(":zero".into(), AttributeValue::N("0".into()));
        e.values.insert(":one".into(), AttributeValue::N("1".into()));
        e.values.insert(":empty".into(), AttributeValue::L(Vec::new()));
        e.values.insert(
            ":note".into(),
            AttributeValue::L(vec![AttributeValue::S(change.note.clone())]),
        );
        e.sets
            .push(format!("{version} = if_not_exists({version}, :zero) + :one"));
        e.sets.push(format!(
            "{log} = list_append(if_not_exists({log}, :empty), :note)"
        ));
        let (id, status) = (e.name("job_id"), e.name("status"));
        e.values.insert(
            ":requested".into(),
            AttributeValue::S(JobStatus::Requested.as_str().to_string()),
        );
        let condition =
            format!("attribute_exists({id}) AND {status} = :requested AND #commit_id <> :commit_id");
        let mut update = format!("SET {}", e.sets.join(", "));
        if !e.removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", e.removes.join(", ")));
        }
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("job_id", AttributeValue::S(job_id.to_string()))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let old = match out {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                return Err(TableError::Conflict(job_id.to_string()));
            }
            Err(e) => return Err(TableError::Backend(describe(&e))),
        };
        let superseded = from_item(old)?;
        let mut job = superseded.clone();
        change.apply(&mut job);
        job.version = superseded.version + 1;
        Ok(Coalesced { superseded, job })
    }

    async fn enqueue(
        &self,
        job: &Job,
        expected_version: Option<u64>,
        slot: &QueueSlot,
    ) -> Result<Job, TableError> {
        check_enqueue(job, expected_version, slot)?;
        match expected_version {
            // In place: the holder's own version decides, the slot is unchanged.
            Some(v) if slot.is_held_by(&job.job_id) => self.update(job, v).await,
            _ => self.take_slot(job, expected_version, slot).await,
        }
    }
}

/// An `UpdateExpression` under construction: every attribute through a
/// `#name` placeholder (`ref`, `status`, `source` are reserved words).
#[derive(Default)]
struct UpdateExpr {
    sets: Vec<String>,
    removes: Vec<String>,
    names: HashMap<String, String>,
    values: Item,
}

impl UpdateExpr {
    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), attribute.to_string());
        placeholder
    }

    fn set(&mut self, attribute: &str, value: &str) {
        let name = self.name(attribute);
        let placeholder = format!(":{attribute}");
        self.values
            .insert(placeholder.clone(), AttributeValue::S(value.to_string()));
        self.sets.push(format!("{name} = {placeholder}"));
    }

    /// Sets the attribute, or removes it: absent options are left out of a
    /// job's item, never stored null.
    fn set_or_remove(&mut self, attribute: &str, value: Option<&str>) {
        match value {
            Some(v) => self.set(attribute, v),
            None => {
                let name = self.name(attribute);
                self.removes.push(name);
            }
        }
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
