//! Rows the suites write: complete enough that a lossy adapter would show.

#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use tx_shared::domain::job::{CommitInfo, Job, JobResult, JobStatus};
use tx_shared::domain::manifest::{Language, ManifestRow, NormalizedManifest, Project, ResourceType};

/// A fixed instant, so `created_at` orders are exact.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
        .single()
        .unwrap_or_default()
}

/// A requested job of `repo` (`owner/name`) created `minutes` after [`t0`].
pub fn job(id: &str, repo: &str, minutes: i64) -> Job {
    let (owner, name) = repo.split_once('/').unwrap_or(("owner", repo));
    let commit_id = format!("{:0>40}", id.replace(|c: char| !c.is_ascii_alphanumeric(), ""));
    let created_at = t0() + Duration::minutes(minutes);
    Job {
        job_id: id.to_string(),
        identifier: format!("{repo}/{}", &commit_id[..10]),
        repo: repo.to_string(),
        repo_owner: owner.parse().unwrap(),
        repo_name: name.parse().unwrap(),
        git_ref: "refs/heads/master".parse().unwrap(),
        commit: CommitInfo {
            commit_id,
            committed_by: Some("Ana Ñandú".to_string()),
            commit_url: Some(format!("https://git.example/{repo}/commit/x")),
            compare_url: None,
            commit_message: Some("Edit 1 John\n\nwith a body".to_string()),
        },
        coalesce_key: format!("{repo}/refs/heads/master"),
        delivery_id: Some(format!("delivery-{id}")),
        repo_url: Some(format!("https://git.example/{repo}")),
        resource_type: "bible".to_string(),
        input_format: "usfm".to_string(),
        output_format: "html".to_string(),
        source: format!("https://git.example/{repo}/archive/x.zip"),
        callback: Some("https://tx.example/client/callback".to_string()),
        convert_module: None,
        default_branch: None,
        assets: Vec::new(),
        status: JobStatus::Requested,
        attempts: 0,
        created_at,
        started_at: None,
        ended_at: None,
        runner: None,
        lease_until: None,
        callback_tries: 0,
        expires_at: (created_at + Duration::days(90)).timestamp(),
        version: 0,
        result: None,
        message: None,
        log: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        output: None,
        callback_pending: false,
        stages: None,
    }
}

/// `job` moved to finished with every result field set.
pub fn finished(mut job: Job) -> Job {
    job.status = JobStatus::Finished;
    job.attempts = 1;
    job.started_at = Some(job.created_at + Duration::seconds(1));
    job.runner = Some("pid 1 on test".to_string());
    job.lease_until = Some(job.created_at + Duration::seconds(57));
    job.callback_tries = 2;
    job.ended_at = Some(job.created_at + Duration::seconds(42));
    job.convert_module = Some("converter".to_string());
    job.result = Some(JobResult::Warnings);
    job.message = Some("converted with 1 warning".to_string());
    job.log = vec![
        "Converting 01-GEN.usfm".to_string(),
        "Converting 43-JHN.usfm".to_string(),
    ];
    job.warnings = vec!["43-JHN.usfm:12: unknown marker \\zz".to_string()];
    job.output = Some(format!("tx/job/{}.zip", job.job_id));
    job.callback_pending = true;
    job
}

/// A manifest row of `repo`.
pub fn manifest(repo: &str, title: &str) -> ManifestRow {
    let (owner, name) = repo.split_once('/').unwrap_or(("owner", repo));
    let manifest = NormalizedManifest {
        source_format: "rc0.2".to_string(),
        language: Language {
            id: "es-419".to_string(),
            name: "Español Latinoamericano".to_string(),
            direction: "ltr".to_string(),
        },
        resource_id: "ulb".to_string(),
        resource_type: ResourceType::Bible,
        title: title.to_string(),
        projects: vec![Project {
            identifier: "jhn".to_string(),
            title: "Juan".to_string(),
            sort: 43,
            path: "./43-JHN.usfm".to_string(),
        }],
    };
    ManifestRow {
        repo: repo.to_string(),
        repo_owner: owner.to_string(),
        repo_name: name.to_string(),
        language_id: "es-419".to_string(),
        language_name: "Español Latinoamericano".to_string(),
        resource_id: "ulb".to_string(),
        resource_type: ResourceType::Bible,
        title: title.to_string(),
        manifest,
        last_job_id: "job-1".to_string(),
        last_commit_id: "0123456789abcdef".to_string(),
        last_status: "success".to_string(),
        last_updated: t0(),
    }
}
