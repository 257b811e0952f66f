//! One converted build as the deployer sees it: the build log, the manifest,
//! the navigation and the list of files, wherever they were read from (the
//! CDN bucket, a zip, a folder).
//!
//! Every input but the build log may be missing or broken (an old converter,
//! a partial upload); the deployer then derives what it needs from the file
//! list rather than publish nothing.

use std::collections::BTreeSet;

use tx_shared::domain::build_log::{BUILD_LOG, BuildLog, DisplayStatus};
use tx_shared::domain::convert::Downloads;
use tx_shared::domain::convert::output_files::{DOWNLOADS_DIR, DOWNLOADS_JSON, INDEX_JSON, MANIFEST_JSON};
use tx_shared::domain::manifest::{NormalizedManifest, ResourceType};
use tx_shared::domain::navigation::{NavItem, Navigation};

use crate::keys::is_safe_relative;

/// The name of each build's start page: a converted page of that name is the
/// start page, otherwise the deployer writes a table of contents there.
pub const INDEX_HTML: &str = "index.html";

/// Everything about a build except the page contents.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertedBuild {
    /// The build log; `None` for an offline preview (`tx build`).
    pub log: Option<BuildLog>,
    /// The normalised manifest, when the output had a readable one.
    pub manifest: Option<NormalizedManifest>,
    /// Navigation from `index.json`, or derived from the file list.
    pub nav: Navigation,
    /// Page fragments to template, in reading order.
    pub pages: Vec<String>,
    /// Other files (images, `manifest.yaml`, `index.json`) copied as they are.
    pub assets: Vec<String>,
    /// What was odd about the inputs, for the deployer's log.
    pub notes: Vec<String>,
    /// A release's downloads (`downloads.json`), for its version page.
    pub downloads: Option<Downloads>,
}

impl ConvertedBuild {
    /// Assembles a build from its file list (names relative to the build
    /// folder) and the contents of its metadata files.
    pub fn assemble(
        files: &[String],
        index_json: Option<&[u8]>,
        manifest_json: Option<&[u8]>,
        log: Option<BuildLog>,
        fallback_title: &str,
    ) -> ConvertedBuild {
        let mut notes = Vec::new();
        let manifest = manifest_json.and_then(|b| match serde_json::from_slice::<NormalizedManifest>(b) {
            Ok(m) => Some(m),
            Err(e) => {
                notes.push(format!("{MANIFEST_JSON} is not a manifest: {e}"));
                None
            }
        });
        let nav = index_json.and_then(|b| match serde_json::from_slice::<Navigation>(b) {
            Ok(n) => Some(n),
            Err(e) => {
                notes.push(format!("{INDEX_JSON} is not navigation data: {e}"));
                None
            }
        });

        let mut unsafe_names = Vec::new();
        let present: BTreeSet<&str> = files
            .iter()
            .map(String::as_str)
            .filter(|f| {
                let ok = is_safe_relative(f);
                if !ok {
                    unsafe_names.push(f.to_string());
                }
                ok
            })
            .collect();
        for bad in unsafe_names {
            notes.push(format!("skipped unsafe file name {bad:?}"));
        }
        // A release's files are published as they were attached, whatever
        // their names: `downloads/notes.html` is a download, not a page.
        let is_page = |f: &str| f.ends_with(".html") && !f.starts_with(DOWNLOADS_DIR);

        let mut pages: Vec<String> = Vec::new();
        if let Some(nav) = &nav {
            for p in &nav.pages {
                if !is_safe_relative(p) || !is_page(p) {
                    notes.push(format!("{INDEX_JSON} lists {p:?}, which is not a page name"));
                } else if !present.contains(p.as_str()) {
                    notes.push(format!("{INDEX_JSON} lists {p}, which is not in the output"));
                } else if !pages.contains(p) {
                    pages.push(p.clone());
                }
            }
        }
        let listed: BTreeSet<String> = pages.iter().cloned().collect();
        let extra: Vec<String> = present
            .iter()
            .filter(|f| is_page(f) && !listed.contains(**f))
            .map(|f| f.to_string())
            .collect();
        if nav.is_some() && !extra.is_empty() {
            notes.push(format!("pages missing from {INDEX_JSON}: {}", extra.join(", ")));
        }
        pages.extend(extra.iter().cloned());

        let assets = present
            .iter()
            .filter(|f| !is_page(f) && **f != BUILD_LOG && **f != MANIFEST_JSON)
            .map(|f| f.to_string())
            .collect();

        let mut nav =
            nav.unwrap_or_else(|| derived_nav(&pages, manifest.as_ref(), log.as_ref(), fallback_title));
        // Pages the navigation does not reach still get a link.
        for page in &extra {
            if !nav_mentions(&nav.items, page) {
                nav.items.push(NavItem {
                    title: title_from_name(page),
                    href: Some(page.clone()),
                    children: Vec::new(),
                });
            }
        }
        nav.pages = pages.clone();

        ConvertedBuild {
            log,
            manifest,
            nav,
            pages,
            assets,
            notes,
            downloads: None,
        }
    }

