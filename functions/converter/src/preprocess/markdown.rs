//! Plain Markdown repositories: every `.md` file becomes a page named after
//! its path (`docs/intro.md` → `docs-intro.html`), in alphabetical order.

use super::Context;
use crate::error::ConvertError;
use crate::links::Linker;
use crate::markdown::{self, MdOptions};
use crate::page::{Emit, Page, nav, page_file_name};

/// Page name of a Markdown file.
pub fn page_name(rel: &str) -> String {
    page_file_name(rel.strip_suffix(".md").unwrap_or(rel))
}

/// Runs the generic Markdown preprocessor.
pub fn run(ctx: &Context, emit: &mut Emit, _notes: &mut Vec<String>) -> Result<(), ConvertError> {
    let files: Vec<&String> = ctx
        .tree
        .files
        .iter()
        .filter(|f| f.to_ascii_lowercase().ends_with(".md"))
        .collect();
    if files.is_empty() {
        return Err(ConvertError::Empty("no Markdown files".into()));
    }
    let mut linker = Linker {
        language: ctx.manifest.language.id.clone(),
        resource: ctx.manifest.resource_id.clone(),
        ..Default::default()
    };
    for f in &files {
        linker.paths.insert((*f).clone(), page_name(f));
    }
    for f in files {
        let mut warnings = Vec::new();
        let text = ctx.read(f, &mut warnings)?;
        let name = page_name(f);
        let title =
            markdown::first_heading(&text).unwrap_or_else(|| name.trim_end_matches(".html").to_string());
        let rewrite = |u: &str| linker.rewrite(f, u);
        let html = markdown::render(
            &text,
            &MdOptions {
                links: Some(&rewrite),
                ..MdOptions::default()
            },
        );
        emit(Page {
            nav: nav(title, name.clone(), vec![]),
            name,
            html,
            sources: vec![f.clone()],
            warnings,
        })?;
    }
    Ok(())
}
