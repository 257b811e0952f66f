//! `POST /tx/job`: turning a request into a job row, with coalescing and
//! idempotence.
//!
//! - A redelivered webhook (same delivery id, or same ref and commit) gets the
//!   existing job back; nothing is written.
//! - A push to a ref whose previous job is still `requested` updates that job
//!   in place to the newer commit: it keeps its id and its place in the queue,
//!   and the answer names the commit it superseded.
//! - Otherwise a new job is inserted as `requested`; its stream record starts it.
//!
//! Every write is conditional, so two webhooks racing for the same ref cannot
//! both coalesce into one job nor both lose.

use chrono::Duration;
use tx_shared::domain::job::{JOB_RETENTION, Job, JobStatus, commit10};
use tx_shared::domain::job_request::{JobDisposition, JobRequest, JobResponse, Superseded};
use tx_shared::ports::TableError;

use crate::deps::ManagerDeps;
use crate::error::ManagerError;

/// How many recent jobs of a repo are looked at for duplicates and coalescing.
const RECENT_JOBS: usize = 100;

/// How often a lost race is retried before giving up with 503.
const RACE_RETRIES: usize = 5;

/// Serves one job request.
pub async fn request_job(req: JobRequest, deps: &ManagerDeps) -> Result<JobResponse, ManagerError> {
    validate(&req)?;
    let repo = format!("{}/{}", req.repo_owner, req.repo_name);
    let key = req.coalesce_key();
    for _ in 0..RACE_RETRIES {
        let recent = deps.jobs.by_repo(&repo, RECENT_JOBS).await?;
        if let Some(existing) = recent.iter().find(|j| is_same_request(j, &req)) {
            return Ok(JobResponse {
                disposition: JobDisposition::Existing,
                job: existing.clone(),
                superseded: None,
            });
        }
        if let Some(waiting) = recent
            .iter()
            .find(|j| j.coalesce_key == key && j.status == JobStatus::Requested)
        {
            let superseded = Superseded {
                identifier: waiting.identifier.clone(),
                commit_id: waiting.commit.commit_id.clone(),
            };
            let mut newer = waiting.clone();
            apply_request(&mut newer, &req);
            newer.log.push(format!(
                "{}: now builds {} instead of {}",
                tx_shared::time::format(&deps.clock.now()),
                commit10(&req.commit.commit_id),
                commit10(&superseded.commit_id)
            ));
            match deps.jobs.update(&newer, waiting.version).await {
                Ok(stored) => {
                    return Ok(JobResponse {
                        disposition: JobDisposition::Coalesced,
                        job: stored,
                        superseded: Some(superseded),
                    });
                }
                Err(TableError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let job = new_job(&req, deps);
        match deps.jobs.insert(&job).await {
            Ok(stored) => {
                return Ok(JobResponse {
                    disposition: JobDisposition::Created,
                    job: stored,
                    superseded: None,
                });
            }
            Err(TableError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(TableError::Conflict(format!("{key}: too many concurrent requests")).into())
}

fn is_same_request(job: &Job, req: &JobRequest) -> bool {
    let same_delivery = req.delivery_id.is_some() && job.delivery_id == req.delivery_id;
    let same_commit = job.git_ref == req.git_ref
        && job.commit.commit_id == req.commit.commit_id
        && job.status != JobStatus::Cancelled;
    same_delivery || same_commit
}

fn apply_request(job: &mut Job, req: &JobRequest) {
    job.identifier = format!(
        "{}/{}/{}",
        req.repo_owner,
        req.repo_name,
        commit10(&req.commit.commit_id)
    );
    job.commit = req.commit.clone();
    job.delivery_id = req.delivery_id.clone();
    job.source = req.source.clone();
    job.callback = req.callback.clone();
    job.repo_url = req.repo_url.clone().or(job.repo_url.take());
    job.resource_type = req.resource_type.clone().unwrap_or_else(|| "unknown".into());
    job.input_format = req.input_format.clone().unwrap_or_else(|| "unknown".into());
    job.output_format = req.output_format.clone().unwrap_or_else(|| "html".into());
}

fn new_job(req: &JobRequest, deps: &ManagerDeps) -> Job {
    let now = deps.clock.now();
    let mut job = Job {
        job_id: uuid::Uuid::now_v7().simple().to_string(),
        identifier: String::new(),
        repo: format!("{}/{}", req.repo_owner, req.repo_name),
        repo_owner: req.repo_owner.clone(),
        repo_name: req.repo_name.clone(),
        git_ref: req.git_ref.clone(),
        commit: req.commit.clone(),
        coalesce_key: req.coalesce_key(),
        delivery_id: None,
        repo_url: None,
        resource_type: String::new(),
        input_format: String::new(),
        output_format: String::new(),
        source: String::new(),
        callback: None,
        convert_module: None,
        status: JobStatus::Requested,
        attempts: 0,
        created_at: now,
        started_at: None,
        ended_at: None,
        deadline: None,
        expires_at: (now + JOB_RETENTION + Duration::days(1)).timestamp(),
        version: 0,
        result: None,
        message: None,
        log: vec![format!("{}: requested", tx_shared::time::format(&now))],
        warnings: Vec::new(),
        errors: Vec::new(),
        output: None,
        callback_pending: false,
    };
    apply_request(&mut job, req);
    job
}

/// Refuses requests that would make unsafe keys or unusable jobs.
fn validate(req: &JobRequest) -> Result<(), ManagerError> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !name_ok(&req.repo_owner) {
        return Err(ManagerError::Invalid(format!(
            "repo_owner {:?} is not a valid name",
            req.repo_owner
        )));
    }
    if !name_ok(&req.repo_name) {
        return Err(ManagerError::Invalid(format!(
            "repo_name {:?} is not a valid name",
            req.repo_name
        )));
    }
    let c = &req.commit.commit_id;
    if c.len() < 7 || c.len() > 64 || !c.chars().all(|ch| ch.is_ascii_hexdigit()) {
        return Err(ManagerError::Invalid(format!(
            "commit_id {c:?} is not a commit hash"
        )));
    }
    if req.git_ref.trim().is_empty() {
        return Err(ManagerError::Invalid("ref is empty".into()));
    }
    let s = req.source.as_str();
    if !(s.starts_with("http://") || s.starts_with("https://") || s.starts_with("s3://")) {
        return Err(ManagerError::Invalid(format!(
            "source {s:?} is not an http(s):// or s3:// URL"
        )));
    }
    if let Some(cb) = &req.callback
        && !(cb.starts_with("http://") || cb.starts_with("https://"))
    {
        return Err(ManagerError::Invalid(format!(
            "callback {cb:?} is not an http(s) URL"
        )));
    }
    Ok(())
}
