//! A release's attached files: fetched like the source (same client, so the
//! same redirect rule, and the same size limits), published under
//! `downloads/<name>` and listed in `downloads.json`; and when one of them is
//! a prebuilt site bundle, that bundle is the site and the source is not
//! converted (DESIGN.md § "Build identity and what readers see").
//!
//! A `.zip` asset is never converted as source: it is either a site bundle
//! (its root, or its single top folder, holds `index.html`) or a download.

use std::path::{Path, PathBuf};

use tx_shared::domain::build_log::BUILD_LOG;
use tx_shared::domain::convert::output_files::{DOWNLOADS_DIR, DOWNLOADS_JSON, MANIFEST_JSON};
use tx_shared::domain::convert::{Download, Downloads};
use tx_shared::domain::job_request::ReleaseAsset;
use tx_shared::identity::Segment;
use tx_shared::ports::ObjectStore;

use crate::bundle::{Sink, ZipSink};
use crate::error::ConvertError;
use crate::fetch;
use crate::limits::Limits;
use crate::tree::SourceTree;
use crate::unzip;

/// The name of a bundle's start page.
const INDEX_HTML: &str = "index.html";

/// One asset on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Its name (a safe segment).
    pub name: String,
    /// Where it was downloaded.
    pub path: PathBuf,
    /// Bytes.
    pub size: u64,
}

/// Downloads every asset into `dir`, in the release's order. Each is held
/// to the source archive's limit, and so is their total: a release cannot
/// make the output larger than a source could. A name that is not one
/// path segment is refused here too (the request is input like any other).
pub async fn fetch_assets(
    assets: &[ReleaseAsset],
    dir: &Path,
    http: &reqwest::Client,
    preconvert: &dyn ObjectStore,
    limits: &Limits,
    log: &mut Vec<String>,
) -> Result<Vec<Fetched>, ConvertError> {
    let mut fetched: Vec<Fetched> = Vec::new();
    let mut total: u64 = 0;
    for asset in assets {
        check_name(asset, &fetched)?;
        if let Some(size) = asset.size
            && size > limits.max_archive_bytes.saturating_sub(total)
        {
            return Err(over_limit(&asset.name, limits));
        }
        let path = dir.join(&asset.name);
        let size = fetch::fetch(&asset.url, &path, http, preconvert, limits, log).await?;
        total += size;
        if total > limits.max_archive_bytes {
            return Err(over_limit(&asset.name, limits));
        }
        fetched.push(Fetched {
            name: asset.name.clone(),
            path,
            size,
        });
    }
    Ok(fetched)
}

fn check_name(asset: &ReleaseAsset, fetched: &[Fetched]) -> Result<(), ConvertError> {
    if !Segment::is_valid(&asset.name) {
        return Err(ConvertError::Fetch(format!(
            "release file {:?} has a name that is not a single safe path segment",
            asset.name
        )));
    }
    if fetched.iter().any(|f| f.name == asset.name) {
        return Err(ConvertError::Fetch(format!(
            "release file {} is listed twice",
            asset.name
        )));
    }
    Ok(())
}

fn over_limit(name: &str, limits: &Limits) -> ConvertError {
    ConvertError::Limit(format!(
        "release file {name}: the release's files pass the {} byte limit",
        limits.max_archive_bytes
    ))
}

/// The first `.zip` asset whose root, or single top folder, holds
/// `index.html`, opened in place (with the source's archive rules: only its
/// directory is read, so a zip that is a download is never inflated). An
/// asset that is not a readable zip is simply not a bundle.
pub fn site_bundle<'a>(assets: &'a [Fetched], limits: &Limits) -> Option<(&'a Fetched, SourceTree)> {
    assets
        .iter()
        .filter(|a| a.name.to_ascii_lowercase().ends_with(".zip"))
        .find_map(|asset| {
            let tree = unzip::open(&asset.path, limits).ok()?;
            tree.has(INDEX_HTML).then_some((asset, tree))
        })
}

/// When one of `assets` is a prebuilt site bundle, writes the output zip at
/// `out_zip` (the bundle's files and the downloads) and returns its log;
/// `None`, writing nothing, when none is.
pub fn publish_prebuilt(
    assets: &[Fetched],
    out_zip: &Path,
    limits: &Limits,
) -> Result<Option<Vec<String>>, ConvertError> {
    let Some((bundle, tree)) = site_bundle(assets, limits) else {
        return Ok(None);
    };
    let mut sink = ZipSink::create(out_zip)?;
    let mut log = publish_bundle(&bundle.name, &tree, &mut sink)?;
    log.extend(publish_downloads(assets, Some(&bundle.name), &mut sink)?);
    sink.finish()?;
    Ok(Some(log))
}

/// Names a bundle may not use: where the release's files and the pipeline's
/// own metadata go, which a bundle's file of that name would replace.
fn is_reserved(name: &str) -> bool {
    name.starts_with(DOWNLOADS_DIR) || name == DOWNLOADS_JSON || name == BUILD_LOG || name == MANIFEST_JSON
}

/// Writes the bundle's files into `sink` as they are (no page is converted)
/// and returns the log lines; a file with a reserved name is left out, and
/// the log says so.
pub fn publish_bundle(
    name: &str,
    tree: &SourceTree,
    sink: &mut dyn Sink,
) -> Result<Vec<String>, ConvertError> {
    let mut files: Vec<&String> = tree.files.iter().collect();
    files.sort();
    let mut log = Vec::new();
    let mut written = 0;
    for file in files {
        if is_reserved(file) {
            log.push(format!(
                "Left out {file} of {name}: that name is the pipeline's own"
            ));
            continue;
        }
        sink.put(file, &tree.read_bytes(file)?)?;
        written += 1;
    }
    log.insert(
        0,
        format!("Published the prebuilt site bundle {name} without conversion ({written} files)"),
    );
    Ok(log)
}

