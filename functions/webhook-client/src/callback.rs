//! `POST /client/callback` (DESIGN.md step 8): the job manager reports a
//! finished job; the client publishes its output into the build's folder of
//! the CDN bucket, updates the repository's manifest row, writes the final
//! `build_log.json` **last** (its write starts the deployer, which must find
//! every page already there) and then tells the forge.
//!
//! Redelivered callbacks are harmless: the same files are written again.

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tx_shared::api;
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::job::{Job, JobResult, JobStatus};
use tx_shared::ports::StatusState;
use tx_shared::signature::{CALLBACK_SIGNATURE_HEADER, verify_hex};

use crate::build_log_store;
use crate::deps::ClientDeps;
use crate::error::ClientError;
use crate::manifest_row;
use crate::unpack::unpack_output;
use crate::urls;
use tx_shared::archive::ArchiveLimits;
use tx_shared::forge_client::{StatusTarget, report};

/// Largest callback body accepted (a job with long logs is still far below).
pub const MAX_CALLBACK_BYTES: usize = 5 * 1024 * 1024;

/// The answer to a handled callback.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackAnswer {
    /// The job.
    pub job_id: String,
    /// `owner/repo/commit10`.
    pub identifier: String,
    /// The final display status written to the build log.
    pub status: DisplayStatus,
    /// How many files were published.
    pub files: usize,
    /// The final build log.
    pub build_log_url: String,
    /// The site (exists once the deployer ran, for published builds).
    pub site_url: String,
}

/// Handles one callback; every outcome is a JSON answer.
pub async fn handle_callback(req: &Request, deps: &ClientDeps) -> Response<Body> {
    match accept(req, deps).await {
        Ok(answer) => api::json(200, &answer),
        Err(e) => {
            if e.status() >= 500 {
                tracing::error!(code = e.code(), "callback failed: {e}");
            } else {
                tracing::info!(code = e.code(), "callback refused: {e}");
            }
            e.into_response()
        }
    }
}

async fn accept(req: &Request, deps: &ClientDeps) -> Result<CallbackAnswer, ClientError> {
    // A declared length over the limit is refused before the body is
    // touched (behind API Gateway the body is in memory already, but it is
    // not decoded or hashed).
    if let Some(declared) = api::declared_length(req)
        && declared > MAX_CALLBACK_BYTES
    {
        return Err(ClientError::TooLarge {
            size: declared,
            limit: MAX_CALLBACK_BYTES,
        });
    }
    let body = api::body_bytes(req.body());
    if body.len() > MAX_CALLBACK_BYTES {
        return Err(ClientError::TooLarge {
            size: body.len(),
            limit: MAX_CALLBACK_BYTES,
        });
    }
    let signature = api::header(req, CALLBACK_SIGNATURE_HEADER).unwrap_or_default();
    if signature.trim().is_empty() {
        return Err(ClientError::BadSignature(format!(
            "missing {CALLBACK_SIGNATURE_HEADER} header"
        )));
    }
    if !verify_hex(deps.config.callback_secret.as_bytes(), body, signature) {
        return Err(ClientError::BadSignature(format!(
            "{CALLBACK_SIGNATURE_HEADER} does not match the body under the callback secret"
        )));
    }
    let job: Job = serde_json::from_slice(body)
        .map_err(|e| ClientError::Malformed(format!("callback body is not a job: {e}")))?;
    if !job.is_terminal() {
        return Err(ClientError::NotFinished(format!(
            "job {} is {}, not finished: callbacks come after the build",
            job.job_id,
            job.status.as_str()
        )));
    }
    let prefix = job.site_prefix();
    let now = deps.clock.now();

    let mut final_job = job.clone();
    let published = job.status == JobStatus::Finished && job.result.is_some_and(JobResult::is_published);
    let files = if published {
        publish(deps, &mut final_job, &prefix, now).await?
    } else {
        0
    };
    if final_job.ended_at.is_none() {
        final_job.ended_at = Some(now);
    }

    // Last write of the build: it fires the deployer.
    let log = BuildLog::of(&final_job);
    build_log_store::write(deps.cdn.as_ref(), &prefix, &log).await?;

    let build_log_url = urls::build_log_url(&deps.config.cdn_url, &prefix);
    let site_url = urls::site_url(&deps.config.site_url, &prefix);
    let (state, target_url, text) = match log.status {
        DisplayStatus::Success => (StatusState::Success, &site_url, "Published".to_string()),
        DisplayStatus::Warnings => (
            StatusState::Success,
            &site_url,
            format!("Published with {} warning(s)", final_job.warnings.len()),
        ),
        DisplayStatus::Errors => (
            StatusState::Failure,
            &site_url,
            format!("Published with {} error(s)", final_job.errors.len()),
        ),
        DisplayStatus::Cancelled => (StatusState::Error, &build_log_url, "Cancelled".to_string()),
        _ => (
            StatusState::Failure,
            &build_log_url,
            final_job.message.clone().unwrap_or_else(|| "Build failed".into()),
        ),
    };
    // The job's repository URL was built from the registry; the entry it
    // names is the only forge told. A forge removed since is not told.
    match StatusTarget::of_job(&final_job, &deps.forges) {
        Ok(target) => {
            report(deps.forge.as_ref(), &target, state, target_url, &text).await;
        }
        Err(reason) => tracing::info!(job_id = %final_job.job_id, "commit status not set: {reason}"),
    }

    Ok(CallbackAnswer {
        job_id: final_job.job_id,
        identifier: final_job.identifier,
        status: log.status,
        files,
        build_log_url,
        site_url,
    })
}

/// Unpacks a converted job's output into `prefix` and upserts the manifest
/// row; returns how many files were published. A bad output (missing, not a
/// zip, escaping names) turns `job` into a failed one; a storage error is
/// returned so the job manager redelivers the callback.
async fn publish(
    deps: &ClientDeps,
    job: &mut Job,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<usize, ClientError> {
    let Some(output) = job.output.clone() else {
        fail(
            job,
            "the converter reported success but named no output zip".into(),
        );
        return Ok(0);
    };
    let unpacked = match unpack_output(&deps.cdn, &output, prefix, ArchiveLimits::OUTPUT).await {
        Ok(unpacked) => unpacked,
        Err(e) if e.is_permanent() => {
            fail(job, format!("cannot publish the output: {e}"));
            return Ok(0);
        }
        Err(e) => return Err(ClientError::Unpack(e)),
    };
    tracing::info!(job_id = %job.job_id, files = unpacked.keys.len(), "output unpacked into {prefix}");
    match unpacked.manifest {
        Some(manifest) => {
            let row = manifest_row::row_for(job, manifest, now);
            let stored = deps.manifests.get(&row.repo).await?;
            if stored.as_ref().is_some_and(|s| manifest_row::is_newer(s, &row)) {
                tracing::info!(repo = %row.repo, "manifest row describes a newer build; kept");
            } else {
                deps.manifests.put(&row).await?;
            }
        }
        None => job.warnings.push(format!(
            "{}; the repository's manifest row was not updated",
            unpacked.manifest_problem.unwrap_or_else(|| "no manifest".into())
        )),
    }
    Ok(unpacked.keys.len())
}

/// Turns a job the client could not publish into a failed one, keeping the
/// converter's log and saying why first.
fn fail(job: &mut Job, reason: String) {
    tracing::warn!(job_id = %job.job_id, "{reason}");
    job.result = Some(JobResult::Failed);
    job.errors.push(reason.clone());
    job.message = Some(reason);
}
