//! The deployer's entry points: the S3 event handler and the deployment of
//! one build folder from the CDN bucket to the website bucket.
//!
//! It reads only from the CDN bucket (whose `build_log.json` writes trigger
//! it) and writes only to the website bucket, so it can never trigger itself.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;
use tx_shared::domain::build_log::{BUILD_LOG, BuildLog, DisplayStatus};
use tx_shared::domain::convert::output_files::{DOWNLOADS_JSON, INDEX_JSON, MANIFEST_JSON};
use tx_shared::domain::job::{JobStatus, repo_prefix};
use tx_shared::domain::project::RefRecord;
use tx_shared::identity::{GitRef, Segment};
use tx_shared::ports::object_store::content_type_for;
use tx_shared::ports::{JobTable, ManifestTable, ObjectStore};

use crate::config::SiteConfig;
use crate::converted::{ConvertedBuild, INDEX_HTML};
use crate::error::DeployError;
use crate::keys::{BuildPrefix, STATIC_PREFIX, decode_event_key};
use crate::landing::{Entry, own_log_dir, publish_entry};
use crate::placeholder::render_placeholder;
use crate::project::{PROJECT_JSON, derive_project, is_published};
use crate::render::{BUILD_LOG_PAGE, BuildRenderer, Placement};
use crate::site_index::publish_site_index;
use crate::site_links::{self, SiteLinks};
use crate::templates::Templates;

/// How many objects one deployment reads and writes at once.
const CONCURRENCY: usize = 8;

/// What the deployer needs from the world, built once per process.
#[derive(Clone)]
pub struct DeployerDeps {
    /// The CDN bucket: converted output and build logs (read only).
    pub cdn: Arc<dyn ObjectStore>,
    /// The website bucket: everything readers fetch (written).
    pub website: Arc<dyn ObjectStore>,
    /// The job table, for `project.json` and the landing page.
    pub jobs: Arc<dyn JobTable>,
    /// The manifest table, for the site-wide index.
    pub manifests: Arc<dyn ManifestTable>,
    /// Public addresses and templates.
    pub site: SiteConfig,
}

/// What a deployment did with the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The build is running: a placeholder page follows its log.
    Placeholder,
    /// The build's pages are published.
    Published,
    /// The build failed or was cancelled: its page says why.
    NotPublished,
    /// Nothing to do: the website already shows this build as finished
    /// (a late "in progress" event).
    Skipped,
}

/// The result of one deployment, for the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployReport {
    /// `u/<owner>/<repo>/<commit10>/`.
    pub prefix: String,
    /// The build's display status as deployed.
    pub status: DisplayStatus,
    /// What was done.
    pub outcome: Outcome,
    /// Converted pages templated.
    pub pages: usize,
    /// Objects written for the build itself (pages, assets, logs, `project.json`),
    /// not counting the landing page and the site index.
    pub written: usize,
    /// The build the repo's landing page now points at.
    pub landing: Option<String>,
    /// Oddities met on the way (missing pages, unreadable navigation).
    pub notes: Vec<String>,
}

