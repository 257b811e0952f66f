//! JSON over HTTP for the API handlers: every answer, success or error, is a
//! JSON body with the right status, the same behind API Gateway and `tx serve`.

use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::job_request::ApiError;

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => build(status, bytes),
        Err(e) => build(
            500,
            format!(r#"{{"error":"internal","message":"cannot encode answer: {e}"}}"#).into_bytes(),
        ),
    }
}

/// An error response: `{"error": code, "message": message}`.
pub fn error(status: u16, code: &str, message: impl Into<String>) -> Response<Body> {
    json(
        status,
        &ApiError {
            error: code.to_string(),
            message: message.into(),
        },
    )
}

fn build(status: u16, bytes: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::Binary(bytes));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The bytes of a request body, whatever form API Gateway gave it in.
pub fn body_bytes(body: &Body) -> &[u8] {
    match body {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// The request's declared `Content-Length`, when it has a readable one.
pub fn declared_length(req: &lambda_http::Request) -> Option<usize> {
    header(req, http::header::CONTENT_LENGTH.as_str()).and_then(|v| v.trim().parse().ok())
}

/// A request header as text (absent or not UTF-8: `None`).
pub fn header<'a>(req: &'a lambda_http::Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}
