//! Links from one resource to another (`rc://LANG/RES/…`), resolved where
//! the site is known: at publishing.
//!
//! The converter resolves the links inside the resource it converts and
//! leaves a link to another resource as a normalised `rc://` URL (it cannot
//! know what this site publishes). Every page the deployer writes goes
//! through [`SiteLinks::rewrite`]: a link to a resource of the same owner and
//! language that is published here leads to that page and anchor of its
//! newest published build (the manifest rows know which); any other leads
//! to the rendered source on the forge. No `rc:` URL reaches a reader.
//!
//! The page and anchor of a target follow the converter's names: tA
//! `NN-MANUAL.html#ARTICLE`, tW `CATEGORY.html#ARTICLE`, tN and tQ
//! `NN-BOOK.html#ch-C-v-V` (`#ch-C`, `#front`, `#ch-C-intro`). A target
//! page the sibling does not hold leads to the forge.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use tx_shared::domain::convert::output_files::MANIFEST_JSON;
use tx_shared::domain::job::repo_prefix;
use tx_shared::domain::manifest::{ManifestRow, NormalizedManifest};
use tx_shared::domain::project::ProjectIndex;
use tx_shared::identity::Segment;
use tx_shared::ports::ObjectStore;
use tx_shared::rc::RcLink;

use crate::error::DeployError;
use crate::landing::latest_published;
use crate::nav::up_to_build_root;
use crate::project::PROJECT_JSON;

/// How a link the converter left for publishing starts.
const RC_HREF: &str = "href=\"rc://";

/// The resources other resources link to with `rc://`.
const LINKED: &[&str] = &["ta", "tw", "tn", "tq"];

/// A resource published on this site that a build's links may lead to.
#[derive(Debug, Clone, Default)]
pub struct Sibling {
    /// Its build folder, relative to the linking build's folder
    /// (`../../en_ta/1a2b3c4d5e/` on the website, `../en_ta/` in a preview).
    pub root: String,
    /// Its pages (`03-translate.html`), relative to its build folder.
    pub pages: HashSet<String>,
}

/// The siblings of a build by resource id (`ta`, `tw`, `tn`, `tq`), all of
/// its owner and language.
#[derive(Debug, Clone, Default)]
pub struct SiteLinks {
    language: String,
    siblings: HashMap<String, Sibling>,
}

impl SiteLinks {
    /// No sibling yet: every `rc://` link leads to the forge.
    pub fn new(language: &str) -> Self {
        SiteLinks {
            language: language.to_string(),
            siblings: HashMap::new(),
        }
    }

    /// Adds the published build of `resource`.
    pub fn add(&mut self, resource: &str, sibling: Sibling) {
        self.siblings.insert(resource.to_ascii_lowercase(), sibling);
    }

    /// Where `rc` leads from the build's folder: the sibling's page and
    /// anchor when it is published here and holds that page, else the forge.
    pub fn resolve(&self, rc: &RcLink) -> String {
        if rc.language == self.language
            && let Some(sibling) = self.siblings.get(&rc.resource)
            && let Some((page, anchor)) = target(rc, &sibling.pages)
        {
            return match anchor {
                Some(a) => format!("{}{page}#{a}", sibling.root),
                None => format!("{}{page}", sibling.root),
            };
        }
        rc.forge_url()
    }

    /// Whether `html` holds a link [`SiteLinks::rewrite`] would replace: a
    /// page without one needs no siblings looked up.
    pub fn wanted(html: &str) -> bool {
        memchr::memmem::find(html.as_bytes(), RC_HREF.as_bytes()).is_some()
    }

    /// `html`, a page named `page` of the build, with every `href="rc://…"`
    /// replaced by where it leads (see [`SiteLinks::resolve`]).
    pub fn rewrite<'h>(&self, html: &'h str, page: &str) -> Cow<'h, str> {
        let mut found = memchr::memmem::find_iter(html.as_bytes(), RC_HREF).peekable();
        if found.peek().is_none() {
            return Cow::Borrowed(html);
        }
        let up = up_to_build_root(page);
        let mut out = String::with_capacity(html.len() + 1024);
        let mut done = 0;
        for at in found {
            // An attribute value holds no `"`, so matches never overlap one.
            let start = at + "href=\"".len();
            let Some(len) = html.get(start..).and_then(|rest| rest.find('"')) else {
                break;
            };
            let url = html
                .get(start..start + len)
                .unwrap_or_default()
                .replace("&amp;", "&");
            let Some(rc) = RcLink::parse(&url, &self.language) else {
                continue;
            };
            let href = self.resolve(&rc);
            out.push_str(html.get(done..start).unwrap_or_default());
            if !href.contains("://") {
                out.push_str(&up);
            }
            // Resolved links are ours (a relative path or the forge's URL):
            // escaped as pulldown-cmark escapes the converter's hrefs.
            let _ = pulldown_cmark_escape::escape_href(&mut out, &href);
            done = start + len;
        }
        out.push_str(html.get(done..).unwrap_or_default());
        Cow::Owned(out)
    }
}