/// S3 `ObjectCreated` on `u/*/build_log.json` in the CDN bucket: deploys every
/// build named (once each, in event order). Other keys are ignored. Returns
/// `Err` only when a store or table could not be reached, so the event is
/// delivered again; a broken build log is logged and skipped.
pub async fn handle_s3(event: S3Event, deps: &DeployerDeps) -> Result<(), DeployError> {
    let mut seen = BTreeSet::new();
    let mut builds = Vec::new();
    let mut refs = Vec::new();
    for record in &event.records {
        if let Some(name) = record.event_name.as_deref()
            && !name.starts_with("ObjectCreated")
        {
            tracing::debug!(event = name, "not an object creation; ignored");
            continue;
        }
        let Some(raw) = record.s3.object.key.as_deref() else {
            continue;
        };
        let key = decode_event_key(raw);
        if RefRecord::repo_of_key(&key).is_some() {
            refs.push(key);
            continue;
        }
        match BuildPrefix::of_build_log_key(&key) {
            Some(prefix) if seen.insert(prefix.clone()) => builds.push(prefix),
            Some(_) => {}
            None => tracing::debug!(key, "not a build log; ignored"),
        }
    }

    let mut retry = None;
    for prefix in builds {
        match deploy_build(&prefix.prefix(), deps).await {
            Ok(report) => tracing::info!(
                prefix = report.prefix,
                status = report.status.as_str(),
                outcome = ?report.outcome,
                pages = report.pages,
                written = report.written,
                landing = report.landing.as_deref().unwrap_or("-"),
                notes = ?report.notes,
                "deployed"
            ),
            Err(e) if e.is_retryable() => {
                tracing::error!(prefix = prefix.prefix(), error = %e, "deployment failed; will be retried");
                retry.get_or_insert(e);
            }
            Err(e) => tracing::error!(prefix = prefix.prefix(), error = %e, "deployment skipped"),
        }
    }
    for key in refs {
        match remove_ref(&key, deps).await {
            Ok(()) => tracing::info!(key, "ref removed"),
            Err(e) if e.is_retryable() => {
                tracing::error!(key, error = %e, "ref removal failed; will be retried");
                retry.get_or_insert(e);
            }
            Err(e) => tracing::error!(key, error = %e, "ref record skipped"),
        }
    }
    retry.map_or(Ok(()), Err)
}

/// A ref record landed (a branch or tag deleted, a pull request closed):
/// takes that ref's entry point down, unless the ref was pushed again after
/// the removal. Commit folders, other refs' pages and the landing page stay.
pub async fn remove_ref(key: &str, deps: &DeployerDeps) -> Result<(), DeployError> {
    let Some((owner, repo)) = RefRecord::repo_of_key(key) else {
        return Err(DeployError::NotABuild(key.to_string()));
    };
    let Some(record) = read_ref_record(deps.cdn.as_ref(), key).await? else {
        return Ok(());
    };
    if RefRecord::key(owner, repo, &record.git_ref) != key {
        // A record must sit at its ref's key; one elsewhere names another ref.
        return Err(DeployError::NotABuild(key.to_string()));
    }
    let templates = Templates::new(deps.site.templates_dir.as_deref());
    let index = derive_project(deps.jobs.as_ref(), owner, repo, None).await?;
    let title = repo_title(deps, owner, repo, None).await?;
    let entry = Entry::Ref(record.git_ref);
    publish_entry(
        deps.website.as_ref(),
        &templates,
        &repo_prefix(owner, repo),
        &index,
        &entry,
        Some(record.at),
        &title,
    )
    .await?;
    Ok(())
}

/// The ref record at `key` in the CDN bucket, if there is a readable one.
async fn read_ref_record(cdn: &dyn ObjectStore, key: &str) -> Result<Option<RefRecord>, DeployError> {
    let Some(body) = cdn.get(key).await? else {
        return Ok(None);
    };
    match serde_json::from_slice::<RefRecord>(&body) {
        Ok(record) => Ok(Some(record)),
        Err(e) => {
            tracing::warn!(key, error = %e, "malformed ref record; ignored");
            Ok(None)
        }
    }
}

/// Deploys the build in `cdn_prefix` (`u/<owner>/<repo>/<commit10>/`) as its
/// `build_log.json` stands now: a placeholder while it runs, its pages (or
/// its failure) once it is final, then the repo's `project.json`, landing
/// page and the site-wide index.
pub async fn deploy_build(cdn_prefix: &str, deps: &DeployerDeps) -> Result<DeployReport, DeployError> {
    let prefix = BuildPrefix::parse(cdn_prefix)?;
    let templates = Templates::new(deps.site.templates_dir.as_deref());
    let (log, raw_log) = read_build_log(deps.cdn.as_ref(), &prefix).await?;
    if log.status.is_final() {
        return deploy_finished(&prefix, log, raw_log, deps, &templates).await;
    }
    if let Some(reason) = superseded(&log, deps).await? {
        return deploy_superseded(&prefix, log, reason, deps, &templates).await;
    }

    let mut report = deploy_placeholder(&prefix, &log, raw_log, deps, &templates).await?;
    // The build may have finished, or been superseded, while the placeholder
    // was written; if so, replace it now rather than leave it waiting.
    let (again, raw_again) = read_build_log(deps.cdn.as_ref(), &prefix).await?;
    let replaced = if again.status.is_final() {
        Some(deploy_finished(&prefix, again, raw_again, deps, &templates).await?)
    } else if let Some(reason) = superseded(&again, deps).await? {
        Some(deploy_superseded(&prefix, again, reason, deps, &templates).await?)
    } else {
        None
    };
    if let Some(mut replaced) = replaced {
        replaced.written += report.written;
        report = replaced;
    }
    Ok(report)
}

