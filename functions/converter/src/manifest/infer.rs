//! Inference when a repository has no usable manifest: the language,
//! resource and book from the repo name (`aa_php_text_ulb`,
//! `kpb_mat_text_udb`, `51-PHP`, `en-obs`) and the type from the files.

use tx_shared::domain::manifest::{NormalizedManifest, Project, ResourceType};

use super::{BIBLE_IDS, language, resource_type_for};
use crate::error::ConvertError;
use crate::tree::SourceTree;
use crate::usfm::books::{self, Book};

/// Sort key of a book: its Door43 number, peripherals after the canon.
pub fn book_sort(b: &Book) -> u32 {
    b.number.parse::<u32>().unwrap_or_else(|_| {
        let bytes = b.number.as_bytes();
        100 + (bytes[0].saturating_sub(b'A') as u32) * 10 + (bytes[1].saturating_sub(b'0') as u32)
    })
}

/// The language code a repo name starts with (`en-obs`, `kpb_mat_text_udb`).
pub fn language_from_repo(repo: &str) -> Option<String> {
    let first = repo.split(['_', '-', '.']).next()?;
    let ok = (2..=3).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_lowercase());
    (ok && books::by_code(first).is_none() && resource_type_for(first, "").is_none())
        .then(|| first.to_string())
}

/// The resource id a repo name carries (`ulb`, `obs`, `tn`…).
pub fn resource_from_repo(repo: &str) -> Option<String> {
    repo.split(['_', '-', '.'])
        .skip(1)
        .map(|t| t.to_ascii_lowercase())
        .find(|t| resource_type_for(t, "").is_some())
}

fn is_usfm(f: &str) -> bool {
    let l = f.to_ascii_lowercase();
    l.ends_with(".usfm") || l.ends_with(".sfm")
}

