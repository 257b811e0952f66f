//! What the tests share: the corpus folder.

use std::path::{Path, PathBuf};

/// `shared/corpus` beside the project, never copied into it. `None` (with a
/// message) when absent; under `CI=true` its absence is a failure.
pub fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus folder {} is missing and CI=true", dir.display());
    }
    eprintln!("skipping: corpus folder {} is absent", dir.display());
    None
}

/// The archives of `corpus/repos`, by file name, sorted.
pub fn repo_zips(corpus: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus.join("repos"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".zip"))
        .collect();
    names.sort();
    names
}
