//! Rows as DynamoDB sees them: the typed-attribute JSON (`{"S": "…"}`) that
//! stream records carry in `Keys`, `NewImage` and `OldImage`.
//!
//! The local tables use this to emit records shaped exactly like DynamoDB
//! Streams', and handlers use it to read images back into domain types.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// Why a row could not be turned into (or read from) DynamoDB JSON.
#[derive(Debug, thiserror::Error)]
#[error("dynamodb json: {0}")]
pub struct DynamoJsonError(String);

/// A domain value as a DynamoDB item in DynamoDB JSON.
pub fn to_image<T: Serialize>(value: &T) -> Result<Value, DynamoJsonError> {
    let item: serde_dynamo::Item =
        serde_dynamo::to_item(value).map_err(|e| DynamoJsonError(e.to_string()))?;
    serde_json::to_value(&item).map_err(|e| DynamoJsonError(e.to_string()))
}

/// The key attributes of an item, e.g. `{"job_id": {"S": "…"}}`.
pub fn key_image(name: &str, value: &str) -> Value {
    serde_json::json!({ name: { "S": value } })
}

/// Reads a domain value back from a stream image.
pub fn from_item<T: DeserializeOwned>(item: serde_dynamo::Item) -> Result<T, DynamoJsonError> {
    serde_dynamo::from_item(item).map_err(|e| DynamoJsonError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Row {
        id: String,
        n: u32,
        tags: Vec<String>,
    }

    #[test]
    fn images_use_typed_attributes_and_read_back() {
        let row = Row {
            id: "a".into(),
            n: 3,
            tags: vec!["x".into()],
        };
        let image = to_image(&row).unwrap();
        assert_eq!(image["id"], serde_json::json!({"S": "a"}));
        assert_eq!(image["n"], serde_json::json!({"N": "3"}));
        assert_eq!(image["tags"], serde_json::json!({"L": [{"S": "x"}]}));
        let item: serde_dynamo::Item = serde_json::from_value(image).unwrap();
        assert_eq!(from_item::<Row>(item).unwrap(), row);
    }
}