/// The siblings of `owner/repo` (language `language`) on the website: for
/// each of tA, tW, tN and tQ of the same owner and language in `rows` (the
/// manifest table), the newest published build of its default branch (what its
/// landing page shows) and that build's pages. Where two repositories hold
/// one resource, `LANG_RES` (Door43's name) wins, else the one updated last.
pub async fn discover(
    rows: &[ManifestRow],
    website: &dyn ObjectStore,
    owner: &str,
    repo: &str,
    language: &str,
) -> Result<SiteLinks, DeployError> {
    let mut links = SiteLinks::new(language);
    let mut rows: Vec<&ManifestRow> = rows
        .iter()
        .filter(|r| r.repo_owner == owner && r.repo_name != repo && r.language_id == language)
        .filter(|r| LINKED.contains(&r.resource_id.to_ascii_lowercase().as_str()))
        .collect();
    // Added in this order, so the preferred repository of a resource is last.
    rows.sort_by_key(|r| {
        let door43_name = format!("{}_{}", r.language_id, r.resource_id).eq_ignore_ascii_case(&r.repo_name);
        (door43_name, r.last_updated)
    });
    for row in rows {
        if let Some(sibling) = published_sibling(website, owner, &row.repo_name).await? {
            links.add(&row.resource_id, sibling);
        }
    }
    Ok(links)
}

/// The siblings of a preview written to `out_dir` (language `language`):
/// previews of tA, tW, tN and tQ in folders beside it (`tx build` of each
/// resource into one parent folder), known by the `manifest.json` each
/// preview holds. A translator previewing helps side by side follows their
/// links between each other without a server.
pub fn discover_local(out_dir: &std::path::Path, language: &str) -> SiteLinks {
    let mut links = SiteLinks::new(language);
    let (Some(parent), Some(own)) = (out_dir.parent(), out_dir.file_name()) else {
        return links;
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return links;
    };
    let mut dirs: Vec<std::path::PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.file_name() != Some(own)) {
        let (Some(name), Ok(manifest)) = (
            dir.file_name()
                .and_then(|n| n.to_str())
                .filter(|n| Segment::is_valid(n)),
            std::fs::read(dir.join(MANIFEST_JSON)),
        ) else {
            continue;
        };
        let Ok(m) = serde_json::from_slice::<NormalizedManifest>(&manifest) else {
            continue;
        };
        let resource = m.resource_id.to_ascii_lowercase();
        if m.language.id != language || !LINKED.contains(&resource.as_str()) {
            continue;
        }
        let pages = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|p| p.ends_with(".html"))
            .collect();
        links.add(
            &resource,
            Sibling {
                root: format!("../{name}/"),
                pages,
            },
        );
    }
    links
}

/// `owner/repo`'s newest published build of its default branch, as seen
/// from a build folder of a repository of the same owner.
async fn published_sibling(
    website: &dyn ObjectStore,
    owner: &str,
    repo: &str,
) -> Result<Option<Sibling>, DeployError> {
    let repo_prefix = repo_prefix(owner, repo);
    let Some(body) = website.get(&format!("{repo_prefix}{PROJECT_JSON}")).await? else {
        return Ok(None);
    };
    let Ok(index) = serde_json::from_slice::<ProjectIndex>(&body) else {
        tracing::warn!(
            owner,
            repo,
            "unreadable project.json; its links lead to the forge"
        );
        return Ok(None);
    };
    let Some(default) = index.default_ref() else {
        return Ok(None);
    };
    let candidates = index.commits.iter().filter(|c| c.is_of(&default));
    let Some(commit) = latest_published(website, &repo_prefix, candidates)
        .await?
        .filter(|c| Segment::is_valid(&c.id))
    else {
        return Ok(None);
    };
    let folder = format!("{repo_prefix}{}/", commit.id);
    let pages = website
        .list(&folder)
        .await?
        .into_iter()
        .filter_map(|k| k.strip_prefix(&folder).map(str::to_string))
        .filter(|p| p.ends_with(".html"))
        .collect();
    Ok(Some(Sibling {
        root: format!("../../{repo}/{}/", commit.id),
        pages,
    }))
}

