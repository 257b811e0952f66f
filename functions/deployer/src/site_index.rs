//! The site-wide `index.html`: every repository the manifest table knows,
//! grouped by language, each linking to its landing page.

use std::collections::BTreeMap;

use serde::Serialize;
use tx_shared::domain::manifest::ManifestRow;
use tx_shared::ports::{ManifestTable, ObjectStore};

use crate::error::DeployError;
use crate::render::type_label;
use crate::templates::Templates;

/// Key of the site-wide index in the website bucket.
pub const SITE_INDEX: &str = "index.html";

#[derive(Debug, Serialize)]
struct Entry<'a> {
    title: &'a str,
    owner: &'a str,
    repo: &'a str,
    type_label: &'static str,
    href: String,
    last_status: &'a str,
    updated: String,
    dir: &'a str,
}

#[derive(Debug, Serialize)]
struct Group<'a> {
    id: &'a str,
    name: &'a str,
    entries: Vec<Entry<'a>>,
}

/// Renders the index of `rows` (any order).
pub fn render_site_index(
    templates: &Templates,
    rows: &[ManifestRow],
) -> Result<String, DeployError> {
    let mut by_lang: BTreeMap<(String, &str), Group> = BTreeMap::new();
    for row in rows {
        let name = if row.language_name.is_empty() {
            &row.language_id
        } else {
            &row.language_name
        };
        let group = by_lang
            .entry((name.to_lowercase(), row.language_id.as_str()))
            .or_insert_with(|| Group {
                id: &row.language_id,
                name,
                entries: Vec::new(),
            });
        group.entries.push(Entry {
            title: if row.title.is_empty() {
                &row.repo_name
            } else {
                &row.title
            },
            owner: &row.repo_owner,
            repo: &row.repo_name,
            type_label: type_label(row.resource_type),
            href: format!("u/{}/{}/index.html", row.repo_owner, row.repo_name),
            last_status: &row.last_status,
            updated: crate::render::human_time(&row.last_updated),
            dir: &row.manifest.language.direction,
        });
    }
    let mut groups: Vec<Group> = by_lang.into_values().collect();
    for g in &mut groups {
        g.entries.sort_by(|a, b| {
            a.title
                .to_lowercase()
                .cmp(&b.title.to_lowercase())
                .then(a.owner.cmp(b.owner))
        });
    }
    let ctx = minijinja::context! {
        lang => "en",
        dir => "ltr",
        title => "Translations",
        groups => groups,
        count => rows.len(),
        static_root => "",
    };
    templates.render("site_index.html", ctx)
}

/// Rebuilds the site-wide index from the manifest table.
pub async fn publish_site_index(
    manifests: &dyn ManifestTable,
    website: &dyn ObjectStore,
    templates: &Templates,
) -> Result<usize, DeployError> {
    let rows = manifests.list().await?;
    let html = render_site_index(templates, &rows)?;
    website
        .put(
            SITE_INDEX,
            html.into(),
            tx_shared::ports::object_store::content_type_for(SITE_INDEX),
        )
        .await?;
    Ok(rows.len())
}
