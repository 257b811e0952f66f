//! `POST /client/webhook` (DESIGN.md thread 1): a forge event becomes a job
//! request and the first `build_log.json`. Nothing here waits for a forge
//! (but a release's tag lookup): commit statuses are set by the job manager
//! from the job table's stream, so a slow status API cannot hold the answer.
//!
//! Order matters: the delivery is matched to a configured forge and its
//! signature checked before the body is read into an event, and the job
//! manager is asked before anything is written, so a refused or failed
//! request leaves no trace and the forge's redelivery starts clean.

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tx_shared::api;
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::job::repo_prefix;
use tx_shared::domain::job_request::{JobDisposition, JobResponse, Superseded};
use tx_shared::domain::project::RefRecord;

use crate::build_log_store;
use crate::deps::ClientDeps;
use crate::error::ClientError;
use crate::event::{self, ForgeEvent, RefRemovalTrigger};
use crate::filters::{self, Verdict};
use crate::forge;
use crate::release_commit;
use crate::signature_check;
use crate::urls;
use crate::webhook_body;

/// Largest webhook body accepted. Push payloads list at most 20 commits
/// (GitHub) or so, far below this; anything bigger is not a real push.
pub const MAX_WEBHOOK_BYTES: usize = 5 * 1024 * 1024;

/// The answer to an accepted build request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookAnswer {
    /// The job building this commit.
    pub job_id: String,
    /// What the job manager did (`created`, `coalesced`, `existing`).
    pub disposition: JobDisposition,
    /// `owner/repo/commit10`.
    pub identifier: String,
    /// Where the build log is followed.
    pub build_log_url: String,
    /// Where the site will be.
    pub site_url: String,
    /// The build's display status.
    pub status: DisplayStatus,
    /// The build this one replaced, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded: Option<Superseded>,
}

/// Handles one webhook delivery; every outcome is a JSON answer.
pub async fn handle_webhook(req: &Request, deps: &ClientDeps) -> Response<Body> {
    match accept(req, deps).await {
        Ok(response) => response,
        Err(e) => {
            if e.status() >= 500 {
                tracing::error!(code = e.code(), "webhook failed: {e}");
            } else {
                tracing::info!(code = e.code(), "webhook refused: {e}");
            }
            e.into_response()
        }
    }
}

async fn accept(req: &Request, deps: &ClientDeps) -> Result<Response<Body>, ClientError> {
    // A declared length over the limit is refused before the body is
    // touched (behind API Gateway the body is in memory already, but it is
    // not decoded or hashed).
    if let Some(declared) = api::declared_length(req)
        && declared > MAX_WEBHOOK_BYTES
    {
        return Err(ClientError::TooLarge {
            size: declared,
            limit: MAX_WEBHOOK_BYTES,
        });
    }
    let body = api::body_bytes(req.body());
    if body.len() > MAX_WEBHOOK_BYTES {
        return Err(ClientError::TooLarge {
            size: body.len(),
            limit: MAX_WEBHOOK_BYTES,
        });
    }
    let headers = req.headers();
    let claimed = forge::detect(headers).ok_or_else(|| {
        ClientError::UnknownForge(
            "no X-Gitea-Event, X-Gogs-Event, X-Gitlab-Event or X-GitHub-Event header: not a forge webhook"
                .into(),
        )
    })?;
    let content_type = api::header(req, http::header::CONTENT_TYPE.as_str());
    let unverified = webhook_body::decode(claimed.forge, content_type, body)
        .map_err(|e| ClientError::Malformed(e.to_string()))?;
    // The registry, not the payload, decides: the claimed repository's host
    // picks the entry, and only that entry's secret (or the repository's own)
    // can verify the delivery.
    let claim =
        event::claim(&claimed.event, &unverified.json).map_err(|e| ClientError::Malformed(e.to_string()))?;
    let forge = deps
        .forges
        .by_repo_url(&claim.repo_url)
        .map_err(ClientError::NotConfigured)?;
    let delivery = forge::detect_as(headers, forge.kind).ok_or_else(|| {
        ClientError::UnknownForge(format!(
            "forge {} is configured as {}, but the delivery carries no {} event header",
            forge.id,
            forge.kind.as_str(),
            forge.kind.as_str()
        ))
    })?;
    let body = webhook_body::decode(forge.kind, content_type, body)
        .map_err(|e| ClientError::Malformed(e.to_string()))?;
    let secret = forge.secret_for(claim.repo_path.as_deref().unwrap_or_default());
    signature_check::verify(
        forge.kind,
        headers,
        &body.signed,
        secret,
        deps.clock.now().timestamp(),
    )
    .map_err(|e| ClientError::BadSignature(e.to_string()))?;
    let (trigger, release) = match event::parse(&delivery, forge, &body.json)
        .map_err(|e| ClientError::Malformed(e.to_string()))?
    {
        ForgeEvent::Ping { zen } => {
            return Ok(api::json(
                200,
                &serde_json::json!({
                    "pong": zen.unwrap_or_else(|| "pong".into()),
                    "forge": forge.id,
                }),
            ));
        }
        ForgeEvent::Ignored(reason) => return Ok(ignored(reason)),
        ForgeEvent::Build(trigger) => (trigger, None),
        ForgeEvent::Release(release) => (Box::new(release.build.clone()), Some(*release)),
        ForgeEvent::RemoveRef(removal) => return remove_ref(deps, forge, secret, &removal).await,
    };
    // The verified payload must be about the repository whose secret
    // verified it: a repository with its own secret cannot be reached with
    // the forge's shared one by leaving out or contradicting `full_name`.
    if forge.secret_for(&trigger.status_repo) != secret {
        return Err(ClientError::BadSignature(format!(
            "repository {} has its own webhook secret; this delivery was not signed with it",
            trigger.status_repo
        )));
    }
    if let Some(path) = &claim.repo_path
        && !path.eq_ignore_ascii_case(&trigger.status_repo)
    {
        return Err(ClientError::Malformed(format!(
            "payload names repository {path} in one field and {} in another",
            trigger.status_repo
        )));
    }
    match filters::check(&deps.config, &trigger) {
        Verdict::Build => {}
        Verdict::Ignore(reason) => return Ok(ignored(reason)),
    }

    // A release's commit is settled last, after every refusal: it may ask the forge.
    let (trigger, assets) = match release {
        Some(release) => release_commit::settle(deps.forge.as_ref(), release).await?,
        None => (trigger, Vec::new()),
    };
    let mut request = trigger.job_request(urls::callback_url(&deps.config.api_url));
    request.assets = assets;
    request.default_branch = event::default_branch(&body.json);
    let response = deps.jobs.request_job(&request).await?;
    tracing::info!(
        job_id = %response.job.job_id,
        identifier = %response.job.identifier,
        disposition = ?response.disposition,
        "job requested"
    );
    let answer = record(deps, &response).await?;
    let status = if response.disposition == JobDisposition::Existing {
        200
    } else {
        202
    };
    Ok(api::json(status, &answer))
}

