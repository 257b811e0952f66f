//! Manifest detection and normalisation.
//!
//! Repositories describe themselves in one of several formats (or not at
//! all). They are tried in tX's order — Resource Container `manifest.yaml`,
//! translationStudio `manifest.json`, the old `package.json`, then inference
//! from the repo name and the files — and reduced to one
//! [`NormalizedManifest`], so nothing downstream reads a raw manifest.

pub mod infer;
pub mod package_json;
pub mod rc;
pub mod ts;

use tx_shared::domain::manifest::{Language, NormalizedManifest, ResourceType};

use crate::error::ConvertError;
use crate::tree::SourceTree;
use crate::usfm::books;

/// Resource ids known to be scripture.
pub const BIBLE_IDS: &[&str] = &[
    "bible", "ulb", "udb", "ult", "ust", "reg", "glt", "gst", "bsb", "web", "kjv", "asv", "rlb", "rlv",
    "ugnt", "uhb", "blv", "nt", "ot", "t4t", "net", "iev", "irv",
];

/// Maps a resource identifier (and, for scripture, a USFM format hint) to
/// the type that picks converters and templates.
pub fn resource_type_for(id: &str, format: &str) -> Option<ResourceType> {
    let id = id.trim().to_ascii_lowercase();
    let t = match id.as_str() {
        "obs" => ResourceType::Obs,
        "ta" | "tm" => ResourceType::Ta,
        "tw" => ResourceType::Tw,
        "tn" => ResourceType::Tn,
        "tq" => ResourceType::Tq,
        other if BIBLE_IDS.contains(&other) => ResourceType::Bible,
        _ if format.to_ascii_lowercase().contains("usfm") => ResourceType::Bible,
        _ => return None,
    };
    Some(t)
}

/// A language known by id only.
pub fn language(id: &str, name: Option<&str>, direction: Option<&str>) -> Language {
    let id = if id.trim().is_empty() { "und" } else { id.trim() };
    let direction = match direction.map(str::trim) {
        Some("rtl") => "rtl",
        _ => "ltr",
    };
    Language {
        id: id.to_string(),
        name: name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(id)
            .to_string(),
        direction: direction.to_string(),
    }
}

/// Detects and normalises the manifest of `tree`; `repo_name` is the last
/// resort. Also returns warnings about manifests that were present but unreadable.
pub fn detect(tree: &SourceTree, repo_name: &str) -> Result<(NormalizedManifest, Vec<String>), ConvertError> {
    let mut warnings = Vec::new();
    if tree.has("manifest.yaml") {
        let (text, _) = tree.read_text("manifest.yaml")?;
        match rc::parse_yaml(&text) {
            Ok(m) => return finish(m?, tree, repo_name, warnings),
            Err(e) => warnings.push(format!("manifest.yaml: unreadable ({e}); trying other manifests")),
        }
    }
    if tree.has("manifest.json") {
        let (text, _) = tree.read_text("manifest.json")?;
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) if v.get("dublin_core").is_some() => {
                return finish(rc::from_json(&v)?, tree, repo_name, warnings);
            }
            Ok(v) if v.get("package_version").is_some() || v.get("target_language").is_some() => {
                return finish(ts::from_json(&v)?, tree, repo_name, warnings);
            }
            Ok(_) => warnings
                .push("manifest.json: neither a Resource Container nor a translationStudio manifest".into()),
            Err(e) => warnings.push(format!("manifest.json: unreadable ({e})")),
        }
    }
    if tree.has("package.json") {
        let (text, _) = tree.read_text("package.json")?;
        match package_json::parse(&text, tree, repo_name) {
            Ok(m) => return finish(m, tree, repo_name, warnings),
            Err(e) => warnings.push(format!("package.json: {e}")),
        }
    }
    let m = infer::infer(tree, repo_name)?;
    finish(m, tree, repo_name, warnings)
}

/// Fills what a manifest left out (language from the repo name, projects
/// from the files) so every resource has at least one project.
fn finish(
    mut m: NormalizedManifest,
    tree: &SourceTree,
    repo_name: &str,
    warnings: Vec<String>,
) -> Result<(NormalizedManifest, Vec<String>), ConvertError> {
    if m.language.id == "und"
        && let Some(lang) = infer::language_from_repo(repo_name)
    {
        m.language = language(&lang, None, None);
    }
    if m.title.trim().is_empty() {
        m.title = m.resource_id.clone();
    }
    if m.projects.is_empty() {
        m.projects = infer::projects_from_files(tree, m.resource_type, repo_name);
    }
    for p in &mut m.projects {
        if p.title.trim().is_empty() {
            p.title = books::by_code(&p.identifier)
                .map(|b| b.name.to_string())
                .unwrap_or_else(|| p.identifier.clone());
        }
    }
    m.projects.sort_by_key(|p| p.sort);
    Ok((m, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_to_types() {
        assert_eq!(resource_type_for("ULB", ""), Some(ResourceType::Bible));
        assert_eq!(resource_type_for("foo", "text/usfm3"), Some(ResourceType::Bible));
        assert_eq!(resource_type_for("tw", "text/markdown"), Some(ResourceType::Tw));
        assert_eq!(resource_type_for("unkonwn", "md"), None);
        assert_eq!(language("", None, Some("rtl")).id, "und");
        assert_eq!(language("ar", Some("Arabic"), Some("rtl")).direction, "rtl");
    }
}
