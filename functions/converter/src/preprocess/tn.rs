//! translationNotes: the TSV layout (`tn_BOOK.tsv`, Markdown in the Note
//! column) or the old Markdown layout; one page per book (`NN-CODE.html`).

use super::{Context, helps};
use crate::error::ConvertError;
use crate::page::{Emit, Page, nav};
use crate::tsv;
use crate::usfm::books;

/// Runs the tN preprocessor.
pub fn run(ctx: &Context, emit: &mut Emit, notes: &mut Vec<String>) -> Result<(), ConvertError> {
    let mut tsvs: Vec<(&'static books::Book, &String)> = ctx
        .tree
        .files
        .iter()
        .filter(|f| f.to_ascii_lowercase().ends_with(".tsv"))
        .filter_map(|f| {
            let name = f.rsplit('/').next().unwrap_or(f);
            match books::from_name(name) {
                Some(b) => Some((b, f)),
                None => {
                    notes.push(format!("{f}: no book code in the file name; skipped"));
                    None
                }
            }
        })
        .collect();
    if tsvs.is_empty() {
        if helps::run(ctx, "tn", emit)? == 0 {
            return Err(ConvertError::Empty(
                "no translationNotes (tn_BOOK.tsv or BOOK/CC/VV.md)".into(),
            ));
        }
        return Ok(());
    }
    tsvs.sort_by_key(|(b, _)| b.stem());
    let linker = crate::links::Linker {
        language: ctx.manifest.language.id.clone(),
        resource: "tn".into(),
        ..Default::default()
    };
    for (book, f) in tsvs {
        let mut warnings = Vec::new();
        let text = ctx.read(f, &mut warnings)?;
        let page = format!("{}.html", book.stem());
        let dead = std::cell::RefCell::new(Vec::new());
        let rewrite = |u: &str| {
            let found = crate::links::note_link(book, u).or_else(|| linker.rewrite(f, u));
            if found.is_none()
                && let Some(w) = crate::links::dead_link(f, &text, u)
            {
                dead.borrow_mut().push(w);
            }
            found
        };
        let r = tsv::render_notes(&text, f, book, &page, &rewrite);
        drop(text);
        warnings.extend(r.warnings);
        warnings.extend(dead.into_inner());
        emit(Page {
            nav: nav(book.name, page.clone(), r.chapters),
            name: page,
            html: r.html,
            sources: vec![f.clone()],
            warnings,
        })?;
    }
    Ok(())
}