/// Why the build an in-progress log describes will never run, if it will
/// not: its job was coalesced into a newer commit of the ref (the job now
/// builds another commit) or cancelled. The webhook client rewrites such a
/// log only if it finds it, and the first log of an older push can land
/// after the newer push looked (two webhooks race), so the job table, read
/// strongly, has the last word on whether a placeholder may wait.
async fn superseded(log: &BuildLog, deps: &DeployerDeps) -> Result<Option<String>, DeployError> {
    let Some(job) = deps.jobs.get(&log.job_id).await? else {
        return Ok(None);
    };
    if job.commit.commit_id != log.commit_id {
        return Ok(Some(format!("superseded by {}", job.commit10())));
    }
    if job.status == JobStatus::Cancelled {
        return Ok(Some(job.message.unwrap_or_else(|| "cancelled".to_string())));
    }
    Ok(None)
}

/// Publishes the build of a superseded commit as cancelled (a page that says
/// so, instead of a placeholder waiting for a build that will not come),
/// unless the website already shows a finished build of this commit, whose
/// pages stay.
async fn deploy_superseded(
    prefix: &BuildPrefix,
    log: BuildLog,
    reason: String,
    deps: &DeployerDeps,
    templates: &Templates,
) -> Result<DeployReport, DeployError> {
    if let Some(shown) = shown_final(prefix, deps).await? {
        let note = format!(
            "{reason}; the website keeps its {} build of this commit",
            shown.status.as_str()
        );
        let mut cancelled = log;
        cancelled.status = DisplayStatus::Cancelled;
        cancelled.success = false;
        cancelled.message = Some(reason);
        let raw = Bytes::from(serde_json::to_vec_pretty(&cancelled)?);
        let w = Writer {
            website: deps.website.as_ref(),
            written: 0.into(),
        };
        publish_own_log(prefix, &cancelled, raw, deps, templates, &w).await?;
        let mut report = skipped(prefix, shown.status, note);
        report.written = w.count();
        return Ok(report);
    }
    let mut cancelled = log;
    cancelled.status = DisplayStatus::Cancelled;
    cancelled.success = false;
    cancelled.message = Some(reason.clone());
    let raw = Bytes::from(serde_json::to_vec_pretty(&cancelled)?);
    let mut report = deploy_finished(prefix, cancelled, raw, deps, templates).await?;
    report.notes.push(format!("{reason}: no placeholder"));
    Ok(report)
}

/// The finished build log the website shows for this commit, if any: a
/// finished build's pages are never replaced by a placeholder.
async fn shown_final(prefix: &BuildPrefix, deps: &DeployerDeps) -> Result<Option<BuildLog>, DeployError> {
    let shown = deps.website.get(&prefix.key(BUILD_LOG)).await?;
    Ok(shown
        .and_then(|b| serde_json::from_slice::<BuildLog>(&b).ok())
        .filter(|shown| shown.status.is_final()))
}

/// A deployment that wrote nothing, and why.
fn skipped(prefix: &BuildPrefix, status: DisplayStatus, note: String) -> DeployReport {
    DeployReport {
        prefix: prefix.prefix(),
        status,
        outcome: Outcome::Skipped,
        pages: 0,
        written: 0,
        landing: None,
        notes: vec![note],
    }
}

async fn read_build_log(
    cdn: &dyn ObjectStore,
    prefix: &BuildPrefix,
) -> Result<(BuildLog, Bytes), DeployError> {
    let key = prefix.key(BUILD_LOG);
    let raw = cdn.get(&key).await?.ok_or_else(|| DeployError::BuildLog {
        key: key.clone(),
        reason: "not found".into(),
    })?;
    let log = serde_json::from_slice::<BuildLog>(&raw).map_err(|e| DeployError::BuildLog {
        key,
        reason: e.to_string(),
    })?;
    Ok((log, raw))
}

