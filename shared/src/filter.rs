//! Event filters, shared by the SAM template and the embedded runtime so both
//! deliver exactly the same events to the handlers.
//!
//! Lambda's event filtering is a subset of EventBridge patterns: an object
//! pattern matches when every key matches, and a leaf is an array of accepted
//! values. That subset is all the stack uses, and all [`matches`] implements.

use serde_json::Value;

/// FilterCriteria pattern of the job table's stream → job manager mapping:
/// only rows that are (still or again) `requested` start a conversion.
/// `infra/template.yaml` holds the same pattern (a test keeps them equal).
pub const JOB_STREAM_PATTERN: &str =
    r#"{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"status":{"S":["requested"]}}}}"#;

/// Prefix filter of the CDN bucket's notification to the deployer.
pub const CDN_NOTIFICATION_PREFIX: &str = "u/";

/// Suffix filter of the CDN bucket's notification to the deployer.
pub const CDN_NOTIFICATION_SUFFIX: &str = "build_log.json";

/// The second notification's suffix (infra/template.yaml): a ref record
/// (`u/<o>/<r>/refs/<kind>/<name>/ref.json`), a ref's removal.
pub const CDN_REF_RECORD_SUFFIX: &str = "/ref.json";

/// Whether `event` matches `pattern` (object keys all match; a leaf array
/// lists accepted values; an accepted value matches itself).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(k, p)| event.get(k).is_some_and(|v| matches(p, v))),
        Value::Array(accepted) => accepted.iter().any(|a| match a {
            Value::Object(_) => matches(a, event),
            other => other == event,
        }),
        other => other == event,
    }
}

/// Whether the CDN notification fires for a (decoded) key.
pub fn cdn_notification_matches(key: &str) -> bool {
    key.starts_with(CDN_NOTIFICATION_PREFIX)
        && (key.ends_with(CDN_NOTIFICATION_SUFFIX) || key.ends_with(CDN_REF_RECORD_SUFFIX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(event_name: &str, status: Option<&str>) -> Value {
        let mut image = json!({"job_id": {"S": "j1"}});
        if let Some(s) = status {
            image["status"] = json!({ "S": s });
        }
        json!({"eventName": event_name, "dynamodb": {"Keys": {"job_id": {"S": "j1"}}, "NewImage": image}})
    }

    #[test]
    fn job_stream_pattern_selects_requested_inserts_and_modifies() {
        let p: Value = serde_json::from_str(JOB_STREAM_PATTERN).unwrap();
        assert!(matches(&p, &record("INSERT", Some("requested"))));
        assert!(matches(&p, &record("MODIFY", Some("requested"))));
        assert!(!matches(&p, &record("MODIFY", Some("started"))));
        assert!(!matches(&p, &record("REMOVE", Some("requested"))));
        assert!(!matches(&p, &record("INSERT", None)));
    }

    #[test]
    fn cdn_notification_is_prefix_and_suffix() {
        assert!(cdn_notification_matches("u/o/r/0123456789/build_log.json"));
        assert!(!cdn_notification_matches("tx/job/1.zip"));
        assert!(cdn_notification_matches("u/o/r/refs/branch/a/b/ref.json"));
        assert!(!cdn_notification_matches("u/o/r/c/xref.json"));
        assert!(!cdn_notification_matches("u/o/r/0123456789/index.html"));
    }
}