/// The page of `pages` and the anchor `rc` names, by the converter's names.
fn target(rc: &RcLink, pages: &HashSet<String>) -> Option<(String, Option<String>)> {
    let path: Vec<&str> = rc.path.iter().map(String::as_str).collect();
    match (rc.resource.as_str(), path.as_slice()) {
        ("ta", [manual, .., article]) => Some((page_named(pages, manual)?, Some(article.to_string()))),
        ("ta", [manual]) => Some((page_named(pages, manual)?, None)),
        ("tw", _) => {
            let article = rc.article_path();
            let (category, slug) = article.rsplit_once('/')?;
            Some((page_named(pages, category)?, Some(slug.to_string())))
        }
        ("tn" | "tq", [_, ..]) => Some((page_named(pages, &rc.book_code()?)?, rc.place_anchor())),
        _ => None,
    }
}

/// The page `NAME.html` or `NN-NAME.html` (case as the converter writes it:
/// book codes upper case, manuals and categories lower case).
fn page_named(pages: &HashSet<String>, name: &str) -> Option<String> {
    let plain = format!("{name}.html");
    if pages.contains(&plain) {
        return Some(plain);
    }
    let numbered = format!("-{name}.html");
    pages
        .iter()
        .filter(|p| {
            p.strip_suffix(&numbered)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .min()
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> SiteLinks {
        let mut l = SiteLinks::new("en");
        let pages = |p: &[&str]| p.iter().map(|s| s.to_string()).collect();
        l.add(
            "ta",
            Sibling {
                root: "../../en_ta/1a2b3c4d5e/".into(),
                pages: pages(&["01-intro.html", "03-translate.html"]),
            },
        );
        l.add(
            "tn",
            Sibling {
                root: "../../en_tn/0123456789/".into(),
                pages: pages(&["08-RUT.html", "63-1JN.html"]),
            },
        );
        l
    }

    #[test]
    fn links_lead_to_published_siblings_else_the_forge() {
        let l = links();
        let r = |u: &str| l.resolve(&RcLink::parse(u, "en").unwrap());
        assert_eq!(
            r("rc://*/ta/man/translate/figs-verbs"),
            "../../en_ta/1a2b3c4d5e/03-translate.html#figs-verbs"
        );
        assert_eq!(
            r("rc://en/tn/help/1jn/01/05"),
            "../../en_tn/0123456789/63-1JN.html#ch-1-v-5"
        );
        assert_eq!(
            r("rc://en/tn/help/rut/front/intro"),
            "../../en_tn/0123456789/08-RUT.html#front-intro"
        );
        assert_eq!(
            r("rc://en/tn/help/rut/02"),
            "../../en_tn/0123456789/08-RUT.html#ch-2"
        );
        // Not published here, another language, a page the sibling lacks.
        assert_eq!(
            r("rc://en/tw/dict/bible/kt/god"),
            RcLink::parse("rc://en/tw/dict/bible/kt/god", "en")
                .unwrap()
                .forge_url()
        );
        assert!(r("rc://fr/ta/man/translate/figs-verbs").starts_with(tx_shared::rc::FORGE_BASE));
        assert!(r("rc://en/tn/help/gen/01/01").starts_with(tx_shared::rc::FORGE_BASE));
        assert!(r("rc://en/ta/man/checking/x").starts_with(tx_shared::rc::FORGE_BASE));
    }

    #[test]
    fn pages_are_rewritten_from_where_they_stand() {
        let l = links();
        let html = r#"<p><a href="rc://en/ta/man/translate/figs-verbs">a</a> <a href="x.html">b</a></p><a href="rc://en/tw/dict/bible/kt/god">c</a>"#;
        let out = l.rewrite(html, "sub/page.html");
        assert!(
            out.contains(r#"<a href="../../../en_ta/1a2b3c4d5e/03-translate.html#figs-verbs">a</a>"#),
            "{out}"
        );
        assert!(out.contains(r#"<a href="x.html">b</a>"#), "{out}");
        assert!(
            out.contains(&format!(
                r#"<a href="{}/en_tw/src/branch/master/bible/kt/god.md">c</a>"#,
                tx_shared::rc::FORGE_BASE
            )),
            "{out}"
        );
        assert!(!out.contains("rc://"), "{out}");
        assert!(matches!(l.rewrite("<p>no links</p>", "a.html"), Cow::Borrowed(_)));
    }
}