    /// Reads the build's `downloads.json`, when it has one. A prebuilt site
    /// bundle's build then has no page to template: its HTML files are the
    /// site as the release published it, copied as they are (the
    /// Content-Security-Policy guards them, not a template), and its own
    /// `index.html` is the start page. A broken file is a note, and the build
    /// is published as converted pages.
    pub fn with_downloads(mut self, downloads_json: Option<&[u8]>) -> ConvertedBuild {
        let Some(bytes) = downloads_json else {
            return self;
        };
        let downloads = match serde_json::from_slice::<Downloads>(bytes) {
            Ok(d) => d,
            Err(e) => {
                self.notes
                    .push(format!("{DOWNLOADS_JSON} is not a list of downloads: {e}"));
                return self;
            }
        };
        if downloads.prebuilt.is_some() {
            self.assets.append(&mut self.pages);
            self.assets.sort();
            self.nav.pages.clear();
        }
        self.downloads = Some(downloads);
        self
    }

    /// Whether the build is a release's prebuilt site bundle, published as it is.
    pub fn is_prebuilt(&self) -> bool {
        self.downloads.as_ref().is_some_and(|d| d.prebuilt.is_some())
    }

    /// The display status (an offline preview counts as a success).
    pub fn status(&self) -> DisplayStatus {
        self.log.as_ref().map_or(DisplayStatus::Success, |l| l.status)
    }

    /// Whether readers get pages: the build is over and was not a failure.
    pub fn is_published(&self) -> bool {
        matches!(
            self.status(),
            DisplayStatus::Success | DisplayStatus::Warnings | DisplayStatus::Errors
        )
    }

