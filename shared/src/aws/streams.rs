//! Reading a DynamoDB table's stream the way Lambda's event source mapping
//! does, for `tx serve --backend aws` and the integration tests.
//!
//! Records come out as [`aws_lambda_events::event::dynamodb::Event`]s, one
//! batch per shard and in shard order, exactly as a Lambda function receives
//! them; the job manager's stream handler cannot tell the difference. A
//! consumer that reports a batch item failure rewinds the shard to that
//! record ([`StreamReader::retry_from`]), as Lambda does with
//! `ReportBatchItemFailures`.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::event::dynamodb::{Event, EventRecord, StreamRecord, StreamViewType, UserIdentity};
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use chrono::{DateTime, Utc};

use super::config::AwsClients;
use super::sdk_error::describe;

/// Why the stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The table has no stream enabled (the template enables one on `tx-job`).
    #[error("table {0} has no stream (StreamSpecification NEW_AND_OLD_IMAGES is required)")]
    NoStream(String),
    /// A DynamoDB or DynamoDB Streams call failed.
    #[error("dynamodb streams: {0}")]
    Backend(String),
}

/// Where a reader starts in shards that exist when it is created. Shards that
/// appear later (after a shard rolls over) are always read from their start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPosition {
    /// The oldest record still in the stream (24 h of history).
    TrimHorizon,
    /// Only records written from now on.
    Latest,
}

/// The records of one shard read by one poll: one Lambda invocation's worth.
#[derive(Debug, Clone)]
pub struct ShardBatch {
    /// The shard they came from (for [`StreamReader::retry_from`]).
    pub shard_id: String,
    /// The records, in the Lambda event shape.
    pub event: Event,
}

/// How far a reader is in one shard.
#[derive(Debug, Clone)]
enum Cursor {
    /// Not read yet: get an iterator of this type first.
    Start(ShardIteratorType, Option<String>),
    /// Read on with this iterator.
    Iterator(String),
    /// The shard is closed and fully read.
    Done,
}

/// A polling reader of one stream.
#[derive(Debug)]
pub struct StreamReader {
    client: Client,
    stream_arn: String,
    region: String,
    start: StartPosition,
    shards: BTreeMap<String, (Option<String>, Cursor)>,
    discovered: bool,
    batch_size: i32,
}

