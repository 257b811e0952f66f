//! Rewriting links between resources into working site links.
//!
//! Door43 content links with `rc://LANG/RES/TYPE/…` URIs and with relative
//! paths between source files (`../figs-verbs/01.md`). Inside the resource
//! being converted both become `page.html#anchor`; links to other resources
//! become links to their source on Door43's forge, which always exist.

use std::collections::HashMap;

use crate::usfm::books;

/// The page and anchor of a book, chapter and verse in a tN or tQ site
/// (`["act", "04", "32"]` → `44-ACT.html#ch-4-v-32`), the form every
/// reference to a note takes, so that a reference keeps its verse.
/// A fourth segment is a note id (`#tn-ID`); a missing verse is the chapter.
pub fn bible_ref_link(segs: &[&str]) -> Option<String> {
    let book = books::by_code(segs.first()?)?;
    let page = format!("{}.html", book.stem());
    let num = |s: &str| -> Option<String> {
        let s = s.trim_end_matches(".md");
        let t = s.trim_start_matches('0');
        match s {
            "front" | "intro" => Some(s.to_string()),
            _ if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                Some(if t.is_empty() { "0".into() } else { t.to_string() })
            }
            _ => None,
        }
    };
    let anchor = match segs[1..] {
        [] => return Some(page),
        [c] => match num(c)?.as_str() {
            "front" => "front".to_string(),
            c => format!("ch-{c}"),
        },
        [c, v] | [c, v, _] => {
            let (c, v) = (num(c)?, num(v)?);
            match (c.as_str(), v.as_str()) {
                ("front", "intro") => "front-intro".to_string(),
                (c, "intro") => format!("ch-{c}-intro"),
                (c, v) => format!("ch-{c}-v-{v}"),
            }
        }
        _ => return None,
    };
    match segs.get(3) {
        Some(id) if !id.is_empty() && segs.len() == 4 => Some(format!("{page}#tn-{id}")),
        _ => Some(format!("{page}#{anchor}")),
    }
}

/// The site link of a relative link in a note of `book` (TSV notes are
/// written as if each verse were a file `BOOK/CC/VV.md`): `../02/03.md` is
/// verse 2:3 of the same book, `../act/04/32.md` a verse of another,
/// `../02/03/abcd` one note. `None` when the link is not of that form.
pub fn note_link(book: &books::Book, url: &str) -> Option<String> {
    let (path, frag) = match url.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (url, None),
    };
    let rest = path.strip_prefix("../")?;
    let segs: Vec<&str> = rest.split('/').collect();
    let code = book.code.to_ascii_lowercase();
    let mut full: Vec<&str> = Vec::with_capacity(4);
    if segs.first().is_some_and(|s| books::by_code(s).is_some()) {
        full.extend(&segs);
    } else {
        full.push(&code);
        full.extend(&segs);
    }
    if full.len() < 2 || full.len() > 4 {
        return None;
    }
    let link = bible_ref_link(&full)?;
    Some(match frag {
        Some(f) if !link.contains('#') => format!("{link}#{f}"),
        _ => link,
    })
}

/// Where the forge serves other resources' sources.
pub const FORGE_BASE: &str = "https://git.door43.org/unfoldingWord";

/// Site targets of the resource being converted.
#[derive(Debug, Default, Clone)]
pub struct Linker {
    /// Language id, substituted for `*` in `rc://*/…`.
    pub language: String,
    /// Resource id being converted (`ta`, `tw`, …).
    pub resource: String,
    /// Repo-relative source path (file, or folder of a tA section) → `page.html#anchor`.
    pub paths: HashMap<String, String>,
    /// Resource-relative rc path (`translate/figs-metaphor`, `kt/god`) → href.
    pub rc: HashMap<String, String>,
}

/// Joins `rel` onto the folder of `from` (both repo-relative), resolving `.` and `..`.
pub fn resolve(from: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// The warning for a link in `text` (the source file `from`) that `rewrite`
/// could not resolve, as `FILE:LINE: link to nothing: URL`, or `None` when
/// the link is not meant to be resolved here (another site, an anchor of
/// the same page, mail). A reader would follow such a link into nothing.
pub fn dead_link(from: &str, text: &str, url: &str) -> Option<String> {
    if url.contains("://") || url.starts_with('#') || url.starts_with("mailto:") {
        return None;
    }
    let line = text.find(url).map_or(0, |at| {
        1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..at]).count()
    });
    Some(format!("{from}:{line}: link to nothing: {url}"))
}

impl Linker {
    /// [`Linker::rewrite`], recording in `dead` a warning for every link to
    /// nothing (see [`dead_link`]); `text` is the source, for line numbers.
    pub fn rewrite_or_warn(
        &self,
        from: &str,
        text: &str,
        url: &str,
        dead: &std::cell::RefCell<Vec<String>>,
    ) -> Option<String> {
        let found = self.rewrite(from, url);
        if found.is_none()
            && let Some(w) = dead_link(from, text, url)
        {
            dead.borrow_mut().push(w);
        }
        found
    }

