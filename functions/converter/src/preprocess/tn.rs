//! translationNotes: the TSV layout (`tn_BOOK.tsv`, Markdown in the Note
//! column) or the old Markdown layout; one page per book (`NN-CODE.html`).

use tx_shared::rc::RcLink;

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
    if url.starts_with("rc://") {
        let rc = RcLink::parse(url, language)?;
        if rc.language != language || rc.resource != "tn" || rc.path.is_empty() {
            return None;
        }
        let segs: Vec<&str> = rc.path.iter().map(String::as_str).collect();
        return NoteRef::parse(&segs).map(|r| (r, None));
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
    // Every book's anchors first: a note links to verses of any book. Each
    // TSV is read (inflated, checked as UTF-8) once and kept until its book
    // is rendered: the sources are a fraction of the pages made from them.
    let mut index = NoteIndex::default();
    let mut books = Vec::with_capacity(tsvs.len());
    for (book, f) in tsvs {
        let mut warnings = Vec::new();
        let text = ctx.read(f, &mut warnings)?;
        tsv::index_notes(&text, index.book_mut(book));
        books.push((book, f, text, warnings));
    }
    for (book, f, text, mut warnings) in books {
        let page = format!("{}.html", book.stem());
        let warned = links::LinkWarnings::new(f, &text);
        let rewrite = |u: &str| {
            let found = match note_target(book, &linker.language, u) {
                Some((r, frag)) => match index.resolve(&r) {
                    Resolved::Found(h) => Some(with_fragment(h, frag)),
                    Resolved::Near(h, why) => {
                        if let Some(why) = why {
                            warned.push(u, format!("link to {u}: {why}; it leads to {h}"));
                        }
                        Some(with_fragment(h, frag))
                    }
                    // An rc:// link to a note this site does not hold:
                    // warned here (no relative link to flag below), still
                    // written as the Linker writes it.
                    Resolved::Missing if u.starts_with("rc://") => {
                        warned.push(u, format!("link to nothing: {u}"));
                        linker.rewrite(f, u)
                    }
                    Resolved::Missing => None,
                },
                None => linker.rewrite(f, u),
            };
            if found.is_none() {
                warned.dead(u);
            }
            found
        };
        let mut r = tsv::render_notes(&text, f, book, &page, &rewrite);
        warnings.extend(r.warnings);
        warnings.extend(warned.finish());
        drop(text);
        crate::headings::normalise(&mut r.html);
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
