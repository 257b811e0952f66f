//! `tx build`: a translator's preview without any server — the converter and
//! the deployer's templates run on a local folder or archive, and the result
//! is a folder of static pages to open in a browser.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use tx_converter::{Limits, Report, convert_path_to_dir};
use tx_deployer::render::BUILD_LOG_PAGE;
use tx_shared::domain::build_log::{BUILD_LOG, BuildLog, DisplayStatus};

/// What a preview build produced.
#[derive(Debug)]
pub struct Preview {
    /// The page to open.
    pub index: PathBuf,
    /// The build log page: every warning and error with its file and line.
    pub build_log: PathBuf,
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
    let log = build_log(&repo_name, &report);
    std::fs::write(
        converted.path().join(BUILD_LOG),
        serde_json::to_vec_pretty(&log).context("writing the build log")?,
    )
    .context("writing the build log")?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let site = tx_deployer::render_local(converted.path(), out_dir)
        .with_context(|| format!("templating into {}", out_dir.display()))?;
    Ok(Preview {
        build_log: out_dir.join(BUILD_LOG_PAGE),
        index: site.index,
        pages: site.pages,
        resource_type: report.manifest.resource_type.as_str().to_string(),
        warnings: report.warnings,
        errors: report.errors,
    })
}

/// The build log of a local build: what the site's build log page shows
/// for a pushed one, without a forge or a job.
fn build_log(repo_name: &str, report: &Report) -> BuildLog {
    let status = if !report.errors.is_empty() {
        DisplayStatus::Errors
    } else if !report.warnings.is_empty() {
        DisplayStatus::Warnings
    } else {
        DisplayStatus::Success
    };
    let now = Utc::now();
    BuildLog {
        job_id: "local".into(),
        identifier: format!("local/{repo_name}/preview"),
        repo_owner: "local".into(),
        repo_name: repo_name.into(),
        repo_url: None,
        git_ref: "preview".into(),
        commit_id: "preview".into(),
        committed_by: None,
        commit_url: None,
        compare_url: None,
        commit_message: None,
        resource_type: report.manifest.resource_type.as_str().into(),
        input_format: report.input_format.clone(),
        output_format: "html".into(),
        status,
        success: true,
        message: Some(format!(
            "{} pages, {} warning(s), {} error(s)",
            report.pages,
            report.warnings.len(),
            report.errors.len()
        )),
        created_at: now,
        started_at: Some(now),
        ended_at: Some(now),
        attempts: 1,
        log: report.log.clone(),
        warnings: report.warnings.clone(),
        errors: report.errors.clone(),
    }
}
