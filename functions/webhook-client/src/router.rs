//! The client's one HTTP entry point, shared by API Gateway and `tx serve`.

use lambda_http::{Body, Request, Response};
use tx_shared::api;

use crate::callback::handle_callback;
use crate::deps::ClientDeps;
use crate::webhook::handle_webhook;

/// Routes `POST …/client/webhook` and `POST …/client/callback` (matched on
/// the path's suffix, so an API Gateway stage prefix does not matter);
/// anything else is a JSON 404 (or 405 for another method).
pub async fn handle_http(req: Request, deps: &ClientDeps) -> Result<Response<Body>, lambda_http::Error> {
    let path = req.uri().path().trim_end_matches('/');
    let route = if path.ends_with("/client/webhook") {
        Some(true)
    } else if path.ends_with("/client/callback") {
        Some(false)
    } else {
        None
    };
    let Some(is_webhook) = route else {
        return Ok(api::error(
            404,
            "not_found",
            format!("no route for {}", req.uri().path()),
        ));
    };
    if req.method() != http::Method::POST {
        let mut refusal = api::error(
            405,
            "method_not_allowed",
            format!("{} takes POST only", req.uri().path()),
        );
        refusal
            .headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
        return Ok(refusal);
    }
    Ok(if is_webhook {
        handle_webhook(&req, deps).await
    } else {
        handle_callback(&req, deps).await
    })
}
