//! The navigation of one page: the sidebar tree seen from that page, its
//! neighbours, its breadcrumbs and its in-page sections, with every link made
//! relative to the page so the site works on any static host and from disk.

use serde::Serialize;
use tx_shared::domain::navigation::{NavItem, Navigation};

use crate::converted::title_from_name;

/// One entry of the sidebar as a page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NavNode {
    /// Link text.
    pub title: String,
    /// Link relative to the page; `None` for a heading that only groups.
    pub href: Option<String>,
    /// This entry is the page itself (`aria-current="page"`).
    pub current: bool,
    /// The page is this entry or below it: the branch is shown open.
    pub open: bool,
    /// Sub-entries worth showing from this page (a linked entry's children
    /// only when it is open, so a Bible page does not list 1,189 chapters).
    pub children: Vec<NavNode>,
    /// The children are short labels (chapter numbers), shown as a grid of chips.
    pub compact: bool,
}

/// A link with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Text.
    pub title: String,
    /// Relative href.
    pub href: String,
}

/// How `page` sees the navigation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageNav {
    /// The sidebar.
    pub tree: Vec<NavNode>,
    /// The page's title.
    pub title: String,
    /// Previous page in reading order.
    pub prev: Option<Link>,
    /// Next page in reading order.
    pub next: Option<Link>,
    /// The entries above the page (manual → section).
    pub breadcrumbs: Vec<Link>,
    /// Places inside the page (chapters of a book), as `#anchor` links.
    pub sections: Vec<Link>,
}

/// `../` once per folder `page` is below the build folder: the way back to the build root.
pub fn up_to_build_root(page: &str) -> String {
    "../".repeat(page.matches('/').count())
}

/// Makes a build-relative `href` relative to `page`; absolute URLs and
/// in-page anchors are left alone.
pub fn relative_href(page: &str, href: &str) -> String {
    if href.starts_with('#') || href.starts_with('/') || href.contains("://") || href.starts_with("mailto:") {
        return href.to_string();
    }
    let (target, anchor) = match href.split_once('#') {
        Some((t, a)) => (t, Some(a)),
        None => (href, None),
    };
    if target == page {
        return match anchor {
            Some(a) => format!("#{a}"),
            None => file_name(page).to_string(),
        };
    }
    let rel = format!("{}{}", up_to_build_root(page), target);
    match anchor {
        Some(a) => format!("{rel}#{a}"),
        None => rel,
    }
}

fn file_name(page: &str) -> &str {
    page.rsplit('/').next().unwrap_or(page)
}

fn page_of(href: &str) -> &str {
    href.split('#').next().unwrap_or(href)
}

impl PageNav {
    /// The navigation as seen from `page` (a page of `nav.pages`, or the
    /// build's start page `index.html` for the table of contents).
    pub fn for_page(nav: &Navigation, page: &str, full_tree: bool) -> PageNav {
        let tree = nav.items.iter().map(|i| node(i, page, full_tree)).collect();
        let pos = nav.pages.iter().position(|p| p == page);
        let link_to = |target: &String| Link {
            title: title_of(nav, target),
            href: relative_href(page, target),
        };
        let prev = pos
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| nav.pages.get(i))
            .map(link_to);
        let next = pos.and_then(|i| nav.pages.get(i + 1)).map(link_to);

        let mut breadcrumbs = Vec::new();
        let mut sections = Vec::new();
        if let Some(path) = path_to(&nav.items, page) {
            for item in &path[..path.len() - 1] {
                if let Some(href) = &item.href {
                    breadcrumbs.push(Link {
                        title: item.title.clone(),
                        href: relative_href(page, href),
                    });
                } else {
                    breadcrumbs.push(Link {
                        title: item.title.clone(),
                        href: String::new(),
                    });
                }
            }
            if let Some(own) = path.last() {
                sections = own
                    .children
                    .iter()
                    .filter_map(|c| {
                        let href = c.href.as_deref()?;
                        (page_of(href) == page && href.contains('#')).then(|| Link {
                            title: c.title.clone(),
                            href: relative_href(page, href),
                        })
                    })
                    .collect();
            }
        }
        PageNav {
            tree,
            title: title_of(nav, page),
            prev,
            next,
            breadcrumbs,
            sections,
        }
    }
}

/// Title of a page: its own nav entry, else the first entry pointing into it, else its name.
pub fn title_of(nav: &Navigation, page: &str) -> String {
    fn exact<'a>(items: &'a [NavItem], page: &str) -> Option<&'a NavItem> {
        items.iter().find_map(|i| {
            (i.href.as_deref() == Some(page))
                .then_some(i)
                .or_else(|| exact(&i.children, page))
        })
    }
    fn into<'a>(items: &'a [NavItem], page: &str) -> Option<&'a NavItem> {
        items.iter().find_map(|i| {
            (i.href.as_deref().map(page_of) == Some(page))
                .then_some(i)
                .or_else(|| into(&i.children, page))
        })
    }
    exact(&nav.items, page)
        .or_else(|| into(&nav.items, page))
        .map(|i| i.title.clone())
        .unwrap_or_else(|| title_from_name(page))
}

