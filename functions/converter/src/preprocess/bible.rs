//! Bible: USFM files renamed `NN-CODE` by canonical book number, whatever
//! their names; translationStudio chunk folders (`CC/VV.txt`) assembled into
//! USFM books first.

use tx_shared::domain::navigation::NavItem;

use super::{Context, numeric_key};
use crate::error::ConvertError;
use crate::page::{Emit, Page, nav};
use crate::usfm::{self, Book, BookLinks, Site, books};

fn is_usfm(f: &str) -> bool {
    let l = f.to_ascii_lowercase();
    l.ends_with(".usfm") || l.ends_with(".sfm")
}

/// The `\id` code in the first lines of a USFM text.
pub fn id_code(text: &str) -> Option<&'static Book> {
    let at = text.find("\\id ")?;
    let code = text[at + 4..].split_whitespace().next()?;
    books::by_code(code)
}

fn file_stem(f: &str) -> String {
    let name = f.rsplit('/').next().unwrap_or(f);
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    stem.chars()
        .map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' })
        .collect()
}

/// Renders one book's USFM to a page and its navigation; `books` are the
/// books of the build, for `\r` references.
pub fn book_page(
    text: &str,
    label: &str,
    hint: Option<&'static Book>,
    page_name: String,
    sources: Vec<String>,
    books: &BookLinks,
) -> Page {
    let site = Site {
        page: &page_name,
        books,
    };
    let r = usfm::render_book_in(text, label, hint, site);
    let title = r
        .title
        .clone()
        .or_else(|| r.book.map(|b| b.name.to_string()))
        .unwrap_or_else(|| page_name.trim_end_matches(".html").to_string());
    let children: Vec<NavItem> = r
        .chapters
        .iter()
        .map(|c| nav(c.label.clone(), format!("{page_name}#ch-{}", c.number), vec![]))
        .collect();
    Page {
        nav: nav(title, page_name.clone(), children),
        name: page_name,
        html: r.html,
        sources,
        warnings: r.warnings,
    }
}

