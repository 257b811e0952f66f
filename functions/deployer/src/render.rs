//! Templating of one finished build: every page in its resource type's
//! layout, the start page (table of contents, or the failure), and the
//! readable build log.
//!
//! Rendering is pure (strings in, strings out) so the website deployment and
//! the offline preview share it and tests need no store.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::manifest::ResourceType;

use crate::config::SiteConfig;
use crate::converted::{ConvertedBuild, INDEX_HTML};
use crate::diagnostics::Diagnostic;
use crate::error::DeployError;
use crate::keys::BuildPrefix;
use crate::nav::{PageNav, up_to_build_root};
use crate::templates::Templates;

/// Name of the readable build log page in each build folder.
pub const BUILD_LOG_PAGE: &str = "build-log.html";

/// Where a rendered build is placed, which decides its links out of the build folder.
#[derive(Debug, Clone, Copy)]
pub enum Placement<'a> {
    /// In the website bucket at `u/<owner>/<repo>/<commit10>/`, beside the
    /// repo's landing page and under the site-wide index.
    Website {
        /// The build.
        prefix: &'a BuildPrefix,
        /// Public addresses.
        site: &'a SiteConfig,
    },
    /// At the root of a preview folder, with `static/` beside the pages.
    Local,
}

impl Placement<'_> {
    /// From the build folder to the folder that holds `static/`.
    fn to_site_root(self) -> &'static str {
        match self {
            Placement::Website { .. } => "../../../../",
            Placement::Local => "",
        }
    }
}

/// What every template of a build gets.
#[derive(Debug, Serialize)]
pub(crate) struct Common {
    pub lang: String,
    pub dir: &'static str,
    pub title: String,
    pub resource_type: &'static str,
    pub type_label: &'static str,
    pub language_name: Option<String>,
    /// Relative path to the folder holding `static/`.
    pub static_root: String,
    /// Relative path to the build folder.
    pub build_root: String,
    /// Relative link to the repo's landing page (website only).
    pub repo_home: Option<String>,
    /// Relative link to the site-wide index (website only).
    pub site_home: Option<String>,
    /// Absolute URL of this page (website only).
    pub canonical: Option<String>,
    /// The build's state; `None` in an offline preview without a log.
    pub build: Option<BuildView>,
    /// `owner/repo`, when known.
    pub repo_id: Option<String>,
}

/// The build log as templates show it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BuildView {
    pub status: &'static str,
    pub status_label: &'static str,
    pub is_final: bool,
    pub published: bool,
    pub commit10: String,
    pub commit_id: String,
    pub commit_url: Option<String>,
    pub commit_message: Option<String>,
    pub committed_by: Option<String>,
    pub repo_url: Option<String>,
    pub git_ref: String,
    pub job_id: String,
    pub message: Option<String>,
    pub created_at: String,
    pub created_iso: String,
    pub ended_at: Option<String>,
    pub ended_iso: Option<String>,
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
    pub log: Vec<String>,
    /// Relative link to the readable log page.
    pub log_page: String,
    /// Relative link to `build_log.json`.
    pub log_json: String,
    /// Absolute link to the raw output on the CDN (website only).
    pub cdn_folder: Option<String>,
}

/// A person's words for a build state.
pub fn status_label(status: DisplayStatus) -> &'static str {
    match status {
        DisplayStatus::Requested => "Waiting to build",
        DisplayStatus::Started => "Building",
        DisplayStatus::Success => "Published",
        DisplayStatus::Warnings => "Published with warnings",
        DisplayStatus::Errors => "Published with errors",
        DisplayStatus::Failed => "Build failed",
        DisplayStatus::Cancelled => "Replaced by a newer push",
    }
}

/// A person's name for a resource type.
pub fn type_label(t: ResourceType) -> &'static str {
    match t {
        ResourceType::Bible => "Bible",
        ResourceType::Obs => "Open Bible Stories",
        ResourceType::Ta => "translationAcademy",
        ResourceType::Tn => "translationNotes",
        ResourceType::Tq => "translationQuestions",
        ResourceType::Tw => "translationWords",
        ResourceType::Generic => "Text",
    }
}

