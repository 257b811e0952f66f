//! S3 notifications through an SQS queue, for `tx serve --backend aws` and
//! the integration tests: the bucket notifies the queue, this polls it and
//! hands out [`S3Event`]s exactly as S3 would hand them to a Lambda function.
//!
//! A message is deleted only when the consumer acknowledges it, so a consumer
//! that dies mid-way gets the event again after the visibility timeout
//! (at-least-once, like Lambda's own retries).

use aws_lambda_events::event::s3::S3Event;
use aws_sdk_sqs::Client;
use serde_json::Value;

use super::sdk_error::describe;

/// Why the queue could not be read or acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// An SQS call failed.
    #[error("sqs: {0}")]
    Backend(String),
}

/// One received notification, to acknowledge once handled.
#[derive(Debug, Clone)]
pub struct QueuedS3Event {
    /// The notification, as a Lambda function would receive it.
    pub event: S3Event,
    /// Handle to delete the message with ([`S3EventQueue::ack`]).
    pub receipt_handle: String,
}

/// A poller of one queue that receives a bucket's notifications.
#[derive(Debug, Clone)]
pub struct S3EventQueue {
    client: Client,
    queue_url: String,
}

impl S3EventQueue {
    /// The queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> S3EventQueue {
        S3EventQueue {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Waits up to `wait_seconds` (long poll, at most 20) for notifications.
    /// S3's `s3:TestEvent` (sent when a notification is configured) and
    /// messages that are no S3 event are deleted and skipped: retrying them
    /// could never succeed.
    pub async fn receive(&self, wait_seconds: i32) -> Result<Vec<QueuedS3Event>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds.clamp(0, 20))
            .send()
            .await
            .map_err(|e| QueueError::Backend(describe(&e)))?;
        let mut events = Vec::new();
        for message in out.messages.unwrap_or_default() {
            let Some(receipt_handle) = message.receipt_handle else {
                continue;
            };
            match message.body.as_deref().and_then(parse_notification) {
                Some(event) => events.push(QueuedS3Event {
                    event,
                    receipt_handle,
                }),
                None => {
                    tracing::warn!(queue = %self.queue_url, "dropping a message that is no S3 notification");
                    self.ack(&receipt_handle).await?;
                }
            }
        }
        Ok(events)
    }

    /// Deletes a handled message.
    pub async fn ack(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| QueueError::Backend(describe(&e)))?;
        Ok(())
    }
}

/// An S3 notification from a message body: S3's own `{"Records": […]}`, or
/// the same wrapped in an SNS envelope (`{"Type":"Notification","Message":…}`).
/// `None` for the configuration test event and anything else.
///
/// S3 always sends `userIdentity`, `requestParameters` and
/// `responseElements`, which Lambda's record type requires; S3 emulators
/// (moto) leave them out, so absent ones are filled with empty values rather
/// than dropping a real notification.
pub fn parse_notification(body: &str) -> Option<S3Event> {
    let value: Value = serde_json::from_str(body).ok()?;
    let mut value = match value.get("Message").and_then(Value::as_str) {
        Some(inner) if value.get("Type").and_then(Value::as_str) == Some("Notification") => {
            serde_json::from_str(inner).ok()?
        }
        _ => value,
    };
    let records = value.get_mut("Records").and_then(Value::as_array_mut)?;
    for record in records.iter_mut() {
        let fields = record.as_object_mut()?;
        for (name, empty) in [
            ("userIdentity", serde_json::json!({ "principalId": "" })),
            ("requestParameters", serde_json::json!({ "sourceIPAddress": "" })),
            ("responseElements", serde_json::json!({})),
        ] {
            fields.entry(name).or_insert(empty);
        }
    }
    let event: S3Event = serde_json::from_value(value).ok()?;
    (!event.records.is_empty()).then_some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_events_are_not_notifications() {
        let test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-01-01T00:00:00.000Z","Bucket":"b"}"#;
        assert!(parse_notification(test_event).is_none());
        assert!(parse_notification("not json").is_none());
    }

    #[test]
    fn records_without_identity_fields_still_parse() {
        let body = r#"{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-11-23T10:26:01.745Z", "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "x", "bucket": {"name": "cdn", "arn": "arn:aws:s3:::cdn"},
            "object": {"key": "u%2Fa+b%2Fbuild_log.json", "size": 2, "eTag": "99"}}}]}"#;
        let ev = parse_notification(body).unwrap();
        assert_eq!(
            ev.records[0].s3.object.key.as_deref(),
            Some("u%2Fa+b%2Fbuild_log.json")
        );
    }

    #[test]
    fn records_and_sns_wrapped_records_parse() {
        let rec = crate::local::stream_record::s3_put_record(
            "cdn",
            "u/o/r/c/build_log.json",
            3,
            "e",
            1,
            chrono::Utc::now(),
        );
        let body = serde_json::json!({ "Records": [rec] }).to_string();
        let ev = parse_notification(&body).unwrap();
        assert_eq!(ev.records[0].s3.bucket.name.as_deref(), Some("cdn"));
        let sns = serde_json::json!({"Type": "Notification", "Message": body}).to_string();
        assert_eq!(parse_notification(&sns).unwrap().records.len(), 1);
    }
}
