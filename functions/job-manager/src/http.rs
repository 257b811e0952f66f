//! The job manager's HTTP API: `POST /tx/job`, `GET /tx/job/{id}`, and the
//! read API for dashboards (`GET /api/projects…`, see `read_api`), and the
//! operator's `POST /api/builds/{id}/rebuild|cancel` (see `admin`).

use lambda_http::{Body, Request, Response};
use tx_shared::api::{body_bytes, error, header, json};
use tx_shared::domain::job_request::{JobDisposition, JobRequest};
use tx_shared::signature::{CALLBACK_SIGNATURE_HEADER, constant_time_eq, verify_hex};

use crate::admin;
use crate::deps::ManagerDeps;
use crate::read_api;
use crate::request::request_job;

/// Largest job request accepted (`tx serve` refuses a larger declared body
/// before reading it).
pub const MAX_JOB_REQUEST_BYTES: usize = 256 * 1024;

/// Routes one API request.
pub async fn handle_http(req: Request, deps: &ManagerDeps) -> Result<Response<Body>, lambda_http::Error> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // A REST API stage name may precede the routes; start at the first known root.
    let start = segments
        .iter()
        .position(|s| *s == "tx" || *s == "api")
        .unwrap_or(segments.len());
    let method = req.method().as_str();
    let response = match (method, &segments[start..]) {
        ("POST", ["tx", "job"]) => post_job(&req, deps).await,
        ("GET", ["tx", "job", id]) => match operator_refusal(&req, deps) {
            None => get_job(id, deps).await,
            Some(refusal) => refusal,
        },
        ("POST", ["api", "builds", id, action @ ("rebuild" | "cancel")]) => {
            match operator_refusal(&req, deps) {
                Some(refusal) => refusal,
                None if *action == "rebuild" => admin::rebuild(id, deps).await,
                None => admin::cancel(id, deps).await,
            }
        }
        (_, ["api", "builds", _, "rebuild" | "cancel"]) | (_, ["tx", "job"]) => {
            not_allowed(method, &path, "POST")
        }
        ("GET", ["api", rest @ ..]) => read_api::route(rest, req.uri().query(), deps).await,
        (_, ["tx", "job", _])
        | (_, ["api", "projects"])
        | (_, ["api", "projects", _, _])
        | (_, ["api", "projects", _, _, "builds"]) => not_allowed(method, &path, "GET"),
        _ => error(404, "not_found", format!("no route for {method} {path}")),
    };
    Ok(response)
}

/// 405 with the `Allow` header RFC 9110 asks for.
fn not_allowed(method: &str, path: &str, allow: &'static str) -> Response<Body> {
    let mut refusal = error(
        405,
        "method_not_allowed",
        format!("{method} is not allowed on {path}"),
    );
    refusal
        .headers_mut()
        .insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
    refusal
}

async fn post_job(req: &Request, deps: &ManagerDeps) -> Response<Body> {
    let body = body_bytes(req.body());
    if body.len() > MAX_JOB_REQUEST_BYTES {
        return error(
            413,
            "payload_too_large",
            format!("job requests are limited to {MAX_JOB_REQUEST_BYTES} bytes"),
        );
    }
    let signed = header(req, CALLBACK_SIGNATURE_HEADER)
        .is_some_and(|sig| verify_hex(deps.config.callback_secret.as_bytes(), body, sig));
    if !signed {
        return error(
            401,
            "bad_signature",
            format!("missing or wrong {CALLBACK_SIGNATURE_HEADER}"),
        );
    }
    let request: JobRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return error(400, "malformed_payload", format!("not a job request: {e}")),
    };
    match request_job(request, deps).await {
        Ok(answer) => {
            let status = if answer.disposition == JobDisposition::Existing {
                200
            } else {
                202
            };
            json(status, &answer)
        }
        Err(e) => error(e.status(), e.code(), e.public_message()),
    }
}

/// Job details (source and callback URLs, delivery ids, logs) are the
/// operator's: `Authorization: Bearer <TX_OPERATOR_TOKEN>`, compared in
/// constant time. Project lists and build status (`/api/…`) stay public.
/// `None` lets the request through; `Some` is the refusal to answer.
fn operator_refusal(req: &Request, deps: &ManagerDeps) -> Option<Response<Body>> {
    let Some(expected) = deps.config.operator_token.as_deref() else {
        return Some(error(
            403,
            "operator_only",
            "job details are for the operator, and no operator token is configured",
        ));
    };
    let given = header(req, http::header::AUTHORIZATION.as_str())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        None
    } else {
        let mut refusal = error(
            401,
            "operator_only",
            "job details and build controls need the operator token (Authorization: Bearer …)",
        );
        refusal.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer"),
        );
        Some(refusal)
    }
}

async fn get_job(id: &str, deps: &ManagerDeps) -> Response<Body> {
    match deps.jobs.get(id).await {
        Ok(Some(job)) => json(200, &serde_json::json!({ "job": job })),
        Ok(None) => error(404, "not_found", format!("no job {id}")),
        Err(e) => {
            tracing::error!("job table: {e}");
            error(503, "unavailable", "the job table is unavailable; retry later")
        }
    }
}
