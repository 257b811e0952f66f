//! The read API for dashboards: projects and their builds, straight from the
//! tables (described in `infra/openapi.yaml`).
//!
//! - `GET /api/projects?limit=&cursor=` → every repository with a build,
//!   sorted by `owner/repo`, a page at a time: its manifest row when a build
//!   was published, else a short entry from its newest job (a project whose
//!   builds all failed has no manifest row, as only a published build writes
//!   one, but it has jobs: the list is the union of both tables, so nothing
//!   else has to write a row that the site-wide index would then show).
//! - `GET /api/projects/{owner}/{repo}` → one row.
//! - `GET /api/projects/{owner}/{repo}/builds?limit=&cursor=` →
//!   `project.json`'s shape, newest first, a page at a time.
//!
//! `limit` is 1..=[`MAX_LIMIT`] (default [`DEFAULT_LIMIT`]); `cursor` is the
//! `next_cursor` of the previous page, opaque (hex), present only when
//! another page follows. A bad value is a 400. A walk with a cursor sees every
//! build once, newest first, even while new builds arrive (they sort before
//! where the walk started).
//!
//! All public: what a reader of the site sees anyway (manifests, build
//! status). Nothing here carries a job's source or callback URL or its
//! delivery id; those are in `GET /tx/job/{id}`, which needs the operator
//! token. Storage errors are logged, not shown.

use std::collections::BTreeMap;

use lambda_http::{Body, Response};
use serde_json::{Value, json as object};
use tx_shared::api::{error, json};
use tx_shared::domain::project::ProjectIndex;
use tx_shared::ports::JobCursor;

use crate::deps::ManagerDeps;

/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest `limit` accepted.
pub const MAX_LIMIT: usize = 100;

fn unavailable(what: &str, e: impl std::fmt::Display) -> Response<Body> {
    tracing::error!("{what}: {e}");
    error(
        503,
        "unavailable",
        format!("the {what} is unavailable; retry later"),
    )
}

/// `limit` and `cursor` of a list request.
struct Paging {
    limit: usize,
    cursor: Option<String>,
}

/// Reads `limit` and `cursor` from a query string; other parameters are
/// ignored. `Err` is the 400's message.
fn paging(query: Option<&str>) -> Result<Paging, String> {
    let mut paging = Paging {
        limit: DEFAULT_LIMIT,
        cursor: None,
    };
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "limit" => {
                paging.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| format!("limit must be an integer from 1 to {MAX_LIMIT}"))?;
            }
            "cursor" => paging.cursor = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(paging)
}

fn bad_cursor() -> Response<Body> {
    error(
        400,
        "invalid_parameter",
        "cursor is not one this API gave (use next_cursor of the previous page)",
    )
}