/// The layout template of a resource type.
pub fn layout_for(t: ResourceType) -> &'static str {
    match t {
        ResourceType::Bible => "bible.html",
        ResourceType::Obs => "obs.html",
        ResourceType::Ta => "ta.html",
        ResourceType::Tn => "tn.html",
        ResourceType::Tq => "tq.html",
        ResourceType::Tw => "tw.html",
        ResourceType::Generic => "generic.html",
    }
}

/// A readable UTC time.
pub(crate) fn human_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl BuildView {
    /// The view of `log` from a page `build_root` away from the build folder.
    pub(crate) fn of(log: &BuildLog, build_root: &str, cdn_folder: Option<String>) -> BuildView {
        BuildView {
            status: log.status.as_str(),
            status_label: status_label(log.status),
            is_final: log.status.is_final(),
            published: matches!(
                log.status,
                DisplayStatus::Success | DisplayStatus::Warnings | DisplayStatus::Errors
            ),
            commit10: tx_shared::domain::job::commit10(&log.commit_id).to_string(),
            commit_id: log.commit_id.clone(),
            commit_url: log.commit_url.clone(),
            commit_message: log.commit_message.clone(),
            committed_by: log.committed_by.clone(),
            repo_url: log.repo_url.clone(),
            git_ref: log.git_ref.clone(),
            job_id: log.job_id.clone(),
            message: log.message.clone(),
            created_at: human_time(&log.created_at),
            created_iso: tx_shared::time::format(&log.created_at),
            ended_at: log.ended_at.as_ref().map(human_time),
            ended_iso: log.ended_at.as_ref().map(tx_shared::time::format),
            warnings: Diagnostic::parse_all(&log.warnings),
            errors: Diagnostic::parse_all(&log.errors),
            log: log.log.clone(),
            log_page: format!("{build_root}{BUILD_LOG_PAGE}"),
            log_json: format!("{build_root}{}", tx_shared::domain::build_log::BUILD_LOG),
            cdn_folder,
        }
    }
}

/// Renders the pages of one build.
pub struct BuildRenderer<'a> {
    templates: &'a Templates,
    build: &'a ConvertedBuild,
    placement: Placement<'a>,
}

#[derive(Serialize)]
struct PageContext<'a> {
    #[serde(flatten)]
    common: Common,
    page: &'a str,
    page_title: String,
    /// The fragment brings its own `<h1>`, so the layout adds none.
    own_heading: bool,
    /// That `<h1>`, split off the fragment so the layout can put the
    /// page's chapter links under it (empty when the fragment has none).
    content_head: minijinja::Value,
    nav: PageNav,
    content: minijinja::Value,
}

/// Splits a leading `<h1>…</h1>` off a fragment.
fn split_heading(fragment: &str) -> (&str, &str) {
    let trimmed = fragment.trim_start();
    if trimmed.starts_with("<h1")
        && let Some(end) = trimmed.find("</h1>")
    {
        let cut = end + "</h1>".len();
        if !trimmed[3..end].contains("<h1") {
            return (&trimmed[..cut], &trimmed[cut..]);
        }
    }
    ("", fragment)
}