impl StreamReader {
    /// A reader of `table`'s current stream.
    pub async fn for_table(
        clients: &AwsClients,
        table: &str,
        start: StartPosition,
    ) -> Result<StreamReader, StreamError> {
        let out = clients
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| StreamError::Backend(describe(&e)))?;
        let arn = out
            .table
            .and_then(|t| t.latest_stream_arn)
            .ok_or_else(|| StreamError::NoStream(table.to_string()))?;
        Ok(StreamReader::new(
            clients.streams.clone(),
            arn,
            clients.region(),
            start,
        ))
    }

    /// A reader of the stream `stream_arn`.
    pub fn new(
        client: Client,
        stream_arn: impl Into<String>,
        region: &str,
        start: StartPosition,
    ) -> StreamReader {
        StreamReader {
            client,
            stream_arn: stream_arn.into(),
            region: region.to_string(),
            start,
            shards: BTreeMap::new(),
            discovered: false,
            batch_size: 100,
        }
    }

    /// Most records per shard per poll (Lambda's `BatchSize`; 1–1000).
    pub fn with_batch_size(mut self, batch_size: i32) -> StreamReader {
        self.batch_size = batch_size.clamp(1, 1000);
        self
    }

    /// The stream's ARN (records carry it as `eventSourceARN`).
    pub fn stream_arn(&self) -> &str {
        &self.stream_arn
    }

    /// Reads what is new in every readable shard: one batch per shard that had
    /// records. A child shard is read only once its parent is done, so the
    /// changes of one item always arrive in order.
    pub async fn poll(&mut self) -> Result<Vec<ShardBatch>, StreamError> {
        self.discover().await?;
        let mut batches = Vec::new();
        let ids: Vec<String> = self.shards.keys().cloned().collect();
        for id in ids {
            if !self.readable(&id) {
                continue;
            }
            let records = self.read_shard(&id).await?;
            if !records.is_empty() {
                let mut event = Event::default();
                event.records = records
                    .into_iter()
                    .map(|r| to_lambda_record(r, &self.stream_arn, &self.region))
                    .collect();
                batches.push(ShardBatch { shard_id: id, event });
            }
        }
        Ok(batches)
    }

    /// Makes the next poll of `shard_id` start again at `sequence_number`
    /// (the first failed item of a batch).
    pub fn retry_from(&mut self, shard_id: &str, sequence_number: &str) {
        if let Some((_, cursor)) = self.shards.get_mut(shard_id) {
            *cursor = Cursor::Start(
                ShardIteratorType::AtSequenceNumber,
                Some(sequence_number.to_string()),
            );
        }
    }

    /// Makes the next poll read every shard again from its oldest record
    /// (a replay: handlers must treat redelivered records as no-ops).
    pub fn retry_from_start(&mut self) {
        for (_, cursor) in self.shards.values_mut() {
            *cursor = Cursor::Start(ShardIteratorType::TrimHorizon, None);
        }
    }

    /// Whether a shard may be read now (open, and its parent finished or gone).
    fn readable(&self, id: &str) -> bool {
        match self.shards.get(id) {
            Some((_, Cursor::Done)) | None => false,
            Some((parent, _)) => match parent.as_ref().and_then(|p| self.shards.get(p)) {
                Some((_, Cursor::Done)) | None => true,
                Some(_) => false,
            },
        }
    }

    /// Learns the stream's shards (all DescribeStream pages).
    async fn discover(&mut self) -> Result<(), StreamError> {
        let mut last: Option<String> = None;
        let first_time = !self.discovered;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(last.take())
                .send()
                .await
                .map_err(|e| StreamError::Backend(describe(&e)))?;
            let Some(desc) = out.stream_description else { break };
            for shard in desc.shards.unwrap_or_default() {
                let Some(id) = shard.shard_id else { continue };
                let closed = shard
                    .sequence_number_range
                    .as_ref()
                    .is_some_and(|r| r.ending_sequence_number.is_some());
                let kind = if first_time && self.start == StartPosition::Latest && !closed {
                    ShardIteratorType::Latest
                } else if first_time && self.start == StartPosition::Latest {
                    // A closed shard holds only the past: nothing to read from "now".
                    self.shards.insert(id, (shard.parent_shard_id, Cursor::Done));
                    continue;
                } else {
                    ShardIteratorType::TrimHorizon
                };
                self.shards
                    .entry(id)
                    .or_insert((shard.parent_shard_id, Cursor::Start(kind, None)));
            }
            match desc.last_evaluated_shard_id {
                Some(id) => last = Some(id),
                None => break,
            }
        }
        self.discovered = true;
        Ok(())
    }

    /// One GetRecords call on a shard, advancing its cursor.
    async fn read_shard(&mut self, id: &str) -> Result<Vec<Record>, StreamError> {
        let Some((_, cursor)) = self.shards.get(id) else {
            return Ok(Vec::new());
        };
        let iterator = match cursor.clone() {
            Cursor::Done => return Ok(Vec::new()),
            Cursor::Iterator(it) => it,
            Cursor::Start(kind, seq) => {
                let out = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.stream_arn)
                    .shard_id(id)
                    .shard_iterator_type(kind)
                    .set_sequence_number(seq)
                    .send()
                    .await
                    .map_err(|e| StreamError::Backend(describe(&e)))?;
                match out.shard_iterator {
                    Some(it) => it,
                    None => {
                        self.set_cursor(id, Cursor::Done);
                        return Ok(Vec::new());
                    }
                }
            }
        };
        let out = self
            .client
            .get_records()
            .shard_iterator(&iterator)
            .limit(self.batch_size)
            .send()
            .await
            .map_err(|e| StreamError::Backend(describe(&e)))?;
        let next = match out.next_shard_iterator {
            Some(it) => Cursor::Iterator(it),
            None => Cursor::Done,
        };
        self.set_cursor(id, next);
        Ok(out.records.unwrap_or_default())
    }

    fn set_cursor(&mut self, id: &str, cursor: Cursor) {
        if let Some(entry) = self.shards.get_mut(id) {
            entry.1 = cursor;
        }
    }
}

