//! translationAcademy: one page per manual (`01-intro.html`, …), its
//! sections in the order of the manual's `toc.yaml`, each with its question
//! (`sub-title.md`), the prerequisites and recommendations of `config.yaml`,
//! and links (`rc://*/ta/man/…`, `../slug/01.md`) rewritten to site anchors.

use std::collections::HashMap;

use serde_json::Value;
use tx_shared::domain::navigation::NavItem;

use super::Context;
use crate::error::ConvertError;
use crate::html::{escape, push_attr};
use crate::links::Linker;
use crate::markdown::{self, IdSet, MdOptions};
use crate::page::{Emit, Page, nav};

/// Finds the title and href of a section slug, preferring the given manual.
type LinkTo<'a> = dyn Fn(&str, &Manual) -> Option<(String, String)> + 'a;

struct Manual {
    id: String,
    path: String,
    title: String,
    page: String,
}

/// One entry of a `toc.yaml`.
#[derive(Debug, Clone)]
pub struct TocEntry {
    /// Title shown.
    pub title: String,
    /// Section folder (`figs-metaphor`), if the entry is a section.
    pub link: Option<String>,
    /// Sub-entries.
    pub sections: Vec<TocEntry>,
}

fn toc_entries(v: &Value) -> Vec<TocEntry> {
    v.get("sections")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| TocEntry {
                    title: e.get("title").and_then(Value::as_str).unwrap_or("").to_string(),
                    link: e.get("link").and_then(Value::as_str).map(str::to_string),
                    sections: toc_entries(e),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a `toc.yaml`.
pub fn parse_toc(text: &str) -> Result<Vec<TocEntry>, String> {
    let v: Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    Ok(toc_entries(&v))
}

fn list(v: &Value, slug: &str, key: &str) -> Vec<String> {
    v.get(slug)
        .and_then(|s| s.get(key))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn manuals(ctx: &Context) -> Vec<Manual> {
    let mut out = Vec::new();
    let mut projects = ctx.manifest.projects.clone();
    projects.sort_by_key(|p| p.sort);
    for p in projects {
        let path = if p.path.is_empty() {
            p.identifier.clone()
        } else {
            p.path.clone()
        };
        if ctx.tree.under(&path).next().is_none() {
            continue;
        }
        let n = out.len() + 1;
        out.push(Manual {
            page: format!("{n:02}-{}.html", p.identifier),
            id: p.identifier,
            path,
            title: p.title,
        });
    }
    out
}

fn section_slugs(ctx: &Context, m: &Manual) -> Vec<String> {
    let mut slugs: Vec<String> = ctx
        .tree
        .under(&m.path)
        .filter_map(|f| {
            let rel = &f[m.path.len() + 1..];
            rel.strip_suffix("/01.md")
                .filter(|s| !s.contains('/'))
                .map(str::to_string)
        })
        .collect();
    slugs.sort();
    slugs
}

/// Runs the tA preprocessor.
pub fn run(ctx: &Context, emit: &mut Emit, notes: &mut Vec<String>) -> Result<(), ConvertError> {
    let manuals = manuals(ctx);
    if manuals.is_empty() {
        return Err(ConvertError::Empty("no translationAcademy manuals found".into()));
    }
    // Titles and targets of every section of every manual, for links.
    let mut linker = Linker {
        language: ctx.manifest.language.id.clone(),
        resource: "ta".into(),
        ..Default::default()
    };
    let mut titles: HashMap<String, String> = HashMap::new();
    for m in &manuals {
        for slug in section_slugs(ctx, m) {
            let href = format!("{}#{slug}", m.page);
            let title = ctx
                .read_opt(&format!("{}/{slug}/title.md", m.path))
                .unwrap_or_else(|| slug.clone());
            linker.paths.insert(format!("{}/{slug}", m.path), href.clone());
            linker
                .paths
                .insert(format!("{}/{slug}/01.md", m.path), href.clone());
            linker.rc.insert(format!("{}/{slug}", m.id), href.clone());
            titles.insert(slug.clone(), title);
        }
    }
    let link_to = |slug: &str, from_manual: &Manual| -> Option<(String, String)> {
        let title = titles.get(slug)?.clone();
        let href = linker
            .rc
            .get(&format!("{}/{slug}", from_manual.id))
            .cloned()
            .or_else(|| {
                manuals
                    .iter()
                    .find_map(|m| linker.rc.get(&format!("{}/{slug}", m.id)).cloned())
            })?;
        Some((title, href))
    };

    for m in &manuals {
        let mut warnings = Vec::new();
        let mut sources = Vec::new();
        let toc_path = format!("{}/toc.yaml", m.path);
        let toc = if ctx.tree.has(&toc_path) {
            sources.push(toc_path.clone());
            match parse_toc(&ctx.read(&toc_path, &mut warnings)?) {
                Ok(t) => t,
                Err(e) => {
                    warnings.push(format!("{toc_path}: unreadable ({e}); sections in folder order"));
                    Vec::new()
                }
            }
        } else {
            warnings.push(format!("{}: no toc.yaml; sections in folder order", m.path));
            Vec::new()
        };
        let toc = if toc.is_empty() {
            section_slugs(ctx, m)
                .into_iter()
                .map(|s| TocEntry {
                    title: titles.get(&s).cloned().unwrap_or_else(|| s.clone()),
                    link: Some(s),
                    sections: vec![],
                })
                .collect()
        } else {
            toc
        };
        let config_path = format!("{}/config.yaml", m.path);
        let config: Value = match ctx.read_opt(&config_path) {
            Some(t) => {
                sources.push(config_path.clone());
                serde_yaml::from_str(&t).unwrap_or_else(|e| {
                    warnings.push(format!("{config_path}: unreadable ({e})"));
                    Value::Null
                })
            }
            None => Value::Null,
        };
        let mut html = String::with_capacity(64 * 1024);
        let title = if m.title.is_empty() {
            m.id.clone()
        } else {
            m.title.clone()
        };
        // The manual's id comes from the manifest: escaped as an attribute.
        html.push_str("<h1 class=\"ta-manual\" id=\"");
        push_attr(&mut html, &m.id);
        html.push_str("\">");
        html.push_str(&escape(&title));
        html.push_str("</h1>\n");
        let mut ids = IdSet::default();
        ids.reserve(&m.id);
        let mut nav_items = Vec::new();
        for entry in &toc {
            nav_items.push(render_entry(
                ctx,
                m,
                entry,
                2,
                &config,
                &linker,
                &link_to,
                &mut ids,
                &mut html,
                &mut sources,
                &mut warnings,
            )?);
        }
        // Articles the toc.yaml leaves out still exist, and other articles
        // link to them: they go at the end of the manual, with a warning,
        // rather than leave those links leading nowhere.
        let mut listed = Vec::new();
        toc_links(&toc, &mut listed);
        let unlisted: Vec<TocEntry> = section_slugs(ctx, m)
            .into_iter()
            .filter(|s| !listed.contains(&s.as_str()))
            .map(|s| {
                warnings.push(format!(
                    "{}/{s}/01.md: article not listed in toc.yaml; placed under \"{OTHER_ARTICLES}\" at the end of the manual",
                    m.path
                ));
                TocEntry {
                    title: titles.get(&s).cloned().unwrap_or_else(|| s.clone()),
                    link: Some(s),
                    sections: vec![],
                }
            })
            .collect();
        if !unlisted.is_empty() {
            let other = TocEntry {
                title: OTHER_ARTICLES.into(),
                link: None,
                sections: unlisted,
            };
            nav_items.push(render_entry(
                ctx,
                m,
                &other,
                2,
                &config,
                &linker,
                &link_to,
                &mut ids,
                &mut html,
                &mut sources,
                &mut warnings,
            )?);
        }
        let _ = notes;
        crate::headings::normalise(&mut html);
        emit(Page {
            nav: nav(title, m.page.clone(), nav_items),
            name: m.page.clone(),
            html,
            sources,
            warnings,
        })?;
    }
    Ok(())
}

/// The heading of the articles a manual's toc.yaml does not list.
const OTHER_ARTICLES: &str = "Other articles";

/// The section slugs a table of contents links to, at any depth.
fn toc_links<'t>(toc: &'t [TocEntry], into: &mut Vec<&'t str>) {
    for e in toc {
        if let Some(l) = &e.link {
            into.push(l);
        }
        toc_links(&e.sections, into);
    }
}

#[allow(clippy::too_many_arguments)]
fn render_entry(
    ctx: &Context,
    m: &Manual,
    entry: &TocEntry,
    level: u8,
    config: &Value,
    linker: &Linker,
    link_to: &LinkTo,
    ids: &mut IdSet,
    html: &mut String,
    sources: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<NavItem, ConvertError> {
    let h = level.min(6);
    let id = ids.unique(
        entry
            .link
            .as_deref()
            .map(str::to_string)
            .unwrap_or_else(|| crate::html::slug(&entry.title))
            .as_str(),
    );
    html.push_str(&format!("<h{h} class=\"ta-section\" id=\""));
    push_attr(html, &id);
    html.push_str("\">");
    html.push_str(&escape(&entry.title));
    html.push_str(&format!("</h{h}>\n"));
    if let Some(slug) = &entry.link {
        let dir = format!("{}/{slug}", m.path);
        let body_path = format!("{dir}/01.md");
        if let Some(q) = ctx.read_opt(&format!("{dir}/sub-title.md")) {
            html.push_str("<div class=\"ta-question\">This page answers the question: <em>");
            html.push_str(&escape(&q));
            html.push_str("</em></div>\n");
        }
        let related = |key: &str, intro: &str, html: &mut String| {
            let slugs = list(config, slug, key);
            if slugs.is_empty() {
                return;
            }
            html.push_str(&format!("<div class=\"ta-{key}\">{intro}<ul>\n"));
            for s in slugs {
                match link_to(&s, m) {
                    Some((t, href)) => {
                        html.push_str("<li><a href=\"");
                        push_attr(html, &href);
                        html.push_str("\">");
                        html.push_str(&escape(&t));
                        html.push_str("</a></li>\n");
                    }
                    None => {
                        html.push_str("<li>");
                        html.push_str(&escape(&s));
                        html.push_str("</li>\n");
                    }
                }
            }
            html.push_str("</ul></div>\n");
        };
        related(
            "dependencies",
            "In order to understand this topic, it would be good to read:",
            html,
        );
        if ctx.tree.has(&body_path) {
            let text = ctx.read(&body_path, warnings)?;
            let warned = crate::links::LinkWarnings::new(&body_path, &text);
            let rewrite = |u: &str| linker.rewrite_or_warn(&body_path, u, &warned);
            let opts = MdOptions {
                demote: level,
                id_prefix: &format!("{slug}-"),
                links: Some(&rewrite),
            };
            html.push_str("<div class=\"ta-body\">\n");
            markdown::render_into(html, &text, &opts, ids);
            warnings.extend(warned.finish());
            html.push_str("</div>\n");
            sources.push(body_path);
        } else {
            warnings.push(format!(
                "{body_path}: section {slug:?} listed in toc.yaml has no 01.md"
            ));
        }
        related("recommended", "Next we recommend you learn about:", html);
    }
    let mut children = Vec::new();
    for sub in &entry.sections {
        children.push(render_entry(
            ctx,
            m,
            sub,
            level + 1,
            config,
            linker,
            link_to,
            ids,
            html,
            sources,
            warnings,
        )?);
    }
    Ok(nav(entry.title.clone(), format!("{}#{id}", m.page), children))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toc_parses_nested_sections() {
        let t = "title: Contents\nsections:\n  - title: Intro\n    sections:\n      - title: A\n        link: a\n  - title: B\n    link: b\n";
        let toc = parse_toc(t).unwrap();
        assert_eq!(toc.len(), 2);
        assert_eq!(toc[0].sections[0].link.as_deref(), Some("a"));
        assert_eq!(toc[1].title, "B");
    }
}
