//! Function invoker port: Lambda Invoke on AWS, an in-process call locally.

use async_trait::async_trait;
use serde_json::Value;

/// Lambda's synchronous payload limit; both invokers refuse larger payloads
/// so a local run fails where AWS would.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// Request or response over [`MAX_PAYLOAD_BYTES`].
    #[error("payload of {0} bytes is over Lambda's 6 MB limit")]
    PayloadTooLarge(usize),
    /// No such function.
    #[error("no function named {0}")]
    NotFound(String),
    /// The function ran and failed (its error message).
    #[error("function error: {0}")]
    Function(String),
    /// Too many concurrent invocations; worth retrying later.
    #[error("throttled: {0}")]
    Throttled(String),
    /// Anything else between us and the function.
    #[error("invoke backend: {0}")]
    Backend(String),
}

/// Calls another function of the stack synchronously, through JSON.
#[async_trait]
pub trait FunctionInvoker: Send + Sync {
    /// Invokes `function` with `payload` and returns its JSON answer.
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError>;
}
