//! Scripture references written as text (`\r (Mark 1:2-8; Luke 3:1-18)`)
//! turned into links to the verse on this site, when the book is published
//! in the same build.
//!
//! Book names are matched against what the repository itself calls each
//! book (`\h`, `\toc1`–`\toc3`, so a translation's own names and
//! abbreviations work), then the English names and the USFM codes; a name
//! that is none of these, or a book not in the build, stays plain text.

use std::collections::HashMap;

use super::books::{BOOKS, Book};
use crate::html::{push_attr, push_escaped};

/// The books of one build: names → the page that holds each book.
#[derive(Debug, Default, Clone)]
pub struct BookLinks {
    by_name: HashMap<String, (&'static str, String)>,
}

/// How names compare: case folded, dots and inner spaces dropped
/// (`1 Chr.` = `1chr`).
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .flat_map(char::to_lowercase)
        .collect()
}

impl BookLinks {
    /// Adds a published book: its page, and the names its file gives it.
    pub fn add(&mut self, book: &'static Book, page: &str, names: &[&str]) {
        let target = (book.code, page.to_string());
        for name in names.iter().copied().chain([book.name, book.code]) {
            let k = key(name);
            if !k.is_empty() {
                self.by_name.entry(k).or_insert_with(|| target.clone());
            }
        }
    }

    /// The page of a book name, if that book is in the build. A unique
    /// prefix of an English name (`Ps` for Psalms) also counts.
    fn page_of(&self, name: &str) -> Option<&(&'static str, String)> {
        let k = key(name);
        if k.len() < 2 {
            return None;
        }
        if let Some(t) = self.by_name.get(&k) {
            return Some(t);
        }
        let mut hits = BOOKS.iter().filter(|b| key(b.name).starts_with(&k));
        let only = hits.next()?;
        if hits.next().is_some() {
            return None;
        }
        self.by_name.get(&key(only.code))
    }

    /// The link to a `\\ref` target (`EZK 34:11-24`, `REV 7:17`): book code,
    /// chapter, first verse; `None` when the book is not in the build.
    pub fn href_of_target(&self, target: &str, this_page: &str) -> Option<String> {
        let target = target.trim().trim_start_matches("loc=").trim_matches('"');
        let (code, numbers) = target.split_once(' ')?;
        let (_, page) = self
            .by_name
            .get(&key(code))
            .filter(|(c, _)| c.eq_ignore_ascii_case(code))?;
        let mut it = numbers.trim().splitn(2, ':');
        let chapter: u32 = it.next()?.trim().parse().ok()?;
        let verse: Option<u32> = it.next().and_then(|v| {
            v.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        });
        let mut href = if page == this_page {
            String::new()
        } else {
            page.clone()
        };
        href.push_str(&format!("#ch-{chapter}"));
        if let Some(v) = verse {
            href.push_str(&format!("-v-{v}"));
        }
        Some(href)
    }

    /// Writes `text` as HTML with each reference it can resolve as a link.
    /// `this_page` is the page being written (links to it are `#…` only).
    pub fn push_linked(&self, out: &mut String, text: &str, this_page: &str) {
        let mut book: Option<&(&'static str, String)> = None;
        let mut rest = text;
        while !rest.is_empty() {
            let end = rest.find(';').map_or(rest.len(), |i| i + 1);
            let (part, tail) = rest.split_at(end);
            rest = tail;
            match parse_part(part) {
                Some(p) => {
                    if !p.name.trim().is_empty() {
                        book = self.page_of(p.name);
                    }
                    let Some((_, page)) = book else {
                        push_escaped(out, part);
                        continue;
                    };
                    push_escaped(out, &part[..p.link.start]);
                    out.push_str("<a class=\"ref\" href=\"");
                    if page != this_page {
                        push_attr(out, page);
                    }
                    out.push_str("#ch-");
                    out.push_str(&p.chapter.to_string());
                    if let Some(v) = p.verse {
                        out.push_str("-v-");
                        out.push_str(&v.to_string());
                    }
                    out.push_str("\">");
                    push_escaped(out, &part[p.link.clone()]);
                    out.push_str("</a>");
                    push_escaped(out, &part[p.link.end..]);
                }
                None => push_escaped(out, part),
            }
        }
    }
}

/// One `Name C:V…` part of a reference list.
struct Part<'a> {
    /// The book name as written (empty: the previous part's book).
    name: &'a str,
    chapter: u32,
    verse: Option<u32>,
    /// The bytes that become the link: the name and the numbers.
    link: std::ops::Range<usize>,
}

/// Reads `(Mark 1:2-8;`, ` 3:1`, `1 Chr 16:8-22)`: the name is everything
/// before the last token that starts with a digit.
fn parse_part(part: &str) -> Option<Part<'_>> {
    let start = part.find(|c: char| !c.is_whitespace() && c != '(' && c != '[')?;
    let end = part.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | ';' | ',' | '.'));
    let end = end.len();
    if end <= start {
        return None;
    }
    let body = &part[start..end];
    let num_at = body
        .char_indices()
        .rev()
        .find(|(i, c)| c.is_ascii_digit() && (*i == 0 || body[..*i].ends_with(char::is_whitespace)))
        .map(|(i, _)| i)?;
    let numbers = &body[num_at..];
    let mut it = numbers.splitn(2, [':', '.']);
    let chapter: u32 = it.next()?.trim().parse().ok()?;
    let verse = it.next().and_then(|v| {
        let d: String = v.chars().take_while(char::is_ascii_digit).collect();
        d.parse().ok()
    });
    if !numbers
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | '-' | '–' | ',' | ' '))
    {
        return None;
    }
    Some(Part {
        name: body[..num_at].trim(),
        chapter,
        verse,
        link: start..end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usfm::books::by_code;

    fn links() -> BookLinks {
        let mut l = BookLinks::default();
        for (code, names) in [
            ("MRK", vec!["Mark", "Mk"]),
            ("LUK", vec!["Luka"]),
            ("1CH", vec![]),
        ] {
            let b = by_code(code).unwrap();
            l.add(b, &format!("{}.html", b.stem()), &names);
        }
        l
    }

    #[test]
    fn references_link_to_published_books_only() {
        let mut out = String::new();
        links().push_linked(
            &mut out,
            "(Mark 1:2-8; Luka 3:1-18; John 1:19-28; 1 Chronicles 16:8)",
            "42-MRK.html",
        );
        assert_eq!(
            out,
            "(<a class=\"ref\" href=\"#ch-1-v-2\">Mark 1:2-8</a>; \
             <a class=\"ref\" href=\"43-LUK.html#ch-3-v-1\">Luka 3:1-18</a>; John 1:19-28; \
             <a class=\"ref\" href=\"13-1CH.html#ch-16-v-8\">1 Chronicles 16:8</a>)"
        );
    }

    #[test]
    fn a_part_without_a_name_keeps_the_previous_book() {
        let mut out = String::new();
        links().push_linked(&mut out, "Mk 1:2; 3:4", "x.html");
        assert!(out.contains("href=\"42-MRK.html#ch-3-v-4\">3:4</a>"), "{out}");
    }

    #[test]
    fn ref_targets_resolve_by_code() {
        let l = links();
        assert_eq!(
            l.href_of_target("MRK 1:2-8", "x.html").as_deref(),
            Some("42-MRK.html#ch-1-v-2")
        );
        assert_eq!(
            l.href_of_target("loc=\"LUK 3\"", "43-LUK.html").as_deref(),
            Some("#ch-3")
        );
        assert_eq!(l.href_of_target("JHN 1:1", "x.html"), None);
    }
}
