//! Navigation data (`index.json` in every output zip).
//!
//! The converter knows the structure (books → chapters, stories, manuals →
//! sections, word categories); the deployer only renders it. One recursive
//! shape serves every resource type so the templates stay generic.

use serde::{Deserialize, Serialize};

use super::manifest::ResourceType;

/// A page or a place in a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NavItem {
    /// Text of the link.
    pub title: String,
    /// `page.html` or `page.html#anchor`; absent for a heading that only groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// Sub-entries (chapters of a book, sections of a manual).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<NavItem>,
}

/// The whole navigation of a converted resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Navigation {
    /// Title of the resource.
    pub title: String,
    /// Which templates render it.
    pub resource_type: ResourceType,
    /// Language direction (`ltr`/`rtl`).
    pub direction: String,
    /// Language id, for `lang`.
    pub language: String,
    /// Every page file of the zip, in reading order.
    pub pages: Vec<String>,
    /// The tree shown beside the pages.
    pub items: Vec<NavItem>,
}