/// Runs the Bible preprocessor.
pub fn run(ctx: &Context, emit: &mut Emit, notes: &mut Vec<String>) -> Result<(), ConvertError> {
    let usfm_files: Vec<&String> = ctx.tree.files.iter().filter(|f| is_usfm(f)).collect();
    if usfm_files.is_empty() {
        return assemble_chunks(ctx, emit, notes);
    }
    // Identify each file's book (by \id, then name, then manifest path), then
    // convert in page-name order, which is canonical order.
    let mut plan: Vec<(String, String, Option<&'static Book>)> = Vec::new();
    let mut links = BookLinks::default();
    for f in usfm_files {
        let head = read_head(ctx, f);
        let by_project = ctx
            .manifest
            .projects
            .iter()
            .find(|p| !p.path.is_empty() && (p.path == **f || f.starts_with(&format!("{}/", p.path))))
            .and_then(|p| books::by_code(&p.identifier));
        let stem = f.rsplit('/').next().unwrap_or(f);
        let book = id_code(&head).or_else(|| books::from_name(stem)).or(by_project);
        let mut page = match book {
            Some(b) => format!("{}.html", b.stem()),
            None => {
                notes.push(format!(
                    "{f}: book not recognised (no \\id, no book code in the name); page named after the file"
                ));
                format!("{}.html", file_stem(f))
            }
        };
        if plan.iter().any(|(p, _, _)| *p == page) {
            notes.push(format!(
                "{f}: a second file for the same book; page {page} renamed"
            ));
            page = format!("{}-{}.html", page.trim_end_matches(".html"), file_stem(f));
        }
        if let Some(book) = book {
            // The names this repository gives the book, for `\\r` references.
            let names: Vec<&str> = ["\\h ", "\\toc1 ", "\\toc2 ", "\\toc3 "]
                .iter()
                .filter_map(|m| header_value(&head, m))
                .collect();
            links.add(book, &page, &names);
        }
        plan.push((page, f.clone(), book));
    }
    plan.sort_by(|a, b| a.0.cmp(&b.0));
    absent_books(ctx, &plan, notes);
    for (page, f, book) in plan {
        let mut warnings = Vec::new();
        let text = ctx.read(&f, &mut warnings)?;
        let mut p = book_page(&text, &f, book, page, vec![f.clone()], &links);
        drop(text);
        warnings.append(&mut p.warnings);
        p.warnings = warnings;
        emit(p)?;
    }
    Ok(())
}

/// A book the manifest lists but no file holds: said, since the reader
/// would otherwise find it silently missing from the site.
fn absent_books(ctx: &Context, plan: &[(String, String, Option<&'static Book>)], notes: &mut Vec<String>) {
    for p in &ctx.manifest.projects {
        let Some(book) = books::by_code(&p.identifier) else {
            continue;
        };
        if plan.iter().any(|(_, _, b)| *b == Some(book)) {
            continue;
        }
        let path = if p.path.is_empty() {
            String::new()
        } else {
            format!(" at {}", p.path)
        };
        notes.push(format!(
            "the manifest lists {} ({}){path}, but the repository has no USFM file for it: the book is not published",
            book.code, book.name
        ));
    }
}

/// The value of a header marker (`\h Genesis`) in the first lines of a book.
fn header_value<'a>(head: &'a str, marker: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.trim_start().strip_prefix(marker))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn read_head(ctx: &Context, rel: &str) -> String {
    ctx.tree.read_head(rel, 2048)
}

/// Assembles translationStudio chunks (`CC/VV.txt`, `CC/title.txt`,
/// `front/title.txt`) into one USFM book, inserting the headers and any
/// missing `\c` and `\v`.
pub fn assemble_ts_book(
    ctx: &Context,
    book: &Book,
    warnings: &mut Vec<String>,
) -> Result<(String, Vec<String>), ConvertError> {
    let mut chapters: Vec<(u32, String)> = Vec::new();
    for f in &ctx.tree.files {
        if let Some((dir, _)) = f.split_once('/')
            && !dir.is_empty()
            && dir.bytes().all(|b| b.is_ascii_digit())
            && !chapters.iter().any(|(_, d)| d == dir)
        {
            chapters.push((dir.parse().unwrap_or(0), dir.to_string()));
        }
    }
    chapters.sort();
    let title = ["front/title.txt", "00/title.txt"]
        .iter()
        .find_map(|p| ctx.read_opt(p))
        .or_else(|| {
            ctx.manifest
                .projects
                .first()
                .map(|p| p.title.clone())
                .filter(|t| !t.is_empty())
        })
        .unwrap_or_else(|| book.name.to_string());
    let title = title.lines().next().unwrap_or("").trim().to_string();
    let mut out = String::new();
    out.push_str(&format!(
        "\\id {} {}\n\\ide UTF-8\n\\h {title}\n\\toc1 {title}\n\\toc2 {title}\n\\toc3 {}\n\\mt {title}\n",
        book.code,
        ctx.manifest.title,
        book.identifier()
    ));
    let mut sources = Vec::new();
    for (num, dir) in chapters.iter().filter(|(n, _)| *n > 0) {
        let mut chunks: Vec<&String> = ctx
            .tree
            .under(dir)
            .filter(|f| {
                let name = &f[dir.len() + 1..];
                !name.contains('/')
                    && name.ends_with(".txt")
                    && name
                        .split('.')
                        .next()
                        .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
            })
            .collect();
        chunks.sort_by_key(|f| numeric_key(&f[dir.len() + 1..]));
        let mut texts = Vec::new();
        for c in &chunks {
            let t = ctx.read(c, warnings)?;
            texts.push((c.to_string(), t));
            sources.push(c.to_string());
        }
        let has_c = texts.iter().any(|(_, t)| t.contains("\\c "));
        if !has_c {
            out.push_str(&format!("\\c {num}\n"));
            if let Some(t) = ctx.read_opt(&format!("{dir}/title.txt")) {
                out.push_str(&format!("\\cl {t}\n"));
            }
            out.push_str("\\p\n");
        }
        for (name, t) in texts {
            let t = t.trim();
            if t.is_empty() {
                warnings.push(format!("{name}: empty chunk"));
                continue;
            }
            if !t.contains("\\v") {
                let first = name[dir.len() + 1..]
                    .split('.')
                    .next()
                    .unwrap_or("1")
                    .trim_start_matches('0');
                out.push_str(&format!("\\v {} ", if first.is_empty() { "1" } else { first }));
            }
            out.push_str(t);
            out.push('\n');
        }
    }
    Ok((out, sources))
}

fn assemble_chunks(ctx: &Context, emit: &mut Emit, notes: &mut Vec<String>) -> Result<(), ConvertError> {
    let book = ctx
        .manifest
        .projects
        .iter()
        .find_map(|p| books::by_code(&p.identifier))
        .or_else(|| books::from_name(ctx.repo_name))
        .ok_or_else(|| {
            ConvertError::Empty("no USFM files, and no book named by the manifest or the repo name".into())
        })?;
    let mut warnings = Vec::new();
    let (text, sources) = assemble_ts_book(ctx, book, &mut warnings)?;
    if sources.is_empty() {
        return Err(ConvertError::Empty(format!(
            "no USFM files and no translationStudio chunks for {}",
            book.code
        )));
    }
    let _ = notes;
    let label = format!("{}.usfm", book.stem());
    let mut p = book_page(
        &text,
        &label,
        Some(book),
        format!("{}.html", book.stem()),
        sources,
        &BookLinks::default(),
    );
    warnings.append(&mut p.warnings);
    p.warnings = warnings;
    emit(p)
}
