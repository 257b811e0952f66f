//! The HTTP gateway of `tx serve`: what API Gateway and the S3 website
//! endpoints are on AWS, in one axum server.
//!
//! API routes are handed to the handlers as `lambda_http` requests, the exact
//! type they get behind API Gateway; everything else is served from the
//! website bucket (`/`) or the CDN bucket (`/cdn/`).

use std::sync::Arc;

use axum::body::Body as AxumBody;
use axum::extract::State;
use axum::http::{Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use lambda_http::Body as LambdaBody;
use tx_shared::ports::ObjectStore;
use tx_shared::ports::object_store::content_type_for;

use super::admission::{self, Admission};
use super::functions::Functions;

/// What every request of the gateway shares.
#[derive(Clone)]
struct Gateway {
    functions: Arc<Functions>,
    admission: Admission,
}

/// Builds the gateway's router.
pub fn router(functions: Arc<Functions>) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(Gateway {
        functions,
        admission: Admission::default(),
    })
}

async fn dispatch(State(gateway): State<Gateway>, req: Request<AxumBody>) -> Response<AxumBody> {
    let path = req.uri().path().to_string();
    let functions = gateway.functions;
    if path.starts_with("/client/") || path.starts_with("/tx/") || path.starts_with("/api/") {
        return api(functions, &gateway.admission, req).await;
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

async fn api(functions: Arc<Functions>, admission: &Admission, req: Request<AxumBody>) -> Response<AxumBody> {
    let (parts, body) = req.into_parts();
    // Refused or budgeted before any handler (and so any signature check)
    // sees the request: see `admission`.
    let limit = admission::limit_for(parts.uri.path());
    let declared = parts.headers.get(header::CONTENT_LENGTH);
    let admitted = match admission.read(declared, body, limit).await {
        Ok(admitted) => admitted,
        Err(refusal) => {
            let mut response = tx_shared::api::error(refusal.status(), refusal.code(), refusal.to_string())
                .map(|b| AxumBody::from(tx_shared::api::body_bytes(&b).to_vec()));
            if refusal == admission::Refusal::Busy {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, http::HeaderValue::from_static("5"));
            }
            // The unread rest of a refused body is not drained: close.
            response
                .headers_mut()
                .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
            return response;
        }
    };
    let mut admitted = admitted;
    let bytes = std::mem::take(&mut admitted.bytes);
    let lambda_req = Request::from_parts(
        parts,
        if bytes.is_empty() {
            LambdaBody::Empty
        } else {
            LambdaBody::Binary(bytes)
        },
    );
    let path = lambda_req.uri().path().to_string();
    let result = if path.starts_with("/client/") {
        tx_webhook_client::handle_http(lambda_req, &functions.client).await
    } else {
        tx_job_manager::handle_http(lambda_req, &functions.manager).await
    };
    // The body's share of the budget is held until its handler has answered.
    drop(admitted);
    match result {
        Ok(response) => response.map(|b| AxumBody::from(tx_shared::api::body_bytes(&b).to_vec())),
        Err(e) => {
            tracing::error!(%path, "handler failed: {e}");
            tx_shared::api::error(500, "internal", "internal error")
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
                // The policy the site's templates are written for: what the
                // CDN's response-headers policy will send on AWS.
                (
                    header::CONTENT_SECURITY_POLICY,
                    tx_deployer::templates::CONTENT_SECURITY_POLICY,
                ),
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
