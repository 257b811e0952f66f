//! A repository's entry points: the landing page `u/<owner>/<repo>/index.html`,
//! which follows the default branch, and one page per ref
//! (`branch/<name>/`, `tag/<tag>/`, `pr/<n>/`), which follows that ref. Each
//! sends readers to the newest published build it follows and lists builds.
//!
//! "Newest" is push order on the ref (`created_at`, then job id, from the
//! job table), and a build counts only once the website holds it (its final
//! `build_log.json` is the last file a deployment writes), so an older build
//! that finishes late never moves a page backwards, and a page never points
//! at a folder still being written.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tx_shared::domain::build_log::{BUILD_LOG, BuildLog};
use tx_shared::domain::convert::Downloads;
use tx_shared::domain::convert::output_files::DOWNLOADS_JSON;
use tx_shared::domain::project::{ProjectCommit, ProjectIndex};
use tx_shared::identity::GitRef;
use tx_shared::ports::ObjectStore;
use tx_shared::ports::object_store::content_type_for;

use crate::error::DeployError;
use crate::project::is_published;
use crate::render::{BUILD_LOG_PAGE, human_time, status_label};
use crate::templates::Templates;

/// How many published builds are probed, newest first, for one already on
/// the website (the newest one nearly always is).
const MAX_PROBES: usize = 20;

/// Folder, below a build folder, of each build's own log (a failed rebuild
/// of a published commit keeps its log there, beside the pages it left).
pub const BUILDS_DIR: &str = "builds";

/// One entry point of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `u/<owner>/<repo>/index.html`: follows the default branch.
    Landing,
    /// `u/<owner>/<repo>/<kind>/<name>/index.html`: follows one ref.
    Ref(GitRef),
}

impl Entry {
    /// The entry point's folder below the repository's (`""`, `branch/x/`).
    fn dir(&self) -> String {
        match self {
            Entry::Landing => String::new(),
            Entry::Ref(r) => r.entry_point(),
        }
    }

    /// From the entry point's folder back up to the repository's (branch
    /// names may hold `/`, so the depth varies).
    fn up(&self) -> String {
        "../".repeat(self.dir().matches('/').count())
    }

    /// Key of the entry point's page.
    pub fn key(&self, repo_prefix: &str) -> String {
        format!("{repo_prefix}{}index.html", self.dir())
    }

    /// The ref whose builds the page follows, if it can be named.
    fn followed(&self, index: &ProjectIndex) -> Option<GitRef> {
        match self {
            Entry::Landing => index.default_ref(),
            Entry::Ref(r) => Some(r.clone()),
        }
    }
}

/// Key of a build's own log below its commit folder.
pub fn own_log_dir(commit10: &str, job_id: &str) -> String {
    format!("{commit10}/{BUILDS_DIR}/{job_id}/")
}

/// One build as an entry point lists it.
#[derive(Debug, Serialize)]
struct BuildRow<'a> {
    id: &'a str,
    job_id: &'a str,
    git_ref: &'a str,
    ref_kind: &'static str,
    href: String,
    log_href: String,
    status: &'static str,
    status_label: &'static str,
    created_at: String,
    created_iso: String,
    ended_at: Option<String>,
    is_latest: bool,
}

/// The newest of `candidates` (newest first) that is published and whose
/// commit folder the website already shows as published.
pub async fn latest_published<'a>(
    website: &dyn ObjectStore,
    repo_prefix: &str,
    candidates: impl Iterator<Item = &'a ProjectCommit>,
) -> Result<Option<&'a ProjectCommit>, DeployError> {
    for commit in candidates.filter(|c| is_published(c.status)).take(MAX_PROBES) {
        let key = format!("{repo_prefix}{}/{BUILD_LOG}", commit.id);
        let Some(body) = website.get(&key).await? else {
            continue;
        };
        match serde_json::from_slice::<BuildLog>(&body) {
            Ok(log) if is_published(log.status) => return Ok(Some(commit)),
            Ok(_) => continue,
            Err(e) => tracing::warn!(key, error = %e, "website holds a malformed build log"),
        }
    }
    Ok(None)
}

/// The builds an entry point follows, newest first: the followed ref's,
/// requested after `since` (the ref's removal) when it was removed.
fn followed<'a>(
    index: &'a ProjectIndex,
    entry: &Entry,
    since: Option<DateTime<Utc>>,
) -> Vec<&'a ProjectCommit> {
    let Some(git_ref) = entry.followed(index) else {
        return Vec::new();
    };
    index
        .commits
        .iter()
        .filter(|c| c.is_of(&git_ref))
        .filter(|c| since.is_none_or(|at| c.created_at > at))
        .collect()
}

/// One file of a release as its version page offers it.
#[derive(Debug, Serialize)]
struct DownloadRow {
    name: String,
    href: String,
    size: String,
}

