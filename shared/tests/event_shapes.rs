//! The local runtime's records have the shape of the real ones: every field
//! of the AWS samples under `events/` is present, with the same JSON type.

use chrono::Utc;
use serde_json::{Value, json};
use tx_shared::local::stream_record::{dynamodb_record, s3_put_record};

fn sample(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every path of `real` exists in `ours` with the same JSON type (item
/// attributes inside images are data, not shape, and are skipped).
fn same_shape(real: &Value, ours: &Value, path: &str, skip: &[&str]) {
    if skip.iter().any(|s| path.ends_with(s)) {
        return;
    }
    match (real, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, v) in r {
                let child = format!("{path}.{k}");
                let theirs = o.get(k).unwrap_or_else(|| panic!("local record lacks {child}"));
                same_shape(v, theirs, &child, skip);
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Array(_), Value::Array(_))
        | (Value::Null, Value::Null) => {}
        _ => panic!("{path}: AWS has {real}, local has {ours}"),
    }
}

#[test]
fn stream_records_match_the_dynamodb_sample() {
    let real = &sample("job-manager.stream-insert.json")["Records"][0];
    let ours = dynamodb_record(
        "tx-job",
        "INSERT",
        json!({"job_id": {"S": "x"}}),
        Some(json!({"job_id": {"S": "x"}})),
        None,
        1,
        Utc::now(),
    );
    same_shape(real, &ours, "", &[".Keys", ".NewImage"]);
}

#[test]
fn notifications_match_the_s3_sample() {
    let real = &sample("deployer.s3-build-log-created.json")["Records"][0];
    let ours = s3_put_record("tx-cdn", "u/o/r/c/build_log.json", 10, "etag", 1, Utc::now());
    same_shape(real, &ours, "", &[]);
}
