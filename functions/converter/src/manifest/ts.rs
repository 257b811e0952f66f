//! translationStudio `manifest.json` (package_version 6 and 7): one project
//! (a book, or `obs`) of one resource in a target language.

use serde_json::Value;
use tx_shared::domain::manifest::{NormalizedManifest, Project, ResourceType};

use super::{language, resource_type_for};
use crate::error::ConvertError;
use crate::usfm::books;

fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Normalises a translationStudio manifest.
pub fn from_json(v: &Value) -> Result<NormalizedManifest, ConvertError> {
    let project_id = s(&v["project"], "id").to_ascii_lowercase();
    let resource_id = s(&v["resource"], "id").to_ascii_lowercase();
    let format = s(v, "format");
    let book = books::by_code(&project_id);
    let resource_type = if project_id == "obs" {
        ResourceType::Obs
    } else if let Some(t) = resource_type_for(&resource_id, "").filter(|t| *t != ResourceType::Bible) {
        t
    } else if book.is_some() {
        ResourceType::Bible
    } else {
        let name = if resource_id.is_empty() {
            project_id.clone()
        } else {
            resource_id.clone()
        };
        return Err(ConvertError::UnknownResource(name));
    };
    let _ = format;
    let tl = &v["target_language"];
    let language = language(&s(tl, "id"), Some(&s(tl, "name")), Some(&s(tl, "direction")));
    let project_title = s(&v["project"], "name");
    let resource_name = s(&v["resource"], "name");
    let title = match resource_type {
        ResourceType::Obs => {
            if project_title.is_empty() {
                resource_name.clone()
            } else {
                project_title.clone()
            }
        }
        _ if !resource_name.is_empty() => resource_name.clone(),
        _ => project_title.clone(),
    };
    let sort = book.and_then(|b| b.number.parse::<u32>().ok()).unwrap_or(0);
    Ok(NormalizedManifest {
        source_format: format!("ts{}", s(v, "package_version")),
        language,
        resource_id: if resource_id.is_empty() {
            project_id.clone()
        } else {
            resource_id
        },
        resource_type,
        title,
        projects: vec![Project {
            identifier: project_id,
            title: project_title,
            sort,
            path: String::new(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_books_stories_and_unknowns() {
        let v: Value = serde_json::from_str(r#"{"package_version":7,"format":"usfm","target_language":{"id":"aa","name":"Afaraf","direction":"ltr"},"project":{"id":"php","name":"Philippians"},"resource":{"id":"ulb","name":"Unlocked Literal Bible"}}"#).unwrap();
        let m = from_json(&v).unwrap();
        assert_eq!(m.resource_type, ResourceType::Bible);
        assert_eq!(m.projects[0].identifier, "php");
        assert_eq!(m.language.name, "Afaraf");
        let v: Value = serde_json::from_str(
            r#"{"package_version":7,"format":"md","project":{"id":"unk"},"resource":{"id":"unkonwn"}}"#,
        )
        .unwrap();
        let err = from_json(&v).unwrap_err().to_string();
        assert!(err.contains("unkonwn"), "{err}");
        let v: Value =
            serde_json::from_str(r#"{"package_version":6,"project":{"id":"obs"},"resource":{"id":"obs"}}"#)
                .unwrap();
        assert_eq!(from_json(&v).unwrap().resource_type, ResourceType::Obs);
    }
}
