//! `POST /tx/job`: turning a request into a job row, with coalescing and
//! idempotence.
//!
//! - A redelivered webhook (same delivery id, remembered as long as its job
//!   is kept, or same ref and commit) gets the existing job back; nothing is written — unless that job failed and is
//!   still the newest of its ref: then the redelivery (the forge's
//!   "Redeliver", a re-push, a signed `POST /tx/job`) builds it again. A
//!   failed build that a newer push followed is not rebuilt by a replay,
//!   which would move its ref's pages back to an older commit.
//! - A push to a ref whose previous job is still `requested` updates that job
//!   in place to the newer commit: it keeps its id and its place in the queue,
//!   and the answer names the commit it superseded.
//! - Otherwise a new job is inserted as `requested`; its stream record starts it.
//!
//! Which job waits under a ref is read from the ref's queue slot
//! ([`QueueSlot`], strongly consistent), never from the repo index, and both
//! writes are conditional: a new job takes the slot only while its holder is
//! not waiting ([`JobTable::enqueue`]), a newer commit rewrites the holder
//! only while it is still `requested` ([`JobTable::coalesce`]). Two webhooks
//! racing for one ref conflict on that one item; the loser reads it again
//! and coalesces into the winner's job, so a ref never has two `requested`
//! jobs.
//!
//! [`JobTable::enqueue`]: tx_shared::ports::JobTable::enqueue
//! [`JobTable::coalesce`]: tx_shared::ports::JobTable::coalesce

use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use tx_shared::domain::job::{JOB_RETENTION, Job, JobResult, JobStatus, commit10};
use tx_shared::domain::job_request::{JobDisposition, JobRequest, JobResponse, NewerCommit, Superseded};
use tx_shared::ports::{JobApi, JobApiError, QueueSlot, TableError};

use crate::deps::ManagerDeps;
use crate::error::ManagerError;

/// Longest delivery id remembered (forges send a UUID or a number).
const MAX_DELIVERY_ID: usize = 200;

/// How many recent jobs of a repo are looked at for duplicates (the same
/// commit pushed again); a delivery is remembered by its id however old.
const RECENT_JOBS: usize = 100;

/// How often a lost race is retried before giving up with 503. A try is
/// lost only to a request that changed the slot meanwhile (a job created in
/// it, or its holder claimed), so few are ever needed.
const RACE_RETRIES: u32 = 20;

/// Longest pause between two tries, so the losers of one race spread out.
const MAX_BACKOFF: StdDuration = StdDuration::from_millis(20);

/// Serves one job request. A table failure is logged here, with its
/// details; the caller is told only that the table is unavailable
/// ([`ManagerError::public_message`]).
pub async fn request_job(req: JobRequest, deps: &ManagerDeps) -> Result<JobResponse, ManagerError> {
    serve(req, deps).await.inspect_err(|e| {
        if let ManagerError::Table(t) = e {
            tracing::error!("job table: {t}");
        }
    })
}

async fn serve(req: JobRequest, deps: &ManagerDeps) -> Result<JobResponse, ManagerError> {
    validate(&req)?;
    let repo = format!("{}/{}", req.repo_owner, req.repo_name);
    let key = req.coalesce_key();
    // Older jobs of the repo (another ref at this commit, a delivery seen
    // before): read once, from the index. What races with this request is
    // under its own key, whose slot is read on every try.
    let recent = deps.jobs.by_repo(&repo, RECENT_JOBS).await?;
    let delivered = delivered_job(&req, deps).await?;
    let remembered = delivered
        .as_ref()
        .or_else(|| recent.iter().find(|j| is_same_request(j, &req)));
    let answer = queue_or_answer(&req, &key, remembered, deps).await?;
    if let Some(delivery) = req.delivery_id.as_deref().filter(|d| d.len() <= MAX_DELIVERY_ID)
        && delivered.as_ref().is_none_or(|d| d.job_id != answer.job.job_id)
    {
        // The job is stored already: a failed memory costs only the replay
        // check of this delivery beyond the newest jobs, not the answer.
        if let Err(e) = deps
            .jobs
            .remember_delivery(delivery, &answer.job.job_id, answer.job.expires_at)
            .await
        {
            tracing::warn!(delivery, job_id = answer.job.job_id, error = %e, "delivery not remembered");
        }
    }
    Ok(answer)
}

/// The job API in process: what `tx serve` gives the webhook client, so a
/// webhook's job request is a function call, not an HTTP round trip (and a
/// signature) to its own server. It answers exactly what `POST /tx/job`
/// would: the same job, or the same refusal.
#[derive(Clone)]
pub struct InProcessJobApi {
    deps: ManagerDeps,
}

impl InProcessJobApi {
    /// The job API of this job manager.
    pub fn new(deps: ManagerDeps) -> InProcessJobApi {
        InProcessJobApi { deps }
    }
}

#[async_trait]
impl JobApi for InProcessJobApi {
    async fn request_job(&self, request: &JobRequest) -> Result<JobResponse, JobApiError> {
        request_job(request.clone(), &self.deps)
            .await
            .map_err(|e| JobApiError::Refused {
                status: e.status(),
                message: format!("{}: {}", e.code(), e.public_message()),
            })
    }
}

/// The job a remembered delivery of `req`'s was answered with (a replay of
/// it, whatever came since), if that job is still in the table.
async fn delivered_job(req: &JobRequest, deps: &ManagerDeps) -> Result<Option<Job>, ManagerError> {
    let Some(delivery) = req.delivery_id.as_deref() else {
        return Ok(None);
    };
    let Some(job_id) = deps.jobs.delivery(delivery).await? else {
        return Ok(None);
    };
    Ok(deps.jobs.get(&job_id).await?)
}