    /// The site link for `url` found in file `from`, or `None` to keep it.
    pub fn rewrite(&self, from: &str, url: &str) -> Option<String> {
        if let Some(rest) = url.strip_prefix("rc://") {
            return Some(self.rc_link(rest));
        }
        if url.contains("://") || url.starts_with('#') || url.starts_with("mailto:") {
            return None;
        }
        let (path, frag) = match url.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (url, None),
        };
        let target = resolve(from, path)?;
        let found = self
            .paths
            .get(&target)
            .or_else(|| self.paths.get(target.trim_end_matches("/01.md")))
            .or_else(|| self.paths.get(target.trim_end_matches(".md")))?;
        Some(match frag {
            Some(f) if !found.contains('#') => format!("{found}#{f}"),
            _ => found.clone(),
        })
    }

    fn rc_link(&self, rest: &str) -> String {
        let mut parts = rest.trim_end_matches('/').split('/');
        let lang = match parts.next() {
            Some("*") | Some("") | None => self.language.as_str(),
            Some(l) => l,
        };
        let res = parts.next().unwrap_or("").to_ascii_lowercase();
        let _kind = parts.next();
        let tail: Vec<&str> = parts.collect();
        let tail_path = tail.join("/");
        let key = match res.as_str() {
            "tw" => tail_path.trim_start_matches("bible/").to_string(),
            _ => tail_path.clone(),
        };
        if res == self.resource
            && let Some(href) = self.rc.get(&key)
        {
            return href.clone();
        }
        if matches!(res.as_str(), "tn" | "tq")
            && let Some(link) = bible_ref_link(&tail)
        {
            if res == self.resource {
                return link;
            }
            if res == "tn"
                && let Some(book) = tail.first().and_then(|c| books::by_code(c))
            {
                return format!("{FORGE_BASE}/{lang}_tn/src/branch/master/tn_{}.tsv", book.code);
            }
        }
        match res.as_str() {
            "ta" => format!("{FORGE_BASE}/{lang}_ta/src/branch/master/{tail_path}/01.md"),
            "tw" => format!("{FORGE_BASE}/{lang}_tw/src/branch/master/{tail_path}.md"),
            "tn" | "tq" => format!("{FORGE_BASE}/{lang}_{res}/src/branch/master"),
            _ => format!("{FORGE_BASE}/{lang}_{res}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_inside_and_outside() {
        let mut l = Linker {
            language: "en".into(),
            resource: "ta".into(),
            ..Default::default()
        };
        l.paths.insert(
            "translate/figs-verbs".into(),
            "03-translate.html#figs-verbs".into(),
        );
        l.rc.insert(
            "translate/figs-verbs".into(),
            "03-translate.html#figs-verbs".into(),
        );
        assert_eq!(
            l.rewrite("translate/figs-events/01.md", "../figs-verbs/01.md")
                .as_deref(),
            Some("03-translate.html#figs-verbs")
        );
        assert_eq!(
            l.rewrite("a/b.md", "rc://*/ta/man/translate/figs-verbs")
                .as_deref(),
            Some("03-translate.html#figs-verbs")
        );
        assert_eq!(
            l.rewrite("a/b.md", "rc://en/tw/dict/bible/kt/god").as_deref(),
            Some("https://git.door43.org/unfoldingWord/en_tw/src/branch/master/bible/kt/god.md")
        );
        assert_eq!(l.rewrite("a/b.md", "https://x.org/"), None);
        assert_eq!(l.rewrite("a/b.md", "../../nowhere.md"), None);
        assert_eq!(resolve("a/b/c.md", "../d.md").as_deref(), Some("a/d.md"));
        assert_eq!(
            l.rewrite("a/b.md", "rc://en/tn/help/act/04/32").as_deref(),
            Some("https://git.door43.org/unfoldingWord/en_tn/src/branch/master/tn_ACT.tsv")
        );
        l.resource = "tn".into();
        assert_eq!(
            l.rewrite("a/b.md", "rc://en/tn/help/act/04/32").as_deref(),
            Some("45-ACT.html#ch-4-v-32")
        );
    }

    #[test]
    fn note_links_keep_book_chapter_and_verse() {
        let rut = books::by_code("RUT").map(|b| b.stem());
        assert_eq!(rut.as_deref(), Some("08-RUT"));
        let Some(b) = books::by_code("RUT") else { return };
        assert_eq!(
            note_link(b, "../01/02.md").as_deref(),
            Some("08-RUT.html#ch-1-v-2")
        );
        assert_eq!(
            note_link(b, "../03/7.md").as_deref(),
            Some("08-RUT.html#ch-3-v-7")
        );
        assert_eq!(
            note_link(b, "../02/20/zu5f").as_deref(),
            Some("08-RUT.html#tn-zu5f")
        );
        assert_eq!(
            note_link(b, "../act/04/32.md").as_deref(),
            Some("45-ACT.html#ch-4-v-32")
        );
        assert_eq!(
            note_link(b, "../01/intro.md").as_deref(),
            Some("08-RUT.html#ch-1-intro")
        );
        assert_eq!(
            note_link(b, "../front/intro.md").as_deref(),
            Some("08-RUT.html#front-intro")
        );
        assert_eq!(note_link(b, "../figs-x/01.md"), None);
        assert_eq!(note_link(b, "./05.md"), None);
    }
}
