//! The embedded runtime's function invoker: calls a registered handler in
//! process, but through JSON and with Lambda's size limit, so what works here
//! works behind Lambda Invoke.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::ports::{FunctionInvoker, InvokeError, MAX_PAYLOAD_BYTES};

/// A registered function: JSON in, JSON or an error message out.
pub type LocalFunction =
    Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<Value, String>> + Send>> + Send + Sync>;

/// Invoker of in-process functions by name.
#[derive(Clone, Default)]
pub struct InProcessInvoker {
    functions: HashMap<String, LocalFunction>,
}

impl InProcessInvoker {
    /// An invoker with no functions.
    pub fn new() -> InProcessInvoker {
        InProcessInvoker::default()
    }

    /// Registers `function` under `name`.
    pub fn register(mut self, name: impl Into<String>, function: LocalFunction) -> InProcessInvoker {
        self.functions.insert(name.into(), function);
        self
    }
}

#[async_trait]
impl FunctionInvoker for InProcessInvoker {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let request = serde_json::to_vec(&payload).map_err(|e| InvokeError::Backend(e.to_string()))?;
        if request.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::PayloadTooLarge(request.len()));
        }
        let f = self
            .functions
            .get(function)
            .ok_or_else(|| InvokeError::NotFound(function.to_string()))?;
        // Round-trip through bytes as Lambda does, so nothing non-JSON leaks through.
        let payload: Value =
            serde_json::from_slice(&request).map_err(|e| InvokeError::Backend(e.to_string()))?;
        let answer = f(payload).await.map_err(InvokeError::Function)?;
        let response = serde_json::to_vec(&answer).map_err(|e| InvokeError::Backend(e.to_string()))?;
        if response.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::PayloadTooLarge(response.len()));
        }
        serde_json::from_slice(&response).map_err(|e| InvokeError::Backend(e.to_string()))
    }
}
