//! `infra/openapi.yaml` is the HTTP API: every route it describes is routed
//! in the SAM template (and no other), and `tx serve` answers each of them
//! (none is "no route" or a wrong method).

use std::collections::BTreeSet;

use tx::runtime::{Runtime, RuntimeOptions};

const OPENAPI: &str = include_str!("../infra/openapi.yaml");
const TEMPLATE: &str = include_str!("../infra/template.yaml");

/// `(METHOD, /path)` of every operation in the OpenAPI file (read as text:
/// paths are the two-space keys under `paths:`, methods the four-space ones).
fn openapi_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut path: Option<String> = None;
    let mut in_paths = false;
    for line in OPENAPI.lines() {
        if !line.starts_with(' ') {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = Some(format!("/{}", p.trim_end().trim_end_matches(':')));
        } else if let Some(m) = line.strip_prefix("    ")
            && !m.starts_with(' ')
            && let Some(method) = m.trim_end().strip_suffix(':')
            && ["get", "post", "put", "delete", "patch"].contains(&method)
        {
            let p = path.clone().expect("a method under a path");
            routes.insert((method.to_uppercase(), p));
        }
    }
    routes
}

fn template_routes() -> BTreeSet<(String, String)> {
    TEMPLATE
        .lines()
        .filter_map(|l| l.trim().strip_prefix("RouteKey: "))
        .map(|k| {
            let (m, p) = k.split_once(' ').expect("METHOD /path");
            (m.to_string(), p.to_string())
        })
        .collect()
}

#[test]
fn every_openapi_route_is_in_the_sam_template_and_only_those() {
    let described = openapi_routes();
    assert!(described.len() >= 9, "{described:?}");
    assert_eq!(described, template_routes(), "OpenAPI vs SAM RouteKeys");
}

#[tokio::test]
async fn tx_serve_routes_every_openapi_route() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::start(RuntimeOptions::new("127.0.0.1:0".parse().unwrap(), dir.path()))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for (method, path) in openapi_routes() {
        let concrete: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let url = format!("{}{concrete}", runtime.url());
        let response = http
            .request(method.parse().unwrap(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            !message.starts_with("no route") && status != 405,
            "{method} {path}: {status} {body}"
        );
    }
    runtime.stop().await;
}
