//! The page a build folder shows while its build runs: the build's state,
//! followed live from `build_log.json` beside it, reloading into the
//! finished site the moment the log turns final.

use tx_shared::domain::build_log::BuildLog;

use crate::converted::{ConvertedBuild, INDEX_HTML};
use crate::error::DeployError;
use crate::render::{BuildRenderer, Placement};
use crate::templates::Templates;

/// How often the page first asks for `build_log.json` (it backs off from there).
pub const POLL_MS: u32 = 4000;

/// Seconds before a browser without JavaScript reloads the page by itself.
pub const NOSCRIPT_REFRESH_SECS: u32 = 30;

/// Renders the placeholder `index.html` of a build in progress.
pub fn render_placeholder(
    templates: &Templates,
    log: &BuildLog,
    placement: Placement<'_>,
) -> Result<String, DeployError> {
    let build = ConvertedBuild::assemble(&[], None, None, Some(log.clone()), &log.repo_name);
    let renderer = BuildRenderer::new(templates, &build, placement);
    let ctx = minijinja::context! {
        page => INDEX_HTML,
        page_title => crate::render::status_label(log.status),
        poll_ms => POLL_MS,
        refresh_secs => NOSCRIPT_REFRESH_SECS,
        ..minijinja::Value::from_serialize(renderer.common(INDEX_HTML))
    };
    templates.render("placeholder.html", ctx)
}
