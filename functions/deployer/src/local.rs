//! `tx build`: a translator's offline preview. Templates a converter output
//! (its zip, or that zip unpacked) into a folder a browser opens from disk or
//! any static server: no buckets, no tables, the same templates as the site.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use tx_shared::domain::build_log::{BUILD_LOG, BuildLog, DisplayStatus};
use tx_shared::domain::convert::output_files::{INDEX_JSON, MANIFEST_JSON};

use crate::converted::{ConvertedBuild, INDEX_HTML};
use crate::error::DeployError;
use crate::keys::{STATIC_PREFIX, is_safe_relative};
use crate::render::{BUILD_LOG_PAGE, BuildRenderer, Placement};
use crate::templates::Templates;

/// Largest file read from a zip: far above any converted page, low enough
/// that a hostile zip cannot fill the memory.
const MAX_ENTRY_BYTES: u64 = 256 << 20;

/// What a local render produced.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSite {
    /// The start page to open.
    pub index: PathBuf,
    /// Converted pages templated.
    pub pages: usize,
    /// The build's status (`success` when the output had no build log).
    pub status: DisplayStatus,
    /// Oddities of the input (missing pages, unreadable navigation).
    pub notes: Vec<String>,
}

/// Templates the converted output `converted` (a `.zip` or a folder) into
/// `out_dir` with the embedded templates.
pub fn render_local(converted: &Path, out_dir: &Path) -> Result<LocalSite, DeployError> {
    render_local_with(converted, out_dir, None)
}

/// [`render_local`] with templates overridden from `templates_dir`.
pub fn render_local_with(
    converted: &Path,
    out_dir: &Path,
    templates_dir: Option<&Path>,
) -> Result<LocalSite, DeployError> {
    let files = read_converted(converted)?;
    let names: Vec<String> = files.keys().cloned().collect();
    let mut notes = Vec::new();
    let log = files
        .get(BUILD_LOG)
        .and_then(|b| match serde_json::from_slice::<BuildLog>(b) {
            Ok(l) => Some(l),
            Err(e) => {
                notes.push(format!("{BUILD_LOG} ignored: {e}"));
                None
            }
        });
    let fallback = converted
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "preview".into());
    let build = ConvertedBuild::assemble(
        &names,
        files.get(INDEX_JSON).map(Vec::as_slice),
        files.get(MANIFEST_JSON).map(Vec::as_slice),
        log,
        &fallback,
    );
    notes.extend(build.notes.iter().cloned());
    let templates = Templates::new(templates_dir);
    let renderer = BuildRenderer::new(&templates, &build, Placement::Local);
    let links = crate::site_links::discover_local(out_dir, build.lang());

    let write = |name: &str, body: &[u8]| -> Result<(), DeployError> {
        let path = out_dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| DeployError::io(parent, e))?;
        }
        std::fs::write(&path, body).map_err(|e| DeployError::io(&path, e))
    };

    for (name, body) in templates.assets()? {
        write(&format!("{STATIC_PREFIX}{name}"), &body)?;
    }
    let mut pages = 0;
    if build.is_published() {
        for name in &build.assets {
            if let Some(body) = files.get(name) {
                write(name, body)?;
            }
        }
        for page in &build.pages {
            if let Some(fragment) = files.get(page) {
                write(
                    page,
                    renderer
                        .render_page(page, &links.rewrite(&String::from_utf8_lossy(fragment), page))?
                        .as_bytes(),
                )?;
                pages += 1;
            }
        }
    }
    if let Some(start) = renderer.render_start()? {
        write(INDEX_HTML, start.as_bytes())?;
    }
    if let Some(log_page) = renderer.render_log_page()? {
        write(BUILD_LOG_PAGE, log_page.as_bytes())?;
    }
    for name in [MANIFEST_JSON, BUILD_LOG] {
        if let Some(body) = files.get(name) {
            write(name, body)?;
        }
    }
    Ok(LocalSite {
        index: out_dir.join(INDEX_HTML),
        pages,
        status: build.status(),
        notes,
    })
}

/// Every file of a zip or folder, by path relative to its root (a zip whose
/// files all sit in one top folder is read from inside that folder).
fn read_converted(path: &Path) -> Result<BTreeMap<String, Vec<u8>>, DeployError> {
    let meta = std::fs::metadata(path).map_err(|e| DeployError::io(path, e))?;
    let files = if meta.is_dir() {
        let mut files = BTreeMap::new();
        read_dir(path, "", &mut files)?;
        files
    } else {
        read_zip(path)?
    };
    if files.is_empty() {
        return Err(DeployError::Converted {
            path: path.display().to_string(),
            reason: "no files".into(),
        });
    }
    Ok(files)
}

fn read_dir(dir: &Path, rel: &str, files: &mut BTreeMap<String, Vec<u8>>) -> Result<(), DeployError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DeployError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DeployError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let rel_name = format!("{rel}{name}");
        let kind = entry.file_type().map_err(|e| DeployError::io(&path, e))?;
        if kind.is_dir() {
            read_dir(&path, &format!("{rel_name}/"), files)?;
        } else if kind.is_file() {
            let body = std::fs::read(&path).map_err(|e| DeployError::io(&path, e))?;
            files.insert(rel_name, body);
        }
    }
    Ok(())
}

fn read_zip(path: &Path) -> Result<BTreeMap<String, Vec<u8>>, DeployError> {
    let bad = |reason: String| DeployError::Converted {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| DeployError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(format!("not a zip: {e}")))?;
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        if !is_safe_relative(&name) {
            continue;
        }
        let mut body = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(64 << 20));
        (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        if body.len() as u64 > MAX_ENTRY_BYTES {
            return Err(bad(format!(
                "{name} unpacks to more than {MAX_ENTRY_BYTES} bytes"
            )));
        }
        files.insert(name, body);
    }
    Ok(strip_common_folder(files))
}

/// `repo/index.json, repo/01.html` → `index.json, 01.html`.
fn strip_common_folder(files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    let top = |k: &str| k.split_once('/').map(|(t, _)| t.to_string());
    let first = files.keys().next().and_then(|k| top(k));
    match first {
        Some(dir) if files.keys().all(|k| top(k).as_deref() == Some(dir.as_str())) => files
            .into_iter()
            .map(|(k, v)| (k[dir.len() + 1..].to_string(), v))
            .collect(),
        _ => files,
    }
}
