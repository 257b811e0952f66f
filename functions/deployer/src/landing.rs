//! The repo's landing page `u/<owner>/<repo>/index.html`: sends readers to the
//! newest published build and lists every build.
//!
//! "Newest" is by `created_at` from the job table, and a build counts only
//! once the website holds it (its final `build_log.json` is the last file a
//! deployment writes), so an older build that finishes late never moves the
//! page backwards, and the page never points at a folder still being written.

use serde::Serialize;
use tx_shared::domain::build_log::{BUILD_LOG, BuildLog};
use tx_shared::domain::project::{ProjectCommit, ProjectIndex};
use tx_shared::ports::ObjectStore;

use crate::error::DeployError;
use crate::keys::BuildPrefix;
use crate::project::is_published;
use crate::render::{human_time, status_label};
use crate::templates::Templates;

/// How many published builds are probed, newest first, for one already on
/// the website (the newest one nearly always is).
const MAX_PROBES: usize = 20;

/// One build as the landing page lists it.
#[derive(Debug, Serialize)]
struct BuildRow<'a> {
    id: &'a str,
    href: String,
    log_href: String,
    status: &'static str,
    status_label: &'static str,
    created_at: String,
    created_iso: String,
    ended_at: Option<String>,
    is_latest: bool,
}

/// The newest build of `index` that is published and already on the website.
pub async fn latest_published<'a>(
    website: &dyn ObjectStore,
    prefix: &BuildPrefix,
    index: &'a ProjectIndex,
) -> Result<Option<&'a ProjectCommit>, DeployError> {
    let candidates = index
        .commits
        .iter()
        .filter(|c| is_published(c.status))
        .take(MAX_PROBES);
    for commit in candidates {
        let key = format!("{}{}/{}", prefix.repo_prefix(), commit.id, BUILD_LOG);
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

/// Renders the landing page for `index`, pointing at `latest`.
pub fn render_landing(
    templates: &Templates,
    index: &ProjectIndex,
    latest: Option<&ProjectCommit>,
    title: &str,
) -> Result<String, DeployError> {
    let latest_id = latest.map(|c| c.id.as_str());
    let rows: Vec<BuildRow> = index
        .commits
        .iter()
        .map(|c| BuildRow {
            id: &c.id,
            href: format!("{}/index.html", c.id),
            log_href: format!("{}/{}", c.id, crate::render::BUILD_LOG_PAGE),
            status: c.status.as_str(),
            status_label: status_label(c.status),
            created_at: human_time(&c.created_at),
            created_iso: tx_shared::time::format(&c.created_at),
            ended_at: c.ended_at.as_ref().map(human_time),
            is_latest: Some(c.id.as_str()) == latest_id,
        })
        .collect();
    let newest = rows.first().filter(|r| !r.is_latest);
    let ctx = minijinja::context! {
        lang => "en",
        dir => "ltr",
        title => title,
        owner => &index.user,
        repo => &index.repo,
        repo_url => (!index.repo_url.is_empty()).then_some(&index.repo_url),
        latest => rows.iter().find(|r| r.is_latest),
        newest => newest,
        builds => &rows,
        static_root => "../../../",
        site_home => "../../../index.html",
    };
    templates.render("landing.html", ctx)
}

/// Writes the landing page of the repo of `prefix`, then checks once more
/// that no build deployed meanwhile by another deployer is newer (S3 keeps
/// the last write, so the later writer re-points the page if it has to).
pub async fn publish_landing(
    website: &dyn ObjectStore,
    templates: &Templates,
    prefix: &BuildPrefix,
    index: &ProjectIndex,
    title: &str,
) -> Result<Option<String>, DeployError> {
    let key = format!("{}index.html", prefix.repo_prefix());
    let mut target = latest_published(website, prefix, index)
        .await?
        .map(|c| c.id.clone());
    for _ in 0..2 {
        let latest = index.commits.iter().find(|c| Some(&c.id) == target.as_ref());
        let html = render_landing(templates, index, latest, title)?;
        website
            .put(
                &key,
                html.into(),
                tx_shared::ports::object_store::content_type_for(&key),
            )
            .await?;
        let again = latest_published(website, prefix, index)
            .await?
            .map(|c| c.id.clone());
        if again == target {
            break;
        }
        target = again;
    }
    Ok(target)
}
