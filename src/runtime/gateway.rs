//! The HTTP gateway of `tx serve`: what API Gateway and the S3 website
//! endpoints are on AWS, in one axum server.
//!
//! API routes are handed to the handlers as `lambda_http` requests, the exact
//! type they get behind API Gateway; everything else is served from the
//! website bucket (`/`) or the CDN bucket (`/cdn/`).

use std::sync::Arc;

use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::State;
use axum::http::{Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use lambda_http::Body as LambdaBody;
use tx_shared::ports::ObjectStore;
use tx_shared::ports::object_store::content_type_for;

use super::functions::Functions;

/// Largest request body the gateway accepts (API Gateway's limit is 10 MB).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// Builds the gateway's router.
pub fn router(functions: Arc<Functions>) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(functions)
}

async fn dispatch(State(functions): State<Arc<Functions>>, req: Request<AxumBody>) -> Response<AxumBody> {
    let path = req.uri().path().to_string();
    if path.starts_with("/client/") || path.starts_with("/tx/") || path.starts_with("/api/") {
        return api(functions, req).await;
    }
    if req.method() != axum::http::Method::GET && req.method() != axum::http::Method::HEAD {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are served here",
        );
    }
    match path.strip_prefix("/cdn/") {
        Some(key) => serve_object(functions.cdn.as_ref(), "/cdn/", key).await,
        None => serve_object(functions.website.as_ref(), "/", path.trim_start_matches('/')).await,
    }
}

async fn api(functions: Arc<Functions>, req: Request<AxumBody>) -> Response<AxumBody> {
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return tx_shared::api::error(
                413,
                "payload_too_large",
                format!("bodies are limited to {MAX_BODY} bytes"),
            )
            .map(|b| AxumBody::from(tx_shared::api::body_bytes(&b).to_vec()));
        }
    };
    let lambda_req = Request::from_parts(
        parts,
        if bytes.is_empty() {
            LambdaBody::Empty
        } else {
            LambdaBody::Binary(bytes.to_vec())
        },
    );
    let path = lambda_req.uri().path().to_string();
    let result = if path.starts_with("/client/") {
        tx_webhook_client::handle_http(lambda_req, &functions.client).await
    } else {
        tx_job_manager::handle_http(lambda_req, &functions.manager).await
    };
    match result {
        Ok(response) => response.map(|b| AxumBody::from(tx_shared::api::body_bytes(&b).to_vec())),
        Err(e) => {
            tracing::error!(%path, "handler failed: {e}");
            tx_shared::api::error(500, "internal", e.to_string())
                .map(|b| AxumBody::from(tx_shared::api::body_bytes(&b).to_vec()))
        }
    }
}

/// Serves one object the way an S3 website endpoint does: `dir/` means
/// `dir/index.html`, a folder without a slash redirects to it.
async fn serve_object(store: &dyn ObjectStore, mount: &str, key: &str) -> Response<AxumBody> {
    let decoded = percent_encoding::percent_decode_str(key)
        .decode_utf8_lossy()
        .into_owned();
    let key = if decoded.is_empty() || decoded.ends_with('/') {
        format!("{decoded}index.html")
    } else {
        decoded
    };
    match store.get(&key).await {
        Ok(Some(bytes)) => (
            [
                (header::CONTENT_TYPE, content_type_for(&key)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => {
            let folder_index = format!("{key}/index.html");
            if tx_shared::ports::object_store::validate_key(&folder_index).is_ok()
                && matches!(store.get(&folder_index).await, Ok(Some(_)))
            {
                let location = format!("{mount}{key}/");
                return Response::builder()
                    .status(StatusCode::MOVED_PERMANENTLY)
                    .header(header::LOCATION, location)
                    .body(AxumBody::empty())
                    .unwrap_or_default();
            }
            plain(StatusCode::NOT_FOUND, "not found")
        }
        Err(tx_shared::ports::StoreError::InvalidKey(_)) => plain(StatusCode::BAD_REQUEST, "invalid path"),
        Err(e) => {
            tracing::error!(%key, "cannot read object: {e}");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<AxumBody> {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}