/// The downloads of the build a tag's page points at (`downloads.json` in
/// its commit folder on the website): a release's version page offers its
/// files, as Sugar Labs' store offered each version's bundle. Other pages,
/// and builds without downloads, offer none; an unreadable file is logged.
async fn downloads_of(
    website: &dyn ObjectStore,
    repo_prefix: &str,
    entry: &Entry,
    latest: Option<&ProjectCommit>,
) -> Result<Option<Downloads>, DeployError> {
    let (Entry::Ref(GitRef::Tag(_)), Some(latest)) = (entry, latest) else {
        return Ok(None);
    };
    let key = format!("{repo_prefix}{}/{DOWNLOADS_JSON}", latest.id);
    let Some(body) = website.get(&key).await? else {
        return Ok(None);
    };
    match serde_json::from_slice::<Downloads>(&body) {
        Ok(d) => Ok(Some(d)),
        Err(e) => {
            tracing::warn!(key, error = %e, "website holds malformed downloads");
            Ok(None)
        }
    }
}

/// A size as a reader reads it.
fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.0} kB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// Renders the page of `entry`, pointing at `latest` and offering its
/// `downloads` (a release's files).
pub fn render_entry(
    templates: &Templates,
    index: &ProjectIndex,
    entry: &Entry,
    latest: Option<&ProjectCommit>,
    downloads: Option<&Downloads>,
    title: &str,
) -> Result<String, DeployError> {
    let up = entry.up();
    let download_rows: Vec<DownloadRow> = match (latest, downloads) {
        (Some(latest), Some(d)) => d
            .files
            .iter()
            .map(|f| DownloadRow {
                name: f.name.clone(),
                href: format!("{up}{}/{}", latest.id, f.path),
                size: human_size(f.size),
            })
            .collect(),
        _ => Vec::new(),
    };
    let listed: Vec<&ProjectCommit> = match entry {
        Entry::Landing => index.commits.iter().collect(),
        Entry::Ref(_) => followed(index, entry, None),
    };
    let latest_job = latest.map(|c| c.job_id.as_str());
    let rows: Vec<BuildRow> = listed
        .iter()
        .map(|c| BuildRow {
            id: &c.id,
            job_id: &c.job_id,
            git_ref: &c.ref_name,
            ref_kind: c.ref_kind.as_str(),
            href: format!("{up}{}/index.html", c.id),
            log_href: format!("{up}{}{BUILD_LOG_PAGE}", own_log_dir(&c.id, &c.job_id)),
            status: c.status.as_str(),
            status_label: status_label(c.status),
            created_at: human_time(&c.created_at),
            created_iso: tx_shared::time::format(&c.created_at),
            ended_at: c.ended_at.as_ref().map(human_time),
            is_latest: Some(c.job_id.as_str()) == latest_job,
        })
        .collect();
    let followed_ref = entry.followed(index);
    let newest_job = followed(index, entry, None).first().map(|c| c.job_id.clone());
    let newest = rows
        .iter()
        .find(|r| newest_job.as_deref() == Some(r.job_id))
        .filter(|r| !r.is_latest);
    let ctx = minijinja::context! {
        lang => "en",
        dir => "ltr",
        title => title,
        owner => &index.user,
        repo => &index.repo,
        repo_url => (!index.repo_url.is_empty()).then_some(&index.repo_url),
        followed_kind => followed_ref.as_ref().map(|r| r.kind().as_str()),
        followed_name => followed_ref.as_ref().map(GitRef::name),
        is_landing => matches!(entry, Entry::Landing),
        repo_home => format!("{up}index.html"),
        project_json => format!("{up}project.json"),
        latest => rows.iter().find(|r| r.is_latest),
        newest => newest,
        builds => &rows,
        downloads => &download_rows,
        static_root => format!("{up}../../../"),
        site_home => format!("{up}../../../index.html"),
    };
    templates.render("landing.html", ctx)
}

/// Writes the page of `entry`, then checks once more that no build deployed
/// meanwhile by another deployer is newer (S3 keeps the last write, so the
/// later writer re-points the page if it has to). A ref removed at `since`
/// with no build pushed after it has no page: it is deleted instead.
pub async fn publish_entry(
    website: &dyn ObjectStore,
    templates: &Templates,
    repo_prefix: &str,
    index: &ProjectIndex,
    entry: &Entry,
    since: Option<DateTime<Utc>>,
    title: &str,
) -> Result<Option<String>, DeployError> {
    let key = entry.key(repo_prefix);
    let candidates = followed(index, entry, since);
    if since.is_some() && candidates.is_empty() {
        website.delete(&key).await?;
        return Ok(None);
    }
    let mut target = latest_published(website, repo_prefix, candidates.iter().copied())
        .await?
        .map(|c| c.job_id.clone());
    for _ in 0..2 {
        let latest = candidates
            .iter()
            .copied()
            .find(|c| Some(&c.job_id) == target.as_ref());
        let downloads = downloads_of(website, repo_prefix, entry, latest).await?;
        let html = render_entry(templates, index, entry, latest, downloads.as_ref(), title)?;
        website.put(&key, html.into(), content_type_for(&key)).await?;
        let again = latest_published(website, repo_prefix, candidates.iter().copied())
            .await?
            .map(|c| c.job_id.clone());
        if again == target {
            break;
        }
        target = again;
    }
    Ok(target.and_then(|job| candidates.iter().find(|c| c.job_id == job).map(|c| c.id.clone())))
}