impl<'a> BuildRenderer<'a> {
    /// A renderer of `build` placed at `placement`.
    pub fn new(
        templates: &'a Templates,
        build: &'a ConvertedBuild,
        placement: Placement<'a>,
    ) -> BuildRenderer<'a> {
        BuildRenderer {
            templates,
            build,
            placement,
        }
    }

    /// What every template gets, for a page named `page`.
    pub(crate) fn common(&self, page: &str) -> Common {
        let build_root = up_to_build_root(page);
        let (repo_home, site_home, canonical, cdn_folder, repo_id) = match self.placement {
            Placement::Website { prefix, site } => (
                Some(format!("{build_root}../index.html")),
                Some(format!("{build_root}../../../../index.html")),
                Some(site.site_link(&prefix.key(page))),
                Some(site.cdn_link(&prefix.prefix())),
                Some(prefix.repo_id()),
            ),
            Placement::Local => (
                None,
                None,
                None,
                None,
                self.build
                    .log
                    .as_ref()
                    .map(|l| format!("{}/{}", l.repo_owner, l.repo_name)),
            ),
        };
        Common {
            lang: self.build.lang().to_string(),
            dir: self.build.dir(),
            title: self.build.title().to_string(),
            resource_type: self.build.resource_type().as_str(),
            type_label: type_label(self.build.resource_type()),
            language_name: self.build.language_name().map(str::to_string),
            static_root: format!("{build_root}{}", self.placement.to_site_root()),
            build_root: build_root.clone(),
            repo_home,
            site_home,
            canonical,
            build: self
                .build
                .log
                .as_ref()
                .map(|l| BuildView::of(l, &build_root, cdn_folder)),
            repo_id,
        }
    }

    /// One converted page (an HTML fragment, its `rc://` links resolved by
    /// [`crate::SiteLinks::rewrite`]) in its resource type's layout.
    pub fn render_page(&self, page: &str, fragment: &str) -> Result<String, DeployError> {
        let nav = PageNav::for_page(&self.build.nav, page, false);
        let (head, body) = split_heading(fragment);
        let ctx = PageContext {
            common: self.common(page),
            page,
            page_title: nav.title.clone(),
            own_heading: fragment.contains("<h1"),
            content_head: minijinja::Value::from_safe_string(head.to_string()),
            nav,
            content: minijinja::Value::from_safe_string(body.to_string()),
        };
        self.templates.render(layout_for(self.build.resource_type()), ctx)
    }

    /// The build's `index.html` when no converted page is the start page: the
    /// table of contents of a published build, else the failure.
    pub fn render_start(&self) -> Result<Option<String>, DeployError> {
        if self.build.is_published() && self.build.has_own_index() {
            return Ok(None);
        }
        let nav = PageNav::for_page(&self.build.nav, INDEX_HTML, true);
        let first = self
            .build
            .pages
            .first()
            .map(|p| crate::nav::relative_href(INDEX_HTML, p));
        let ctx = minijinja::context! {
            page => INDEX_HTML,
            page_title => self.build.title(),
            toc => nav,
            first_page => first,
            page_count => self.build.pages.len(),
            ..minijinja::Value::from_serialize(self.common(INDEX_HTML))
        };
        let template = if self.build.is_published() {
            "toc.html"
        } else {
            "failed.html"
        };
        self.templates.render(template, ctx).map(Some)
    }

    /// The readable build log (`build-log.html`), when there is a log.
    pub fn render_log_page(&self) -> Result<Option<String>, DeployError> {
        if self.build.log.is_none() {
            return Ok(None);
        }
        let nav = PageNav::for_page(&self.build.nav, BUILD_LOG_PAGE, false);
        let ctx = minijinja::context! {
            page => BUILD_LOG_PAGE,
            page_title => "Build log",
            nav => nav,
            ..minijinja::Value::from_serialize(self.common(BUILD_LOG_PAGE))
        };
        self.templates.render("build_log.html", ctx).map(Some)
    }

    /// The build's own readable log at `dir` (`builds/<job_id>/`, below the
    /// build folder), linking the `build_log.json` beside it rather than the
    /// one of whichever build the commit folder shows.
    pub fn render_own_log_page(&self, dir: &str) -> Result<Option<String>, DeployError> {
        if self.build.log.is_none() {
            return Ok(None);
        }
        let page = format!("{dir}{BUILD_LOG_PAGE}");
        let mut common = self.common(&page);
        if let Some(build) = common.build.as_mut() {
            build.log_page = BUILD_LOG_PAGE.to_string();
            build.log_json = tx_shared::domain::build_log::BUILD_LOG.to_string();
        }
        let ctx = minijinja::context! {
            page => page,
            page_title => "Build log",
            nav => PageNav::for_page(&self.build.nav, &page, false),
            ..minijinja::Value::from_serialize(common)
        };
        self.templates.render("build_log.html", ctx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::split_heading;

    #[test]
    fn a_leading_heading_is_split_off() {
        assert_eq!(
            split_heading("\n<h1 class=\"b\">Genesis</h1>\n<h2>1</h2>"),
            ("<h1 class=\"b\">Genesis</h1>", "\n<h2>1</h2>")
        );
        assert_eq!(
            split_heading("<p>x</p><h1>late</h1>"),
            ("", "<p>x</p><h1>late</h1>")
        );
        assert_eq!(split_heading("<h1>unclosed"), ("", "<h1>unclosed"));
    }
}