/// Counts what a deployment writes.
struct Writer<'a> {
    website: &'a dyn ObjectStore,
    written: std::sync::atomic::AtomicUsize,
}

impl Writer<'_> {
    async fn put(&self, key: &str, body: impl Into<Bytes>) -> Result<(), DeployError> {
        self.website.put(key, body.into(), content_type_for(key)).await?;
        self.written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    fn count(&self) -> usize {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn put_static(&self, templates: &Templates) -> Result<(), DeployError> {
        for (name, body) in templates.assets()? {
            self.put(&format!("{STATIC_PREFIX}{name}"), body).await?;
        }
        Ok(())
    }
}

async fn deploy_placeholder(
    prefix: &BuildPrefix,
    log: &BuildLog,
    raw_log: Bytes,
    deps: &DeployerDeps,
    templates: &Templates,
) -> Result<DeployReport, DeployError> {
    let shown = shown_final(prefix, deps).await?;
    if let Some(shown) = shown.as_ref().filter(|shown| shown.job_id == log.job_id) {
        let note = format!("website already shows this build as {}", shown.status.as_str());
        return Ok(skipped(prefix, shown.status, note));
    }
    let w = Writer {
        website: deps.website.as_ref(),
        written: 0.into(),
    };
    if let Some(shown) = shown.filter(|shown| is_published(shown.status)) {
        // Another build of this commit is published: its pages stay while
        // this one runs; project.json and the ref's page list it.
        let title = repo_title(deps, &prefix.owner, &prefix.repo, None).await?;
        let landing = publish_repo(deps, templates, prefix, log, &title, &w).await?;
        let note = format!(
            "the website keeps its {} build of this commit",
            shown.status.as_str()
        );
        let mut report = skipped(prefix, log.status, note);
        report.written = w.count();
        report.landing = landing;
        return Ok(report);
    }
    w.put_static(templates).await?;
    let placement = Placement::Website {
        prefix,
        site: &deps.site,
    };
    w.put(
        &prefix.key(INDEX_HTML),
        render_placeholder(templates, log, placement)?,
    )
    .await?;
    w.put(&prefix.key(BUILD_LOG), raw_log).await?;
    let title = repo_title(deps, &prefix.owner, &prefix.repo, None).await?;
    let landing = publish_repo(deps, templates, prefix, log, &title, &w).await?;
    Ok(DeployReport {
        prefix: prefix.prefix(),
        status: log.status,
        outcome: Outcome::Placeholder,
        pages: 0,
        written: w.count(),
        landing,
        notes: Vec::new(),
    })
}

async fn deploy_finished(
    prefix: &BuildPrefix,
    log: BuildLog,
    raw_log: Bytes,
    deps: &DeployerDeps,
    templates: &Templates,
) -> Result<DeployReport, DeployError> {
    let w = Writer {
        website: deps.website.as_ref(),
        written: 0.into(),
    };
    if !is_published(log.status)
        && let Some(shown) = shown_final(prefix, deps)
            .await?
            .filter(|shown| is_published(shown.status) && shown.job_id != log.job_id)
    {
        return keep_published(prefix, &log, raw_log, &shown, deps, templates, w).await;
    }
    let cdn = deps.cdn.as_ref();
    let base = prefix.prefix();
    let files: Vec<String> = cdn
        .list(&base)
        .await?
        .into_iter()
        .filter_map(|k| k.strip_prefix(&base).map(str::to_string))
        .filter(|k| !k.is_empty())
        .collect();
    let index_json = cdn.get(&prefix.key(INDEX_JSON)).await?;
    let manifest_json = cdn.get(&prefix.key(MANIFEST_JSON)).await?;
    let downloads_json = cdn.get(&prefix.key(DOWNLOADS_JSON)).await?;
    let status = log.status;
    let current = log.clone();
    let build = ConvertedBuild::assemble(
        &files,
        index_json.as_deref(),
        manifest_json.as_deref(),
        Some(log),
        &prefix.repo,
    )
    .with_downloads(downloads_json.as_deref());
    let mut notes = build.notes.clone();
    let placement = Placement::Website {
        prefix,
        site: &deps.site,
    };
    let renderer = BuildRenderer::new(templates, &build, placement);
    // Listed once: for the siblings links lead to and the site-wide index.
    let manifests = deps.manifests.list().await?;
    // Looked up by the first page that links to another resource, if any.
    let siblings = tokio::sync::OnceCell::new();
    w.put_static(templates).await?;

    let mut pages = 0;
    if build.is_published() {
        // Assets first, then pages: a page never links to a file not yet there.
        // Futures are made before they are streamed: a closure inside the
        // stream would make the whole deploy future not `Send` (rustc #102211).
        let copies: Vec<_> = build
            .assets
            .iter()
            .map(|name| {
                let w = &w;
                async move {
                    match cdn.get(&prefix.key(name)).await? {
                        Some(body) => w.put(&prefix.key(name), body).await.map(|_| None),
                        None => Ok(Some(format!("{name} vanished from the CDN"))),
                    }
                }
            })
            .collect();
        let copied = futures::stream::iter(copies)
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<Result<Option<String>, DeployError>>>()
            .await;
        for r in copied {
            notes.extend(r?);
        }
        let renders: Vec<_> = build
            .pages
            .iter()
            .map(|page| {
                let (renderer, w, siblings, manifests, build) =
                    (&renderer, &w, &siblings, &manifests, &build);
                async move {
                    let Some(fragment) = cdn.get(&prefix.key(page)).await? else {
                        return Ok(Some(format!("{page} vanished from the CDN")));
                    };
                    let mut fragment = String::from_utf8_lossy(&fragment);
                    if SiteLinks::wanted(&fragment) {
                        let links = siblings
                            .get_or_try_init(|| {
                                site_links::discover(
                                    manifests,
                                    deps.website.as_ref(),
                                    &prefix.owner,
                                    &prefix.repo,
                                    build.lang(),
                                )
                            })
                            .await?;
                        fragment = Cow::Owned(links.rewrite(&fragment, page).into_owned());
                    }
                    let html = renderer.render_page(page, &fragment)?;
                    w.put(&prefix.key(page), html).await.map(|_| None)
                }
            })
            .collect();
        let rendered = futures::stream::iter(renders)
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<Result<Option<String>, DeployError>>>()
            .await;
        for r in rendered {
            match r? {
                Some(note) => notes.push(note),
                None => pages += 1,
            }
        }
    }
    if let Some(start) = renderer.render_start()? {
        w.put(&prefix.key(INDEX_HTML), start).await?;
    }
    if let Some(log_page) = renderer.render_log_page()? {
        w.put(&prefix.key(BUILD_LOG_PAGE), log_page).await?;
    }
    if let Some(manifest) = manifest_json {
        w.put(&prefix.key(MANIFEST_JSON), manifest).await?;
    }
    publish_own_log(prefix, &current, raw_log.clone(), deps, templates, &w).await?;
    // Last: a final build log on the website means "this build is all there"
    // (the placeholder reloads on it, the landing page trusts it).
    w.put(&prefix.key(BUILD_LOG), raw_log).await?;

    let title = repo_title(deps, &prefix.owner, &prefix.repo, Some(build.title())).await?;
    let landing = publish_repo(deps, templates, prefix, &current, &title, &w).await?;
    publish_site_index(&manifests, deps.website.as_ref(), templates).await?;
    if !notes.is_empty() {
        tracing::warn!(prefix = base, notes = ?notes, "deployed with notes");
    }
    Ok(DeployReport {
        prefix: base,
        status,
        outcome: if build.is_published() {
            Outcome::Published
        } else {
            Outcome::NotPublished
        },
        pages,
        written: w.count(),
        landing,
        notes,
    })
}

/// A build that did not succeed, of a commit the website shows as published:
/// the commit folder keeps its pages, `index.html` and `build_log.json`; the
/// build's own log is published beside them and listed in `project.json`.
async fn keep_published(
    prefix: &BuildPrefix,
    log: &BuildLog,
    raw_log: Bytes,
    shown: &BuildLog,
    deps: &DeployerDeps,
    templates: &Templates,
    w: Writer<'_>,
) -> Result<DeployReport, DeployError> {
    w.put_static(templates).await?;
    publish_own_log(prefix, log, raw_log, deps, templates, &w).await?;
    let title = repo_title(deps, &prefix.owner, &prefix.repo, None).await?;
    let landing = publish_repo(deps, templates, prefix, log, &title, &w).await?;
    Ok(DeployReport {
        prefix: prefix.prefix(),
        status: log.status,
        outcome: Outcome::NotPublished,
        pages: 0,
        written: w.count(),
        landing,
        notes: vec![format!(
            "the website keeps its {} build of this commit (job {})",
            shown.status.as_str(),
            shown.job_id
        )],
    })
}

/// Writes a finished build's own log, `builds/<job_id>/build_log.json` and
/// its readable page, below the commit folder: every build keeps its log,
/// whichever build of the commit the folder shows.
async fn publish_own_log(
    prefix: &BuildPrefix,
    log: &BuildLog,
    raw_log: Bytes,
    deps: &DeployerDeps,
    templates: &Templates,
    w: &Writer<'_>,
) -> Result<(), DeployError> {
    if !Segment::is_valid(&log.job_id) {
        tracing::warn!(
            job_id = log.job_id,
            "job id is not a path segment; no log of its own"
        );
        return Ok(());
    }
    let dir = own_log_dir(&prefix.commit10, &log.job_id);
    let build = ConvertedBuild::assemble(&[], None, None, Some(log.clone()), &prefix.repo);
    let placement = Placement::Website {
        prefix,
        site: &deps.site,
    };
    let renderer = BuildRenderer::new(templates, &build, placement);
    let below = dir.strip_prefix(&format!("{}/", prefix.commit10)).unwrap_or(&dir);
    if let Some(page) = renderer.render_own_log_page(below)? {
        w.put(&format!("{}{dir}{BUILD_LOG_PAGE}", prefix.repo_prefix()), page)
            .await?;
    }
    w.put(&format!("{}{dir}{BUILD_LOG}", prefix.repo_prefix()), raw_log)
        .await
}

/// The repo's display title: the manifest table's, else the build's, else its name.
async fn repo_title(
    deps: &DeployerDeps,
    owner: &str,
    repo: &str,
    build_title: Option<&str>,
) -> Result<String, DeployError> {
    let row = deps.manifests.get(&format!("{owner}/{repo}")).await?;
    Ok(row
        .map(|r| r.title)
        .filter(|t| !t.is_empty())
        .or_else(|| build_title.map(str::to_string))
        .unwrap_or_else(|| repo.to_string()))
}

/// Writes `project.json` and the landing page of the build's repo.
async fn publish_repo(
    deps: &DeployerDeps,
    templates: &Templates,
    prefix: &BuildPrefix,
    log: &BuildLog,
    title: &str,
    w: &Writer<'_>,
) -> Result<Option<String>, DeployError> {
    let index = derive_project(deps.jobs.as_ref(), &prefix.owner, &prefix.repo, Some(log)).await?;
    let json = serde_json::to_vec_pretty(&index)?;
    let repo_prefix = prefix.repo_prefix();
    w.put(&format!("{repo_prefix}{PROJECT_JSON}"), json).await?;
    if let Ok(git_ref) = GitRef::parse(&log.git_ref) {
        let record_key = RefRecord::key(&prefix.owner, &prefix.repo, &git_ref);
        let since = read_ref_record(deps.cdn.as_ref(), &record_key)
            .await?
            .map(|r| r.at);
        let entry = Entry::Ref(git_ref);
        publish_entry(
            deps.website.as_ref(),
            templates,
            &repo_prefix,
            &index,
            &entry,
            since,
            title,
        )
        .await?;
    }
    let website = deps.website.as_ref();
    publish_entry(
        website,
        templates,
        &repo_prefix,
        &index,
        &Entry::Landing,
        None,
        title,
    )
    .await
}
