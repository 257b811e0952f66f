//! The repository's row in `tx-manifest`, as a finished build describes it:
//! what the site-wide index lists (language, resource, title) and the last
//! build that reported back.

use chrono::{DateTime, Utc};
use tx_shared::domain::job::{Job, JobResult};
use tx_shared::domain::manifest::{ManifestRow, NormalizedManifest};

/// The row for `job`'s repository after it produced `manifest`.
pub fn row_for(job: &Job, manifest: NormalizedManifest, now: DateTime<Utc>) -> ManifestRow {
    ManifestRow {
        repo: format!("{}/{}", job.repo_owner, job.repo_name),
        repo_owner: job.repo_owner.to_string(),
        repo_name: job.repo_name.to_string(),
        language_id: manifest.language.id.clone(),
        language_name: manifest.language.name.clone(),
        resource_id: manifest.resource_id.clone(),
        resource_type: manifest.resource_type,
        title: manifest.title.clone(),
        manifest,
        last_job_id: job.job_id.clone(),
        last_commit_id: job.commit.commit_id.clone(),
        last_status: job.result.unwrap_or(JobResult::Failed).as_str().to_string(),
        last_updated: job.ended_at.unwrap_or(now),
    }
}

/// Whether `row` (already stored) describes a build newer than `candidate`,
/// so a late or redelivered callback of an older build must not replace it.
pub fn is_newer(row: &ManifestRow, candidate: &ManifestRow) -> bool {
    row.last_job_id != candidate.last_job_id && row.last_updated > candidate.last_updated
}