    /// Language id for `lang`.
    pub fn lang(&self) -> &str {
        self.manifest
            .as_ref()
            .map(|m| m.language.id.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(self.nav.language.as_str())
    }

    /// Whether a converted page is the start page (else a table of contents is).
    pub fn has_own_index(&self) -> bool {
        let copied_index = self.is_prebuilt() && self.assets.iter().any(|a| a == INDEX_HTML);
        copied_index || self.pages.iter().any(|p| p == INDEX_HTML)
    }

    /// Text direction for `dir` (`ltr` unless the language says `rtl`).
    pub fn dir(&self) -> &'static str {
        let d = self
            .manifest
            .as_ref()
            .map(|m| m.language.direction.as_str())
            .unwrap_or(self.nav.direction.as_str());
        if d.eq_ignore_ascii_case("rtl") {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// Title of the resource.
    pub fn title(&self) -> &str {
        self.manifest
            .as_ref()
            .map(|m| m.title.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(self.nav.title.as_str())
    }

    /// Name of the language, when the manifest gives one.
    pub fn language_name(&self) -> Option<&str> {
        self.manifest.as_ref().map(|m| m.language.name.as_str())
    }

    /// Kind of resource, which picks the layout.
    pub fn resource_type(&self) -> ResourceType {
        self.manifest
            .as_ref()
            .map_or(self.nav.resource_type, |m| m.resource_type)
    }
}

/// Navigation for an output without a usable `index.json`: one entry per page.
fn derived_nav(
    pages: &[String],
    manifest: Option<&NormalizedManifest>,
    log: Option<&BuildLog>,
    fallback_title: &str,
) -> Navigation {
    Navigation {
        title: manifest
            .map(|m| m.title.clone())
            .or_else(|| log.map(|l| l.repo_name.clone()))
            .unwrap_or_else(|| fallback_title.to_string()),
        resource_type: manifest.map_or(ResourceType::Generic, |m| m.resource_type),
        direction: manifest.map_or_else(|| "ltr".to_string(), |m| m.language.direction.clone()),
        language: manifest.map_or_else(|| "und".to_string(), |m| m.language.id.clone()),
        pages: pages.to_vec(),
        items: pages
            .iter()
            .map(|p| NavItem {
                title: title_from_name(p),
                href: Some(p.clone()),
                children: Vec::new(),
            })
            .collect(),
    }
}

fn nav_mentions(items: &[NavItem], page: &str) -> bool {
    items.iter().any(|i| {
        i.href
            .as_deref()
            .is_some_and(|h| h.split('#').next() == Some(page))
            || nav_mentions(&i.children, page)
    })
}

/// `01-GEN.html` → `01 GEN`; `kt/god.html` → `god`.
pub fn title_from_name(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    let stem = file.strip_suffix(".html").unwrap_or(file);
    stem.replace(['-', '_'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn nav_json(pages: &[&str]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "title": "Genesis", "resource_type": "bible", "direction": "ltr", "language": "en",
            "pages": pages,
            "items": [{"title": "Genesis", "href": "01-GEN.html", "children": [{"title": "1", "href": "01-GEN.html#ch-1"}]}]
        }))
        .unwrap()
    }

    #[test]
    fn pages_follow_index_json_then_unlisted_ones() {
        let b = ConvertedBuild::assemble(
            &files(&[
                "02-EXO.html",
                "01-GEN.html",
                "index.json",
                "manifest.json",
                "build_log.json",
                "img/a.png",
            ]),
            Some(&nav_json(&["01-GEN.html", "99-MISSING.html", "../evil.html"])),
            None,
            None,
            "repo",
        );
        assert_eq!(b.pages, vec!["01-GEN.html", "02-EXO.html"]);
        assert_eq!(b.assets, vec!["img/a.png", "index.json"]);
        assert_eq!(b.nav.items.len(), 2, "unlisted page gets a nav entry");
        assert_eq!(b.nav.items[1].href.as_deref(), Some("02-EXO.html"));
        assert!(b.notes.iter().any(|n| n.contains("99-MISSING.html")));
        assert!(b.notes.iter().any(|n| n.contains("../evil.html")));
        assert_eq!(b.resource_type(), ResourceType::Bible);
    }

    #[test]
    fn missing_index_json_is_derived_from_files() {
        let b = ConvertedBuild::assemble(
            &files(&["b.html", "a.html", "../x.html"]),
            Some(b"not json"),
            Some(b"{}"),
            None,
            "my-repo",
        );
        assert_eq!(b.pages, vec!["a.html", "b.html"]);
        assert_eq!(b.nav.title, "my-repo");
        assert_eq!(b.resource_type(), ResourceType::Generic);
        assert_eq!(b.dir(), "ltr");
        assert_eq!(b.notes.len(), 3, "{:?}", b.notes);
    }

    #[test]
    fn release_files_are_copied_never_templated() {
        let b = ConvertedBuild::assemble(
            &files(&[
                "01-GEN.html",
                "downloads/notes.html",
                "downloads/a.xo",
                "downloads.json",
            ]),
            None,
            None,
            None,
            "repo",
        )
        .with_downloads(Some(
            br#"{"files": [{"name": "a.xo", "path": "downloads/a.xo", "size": 3}]}"#,
        ));
        assert_eq!(b.pages, vec!["01-GEN.html"]);
        assert_eq!(
            b.assets,
            vec!["downloads.json", "downloads/a.xo", "downloads/notes.html"]
        );
        assert!(!b.is_prebuilt());
        assert_eq!(b.downloads.as_ref().map(|d| d.files.len()), Some(1));
    }

    #[test]
    fn a_prebuilt_bundle_is_copied_whole_with_its_own_start_page() {
        let b = ConvertedBuild::assemble(
            &files(&[
                "index.html",
                "about/index.html",
                "app.js",
                "downloads/site.zip",
                "downloads.json",
            ]),
            None,
            None,
            None,
            "repo",
        )
        .with_downloads(Some(br#"{"prebuilt": "site.zip", "files": []}"#));
        assert!(b.is_prebuilt());
        assert!(b.pages.is_empty());
        assert!(b.has_own_index());
        assert!(b.assets.contains(&"index.html".to_string()));
        assert!(b.assets.contains(&"about/index.html".to_string()));
        let broken =
            ConvertedBuild::assemble(&files(&["a.html"]), None, None, None, "r").with_downloads(Some(b"["));
        assert_eq!(broken.pages, vec!["a.html"]);
        assert!(broken.notes.iter().any(|n| n.contains("downloads.json")));
    }

    #[test]
    fn names_become_titles() {
        assert_eq!(title_from_name("01-GEN.html"), "01 GEN");
        assert_eq!(title_from_name("kt/god.html"), "god");
    }
}
