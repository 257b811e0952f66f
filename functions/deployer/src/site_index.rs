//! The site-wide `index.html`: every repository the manifest table knows,
//! grouped by language, each linking to its landing page.

use std::collections::BTreeMap;

use serde::Serialize;
use tx_shared::domain::manifest::ManifestRow;
use tx_shared::ports::ObjectStore;

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
pub fn render_site_index(templates: &Templates, rows: &[ManifestRow]) -> Result<String, DeployError> {
    // Grouped by language id: repos of one language whose manifests name it
    // differently (or not at all) still stand together, under the best name.
    let mut by_lang: BTreeMap<&str, Group> = BTreeMap::new();
    for row in rows {
        let named = !row.language_name.is_empty() && row.language_name != row.language_id;
        let group = by_lang.entry(row.language_id.as_str()).or_insert_with(|| Group {
            id: &row.language_id,
            name: &row.language_id,
            entries: Vec::new(),
        });
        if named && group.name == group.id {
            group.name = &row.language_name;
        }
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
    groups.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(b.id))
    });
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

/// Rebuilds the site-wide index from the manifest table's `rows`.
pub async fn publish_site_index(
    rows: &[ManifestRow],
    website: &dyn ObjectStore,
    templates: &Templates,
) -> Result<usize, DeployError> {
    let html = render_site_index(templates, rows)?;
    website
        .put(
            SITE_INDEX,
            html.into(),
            tx_shared::ports::object_store::content_type_for(SITE_INDEX),
        )
        .await?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use tx_shared::domain::manifest::{Language, NormalizedManifest, ResourceType};

    fn row(repo: &str, lang_name: &str, title: &str) -> ManifestRow {
        let manifest = NormalizedManifest {
            source_format: "rc0.2".into(),
            language: Language {
                id: "en".into(),
                name: lang_name.into(),
                direction: "ltr".into(),
            },
            resource_id: "ulb".into(),
            resource_type: ResourceType::Bible,
            title: title.into(),
            projects: vec![],
        };
        ManifestRow {
            repo: format!("demo/{repo}"),
            repo_owner: "demo".into(),
            repo_name: repo.into(),
            language_id: "en".into(),
            language_name: lang_name.into(),
            resource_id: "ulb".into(),
            resource_type: ResourceType::Bible,
            title: title.into(),
            manifest,
            last_job_id: "j".into(),
            last_commit_id: "c".into(),
            last_status: "success".into(),
            last_updated: Utc::now(),
        }
    }

    #[test]
    fn one_language_is_one_group_under_its_best_name() {
        let rows = vec![
            row("a", "en", "Alpha"),
            row("b", "English", "Beta"),
            row("c", "", "Gamma"),
        ];
        let html = render_site_index(&Templates::new(None), &rows).unwrap();
        assert_eq!(html.matches("(en)").count(), 1, "{html}");
        assert!(html.contains("English"));
        for t in ["Alpha", "Beta", "Gamma"] {
            assert!(html.contains(t));
        }
    }
}