/// Writes every asset under `downloads/<name>` and `downloads.json`, naming
/// the prebuilt bundle if one was published; returns the log lines.
pub fn publish_downloads(
    assets: &[Fetched],
    prebuilt: Option<&str>,
    sink: &mut dyn Sink,
) -> Result<Vec<String>, ConvertError> {
    let mut log = Vec::new();
    let mut files = Vec::new();
    for asset in assets {
        let path = format!("{DOWNLOADS_DIR}{}", asset.name);
        sink.put_file(&path, &asset.path)?;
        log.push(format!(
            "Published release file {} ({} bytes) as {path}",
            asset.name, asset.size
        ));
        files.push(Download {
            name: asset.name.clone(),
            path,
            size: asset.size,
        });
    }
    let downloads = Downloads {
        prebuilt: prebuilt.map(str::to_string),
        files,
    };
    let json = serde_json::to_vec_pretty(&downloads).map_err(|e| ConvertError::Output(e.to_string()))?;
    sink.put(DOWNLOADS_JSON, &json)?;
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::MemorySink;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_at(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, body) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap();
    }

    fn fetched(dir: &Path, name: &str) -> Fetched {
        let path = dir.join(name);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Fetched {
            name: name.into(),
            path,
            size,
        }
    }

    #[test]
    fn a_zip_with_index_html_at_its_root_or_single_top_folder_is_a_bundle() {
        let dir = tempfile::tempdir().unwrap();
        zip_at(
            &dir.path().join("source.zip"),
            &[("en_ulb/01-GEN.usfm", b"\\id GEN")],
        );
        zip_at(
            &dir.path().join("site.zip"),
            &[("site/index.html", b"<p>hi</p>"), ("site/a/b.css", b"p{}")],
        );
        std::fs::write(dir.path().join("notes.pdf"), b"%PDF").unwrap();
        let assets = vec![
            fetched(dir.path(), "notes.pdf"),
            fetched(dir.path(), "source.zip"),
            fetched(dir.path(), "site.zip"),
        ];
        let (bundle, tree) = site_bundle(&assets, &Limits::default()).unwrap();
        assert_eq!(bundle.name, "site.zip");
        let mut sink = MemorySink::default();
        let log = publish_bundle(&bundle.name, &tree, &mut sink).unwrap();
        assert_eq!(
            log[0],
            "Published the prebuilt site bundle site.zip without conversion (2 files)"
        );
        assert_eq!(sink.text("index.html").as_deref(), Some("<p>hi</p>"));
        assert_eq!(sink.text("a/b.css").as_deref(), Some("p{}"));
        assert!(site_bundle(&assets[..2], &Limits::default()).is_none());
    }

    #[test]
    fn a_bundle_cannot_replace_the_downloads_or_the_metadata() {
        let dir = tempfile::tempdir().unwrap();
        zip_at(
            &dir.path().join("site.zip"),
            &[
                ("index.html", b"x"),
                ("downloads.json", b"{}"),
                ("downloads/site.zip", b"fake"),
                ("build_log.json", b"{}"),
            ],
        );
        let assets = vec![fetched(dir.path(), "site.zip")];
        let (_, tree) = site_bundle(&assets, &Limits::default()).unwrap();
        let mut sink = MemorySink::default();
        let log = publish_bundle("site.zip", &tree, &mut sink).unwrap();
        let names: Vec<&str> = sink.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["index.html"]);
        assert_eq!(log.len(), 4, "{log:?}");
    }

    #[test]
    fn every_asset_is_a_download_listed_in_downloads_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xo"), b"bundle").unwrap();
        std::fs::write(dir.path().join("b.pdf"), b"%PDF-1").unwrap();
        let assets = vec![fetched(dir.path(), "a.xo"), fetched(dir.path(), "b.pdf")];
        let mut sink = MemorySink::default();
        publish_downloads(&assets, None, &mut sink).unwrap();
        assert_eq!(sink.text("downloads/a.xo").as_deref(), Some("bundle"));
        let d: Downloads = serde_json::from_str(&sink.text(DOWNLOADS_JSON).unwrap()).unwrap();
        assert_eq!(d.prebuilt, None);
        assert_eq!(
            d.files,
            vec![
                Download {
                    name: "a.xo".into(),
                    path: "downloads/a.xo".into(),
                    size: 6
                },
                Download {
                    name: "b.pdf".into(),
                    path: "downloads/b.pdf".into(),
                    size: 6
                },
            ]
        );
    }

    #[test]
    fn hostile_or_repeated_names_are_refused_before_any_download() {
        let fetched_one = [Fetched {
            name: "a.zip".into(),
            path: PathBuf::from("a.zip"),
            size: 1,
        }];
        for (name, before) in [("../x", &[][..]), ("a/b", &[][..]), ("a.zip", &fetched_one[..])] {
            let asset = ReleaseAsset {
                name: name.into(),
                url: "http://127.0.0.1:1/x".into(),
                size: None,
            };
            assert!(check_name(&asset, before).is_err(), "{name}");
        }
    }
}
