//! Fixtures shared by the deployer's integration tests: the embedded
//! runtime's real adapters (directory buckets, SQLite tables) in a temp dir,
//! and small converted builds written the way the webhook client leaves them.
#![allow(dead_code)]

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use tx_deployer::{DeployerDeps, SiteConfig};
use tx_shared::domain::build_log::BuildLog;
use tx_shared::domain::job::{CommitInfo, Job, JobResult, JobStatus};
use tx_shared::domain::manifest::{Language, ManifestRow, NormalizedManifest, ResourceType};
use tx_shared::local::{Db, DirBucket, SqliteJobTable, SqliteManifestTable};
use tx_shared::ports::{JobTable, ManifestTable, ObjectStore};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub cdn: Arc<DirBucket>,
    pub website: Arc<DirBucket>,
    pub jobs: Arc<SqliteJobTable>,
    pub manifests: Arc<SqliteManifestTable>,
    pub deps: DeployerDeps,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let cdn = Arc::new(DirBucket::open("cdn", dir.path().join("cdn")).unwrap());
        let website = Arc::new(DirBucket::open("website", dir.path().join("website")).unwrap());
        let db = Db::open(&dir.path().join("tx.sqlite")).unwrap();
        let jobs = Arc::new(SqliteJobTable::new(db.clone(), "tx-job"));
        let manifests = Arc::new(SqliteManifestTable::new(db));
        let deps = DeployerDeps {
            cdn: cdn.clone(),
            website: website.clone(),
            jobs: jobs.clone(),
            manifests: manifests.clone(),
            site: SiteConfig::new("https://site.example", "https://cdn.example"),
        };
        Fixture {
            dir,
            cdn,
            website,
            jobs,
            manifests,
            deps,
        }
    }

    pub fn website_root(&self) -> std::path::PathBuf {
        self.dir.path().join("website")
    }

    pub async fn website_text(&self, key: &str) -> String {
        let body = self
            .website
            .get(key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{key} is not on the website"));
        String::from_utf8(body.to_vec()).unwrap()
    }

    pub async fn website_has(&self, key: &str) -> bool {
        self.website.get(key).await.unwrap().is_some()
    }

    /// Stores a job row (inserted, or updated to the given state).
    pub async fn save_job(&self, job: &Job) {
        match self.jobs.get(&job.job_id).await.unwrap() {
            None => {
                self.jobs.insert(job).await.unwrap();
            }
            Some(old) => {
                self.jobs.update(job, old.version).await.unwrap();
            }
        }
    }

    /// Writes the build log of `job` to the CDN, as the webhook client does.
    pub async fn write_log(&self, job: &Job) {
        let log = BuildLog::of(job);
        self.cdn
            .put(
                &format!("{}build_log.json", job.site_prefix()),
                Bytes::from(serde_json::to_vec(&log).unwrap()),
                "application/json",
            )
            .await
            .unwrap();
    }

    /// Writes the converted output of `build` under the job's CDN folder.
    pub async fn write_output(&self, job: &Job, build: &Converted) {
        for (name, body) in &build.files {
            self.cdn
                .put(
                    &format!("{}{name}", job.site_prefix()),
                    Bytes::from(body.clone()),
                    "text/html",
                )
                .await
                .unwrap();
        }
    }

    pub async fn put_manifest_row(&self, job: &Job, manifest: &NormalizedManifest) {
        self.manifests
            .put(&ManifestRow {
                repo: job.repo.clone(),
                repo_owner: job.repo_owner.to_string(),
                repo_name: job.repo_name.to_string(),
                language_id: manifest.language.id.clone(),
                language_name: manifest.language.name.clone(),
                resource_id: manifest.resource_id.clone(),
                resource_type: manifest.resource_type,
                title: manifest.title.clone(),
                manifest: manifest.clone(),
                last_job_id: job.job_id.clone(),
                last_commit_id: job.commit.commit_id.clone(),
                last_status: job.result.map_or("failed", |r| r.as_str()).to_string(),
                last_updated: job.ended_at.unwrap_or(job.created_at),
            })
            .await
            .unwrap();
    }

    /// The whole thread up to the deployer's trigger: job row, output, log.
    pub async fn finished(&self, job: &Job, build: &Converted) {
        self.save_job(job).await;
        self.write_output(job, build).await;
        self.put_manifest_row(job, &build.manifest).await;
        self.write_log(job).await;
    }
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

/// A requested job of `owner/repo` at `commit`, created `minutes` after t0.
pub fn job(owner: &str, repo: &str, commit: &str, minutes: i64) -> Job {
    let created = t0() + Duration::minutes(minutes);
    Job {
        job_id: format!("job-{commit}"),
        identifier: format!("{owner}/{repo}/{}", &commit[..commit.len().min(10)]),
        repo: format!("{owner}/{repo}"),
        repo_owner: owner.parse().unwrap(),
        repo_name: repo.parse().unwrap(),
        git_ref: "refs/heads/master".parse().unwrap(),
        commit: CommitInfo {
            commit_id: commit.into(),
            committed_by: Some("Translator".into()),
            commit_url: Some(format!("https://git.example/{owner}/{repo}/commit/{commit}")),
            compare_url: None,
            commit_message: Some("Translate more chapters".into()),
        },
        coalesce_key: format!("{owner}/{repo}/refs/heads/master"),
        delivery_id: None,
        repo_url: Some(format!("https://git.example/{owner}/{repo}")),
        resource_type: "bible".into(),
        input_format: "usfm".into(),
        output_format: "html".into(),
        source: "https://git.example/archive.zip".into(),
        callback: None,
        convert_module: None,
        default_branch: None,
        assets: Vec::new(),
        status: JobStatus::Requested,
        attempts: 0,
        created_at: created,
        started_at: None,
        ended_at: None,
        runner: None,
        lease_until: None,
        callback_tries: 0,
        expires_at: (created + Duration::days(90)).timestamp(),
        version: 0,
        result: None,
        message: None,
        log: vec![],
        warnings: vec![],
        errors: vec![],
        output: None,
        callback_pending: false,
        stages: None,
    }
}

pub fn started(mut job: Job) -> Job {
    job.status = JobStatus::Started;
    job.started_at = Some(job.created_at + Duration::seconds(5));
    job.attempts = 1;
    job
}

pub fn finished(mut job: Job, result: JobResult) -> Job {
    job = started(job);
    job.status = JobStatus::Finished;
    job.result = Some(result);
    job.ended_at = Some(job.created_at + Duration::seconds(40));
    job.log = vec!["Converted 01-GEN.usfm".into(), "Converted 02-EXO.usfm".into()];
    match result {
        JobResult::Warnings => job.warnings = vec!["02-EXO.usfm:7: unknown marker \\zz, kept as text".into()],
        JobResult::Errors => job.errors = vec!["03-LEV.usfm:1: no \\id marker, file skipped".into()],
        JobResult::Failed => {
            job.errors = vec!["manifest.yaml:3: unknown resource type 'xyz'".into()];
            job.message = Some("Nothing could be converted".into());
        }
        JobResult::Success => {}
    }
    job
}

/// A converted output: file name → contents.
pub struct Converted {
    pub manifest: NormalizedManifest,
    pub files: Vec<(String, Vec<u8>)>,
}

pub fn manifest(rt: ResourceType, lang: &str, lang_name: &str, dir: &str, title: &str) -> NormalizedManifest {
    NormalizedManifest {
        source_format: "rc0.2".into(),
        language: Language {
            id: lang.into(),
            name: lang_name.into(),
            direction: dir.into(),
        },
        resource_id: "ulb".into(),
        resource_type: rt,
        title: title.into(),
        projects: vec![],
    }
}

/// A two-book Bible as the converter writes it.
pub fn bible(lang: &str, lang_name: &str, dir: &str) -> Converted {
    let manifest = manifest(
        ResourceType::Bible,
        lang,
        lang_name,
        dir,
        "Unlocked Literal Bible",
    );
    let nav = json!({
        "title": "Unlocked Literal Bible", "resource_type": "bible", "direction": dir, "language": lang,
        "pages": ["01-GEN.html", "02-EXO.html"],
        "items": [
            {"title": "Genesis", "href": "01-GEN.html", "children": [
                {"title": "1", "href": "01-GEN.html#ch-1"}, {"title": "2", "href": "01-GEN.html#ch-2"}]},
            {"title": "Exodus", "href": "02-EXO.html", "children": [
                {"title": "1", "href": "02-EXO.html#ch-1"}, {"title": "2", "href": "02-EXO.html#ch-2"}]}
        ]
    });
    let chapter = |book: &str, n: u32, words: &str| {
        let mut verses = String::new();
        for v in 1..=30 {
            verses.push_str(&format!("<sup class=\"v\">{v}</sup> {words} {book} {n}:{v}. "));
        }
        format!("<h2 id=\"ch-{n}\">Chapter {n}</h2>\n<p>{verses}</p>\n")
    };
    let genesis = format!(
        "<h1>Genesis</h1>\n{}{}",
        chapter(
            "GEN",
            1,
            "In the beginning God created the heavens and the earth, in"
        ),
        chapter("GEN", 2, "Thus the heavens and the earth were finished, in")
    );
    let exo = format!(
        "<h1>Exodus</h1>\n{}{}<p><a href=\"01-GEN.html#ch-2\">See Genesis 2</a></p>",
        chapter("EXO", 1, "These are the names of the sons of Israel, in"),
        chapter("EXO", 2, "Now a man from the house of Levi, in")
    );
    Converted {
        files: vec![
            ("index.json".into(), serde_json::to_vec(&nav).unwrap()),
            ("manifest.json".into(), serde_json::to_vec(&manifest).unwrap()),
            (
                "manifest.yaml".into(),
                b"dublin_core:\n  title: Unlocked Literal Bible\n".to_vec(),
            ),
            ("01-GEN.html".into(), genesis.into_bytes()),
            ("02-EXO.html".into(), exo.into_bytes()),
        ],
        manifest,
    }
}

/// One page of a translation help (`resource` = `ta`, `tn`, …) as the
/// converter writes it.
pub fn help_page(resource: &str, rt: ResourceType, page: &str, fragment: &str) -> Converted {
    let mut manifest = manifest(rt, "en", "English", "ltr", resource);
    manifest.resource_id = resource.into();
    let nav = json!({
        "title": resource, "resource_type": rt.as_str(), "direction": "ltr", "language": "en",
        "pages": [page], "items": [{"title": page, "href": page}]
    });
    Converted {
        files: vec![
            ("index.json".into(), serde_json::to_vec(&nav).unwrap()),
            ("manifest.json".into(), serde_json::to_vec(&manifest).unwrap()),
            (page.into(), fragment.as_bytes().to_vec()),
        ],
        manifest,
    }
}

/// An S3 ObjectCreated event for `keys` in the CDN bucket, keys as given (already encoded).
pub fn s3_event(keys: &[&str]) -> aws_lambda_events::event::s3::S3Event {
    let records: Vec<_> = keys
        .iter()
        .map(|k| {
            json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-west-2",
                "eventTime": "2024-05-01T12:00:40.000Z", "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:X"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {},
                "s3": {"s3SchemaVersion": "1.0", "configurationId": "deploy",
                       "bucket": {"name": "cdn", "ownerIdentity": {"principalId": "X"}, "arn": "arn:aws:s3:::cdn"},
                       "object": {"key": k, "size": 100, "eTag": "abc", "sequencer": "0A"}}
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}