fn is_chunk_file(f: &str) -> bool {
    let mut parts = f.split('/');
    let (Some(dir), Some(file), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    dir.len() >= 2 && dir.bytes().all(|b| b.is_ascii_digit()) && file.ends_with(".txt")
}

/// The type the files suggest.
pub fn type_from_files(tree: &SourceTree) -> Option<ResourceType> {
    let files = &tree.files;
    if files.iter().any(|f| is_usfm(f)) {
        return Some(ResourceType::Bible);
    }
    if files.iter().any(|f| f.ends_with("/toc.yaml")) {
        return Some(ResourceType::Ta);
    }
    if files
        .iter()
        .any(|f| f.starts_with("bible/kt/") || f.starts_with("kt/"))
    {
        return Some(ResourceType::Tw);
    }
    if files.iter().any(|f| f.starts_with("tn_") && f.ends_with(".tsv")) {
        return Some(ResourceType::Tn);
    }
    if files
        .iter()
        .any(|f| f.starts_with("content/") && f.ends_with(".md"))
    {
        return Some(ResourceType::Obs);
    }
    if files.iter().any(|f| is_chunk_file(f)) {
        return None;
    }
    if files.iter().any(|f| f.ends_with(".md")) {
        return Some(ResourceType::Generic);
    }
    None
}

/// Projects implied by the files of a resource of type `t`.
pub fn projects_from_files(tree: &SourceTree, t: ResourceType, repo: &str) -> Vec<Project> {
    let mut out: Vec<Project> = Vec::new();
    let push = |out: &mut Vec<Project>, identifier: String, title: String, sort: u32, path: String| {
        if !out.iter().any(|p| p.identifier == identifier) {
            out.push(Project {
                identifier,
                title,
                sort,
                path,
            });
        }
    };
    match t {
        ResourceType::Bible => {
            for f in tree.files.iter().filter(|f| is_usfm(f)) {
                let stem = f.rsplit('/').next().unwrap_or(f);
                if let Some(b) = books::from_name(stem) {
                    push(&mut out, b.identifier(), b.name.into(), book_sort(b), f.clone());
                }
            }
            if out.is_empty()
                && let Some(b) = books::from_name(repo)
            {
                push(
                    &mut out,
                    b.identifier(),
                    b.name.into(),
                    book_sort(b),
                    String::new(),
                );
            }
        }
        ResourceType::Obs => push(
            &mut out,
            "obs".into(),
            "Open Bible Stories".into(),
            0,
            "content".into(),
        ),
        ResourceType::Ta => {
            for (i, f) in tree.files.iter().filter(|f| f.ends_with("/toc.yaml")).enumerate() {
                let dir = f.trim_end_matches("/toc.yaml").to_string();
                push(&mut out, dir.clone(), dir.clone(), i as u32, dir);
            }
        }
        ResourceType::Tw => push(
            &mut out,
            "bible".into(),
            "translationWords".into(),
            0,
            "bible".into(),
        ),
        ResourceType::Tn | ResourceType::Tq => {
            for f in &tree.files {
                let first = f.split('/').next().unwrap_or(f);
                if let Some(b) = books::from_name(first) {
                    push(
                        &mut out,
                        b.identifier(),
                        b.name.into(),
                        book_sort(b),
                        first.to_string(),
                    );
                }
            }
        }
        ResourceType::Generic => {}
    }
    out.sort_by_key(|p| p.sort);
    out
}

/// Builds a manifest from the repo name and the files alone.
pub fn infer(tree: &SourceTree, repo: &str) -> Result<NormalizedManifest, ConvertError> {
    let from_name = resource_from_repo(repo);
    let book = books::from_name(repo);
    let from_files = type_from_files(tree);
    let chunks = tree.files.iter().any(|f| is_chunk_file(f));
    let resource_type = from_files
        .or_else(|| from_name.as_deref().and_then(|r| resource_type_for(r, "")))
        .or_else(|| (chunks && book.is_some()).then_some(ResourceType::Bible))
        .ok_or_else(|| {
            ConvertError::Manifest(format!(
                "no manifest (manifest.yaml, manifest.json, package.json) and nothing in the repo name {repo:?} or its files says what this resource is"
            ))
        })?;
    let resource_id = from_name.unwrap_or_else(|| match resource_type {
        ResourceType::Bible => "bible".into(),
        other => other.as_str().into(),
    });
    let lang = language_from_repo(repo).unwrap_or_default();
    let title = match resource_type {
        ResourceType::Bible if BIBLE_IDS.contains(&resource_id.as_str()) && resource_id != "bible" => {
            resource_id.to_uppercase()
        }
        ResourceType::Bible => "Bible".into(),
        ResourceType::Obs => "Open Bible Stories".into(),
        ResourceType::Ta => "translationAcademy".into(),
        ResourceType::Tn => "translationNotes".into(),
        ResourceType::Tq => "translationQuestions".into(),
        ResourceType::Tw => "translationWords".into(),
        ResourceType::Generic => repo.to_string(),
    };
    Ok(NormalizedManifest {
        source_format: "inferred".into(),
        language: language(&lang, None, None),
        resource_id,
        resource_type,
        title,
        projects: projects_from_files(tree, resource_type, repo),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> SourceTree {
        SourceTree::in_folder(
            std::path::Path::new("."),
            files.iter().map(|s| s.to_string()).collect(),
            1,
        )
    }

    #[test]
    fn repo_names_are_read() {
        assert_eq!(language_from_repo("kpb_mat_text_udb").as_deref(), Some("kpb"));
        assert_eq!(language_from_repo("en-obs").as_deref(), Some("en"));
        assert_eq!(language_from_repo("51-PHP"), None);
        assert_eq!(language_from_repo("bible-no-manifest"), None);
        assert_eq!(resource_from_repo("aa_php_text_ulb").as_deref(), Some("ulb"));
        assert_eq!(resource_from_repo("en-obs").as_deref(), Some("obs"));
    }

    #[test]
    fn types_come_from_files_then_names() {
        let m = infer(&tree(&["51-PHP.usfm"]), "51-PHP").unwrap();
        assert_eq!(m.resource_type, ResourceType::Bible);
        assert_eq!(m.projects[0].identifier, "php");
        assert_eq!(m.projects[0].sort, 51);
        let m = infer(&tree(&["01/01.txt", "01/02.txt"]), "kpb_mat_text_udb").unwrap();
        assert_eq!(m.resource_type, ResourceType::Bible);
        assert_eq!(m.language.id, "kpb");
        assert_eq!(m.projects[0].identifier, "mat");
        let m = infer(&tree(&["content/01.md"]), "x").unwrap();
        assert_eq!(m.resource_type, ResourceType::Obs);
        assert!(infer(&tree(&["a.bin"]), "nothing").is_err());
    }
}