/// A branch or tag deleted, or a pull request closed: writes the ref record
/// the deployer takes the entry point down on (one small write, no forge
/// call). Like a build, it must be signed with the repository's own secret
/// when it has one.
async fn remove_ref(
    deps: &ClientDeps,
    forge: &tx_shared::forges::Forge,
    secret: &tx_shared::forges::Secret,
    removal: &RefRemovalTrigger,
) -> Result<Response<Body>, ClientError> {
    if forge.secret_for(&removal.status_repo) != secret {
        return Err(ClientError::BadSignature(format!(
            "repository {} has its own webhook secret; this delivery was not signed with it",
            removal.status_repo
        )));
    }
    let record = RefRecord {
        git_ref: removal.git_ref.clone(),
        removed: removal.removed,
        at: deps.clock.now(),
    };
    let key =
        build_log_store::write_ref_record(deps.cdn.as_ref(), &removal.owner, &removal.repo, &record).await?;
    tracing::info!(key, "ref removed");
    Ok(api::json(
        200,
        &serde_json::json!({
            "status": "removed",
            "ref": removal.git_ref.full(),
            "entry_point": format!("{}{}", repo_prefix(&removal.owner, &removal.repo), removal.git_ref.entry_point()),
        }),
    ))
}

fn ignored(reason: String) -> Response<Body> {
    tracing::info!("{reason}");
    api::json(
        200,
        &serde_json::json!({ "status": "ignored", "message": reason }),
    )
}

/// Writes what a new (or coalesced) job needs in the CDN bucket: its first
/// build log, and the older build's cancelled one. A redelivery (`existing`)
/// writes nothing unless its first build log is missing (a previous delivery
/// failed after the job was created).
async fn record(deps: &ClientDeps, response: &JobResponse) -> Result<WebhookAnswer, ClientError> {
    let job = &response.job;
    let prefix = job.site_prefix();
    let build_log_url = urls::build_log_url(&deps.config.cdn_url, &prefix);
    let existing_log = build_log_store::read(deps.cdn.as_ref(), &prefix).await?;
    let log = BuildLog::of(job);
    let is_new = response.disposition != JobDisposition::Existing;
    match &existing_log {
        // A callback that beat us here already wrote the final log: keep it.
        Some(stored) if stored.status.is_final() => {}
        Some(_) if !is_new => {}
        _ => build_log_store::write(deps.cdn.as_ref(), &prefix, &log).await?,
    }

    if is_new && let Some(superseded) = &response.superseded {
        // The job is coalesced whatever happens here, and a redelivery
        // would come back as `existing`: a failure is logged, not answered.
        let by = job.commit10();
        let now = deps.clock.now();
        match build_log_store::cancel_superseded(deps.cdn.as_ref(), superseded, by, now).await {
            Ok(cancelled) => {
                tracing::info!(old = %superseded.identifier, cancelled, "older build superseded by {by}")
            }
            Err(e) => {
                tracing::error!(old = %superseded.identifier, "cannot mark the older build cancelled: {e}")
            }
        }
    }

    Ok(WebhookAnswer {
        job_id: job.job_id.clone(),
        disposition: response.disposition,
        identifier: job.identifier.clone(),
        build_log_url,
        site_url: urls::site_url(&deps.config.site_url, &prefix),
        status: existing_log
            .filter(|l| l.status.is_final())
            .map(|l| l.status)
            .unwrap_or(log.status),
        superseded: response.superseded.clone(),
    })
}
