//! translationNotes: the TSV layout (`tn_BOOK.tsv`, Markdown in the Note
//! column) or the old Markdown layout; one page per book (`NN-CODE.html`).

use super::{Context, helps};
use crate::error::ConvertError;
use crate::links::{self, NoteIndex, NoteRef, Resolved};
use crate::page::{Emit, Page, nav};
use crate::tsv;
use crate::usfm::books;

/// The note a link in a note of `book` refers to: a relative link
/// (`../02/03.md`, see [`links::note_ref`]) or `rc://*/tn/help/BOOK/CC/VV`
/// (this language's tN, so this site).
fn note_target<'u>(book: &books::Book, language: &str, url: &'u str) -> Option<(NoteRef, Option<&'u str>)> {
    if let Some(rest) = url.strip_prefix("rc://") {
        let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        return match segs.as_slice() {
            [lang, res, _, tail @ ..]
                if (*lang == "*" || *lang == language)
                    && res.eq_ignore_ascii_case("tn")
                    && !tail.is_empty() =>
            {
                NoteRef::parse(tail).map(|r| (r, None))
            }
            _ => None,
        };
    }
    links::note_ref(book, url)
}

/// `href` with the link's own `#fragment` when `href` has none.
fn with_fragment(href: String, frag: Option<&str>) -> String {
    match frag {
        Some(f) if !href.contains('#') => format!("{href}#{f}"),
        _ => href,
    }
}

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
    // Every book's anchors first: a note links to verses of any book.
    let mut index = NoteIndex::default();
    for (book, f) in &tsvs {
        let mut ignored = Vec::new();
        tsv::index_notes(&ctx.read(f, &mut ignored)?, index.book_mut(book));
    }
    for (book, f) in tsvs {
        let mut warnings = Vec::new();
        let text = ctx.read(f, &mut warnings)?;
        let page = format!("{}.html", book.stem());
        let dead = std::cell::RefCell::new(Vec::new());
        let rewrite = |u: &str| {
            let found = match note_target(book, &linker.language, u) {
                Some((r, frag)) => match index.resolve(&r) {
                    Resolved::Found(h) => Some(with_fragment(h, frag)),
                    Resolved::Near(h, why) => {
                        if let Some(why) = why {
                            let line = links::line_of(&text, u);
                            dead.borrow_mut()
                                .push(format!("{f}:{line}: link to {u}: {why}; it leads to {h}"));
                        }
                        Some(with_fragment(h, frag))
                    }
                    // An rc:// link the site cannot hold: warned here (no
                    // relative link to flag below), still leading to the forge.
                    Resolved::Missing if u.starts_with("rc://") => {
                        let line = links::line_of(&text, u);
                        dead.borrow_mut()
                            .push(format!("{f}:{line}: link to nothing: {u}"));
                        linker.rewrite(f, u)
                    }
                    Resolved::Missing => None,
                },
                None => linker.rewrite(f, u),
            };
            if found.is_none()
                && let Some(w) = links::dead_link(f, &text, u)
            {
                dead.borrow_mut().push(w);
            }
            found
        };
        let mut r = tsv::render_notes(&text, f, book, &page, &rewrite);
        drop(text);
        crate::headings::normalise(&mut r.html);
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
