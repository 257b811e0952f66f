//! [`FunctionInvoker`] on Lambda's synchronous Invoke.
//!
//! Behaves like the in-process invoker of the embedded runtime: payloads over
//! Lambda's 6 MB limit are refused before anything is sent, a function that
//! failed is [`InvokeError::Function`] with its own message, throttling is
//! [`InvokeError::Throttled`] (the caller's stream batch is retried later) and
//! a missing function is [`InvokeError::NotFound`].

use async_trait::async_trait;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::invoke::InvokeError as SdkInvokeError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::Value;

use super::sdk_error::describe;
use crate::ports::{FunctionInvoker, InvokeError, MAX_PAYLOAD_BYTES};

/// Invokes functions of the stack by name (or ARN) on Lambda.
#[derive(Debug, Clone)]
pub struct LambdaInvoker {
    client: Client,
}

impl LambdaInvoker {
    /// An invoker using `client`, whose timeouts must allow the slowest
    /// function to finish (see [`super::config::AwsTimeouts::invoke_operation`]).
    pub fn new(client: Client) -> LambdaInvoker {
        LambdaInvoker { client }
    }
}

#[async_trait]
impl FunctionInvoker for LambdaInvoker {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let request = serde_json::to_vec(&payload).map_err(|e| InvokeError::Backend(e.to_string()))?;
        if request.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::PayloadTooLarge(request.len()));
        }
        let out = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(request))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(s) => service_error(function, s, describe(&e)),
                None => InvokeError::Backend(describe(&e)),
            })?;
        let body = out.payload.map(Blob::into_inner).unwrap_or_default();
        if body.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::PayloadTooLarge(body.len()));
        }
        if let Some(kind) = out.function_error {
            return Err(InvokeError::Function(function_error_message(&kind, &body)));
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body).map_err(|e| {
            InvokeError::Backend(format!(
                "{function} answered with something that is not JSON: {e}"
            ))
        })
    }
}

/// Maps Invoke's modelled errors onto the port's.
fn service_error(function: &str, err: &SdkInvokeError, text: String) -> InvokeError {
    if err.is_resource_not_found_exception() {
        InvokeError::NotFound(function.to_string())
    } else if err.is_too_many_requests_exception() || err.is_ec2_throttled_exception() {
        InvokeError::Throttled(text)
    } else if err.is_request_too_large_exception() {
        // Lambda counted the bytes differently (encoding overhead): same meaning.
        InvokeError::PayloadTooLarge(MAX_PAYLOAD_BYTES + 1)
    } else {
        InvokeError::Backend(text)
    }
}

/// The message of a failed invocation: Lambda's error payload is
/// `{"errorType": …, "errorMessage": …}` (`X-Amz-Function-Error` says
/// `Unhandled` for crashes and timeouts).
fn function_error_message(kind: &str, body: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match (field("errorType"), field("errorMessage")) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (None, Some(m)) => m,
        _ => format!(
            "{kind}: {}",
            String::from_utf8_lossy(&body[..body.len().min(1024)])
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_errors_read_lambdas_error_payload() {
        let body = br#"{"errorType":"ConvertError","errorMessage":"bad zip"}"#;
        assert_eq!(function_error_message("Unhandled", body), "ConvertError: bad zip");
        assert_eq!(
            function_error_message("Unhandled", b"Task timed out"),
            "Unhandled: Task timed out"
        );
    }
}
