//! The read API for dashboards: projects and their builds, straight from the
//! tables (described in `infra/openapi.yaml`).
//!
//! - `GET /api/projects` → every repository's manifest row.
//! - `GET /api/projects/{owner}/{repo}` → one row.
//! - `GET /api/projects/{owner}/{repo}/builds` → `project.json`'s shape.
//!
//! All public: what a reader of the site sees anyway (manifests, build
//! status). Nothing here carries a job's source or callback URL or its
//! delivery id; those are in `GET /tx/job/{id}`, which needs the operator
//! token. Storage errors are logged, not shown.

use lambda_http::{Body, Response};
use tx_shared::api::{error, json};
use tx_shared::domain::project::ProjectIndex;

use crate::deps::ManagerDeps;

fn unavailable(what: &str, e: impl std::fmt::Display) -> Response<Body> {
    tracing::error!("{what}: {e}");
    error(
        503,
        "unavailable",
        format!("the {what} is unavailable; retry later"),
    )
}

/// Builds listed per project.
const BUILDS: usize = 100;

/// Routes `/api/<rest>`.
pub async fn route(rest: &[&str], deps: &ManagerDeps) -> Response<Body> {
    match rest {
        ["projects"] => match deps.manifests.list().await {
            Ok(rows) => json(200, &serde_json::json!({ "projects": rows })),
            Err(e) => unavailable("manifest table", e),
        },
        ["projects", owner, repo] => match deps.manifests.get(&format!("{owner}/{repo}")).await {
            Ok(Some(row)) => json(200, &row),
            Ok(None) => error(404, "not_found", format!("no project {owner}/{repo}")),
            Err(e) => unavailable("manifest table", e),
        },
        ["projects", owner, repo, "builds"] => {
            match deps.jobs.by_repo(&format!("{owner}/{repo}"), BUILDS).await {
                Ok(jobs) if jobs.is_empty() => {
                    error(404, "not_found", format!("no builds of {owner}/{repo}"))
                }
                Ok(jobs) => {
                    let url = jobs.iter().find_map(|j| j.repo_url.clone()).unwrap_or_default();
                    json(200, &ProjectIndex::from_jobs(owner, repo, &url, &jobs))
                }
                Err(e) => unavailable("job table", e),
            }
        }
        _ => error(404, "not_found", format!("no route /api/{}", rest.join("/"))),
    }
}
