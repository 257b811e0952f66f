//! Commit statuses from the job table's stream: a build is `pending` on its
//! commit once its first attempt is claimed, and a commit that a newer push
//! replaced in the queue is told it will not be built. They are the job
//! manager's, not the webhook's, so a slow or hanging status API never holds
//! a webhook answer (DESIGN.md thread 1). The pending status is set while
//! the converter runs and before the callback, which sets the final one.

use tx_shared::domain::build_log::build_log_url;
use tx_shared::domain::job::{Job, JobStatus};
use tx_shared::forge_client::{StatusTarget, report};
use tx_shared::ports::StatusState;

use crate::deps::ManagerDeps;

/// `pending` on the commit `started` builds, linking its build log.
pub(crate) async fn pending(started: &Job, deps: &ManagerDeps) {
    let Some(target) = target(started, deps) else {
        return;
    };
    let log = build_log_url(&deps.config.cdn_url, &started.site_prefix());
    let text = format!("Build of {} requested", started.commit10());
    report(deps.forge.as_ref(), &target, StatusState::Pending, &log, &text).await;
}

/// `error` on the commit `old` was waiting to build when the change to
/// `new` replaced it with another commit of the same ref (a coalesced
/// push); nothing when the change kept the commit.
pub(crate) async fn superseded(old: Option<&Job>, new: &Job, deps: &ManagerDeps) {
    let Some(old) =
        old.filter(|o| o.status == JobStatus::Requested && o.commit.commit_id != new.commit.commit_id)
    else {
        return;
    };
    let Some(target) = target(old, deps) else {
        return;
    };
    let log = build_log_url(&deps.config.cdn_url, &old.site_prefix());
    let text = format!("Not built: superseded by {}", new.commit10());
    report(deps.forge.as_ref(), &target, StatusState::Error, &log, &text).await;
}

fn target(job: &Job, deps: &ManagerDeps) -> Option<StatusTarget> {
    StatusTarget::of_job(job, &deps.forges)
        .inspect_err(|reason| tracing::info!(job_id = %job.job_id, "commit status not set: {reason}"))
        .ok()
}
