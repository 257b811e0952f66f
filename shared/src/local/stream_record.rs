//! Records shaped exactly as AWS delivers them to Lambda: DynamoDB Streams
//! records and S3 `ObjectCreated` notifications.

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// Region the embedded runtime claims in ARNs and records.
pub const LOCAL_REGION: &str = "local";

/// A DynamoDB Streams record (`NEW_AND_OLD_IMAGES`) for a change of `table`.
pub fn dynamodb_record(
    table: &str,
    event_name: &str,
    keys: Value,
    new_image: Option<Value>,
    old_image: Option<Value>,
    seq: i64,
    at: DateTime<Utc>,
) -> Value {
    let size = keys.to_string().len()
        + new_image.as_ref().map_or(0, |v| v.to_string().len())
        + old_image.as_ref().map_or(0, |v| v.to_string().len());
    let mut change = json!({
        "ApproximateCreationDateTime": at.timestamp() as f64,
        "Keys": keys,
        "SequenceNumber": format!("{seq:021}"),
        "SizeBytes": size,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if let Some(img) = new_image {
        change["NewImage"] = img;
    }
    if let Some(img) = old_image {
        change["OldImage"] = img;
    }
    json!({
        "eventID": format!("{seq:032x}"),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": LOCAL_REGION,
        "dynamodb": change,
        "eventSourceARN": format!(
            "arn:aws:dynamodb:{LOCAL_REGION}:000000000000:table/{table}/stream/1970-01-01T00:00:00.000"
        ),
    })
}

/// Characters S3 escapes in notification keys: everything but unreserved
/// characters and `/`; spaces become `+` (form encoding), as S3 does.
const S3_KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/')
    .remove(b' ');

/// URL-encodes an object key as S3 notifications do (`a b+c` → `a+b%2Bc`).
pub fn encode_s3_key(key: &str) -> String {
    utf8_percent_encode(key, S3_KEY).to_string().replace(' ', "+")
}

/// Decodes a key from an S3 notification (`+` is a space, then `%XX`).
pub fn decode_s3_key(encoded: &str) -> String {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// An S3 `ObjectCreated:Put` notification record.
pub fn s3_put_record(bucket: &str, key: &str, size: u64, etag: &str, seq: i64, at: DateTime<Utc>) -> Value {
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": LOCAL_REGION,
        "eventTime": crate::time::format(&at),
        "eventName": "ObjectCreated:Put",
        "userIdentity": { "principalId": "tx-local" },
        "requestParameters": { "sourceIPAddress": "127.0.0.1" },
        "responseElements": { "x-amz-request-id": format!("{seq:016X}"), "x-amz-id-2": "tx-local" },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "tx-deployer",
            "bucket": {
                "name": bucket,
                "ownerIdentity": { "principalId": "tx-local" },
                "arn": format!("arn:aws:s3:::{bucket}"),
            },
            "object": {
                "key": encode_s3_key(key),
                "size": size,
                "eTag": etag,
                "sequencer": format!("{seq:016X}"),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_encode_like_s3_and_decode_back() {
        let key = "u/Ôwner/my repo/0123456789/build_log+1.json";
        let enc = encode_s3_key(key);
        assert_eq!(enc, "u/%C3%94wner/my+repo/0123456789/build_log%2B1.json");
        assert_eq!(decode_s3_key(&enc), key);
    }

    #[test]
    fn records_deserialize_into_lambda_event_types() {
        let now = Utc::now();
        let rec = dynamodb_record(
            "tx-job",
            "INSERT",
            json!({"job_id": {"S": "a"}}),
            Some(json!({"job_id": {"S": "a"}, "status": {"S": "requested"}})),
            None,
            7,
            now,
        );
        let ev: aws_lambda_events::event::dynamodb::Event =
            serde_json::from_value(json!({ "Records": [rec] })).unwrap();
        assert_eq!(ev.records[0].event_name, "INSERT");
        assert_eq!(
            ev.records[0].change.sequence_number.as_deref(),
            Some("000000000000000000007")
        );

        let rec = s3_put_record("cdn", "u/o/r/c/build_log.json", 10, "e", 8, now);
        let ev: aws_lambda_events::event::s3::S3Event =
            serde_json::from_value(json!({ "Records": [rec] })).unwrap();
        assert_eq!(
            ev.records[0].s3.object.key.as_deref(),
            Some("u/o/r/c/build_log.json")
        );
    }
}
