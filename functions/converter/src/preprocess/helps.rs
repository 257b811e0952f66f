//! The old Markdown layout shared by translationNotes and
//! translationQuestions: `BOOK/CC/VV.md` chunks, `BOOK/CC/intro.md` and
//! `BOOK/front/intro.md`, or one `BOOK.md` per book. One page per book
//! (`NN-CODE.html`) with anchors `ch-C` and `ch-C-v-V` matching the Bible pages.

use super::{Context, numeric_key};
use crate::error::ConvertError;
use crate::html::{escape, push_attr};
use crate::links::Linker;
use crate::markdown::{self, IdSet, MdOptions};
use crate::page::{Emit, Page, nav};
use crate::usfm::books::{self, Book};

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Books present as folders (`php/01/01.md`) or single files (`php.md`).
pub fn book_sources(ctx: &Context) -> Vec<(&'static Book, String, bool)> {
    let mut out: Vec<(&'static Book, String, bool)> = Vec::new();
    for f in &ctx.tree.files {
        let (first, rest) = f.split_once('/').unwrap_or((f.as_str(), ""));
        if rest.is_empty() {
            if let Some(stem) = first.strip_suffix(".md")
                && let Some(b) = books::by_code(stem)
            {
                out.push((b, f.clone(), true));
            }
        } else if let Some(b) = books::by_code(first)
            && !out.iter().any(|(x, _, _)| x.code == b.code)
        {
            out.push((b, first.to_string(), false));
        }
    }
    out.sort_by_key(|(b, _, _)| b.stem());
    out
}

/// Runs the preprocessor for `kind` (`tn` or `tq`) on the Markdown layout.
pub fn run(ctx: &Context, kind: &str, emit: &mut Emit) -> Result<usize, ConvertError> {
    let linker = Linker {
        language: ctx.manifest.language.id.clone(),
        resource: kind.into(),
        ..Default::default()
    };
    let sources = book_sources(ctx);
    let count = sources.len();
    for (book, path, single) in sources {
        let page = format!("{}.html", book.stem());
        let mut warnings = Vec::new();
        let mut html = format!("<h1 class=\"{kind}-book\">{}</h1>\n", escape(book.name));
        let mut ids = IdSet::default();
        let mut children = Vec::new();
        let mut used = Vec::new();
        if single {
            let text = ctx.read(&path, &mut warnings)?;
            let warned = crate::links::LinkWarnings::new(&path, &text);
            let rewrite = |u: &str| linker.rewrite_or_warn(&path, u, &warned);
            markdown::render_into(
                &mut html,
                &text,
                &MdOptions {
                    demote: 1,
                    id_prefix: "",
                    links: Some(&rewrite),
                },
                &mut ids,
            );
            warnings.extend(warned.finish());
            used.push(path.clone());
        } else {
            let mut chapters: Vec<String> = Vec::new();
            for f in ctx.tree.under(&path) {
                if let Some((c, _)) = f[path.len() + 1..].split_once('/')
                    && !chapters.iter().any(|x| x == c)
                {
                    chapters.push(c.to_string());
                }
            }
            chapters.sort_by_key(|c| {
                if c == "front" {
                    (0, String::new())
                } else {
                    (1 + numeric_key(c).0.min(9999), c.clone())
                }
            });
            for c in chapters {
                let dir = format!("{path}/{c}");
                let chap = c.trim_start_matches('0').parse::<u32>().ok();
                let (anchor, label) = match chap {
                    Some(n) => (format!("ch-{n}"), format!("Chapter {n}")),
                    None if c == "front" => ("front".to_string(), "Introduction".to_string()),
                    None => (markdown_slug(&c), c.clone()),
                };
                let anchor = ids.unique(&anchor);
                html.push_str(&format!("<h2 class=\"{kind}-chapter\" id=\""));
                push_attr(&mut html, &anchor);
                html.push_str("\">");
                html.push_str(&escape(&label));
                html.push_str("</h2>\n");
                children.push(nav(label, format!("{page}#{anchor}"), vec![]));
                let mut files: Vec<&String> = ctx
                    .tree
                    .under(&dir)
                    .filter(|f| f.ends_with(".md") && !f[dir.len() + 1..].contains('/'))
                    .collect();
                files.sort_by_key(|f| {
                    let name = &f[dir.len() + 1..];
                    if name.starts_with("intro") {
                        (0, 0)
                    } else {
                        (1, numeric_key(name).0)
                    }
                });
                for f in files {
                    let name = f[dir.len() + 1..].trim_end_matches(".md");
                    let text = ctx.read(f, &mut warnings)?;
                    let id = match (chap, is_num(name)) {
                        (Some(n), true) => format!("ch-{n}-v-{}", name.trim_start_matches('0')),
                        (Some(n), false) => format!("ch-{n}-{name}"),
                        (None, _) => format!("{c}-{name}"),
                    };
                    let id = ids.unique(&id);
                    let heading = match (chap, is_num(name)) {
                        (Some(n), true) => format!("{} {n}:{}", book.name, name.trim_start_matches('0')),
                        (Some(n), false) => format!("{} {n} {}", book.name, name),
                        _ => format!("{} {}", book.name, name),
                    };
                    // Ids are made of folder and file names: escaped as attributes.
                    html.push_str(&format!("<section class=\"{kind}-chunk\" id=\""));
                    push_attr(&mut html, &id);
                    html.push_str("\">\n<h3>");
                    html.push_str(&escape(&heading));
                    html.push_str("</h3>\n");
                    let warned = crate::links::LinkWarnings::new(f, &text);
                    let rewrite = |u: &str| linker.rewrite_or_warn(f, u, &warned);
                    let opts = MdOptions {
                        demote: 3,
                        id_prefix: &format!("{id}-"),
                        links: Some(&rewrite),
                    };
                    markdown::render_into(&mut html, &text, &opts, &mut ids);
                    warnings.extend(warned.finish());
                    html.push_str("</section>\n");
                    used.push(f.clone());
                }
            }
        }
        crate::headings::normalise(&mut html);
        if used.is_empty() {
            warnings.push(format!("{path}: no notes found for {}", book.code));
        }
        emit(Page {
            nav: nav(book.name, page.clone(), children),
            name: page,
            html,
            sources: used,
            warnings,
        })?;
    }
    Ok(count)
}

fn markdown_slug(s: &str) -> String {
    crate::html::slug(s)
}