/// A DynamoDB Streams record as Lambda delivers it to a function.
pub fn to_lambda_record(record: Record, stream_arn: &str, region: &str) -> EventRecord {
    let mut out = EventRecord::default();
    out.aws_region = record.aws_region.unwrap_or_else(|| region.to_string());
    out.event_id = record.event_id.unwrap_or_default();
    out.event_name = record
        .event_name
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    out.event_source = Some(record.event_source.unwrap_or_else(|| "aws:dynamodb".to_string()));
    out.event_version = record.event_version;
    out.event_source_arn = Some(stream_arn.to_string());
    out.user_identity = record.user_identity.map(|id| {
        let mut u = UserIdentity::default();
        u.type_ = id.r#type.unwrap_or_default();
        u.principal_id = id.principal_id.unwrap_or_default();
        u
    });
    if let Some(change) = record.dynamodb {
        let mut s = StreamRecord::default();
        s.approximate_creation_date_time = change
            .approximate_creation_date_time
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
            .unwrap_or_default();
        s.keys = item(change.keys);
        s.new_image = item(change.new_image);
        s.old_image = item(change.old_image);
        s.sequence_number = change.sequence_number;
        s.size_bytes = change.size_bytes.unwrap_or_default();
        s.stream_view_type = change.stream_view_type.and_then(|v| view_type(v.as_str()));
        out.change = s;
    }
    out
}

/// An image in `serde_dynamo`'s representation (what the Lambda types hold).
fn item(
    image: Option<HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>,
) -> serde_dynamo::Item {
    image.map(serde_dynamo::Item::from).unwrap_or_default()
}

/// The stream view type by its wire name.
fn view_type(name: &str) -> Option<StreamViewType> {
    match name {
        "NEW_IMAGE" => Some(StreamViewType::NewImage),
        "OLD_IMAGE" => Some(StreamViewType::OldImage),
        "NEW_AND_OLD_IMAGES" => Some(StreamViewType::NewAndOldImages),
        "KEYS_ONLY" => Some(StreamViewType::KeysOnly),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::types::{AttributeValue, OperationType, StreamRecord as SdkStreamRecord};

    #[test]
    fn sdk_records_become_lambda_records() {
        let change = SdkStreamRecord::builder()
            .approximate_creation_date_time(aws_sdk_dynamodbstreams::primitives::DateTime::from_secs(
                1_700_000_000,
            ))
            .keys("job_id", AttributeValue::S("j1".into()))
            .new_image("job_id", AttributeValue::S("j1".into()))
            .new_image("status", AttributeValue::S("requested".into()))
            .sequence_number("100")
            .size_bytes(42)
            .stream_view_type(aws_sdk_dynamodbstreams::types::StreamViewType::NewAndOldImages)
            .build();
        let record = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Insert)
            .event_version("1.1")
            .event_source("aws:dynamodb")
            .aws_region("eu-west-1")
            .dynamodb(change)
            .build();
        let r = to_lambda_record(
            record,
            "arn:aws:dynamodb:eu-west-1:1:table/tx-job/stream/x",
            "us-east-1",
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["eventName"], "INSERT");
        assert_eq!(json["awsRegion"], "eu-west-1");
        assert_eq!(
            json["eventSourceARN"],
            "arn:aws:dynamodb:eu-west-1:1:table/tx-job/stream/x"
        );
        assert_eq!(
            json["dynamodb"]["NewImage"]["status"],
            serde_json::json!({"S": "requested"})
        );
        assert_eq!(json["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
        assert_eq!(
            json["dynamodb"]["ApproximateCreationDateTime"].as_f64(),
            Some(1_700_000_000.0)
        );
        let pattern: serde_json::Value = serde_json::from_str(crate::filter::JOB_STREAM_PATTERN).unwrap();
        assert!(crate::filter::matches(&pattern, &json));
    }
}
