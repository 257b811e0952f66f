//! The AWS backend's resources: checking at start-up that the tables,
//! buckets and notification queue `tx serve --backend aws` needs exist (a
//! missing one is named before the first request fails on it), and, when
//! asked (`--provision`), creating the missing ones shaped as
//! `infra/template.yaml` declares them, so an operator can start against an
//! empty emulator (moto, LocalStack).

use std::time::Duration;

use anyhow::{Context, bail};
use tx_shared::aws::AwsClients;
use tx_shared::aws::provision::{
    create_bucket, create_job_table, create_manifest_table, create_notification_queue, create_queue_table,
};
use tx_shared::aws::sdk_error::describe;
use tx_shared::config::Config;

/// Longest wait for a created table to become `ACTIVE` (instant on moto; a
/// few seconds on DynamoDB).
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// A resource of the stack that may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The job table (with its stream).
    JobTable(String),
    /// The job queue slots (one item per coalescing key).
    QueueTable(String),
    /// The manifest table.
    ManifestTable(String),
    /// One of the three buckets.
    Bucket(String),
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::JobTable(name) | Resource::QueueTable(name) | Resource::ManifestTable(name) => {
                write!(f, "table {name}")
            }
            Resource::Bucket(name) => write!(f, "bucket {name}"),
        }
    }
}

/// The tables and buckets named by `config` that do not exist.
pub async fn missing(clients: &AwsClients, config: &Config) -> anyhow::Result<Vec<Resource>> {
    let mut out = Vec::new();
    if !table_exists(clients, &config.job_table).await? {
        out.push(Resource::JobTable(config.job_table.clone()));
    }
    if !table_exists(clients, &config.queue_table).await? {
        out.push(Resource::QueueTable(config.queue_table.clone()));
    }
    if !table_exists(clients, &config.manifest_table).await? {
        out.push(Resource::ManifestTable(config.manifest_table.clone()));
    }
    for bucket in [
        &config.preconvert_bucket,
        &config.cdn_bucket,
        &config.website_bucket,
    ] {
        if !bucket_exists(clients, bucket).await? {
            out.push(Resource::Bucket(bucket.clone()));
        }
    }
    Ok(out)
}

/// Fails, naming every missing table and bucket, unless all exist.
pub async fn check(clients: &AwsClients, config: &Config) -> anyhow::Result<()> {
    let absent = missing(clients, config).await?;
    if !absent.is_empty() {
        let names: Vec<String> = absent.iter().map(Resource::to_string).collect();
        bail!(
            "missing AWS resources: {} (deploy infra/template.yaml, or start with --provision to create them)",
            names.join(", ")
        );
    }
    Ok(())
}

/// Creates the missing tables and buckets, then the notification queue
/// `queue` and the CDN bucket's notification to it. The queue step is
/// idempotent (SQS answers an existing queue's URL) and sets the CDN bucket's
/// notification configuration to exactly the template's one. Returns the
/// queue's URL.
pub async fn provision(clients: &AwsClients, config: &Config, queue: &str) -> anyhow::Result<String> {
    let mut tables = Vec::new();
    for resource in missing(clients, config).await? {
        tracing::info!("creating {resource}");
        match &resource {
            Resource::JobTable(name) => {
                create_job_table(clients, name).await?;
                tables.push(name.clone());
            }
            Resource::QueueTable(name) => {
                create_queue_table(clients, name).await?;
                tables.push(name.clone());
            }
            Resource::ManifestTable(name) => {
                create_manifest_table(clients, name).await?;
                tables.push(name.clone());
            }
            Resource::Bucket(name) => create_bucket(clients, name).await?,
        }
    }
    for table in &tables {
        wait_active(clients, table).await?;
    }
    Ok(create_notification_queue(clients, &config.cdn_bucket, queue_name(queue)).await?)
}

/// The URL of the notification queue `queue` (a name, or already a URL).
pub async fn queue_url(clients: &AwsClients, queue: &str) -> anyhow::Result<String> {
    if queue.starts_with("https://") || queue.starts_with("http://") {
        return Ok(queue.to_string());
    }
    match clients.sqs.get_queue_url().queue_name(queue).send().await {
        Ok(out) => out
            .queue_url
            .with_context(|| format!("SQS answered no URL for queue {queue}")),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_queue_does_not_exist()) => bail!(
            "queue {queue} does not exist: create it with the CDN bucket's notification to it, \
             or start with --provision"
        ),
        Err(e) => Err(anyhow::anyhow!(describe(&e))).with_context(|| format!("looking up queue {queue}")),
    }
}

/// The queue's name, from a name or a queue URL (its last path segment).
fn queue_name(queue: &str) -> &str {
    queue.trim_end_matches('/').rsplit('/').next().unwrap_or(queue)
}

async fn table_exists(clients: &AwsClients, table: &str) -> anyhow::Result<bool> {
    match clients.dynamodb.describe_table().table_name(table).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(anyhow::anyhow!(describe(&e))).with_context(|| format!("describing table {table}")),
    }
}

async fn bucket_exists(clients: &AwsClients, bucket: &str) -> anyhow::Result<bool> {
    match clients.s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
        Err(e) => Err(anyhow::anyhow!(describe(&e))).with_context(|| format!("checking bucket {bucket}")),
    }
}

/// Waits (bounded) until a created table accepts writes.
async fn wait_active(clients: &AwsClients, table: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    loop {
        let out = clients
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))
            .with_context(|| format!("describing table {table}"))?;
        let status = out
            .table
            .and_then(|t| t.table_status)
            .map(|s| s.as_str().to_string());
        if status.as_deref() == Some("ACTIVE") {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "table {table} is still {} after {} s",
                status.as_deref().unwrap_or("without a status"),
                TABLE_ACTIVE_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_come_from_names_and_urls() {
        assert_eq!(queue_name("tx-cdn-events"), "tx-cdn-events");
        assert_eq!(
            queue_name("http://127.0.0.1:5000/123456789012/tx-cdn-events"),
            "tx-cdn-events"
        );
    }
}
