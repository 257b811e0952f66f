//! translationWords: one page per category (`kt.html`, `names.html`,
//! `other.html`), words sorted by title, each anchored by its file name so
//! `rc://*/tw/dict/bible/kt/god` and `../kt/god.md` land on `kt.html#god`.

use super::Context;
use crate::error::ConvertError;
use crate::html::{escape, push_attr};
use crate::links::Linker;
use crate::markdown::{self, IdSet, MdOptions};
use crate::page::{Emit, Page, nav, page_file_name};

/// Display name of a category folder.
pub fn category_title(cat: &str) -> String {
    match cat {
        "kt" => "Key Terms".into(),
        "names" => "Names".into(),
        "other" => "Other".into(),
        c => c.to_string(),
    }
}

/// Runs the tW preprocessor.
pub fn run(ctx: &Context, emit: &mut Emit, _notes: &mut Vec<String>) -> Result<(), ConvertError> {
    let base = ctx
        .manifest
        .projects
        .iter()
        .map(|p| p.path.clone())
        .find(|p| !p.is_empty() && ctx.tree.under(p).next().is_some())
        .unwrap_or_else(|| {
            if ctx.tree.under("bible").next().is_some() {
                "bible".into()
            } else {
                String::new()
            }
        });
    let prefix = if base.is_empty() {
        String::new()
    } else {
        format!("{base}/")
    };
    let mut cats: Vec<String> = Vec::new();
    for f in ctx.tree.under(&base) {
        let rel = &f[prefix.len()..];
        if let Some((cat, file)) = rel.split_once('/')
            && !file.contains('/')
            && file.ends_with(".md")
            && !cats.iter().any(|c| c == cat)
        {
            cats.push(cat.to_string());
        }
    }
    cats.sort();
    if cats.is_empty() {
        return Err(ConvertError::Empty(
            "no translationWords categories (bible/kt, bible/names, bible/other)".into(),
        ));
    }
    let mut linker = Linker {
        language: ctx.manifest.language.id.clone(),
        resource: "tw".into(),
        ..Default::default()
    };
    let mut words: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for cat in &cats {
        let dir = format!("{prefix}{cat}");
        let mut list = Vec::new();
        for f in ctx.tree.under(&dir) {
            let file = &f[dir.len() + 1..];
            let Some(slug) = file.strip_suffix(".md").filter(|s| !s.contains('/')) else {
                continue;
            };
            let href = format!("{}#{slug}", page_file_name(cat));
            linker.paths.insert(f.clone(), href.clone());
            linker.rc.insert(format!("{cat}/{slug}"), href);
            list.push((slug.to_string(), f.clone()));
        }
        words.push((cat.clone(), list));
    }
    for (cat, list) in words {
        let mut warnings = Vec::new();
        let mut items = Vec::with_capacity(list.len());
        for (slug, path) in list {
            let text = ctx.read(&path, &mut warnings)?;
            let title = markdown::first_heading(&text).unwrap_or_else(|| slug.clone());
            items.push((title, slug, path, text));
        }
        items.sort_by(|a, b| a.0.to_lowercase().cmp(&b.0.to_lowercase()).then(a.1.cmp(&b.1)));
        let page = page_file_name(&cat);
        let mut html = String::with_capacity(items.iter().map(|i| i.3.len()).sum::<usize>() * 5 / 4);
        let title = category_title(&cat);
        html.push_str(&format!("<h1 class=\"tw-category\">{}</h1>\n", escape(&title)));
        let mut ids = IdSet::default();
        let mut children = Vec::new();
        let mut sources = Vec::new();
        for (t, slug, path, text) in items {
            let id = ids.unique(&slug);
            html.push_str("<article class=\"tw-word\" id=\"");
            push_attr(&mut html, &id);
            html.push_str("\">\n");
            let warned = crate::links::LinkWarnings::new(&path, &text);
            let rewrite = |u: &str| linker.rewrite_or_warn(&path, u, &warned);
            let opts = MdOptions {
                demote: 1,
                id_prefix: &format!("{slug}-"),
                links: Some(&rewrite),
            };
            markdown::render_into(&mut html, &text, &opts, &mut ids);
            warnings.extend(warned.finish());
            html.push_str("</article>\n");
            children.push(nav(t, format!("{page}#{id}"), vec![]));
            sources.push(path);
        }
        crate::headings::normalise(&mut html);
        emit(Page {
            nav: nav(title, page.clone(), children),
            name: page,
            html,
            sources,
            warnings,
        })?;
    }
    Ok(())
}