/// `kind` ("p" projects, "b" builds) and its text, encoded.
fn encode(kind: &str, text: &str) -> String {
    format!("{kind}:{text}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode(kind: &str, cursor: &str) -> Option<String> {
    if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
        return None;
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(kind)?.strip_prefix(':').map(str::to_string)
}

fn encode_job_cursor(c: &JobCursor) -> String {
    encode("b", &format!("{}\n{}", c.created_at, c.job_id))
}

fn decode_job_cursor(cursor: &str) -> Option<JobCursor> {
    let text = decode("b", cursor)?;
    let (created_at, job_id) = text.split_once('\n')?;
    chrono::DateTime::parse_from_rfc3339(created_at).ok()?;
    (!job_id.is_empty()).then(|| JobCursor {
        created_at: created_at.to_string(),
        job_id: job_id.to_string(),
    })
}

/// Routes `/api/<rest>` (GET) with the request's query string.
pub async fn route(rest: &[&str], query: Option<&str>, deps: &ManagerDeps) -> Response<Body> {
    match rest {
        ["projects"] => match paging(query) {
            Ok(p) => projects(p, deps).await,
            Err(m) => error(400, "invalid_parameter", m),
        },
        ["projects", owner, repo] => match deps.manifests.get(&format!("{owner}/{repo}")).await {
            Ok(Some(row)) => json(200, &row),
            Ok(None) => error(404, "not_found", format!("no project {owner}/{repo}")),
            Err(e) => unavailable("manifest table", e),
        },
        ["projects", owner, repo, "builds"] => match paging(query) {
            Ok(p) => builds(owner, repo, p, deps).await,
            Err(m) => error(400, "invalid_parameter", m),
        },
        _ => error(404, "not_found", format!("no route /api/{}", rest.join("/"))),
    }
}

async fn projects(paging: Paging, deps: &ManagerDeps) -> Response<Body> {
    let after = match paging.cursor.as_deref().map(|c| decode("p", c)) {
        None => None,
        Some(Some(repo)) => Some(repo),
        Some(None) => return bad_cursor(),
    };
    let rows = match deps.manifests.list().await {
        Ok(rows) => rows,
        Err(e) => return unavailable("manifest table", e),
    };
    let repos = match deps.jobs.repos().await {
        Ok(repos) => repos,
        Err(e) => return unavailable("job table", e),
    };
    // Every project, sorted: manifest rows, then repos that only have jobs.
    let mut all: BTreeMap<String, Option<Value>> = BTreeMap::new();
    for repo in repos {
        all.insert(repo, None);
    }
    for row in rows {
        let value = serde_json::to_value(&row).unwrap_or(Value::Null);
        all.insert(row.repo.clone(), Some(value));
    }
    let mut page = Vec::new();
    let mut more = false;
    let start = after.as_deref();
    for (repo, row) in all
        .into_iter()
        .filter(|(repo, _)| start.is_none_or(|s| repo.as_str() > s))
    {
        if page.len() == paging.limit {
            more = true;
            break;
        }
        let entry = match row {
            Some(row) => row,
            None => match unpublished(&repo, deps).await {
                Ok(entry) => entry,
                Err(e) => return unavailable("job table", e),
            },
        };
        page.push((repo, entry));
    }
    let next = more
        .then(|| page.last().map(|(repo, _)| encode("p", repo)))
        .flatten();
    let projects: Vec<Value> = page.into_iter().map(|(_, v)| v).collect();
    let mut body = object!({ "projects": projects });
    if let Some(next) = next {
        body["next_cursor"] = Value::String(next);
    }
    json(200, &body)
}

/// The entry of a project without a manifest row (no build published):
/// what its newest job says.
async fn unpublished(repo: &str, deps: &ManagerDeps) -> Result<Value, tx_shared::ports::TableError> {
    let newest = deps.jobs.by_repo(repo, 1).await?;
    let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
    let mut entry = object!({ "repo": repo, "repo_owner": owner, "repo_name": name });
    if let Some(job) = newest.first() {
        let status = job.result.map(|r| r.as_str()).unwrap_or(job.status.as_str());
        entry["last_job_id"] = Value::String(job.job_id.clone());
        entry["last_commit_id"] = Value::String(job.commit.commit_id.clone());
        entry["last_status"] = Value::String(status.to_string());
        entry["last_updated"] =
            Value::String(tx_shared::time::format(&job.ended_at.unwrap_or(job.created_at)));
    }
    Ok(entry)
}

async fn builds(owner: &str, repo: &str, paging: Paging, deps: &ManagerDeps) -> Response<Body> {
    let after = match paging.cursor.as_deref().map(decode_job_cursor) {
        None => None,
        Some(Some(c)) => Some(c),
        Some(None) => return bad_cursor(),
    };
    let full = format!("{owner}/{repo}");
    match deps.jobs.by_repo_page(&full, paging.limit, after.as_ref()).await {
        Ok(page) if page.jobs.is_empty() && after.is_none() => {
            error(404, "not_found", format!("no builds of {owner}/{repo}"))
        }
        Ok(page) => {
            let url = page
                .jobs
                .iter()
                .find_map(|j| j.repo_url.clone())
                .unwrap_or_default();
            let index = ProjectIndex::from_jobs(owner, repo, &url, &page.jobs);
            let mut body = serde_json::to_value(&index).unwrap_or(Value::Null);
            if let (Some(next), Some(map)) = (page.next, body.as_object_mut()) {
                map.insert("next_cursor".to_string(), Value::String(encode_job_cursor(&next)));
            }
            json(200, &body)
        }
        Err(e) => unavailable("job table", e),
    }
}
