//! The old Door43 `package.json` manifest. Real ones are often not valid
//! JSON (trailing commas, missing commas, stray characters), so when strict
//! parsing fails the few fields needed are read leniently.

use serde_json::Value;
use tx_shared::domain::manifest::{NormalizedManifest, Project};

use super::{infer, language, resource_type_for};
use crate::tree::SourceTree;
use crate::usfm::books;

/// The string value of the first `"key": "value"` after `from` in `text`.
fn lenient_field(text: &str, from: usize, key: &str) -> Option<String> {
    let needle = format!("\"{key}\"");
    let at = text.get(from..)?.find(&needle)? + from + needle.len();
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(q) = rest.strip_prefix('"') {
        return q.find('"').map(|end| q[..end].to_string());
    }
    let end = rest.find([',', '\n', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim().to_string())
}

fn section(text: &str, key: &str) -> Option<usize> {
    text.find(&format!("\"{key}\""))
}

/// Normalises a `package.json`; the error says why it could not be used.
pub fn parse(text: &str, tree: &SourceTree, repo_name: &str) -> Result<NormalizedManifest, String> {
    let strict: Option<Value> = serde_json::from_str(text).ok();
    let (lang_id, lang_name, dir, res_id, res_name, mut projects) = match &strict {
        Some(v) => {
            let g = |a: &str, b: &str| v[a][b].as_str().unwrap_or("").to_string();
            let mut projects = Vec::new();
            if let Some(list) = v["resource"]["projects"].as_array() {
                for (i, p) in list.iter().enumerate() {
                    let id = p["slug"].as_str().unwrap_or("").to_ascii_lowercase();
                    let sort = p["sort"].as_u64().map(|n| n as u32).unwrap_or(i as u32);
                    projects.push(Project {
                        identifier: id,
                        title: p["name"].as_str().unwrap_or("").into(),
                        sort,
                        path: String::new(),
                    });
                }
            }
            (
                g("language", "slug"),
                g("language", "name"),
                g("language", "dir"),
                g("resource", "slug"),
                g("resource", "name"),
                projects,
            )
        }
        None => {
            let l = section(text, "language").ok_or("no language section")?;
            let r = section(text, "resource").ok_or("no resource section")?;
            (
                lenient_field(text, l, "slug").unwrap_or_default(),
                lenient_field(text, l, "name").unwrap_or_default(),
                lenient_field(text, l, "dir").unwrap_or_default(),
                lenient_field(text, r, "slug").unwrap_or_default(),
                lenient_field(text, r, "name").unwrap_or_default(),
                Vec::new(),
            )
        }
    };
    let format = if text.contains("text/usfm") { "usfm" } else { "" };
    let resource_type =
        resource_type_for(&res_id, format).ok_or_else(|| format!("unsupported resource {res_id:?}"))?;
    projects.retain(|p| !p.identifier.is_empty());
    for p in &mut projects {
        if let Some(b) = books::by_code(&p.identifier) {
            p.sort = infer::book_sort(b);
        }
    }
    let lang_id = if lang_id.is_empty() {
        infer::language_from_repo(repo_name).unwrap_or_default()
    } else {
        lang_id
    };
    let _ = tree;
    Ok(NormalizedManifest {
        source_format: "package.json".into(),
        language: language(&lang_id, Some(&lang_name), Some(&dir)),
        resource_id: res_id.to_ascii_lowercase(),
        resource_type,
        title: res_name,
        projects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tx_shared::domain::manifest::ResourceType;

    #[test]
    fn broken_json_is_read_leniently() {
        let text = "{\n \"language\": {\"slug\": \"en\", \"dir\": \"ltr\", \"name\": \"English\"},\n \"resource\": {\"slug\": \"obs\", \"name\": \"Open Bible Stories\",\n \"status\": {\"checks\": []\n \"x\": 1,}, },\n}";
        assert!(serde_json::from_str::<Value>(text).is_err());
        let tree = SourceTree::in_folder(std::path::Path::new("."), vec![], 1);
        let m = parse(text, &tree, "en-obs").unwrap();
        assert_eq!(m.resource_type, ResourceType::Obs);
        assert_eq!(m.language.id, "en");
        assert_eq!(m.title, "Open Bible Stories");
        assert!(
            parse(
                "{\"language\":{\"slug\":\"en\"},\"resource\":{\"slug\":\"zz\"}}",
                &tree,
                "x"
            )
            .is_err()
        );
    }
}
