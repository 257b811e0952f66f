//! Resource Container manifests (`manifest.yaml`, rc0.2 and the pre-rc JSON
//! variant): `dublin_core` describes the resource, `projects` its parts with
//! paths and sort order.

use serde_json::Value;
use tx_shared::domain::manifest::{NormalizedManifest, Project};

use super::{language, resource_type_for};
use crate::error::ConvertError;

fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Parses YAML text; the outer error is unreadable YAML, the inner one an
/// unsupported resource.
pub fn parse_yaml(text: &str) -> Result<Result<NormalizedManifest, ConvertError>, String> {
    let v: Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    if v.get("dublin_core").is_none() {
        return Err("no dublin_core section".into());
    }
    Ok(from_json(&v))
}

/// Normalises an RC manifest already parsed into a JSON value.
pub fn from_json(v: &Value) -> Result<NormalizedManifest, ConvertError> {
    let dc = &v["dublin_core"];
    let id = s(dc, "identifier").to_ascii_lowercase();
    let format = s(dc, "format");
    let rc_type = s(dc, "type");
    let subject = s(dc, "subject").to_ascii_lowercase();
    let resource_type = resource_type_for(&id, &format)
        .or_else(|| match rc_type.as_str() {
            "man" => Some(tx_shared::domain::manifest::ResourceType::Ta),
            "dict" => Some(tx_shared::domain::manifest::ResourceType::Tw),
            _ if subject.contains("bible") && !subject.contains("stories") => {
                Some(tx_shared::domain::manifest::ResourceType::Bible)
            }
            _ => None,
        })
        .ok_or_else(|| {
            ConvertError::UnknownResource(if id.is_empty() {
                rc_type.clone()
            } else {
                id.clone()
            })
        })?;
    let lang = &dc["language"];
    let language = language(
        &s(lang, "identifier"),
        Some(&s(lang, "title")),
        Some(&s(lang, "direction")),
    );
    let mut projects = Vec::new();
    if let Some(Value::Array(list)) = v.get("projects") {
        for (i, p) in list.iter().enumerate() {
            let identifier = s(p, "identifier").to_ascii_lowercase();
            let sort = s(p, "sort")
                .trim()
                .parse::<f64>()
                .map(|f| f as u32)
                .unwrap_or(i as u32);
            let path = s(p, "path");
            let path = path
                .trim()
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string();
            projects.push(Project {
                identifier,
                title: s(p, "title"),
                sort,
                path,
            });
        }
    }
    Ok(NormalizedManifest {
        source_format: if s(dc, "conformsto").is_empty() {
            "rc".into()
        } else {
            s(dc, "conformsto")
        },
        language,
        resource_id: id,
        resource_type,
        title: s(dc, "title"),
        projects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tx_shared::domain::manifest::ResourceType;

    #[test]
    fn rc_yaml_is_normalised() {
        let y = "dublin_core:\n  conformsto: rc0.2\n  identifier: ta\n  type: man\n  format: text/markdown\n  title: translationAcademy\n  language: {identifier: en, title: English, direction: ltr}\nprojects:\n  - identifier: intro\n    path: ./intro\n    sort: 0\n    title: Intro\n  - identifier: process\n    path: './process'\n    sort: '1'\n    title: Process\n";
        let m = parse_yaml(y).unwrap().unwrap();
        assert_eq!(m.resource_type, ResourceType::Ta);
        assert_eq!(m.language.name, "English");
        assert_eq!(m.projects[1].path, "process");
        assert_eq!(m.projects[1].sort, 1);
        assert!(parse_yaml("a: [").is_err());
        let unknown = "dublin_core:\n  identifier: zz\n  type: foo\n";
        assert!(matches!(
            parse_yaml(unknown).unwrap(),
            Err(ConvertError::UnknownResource(_))
        ));
    }
}
