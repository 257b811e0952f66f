//! Rewriting links between resources into working site links.
//!
//! Door43 content links with `rc://LANG/RES/TYPE/…` URIs and with relative
//! paths between source files (`../figs-verbs/01.md`). Inside the resource
//! being converted both become `page.html#anchor`; links to other resources
//! become links to their source on Door43's forge, which always exist.

use std::collections::HashMap;

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

impl Linker {
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
    }
}