/// The chain of entries from the top down to the page's own entry.
fn path_to<'a>(items: &'a [NavItem], page: &str) -> Option<Vec<&'a NavItem>> {
    for item in items {
        if item.href.as_deref() == Some(page) {
            return Some(vec![item]);
        }
        if let Some(mut below) = path_to(&item.children, page) {
            below.insert(0, item);
            return Some(below);
        }
    }
    // No exact entry: an entry pointing into the page (`page.html#top`) will do.
    for item in items {
        if item.href.as_deref().map(page_of) == Some(page) {
            return Some(vec![item]);
        }
    }
    None
}

fn contains_page(item: &NavItem, page: &str) -> bool {
    item.href.as_deref().map(page_of) == Some(page) || item.children.iter().any(|c| contains_page(c, page))
}

fn node(item: &NavItem, page: &str, full_tree: bool) -> NavNode {
    let open = contains_page(item, page);
    let show_children = full_tree || open || item.href.is_none();
    let compact = !item.children.is_empty()
        && item
            .children
            .iter()
            .all(|c| c.href.is_some() && c.children.is_empty() && c.title.chars().count() <= 4);
    NavNode {
        compact,
        title: item.title.clone(),
        href: item.href.as_deref().map(|h| relative_href(page, h)),
        current: item.href.as_deref() == Some(page),
        open,
        children: if show_children {
            item.children.iter().map(|c| node(c, page, full_tree)).collect()
        } else {
            Vec::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tx_shared::domain::manifest::ResourceType;

    fn item(title: &str, href: Option<&str>, children: Vec<NavItem>) -> NavItem {
        NavItem {
            title: title.into(),
            href: href.map(Into::into),
            children,
        }
    }

    fn bible() -> Navigation {
        Navigation {
            title: "ULB".into(),
            resource_type: ResourceType::Bible,
            direction: "ltr".into(),
            language: "en".into(),
            pages: vec!["01-GEN.html".into(), "02-EXO.html".into()],
            items: vec![
                item(
                    "Genesis",
                    Some("01-GEN.html"),
                    vec![
                        item("1", Some("01-GEN.html#ch-1"), vec![]),
                        item("2", Some("01-GEN.html#ch-2"), vec![]),
                    ],
                ),
                item(
                    "Exodus",
                    Some("02-EXO.html"),
                    vec![item("1", Some("02-EXO.html#ch-1"), vec![])],
                ),
            ],
        }
    }

    #[test]
    fn a_book_page_sees_its_chapters_and_neighbours() {
        let n = PageNav::for_page(&bible(), "02-EXO.html", false);
        assert_eq!(n.title, "Exodus");
        assert_eq!(n.prev.as_ref().map(|l| l.href.as_str()), Some("01-GEN.html"));
        assert_eq!(n.next, None);
        assert_eq!(
            n.sections,
            vec![Link {
                title: "1".into(),
                href: "#ch-1".into()
            }]
        );
        assert!(n.tree[1].current && n.tree[1].open);
        assert!(
            !n.tree[0].open && n.tree[0].children.is_empty(),
            "closed branch is not listed"
        );
        assert_eq!(n.tree[1].children[0].href.as_deref(), Some("#ch-1"));
    }

    #[test]
    fn the_table_of_contents_sees_everything() {
        let n = PageNav::for_page(&bible(), "index.html", true);
        assert_eq!(n.tree[0].children.len(), 2);
        assert_eq!(n.tree[0].children[1].href.as_deref(), Some("01-GEN.html#ch-2"));
        assert!(n.tree.iter().all(|t| !t.current));
    }

    #[test]
    fn links_from_a_subfolder_climb_back() {
        assert_eq!(
            relative_href("kt/god.html", "names/adam.html"),
            "../names/adam.html"
        );
        assert_eq!(relative_href("kt/god.html", "kt/god.html#x"), "#x");
        assert_eq!(relative_href("kt/god.html", "kt/god.html"), "god.html");
        assert_eq!(
            relative_href("a.html", "https://x.example/b"),
            "https://x.example/b"
        );
        assert_eq!(up_to_build_root("a/b/c.html"), "../../");
    }

    #[test]
    fn breadcrumbs_name_the_groups_above() {
        let nav = Navigation {
            pages: vec!["translate/figs.html".into()],
            items: vec![item(
                "Translation Manual",
                None,
                vec![item("Figures", Some("translate/figs.html"), vec![])],
            )],
            ..bible()
        };
        let n = PageNav::for_page(&nav, "translate/figs.html", false);
        assert_eq!(
            n.breadcrumbs,
            vec![Link {
                title: "Translation Manual".into(),
                href: String::new()
            }]
        );
        assert!(n.tree[0].open && n.tree[0].children[0].current);
        assert_eq!(n.tree[0].children[0].href.as_deref(), Some("figs.html"));
    }
}
