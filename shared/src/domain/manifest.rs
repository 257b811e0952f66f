//! Manifests: the normalised one the converter derives from whatever a repo
//! holds, and the manifest row kept per repository.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of resource the site templates know. Every manifest format is
/// reduced to one of these, so the deployer never reads a raw manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    /// Scripture in USFM (ULB, UDB, ULT, …).
    Bible,
    /// Open Bible Stories.
    Obs,
    /// translationAcademy.
    Ta,
    /// translationNotes.
    Tn,
    /// translationQuestions.
    Tq,
    /// translationWords.
    Tw,
    /// Any other Markdown.
    Generic,
}

impl ResourceType {
    /// Stable lower-case name (`bible`, `obs`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Bible => "bible",
            ResourceType::Obs => "obs",
            ResourceType::Ta => "ta",
            ResourceType::Tn => "tn",
            ResourceType::Tq => "tq",
            ResourceType::Tw => "tw",
            ResourceType::Generic => "generic",
        }
    }
}

/// The language a resource is written in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Language {
    /// IETF tag as Door43 uses it (`en`, `aab`, `es-419`).
    pub id: String,
    /// Name to show; the id when unknown.
    pub name: String,
    /// `ltr` or `rtl`: the pages' `dir`.
    pub direction: String,
}

/// One project of a resource (a book, the stories, a manual, a category).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// `gen`, `obs`, `intro`, `bible`…
    pub identifier: String,
    /// Name to show.
    pub title: String,
    /// Order among projects.
    pub sort: u32,
    /// Path inside the repo, as the manifest gave it.
    pub path: String,
}

/// The one manifest shape every input format is normalised to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizedManifest {
    /// Where the information came from (`rc0.2`, `ts`, `package.json`, `inferred`).
    pub source_format: String,
    /// Language of the text.
    pub language: Language,
    /// Resource identifier (`ulb`, `obs`, `ta`, …).
    pub resource_id: String,
    /// Kind of resource, which picks the templates.
    pub resource_type: ResourceType,
    /// Title to show.
    pub title: String,
    /// Projects in display order.
    #[serde(default)]
    pub projects: Vec<Project>,
}

/// One row of `tx-manifest`: what the site index knows about a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRow {
    /// `owner/repo`: primary key.
    pub repo: String,
    /// Forge user or organisation.
    pub repo_owner: String,
    /// Repository name.
    pub repo_name: String,
    /// Language id, for the site-wide index.
    pub language_id: String,
    /// Language name.
    pub language_name: String,
    /// Resource id.
    pub resource_id: String,
    /// Resource type.
    pub resource_type: ResourceType,
    /// Title to show.
    pub title: String,
    /// The whole normalised manifest of the last build.
    pub manifest: NormalizedManifest,
    /// Last build that reported back.
    pub last_job_id: String,
    /// Its commit.
    pub last_commit_id: String,
    /// Its result (`success`, `warnings`, `errors`, `failed`).
    pub last_status: String,
    /// When that build ended.
    #[serde(with = "crate::time::millis")]
    pub last_updated: DateTime<Utc>,
}
