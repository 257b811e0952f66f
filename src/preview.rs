//! `tx build`: a translator's preview without any server — the converter and
//! the deployer's templates run on a local folder or archive, and the result
//! is a folder of static pages to open in a browser.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tx_converter::{Limits, convert_path_to_dir};

/// What a preview build produced.
#[derive(Debug)]
pub struct Preview {
    /// The page to open.
    pub index: PathBuf,
    /// Pages templated.
    pub pages: usize,
    /// Resource type detected.
    pub resource_type: String,
    /// Odd input, with file and line.
    pub warnings: Vec<String>,
    /// Input that could not be converted.
    pub errors: Vec<String>,
}

/// Converts `input` (a repository folder or a forge archive) and templates it
/// into `out_dir`.
pub fn build(input: &Path, out_dir: &Path) -> anyhow::Result<Preview> {
    let repo_name = input
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".zip").to_string())
        .unwrap_or_default();
    let converted = tempfile::tempdir().context("creating a work folder")?;
    let report = convert_path_to_dir(input, &repo_name, converted.path(), &Limits::default())
        .with_context(|| format!("converting {}", input.display()))?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let site = tx_deployer::render_local(converted.path(), out_dir)
        .with_context(|| format!("templating into {}", out_dir.display()))?;
    Ok(Preview {
        index: site.index,
        pages: site.pages,
        resource_type: report.manifest.resource_type.as_str().to_string(),
        warnings: report.warnings,
        errors: report.errors,
    })
}
