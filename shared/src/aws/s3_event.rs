//! The object an S3 notification names. S3 URL-encodes keys in events
//! (`my file+1.json` arrives as `my+file%2B1.json`); a handler that used the key
//! as it arrives would read or write the wrong object, so every consumer of
//! S3 events goes through [`event_object`].

use aws_lambda_events::event::s3::S3EventRecord;

use crate::local::stream_record::decode_s3_key;
use crate::ports::StoreError;
use crate::ports::object_store::validate_key;

/// Bucket and decoded key of the object a notification record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventObject {
    /// The bucket's name.
    pub bucket: String,
    /// The key, decoded and checked like any other key.
    pub key: String,
}

/// Reads the object out of a record; [`StoreError::InvalidKey`] when it has no
/// bucket or key, or the decoded key breaks the project's key rules.
pub fn event_object(record: &S3EventRecord) -> Result<EventObject, StoreError> {
    let bucket = record
        .s3
        .bucket
        .name
        .clone()
        .ok_or_else(|| StoreError::InvalidKey("<notification without bucket>".to_string()))?;
    let raw = record
        .s3
        .object
        .key
        .as_deref()
        .ok_or_else(|| StoreError::InvalidKey("<notification without key>".to_string()))?;
    let key = decode_s3_key(raw);
    validate_key(&key)?;
    Ok(EventObject { bucket, key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::s3::S3Event;

    fn record(raw_key: &str) -> S3EventRecord {
        let mut rec = crate::local::stream_record::s3_put_record("cdn", "x", 1, "e", 1, chrono::Utc::now());
        rec["s3"]["object"]["key"] = serde_json::Value::from(raw_key);
        let mut ev: S3Event = serde_json::from_value(serde_json::json!({ "Records": [rec] })).unwrap();
        ev.records.remove(0)
    }

    #[test]
    fn keys_are_decoded_plus_then_percent() {
        let o = event_object(&record("u/o/my+repo/c/build_log%2B1.json")).unwrap();
        assert_eq!(o.bucket, "cdn");
        assert_eq!(o.key, "u/o/my repo/c/build_log+1.json");
    }

    #[test]
    fn escaping_keys_are_refused() {
        assert!(matches!(
            event_object(&record("u/%2E%2E/x")),
            Err(StoreError::InvalidKey(_))
        ));
    }
}
