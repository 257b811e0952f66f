//! Creates the stack's tables, buckets and notification queue on an endpoint
//! that has no CloudFormation (moto, LocalStack), shaped exactly as
//! `infra/template.yaml` declares them: the tests and `tx serve --backend aws`
//! against a local endpoint then exercise the same indexes, streams and
//! notifications as a deployed stack.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use aws_sdk_sqs::types::QueueAttributeName;

use super::config::AwsClients;
use super::dynamo_jobs::REPO_INDEX;
use super::sdk_error::describe;
use crate::filter::{CDN_NOTIFICATION_PREFIX, CDN_NOTIFICATION_SUFFIX};

/// Why a resource could not be created.
#[derive(Debug, thiserror::Error)]
#[error("provisioning {what}: {message}")]
pub struct ProvisionError {
    /// The resource.
    pub what: String,
    /// What the service said.
    pub message: String,
}

fn failed(what: &str, e: impl std::error::Error) -> ProvisionError {
    ProvisionError {
        what: what.to_string(),
        message: describe(&e),
    }
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, ProvisionError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| failed(name, e))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, ProvisionError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| failed(name, e))
}

/// Creates `tx-job`: key `job_id`, GSI `repo`/`created_at` (all attributes),
/// stream `NEW_AND_OLD_IMAGES`, TTL on `expires_at`. Returns the stream ARN.
pub async fn create_job_table(clients: &AwsClients, table: &str) -> Result<String, ProvisionError> {
    let index = GlobalSecondaryIndex::builder()
        .index_name(REPO_INDEX)
        .key_schema(key("repo", KeyType::Hash)?)
        .key_schema(key("created_at", KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(|e| failed(REPO_INDEX, e))?;
    let out = clients
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("job_id")?)
        .attribute_definitions(string_attribute("repo")?)
        .attribute_definitions(string_attribute("created_at")?)
        .key_schema(key("job_id", KeyType::Hash)?)
        .global_secondary_indexes(index)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(|e| failed(table, e))?,
        )
        .send()
        .await
        .map_err(|e| failed(table, e))?;
    clients
        .dynamodb
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()
                .map_err(|e| failed(table, e))?,
        )
        .send()
        .await
        .map_err(|e| failed(table, e))?;
    out.table_description
        .and_then(|t| t.latest_stream_arn)
        .ok_or_else(|| ProvisionError {
            what: table.to_string(),
            message: "created without a stream ARN".to_string(),
        })
}

/// Creates the job queue-slot table (`TX_QUEUE_TABLE`): key `coalesce_key`,
/// no stream, TTL on `expires_at`.
pub async fn create_queue_table(clients: &AwsClients, table: &str) -> Result<(), ProvisionError> {
    clients
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("coalesce_key")?)
        .key_schema(key("coalesce_key", KeyType::Hash)?)
        .send()
        .await
        .map_err(|e| failed(table, e))?;
    clients
        .dynamodb
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()
                .map_err(|e| failed(table, e))?,
        )
        .send()
        .await
        .map_err(|e| failed(table, e))?;
    Ok(())
}

/// Creates `tx-manifest`: key `repo`, no stream.
pub async fn create_manifest_table(clients: &AwsClients, table: &str) -> Result<(), ProvisionError> {
    clients
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("repo")?)
        .key_schema(key("repo", KeyType::Hash)?)
        .send()
        .await
        .map_err(|e| failed(table, e))?;
    Ok(())
}

/// Creates a bucket (in the client's region).
pub async fn create_bucket(clients: &AwsClients, bucket: &str) -> Result<(), ProvisionError> {
    let mut req = clients.s3.create_bucket().bucket(bucket);
    let region = clients.region();
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    req.send().await.map_err(|e| failed(bucket, e))?;
    Ok(())
}

/// Creates the queue `queue` and points `bucket`'s `ObjectCreated` events for
/// `u/…build_log.json` at it (the template sends the same events to the
/// deployer). Returns the queue URL.
pub async fn create_notification_queue(
    clients: &AwsClients,
    bucket: &str,
    queue: &str,
) -> Result<String, ProvisionError> {
    let url = clients
        .sqs
        .create_queue()
        .queue_name(queue)
        .send()
        .await
        .map_err(|e| failed(queue, e))?
        .queue_url
        .ok_or_else(|| ProvisionError {
            what: queue.to_string(),
            message: "created without a URL".to_string(),
        })?;
    let arn = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failed(queue, e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| ProvisionError {
            what: queue.to_string(),
            message: "no QueueArn attribute".to_string(),
        })?;
    let rule = |name: FilterRuleName, value: &str| FilterRule::builder().name(name).value(value).build();
    let queue_config = QueueConfiguration::builder()
        .id("tx-deployer")
        .queue_arn(arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(
            NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(rule(FilterRuleName::Prefix, CDN_NOTIFICATION_PREFIX))
                        .filter_rules(rule(FilterRuleName::Suffix, CDN_NOTIFICATION_SUFFIX))
                        .build(),
                )
                .build(),
        )
        .build()
        .map_err(|e| failed(bucket, e))?;
    clients
        .s3
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(queue_config)
                .build(),
        )
        .send()
        .await
        .map_err(|e| failed(bucket, e))?;
    Ok(url)
}
