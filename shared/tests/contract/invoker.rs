//! The function invoker's contract (what an endpoint without running
//! functions can show: moto's Lambda needs Docker to run one).

use serde_json::json;
use tx_shared::ports::{FunctionInvoker, InvokeError, MAX_PAYLOAD_BYTES};

/// Runs every case on `invoker`, which must know no function named `tx-nope`.
/// An oversized payload to that missing function must be refused for its
/// size, which shows the size is checked before anything is sent.
pub async fn suite(adapter: &str, invoker: &dyn FunctionInvoker) {
    let big = json!({ "blob": "x".repeat(MAX_PAYLOAD_BYTES) });
    let refused = invoker.invoke("tx-nope", big).await;
    assert!(
        matches!(refused, Err(InvokeError::PayloadTooLarge(n)) if n > MAX_PAYLOAD_BYTES),
        "[{adapter}] oversized payload: {refused:?}"
    );
    let missing = invoker.invoke("tx-nope", json!({"ping": true})).await;
    assert!(
        matches!(&missing, Err(InvokeError::NotFound(name)) if name == "tx-nope"),
        "[{adapter}] unknown function: {missing:?}"
    );
}