/// Answers with the job `remembered` (the request's delivery or commit,
/// seen before) unless a redelivery rebuilds it, else queues a new job or
/// coalesces into the waiting one, retrying lost races.
async fn queue_or_answer(
    req: &JobRequest,
    key: &str,
    remembered: Option<&Job>,
    deps: &ManagerDeps,
) -> Result<JobResponse, ManagerError> {
    for attempt in 0..RACE_RETRIES {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let slot = deps.jobs.queue_slot(key).await?;
        // The slot's holder is read fresh on every try; the index may lag.
        let holder = slot.holder.as_ref();
        let known = match remembered {
            Some(r) => Some(holder.filter(|h| h.job_id == r.job_id).unwrap_or(r)),
            None => holder.filter(|h| is_same_request(h, req)),
        };
        if let Some(known) = known.filter(|k| !is_rebuilt_by_redelivery(k, &slot)) {
            return Ok(existing_answer(known.clone()));
        }
        match queue(req, &slot, deps).await {
            Ok(answer) => return Ok(answer),
            Err(TableError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(TableError::Conflict(format!("{key}: too many concurrent requests")).into())
}

/// One try: coalesce into the job the slot names while it waits, else queue
/// a new job in the slot.
async fn queue(req: &JobRequest, slot: &QueueSlot, deps: &ManagerDeps) -> Result<JobResponse, TableError> {
    let now = tx_shared::time::format(&deps.clock.now());
    if let Some(waiting) = slot.queued().filter(|w| adds_assets(w, req)) {
        // The release of a tag whose push is still waiting: the same build,
        // now with the release's files (no other commit is superseded).
        let note = format!(
            "{now}: the release of {} adds {} file(s)",
            req.git_ref,
            req.assets.len()
        );
        let job = waiting.with_assets(req.assets.clone(), note);
        return Ok(existing_answer(deps.jobs.update(&job, waiting.version).await?));
    }
    let Some(waiting) = slot.queued() else {
        let job = new_job(req, deps);
        let stored = deps.jobs.enqueue(&job, None, slot).await?;
        return Ok(JobResponse {
            disposition: JobDisposition::Created,
            job: stored,
            superseded: None,
        });
    };
    let note = format!(
        "{now}: now builds {}, pushed to {} after the commit it replaces",
        commit10(&req.commit.commit_id),
        req.git_ref
    );
    let done = deps
        .jobs
        .coalesce(&waiting.job_id, &NewerCommit::of(req, note))
        .await?;
    Ok(JobResponse {
        disposition: JobDisposition::Coalesced,
        superseded: Some(Superseded {
            identifier: done.superseded.identifier,
            commit_id: done.superseded.commit.commit_id,
        }),
        job: done.job,
    })
}

fn existing_answer(job: Job) -> JobResponse {
    JobResponse {
        disposition: JobDisposition::Existing,
        job,
        superseded: None,
    }
}

/// A random pause of up to `min(2^attempt ms, MAX_BACKOFF)`.
fn backoff(attempt: u32) -> StdDuration {
    let cap = StdDuration::from_millis(1u64 << attempt.min(10)).min(MAX_BACKOFF);
    let cap_micros = u64::try_from(cap.as_micros()).unwrap_or(u64::MAX).max(1);
    let random = (uuid::Uuid::new_v4().as_u128() as u64) % cap_micros;
    StdDuration::from_micros(random)
}

/// Whether `req` asks for what `job` already builds: the same delivery, or
/// the same ref and commit — unless `req` is a release bringing files the
/// job (its tag's push, which forges send first) does not have; that one
/// still has to publish them.
fn is_same_request(job: &Job, req: &JobRequest) -> bool {
    let same_delivery = req.delivery_id.is_some() && job.delivery_id == req.delivery_id;
    let same_commit = job.git_ref == req.git_ref
        && job.commit.commit_id == req.commit.commit_id
        && job.status != JobStatus::Cancelled
        && !adds_assets(job, req);
    same_delivery || same_commit
}

/// Whether a redelivery of the request that made `job` builds it again:
/// it failed, and it is still the newest job of its ref (its slot's holder).
fn is_rebuilt_by_redelivery(job: &Job, slot: &QueueSlot) -> bool {
    job.status == JobStatus::Finished && job.result == Some(JobResult::Failed) && slot.is_held_by(&job.job_id)
}

/// Whether `req` is a release with files for the build `job` makes of the
/// same ref and commit without them.
fn adds_assets(job: &Job, req: &JobRequest) -> bool {
    job.assets.is_empty()
        && !req.assets.is_empty()
        && job.git_ref == req.git_ref
        && job.commit.commit_id == req.commit.commit_id
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
        default_branch: None,
        assets: Vec::new(),
        status: JobStatus::Requested,
        attempts: 0,
        created_at: now,
        started_at: None,
        ended_at: None,
        runner: None,
        lease_until: None,
        callback_tries: 0,
        expires_at: (now + JOB_RETENTION + Duration::days(1)).timestamp(),
        version: 0,
        result: None,
        message: None,
        log: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        output: None,
        callback_pending: false,
        stages: None,
    };
    NewerCommit::of(req, format!("{}: requested", tx_shared::time::format(&now))).apply(&mut job);
    job
}

/// Refuses requests that would make unusable jobs. Owner, name and ref
/// were read as [`tx_shared::identity`] types when the body was parsed; the
/// commit is checked by the same module.
fn validate(req: &JobRequest) -> Result<(), ManagerError> {
    tx_shared::identity::CommitId::parse(&req.commit.commit_id)
        .map_err(|e| ManagerError::Invalid(format!("commit_id: {e}")))?;
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
