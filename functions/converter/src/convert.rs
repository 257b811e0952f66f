//! The pure conversion pipeline: source tree → manifest → preprocessor →
//! pages → bundle. Used by the Lambda handler, by `tx build` and by the
//! benchmarks; it never touches the network.

use std::path::Path;
use std::time::Instant;

use tx_shared::domain::convert::output_files;
use tx_shared::domain::manifest::NormalizedManifest;
use tx_shared::domain::navigation::Navigation;

use crate::bundle::{CountSink, DirSink, Sink, ZipSink};
use crate::error::ConvertError;
use crate::limits::Limits;
use crate::manifest;
use crate::page::Page;
use crate::preprocess::{self, Context};
use crate::tree::SourceTree;
use crate::unzip;

/// What a conversion did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The normalised manifest written to the bundle.
    pub manifest: NormalizedManifest,
    /// The navigation written as `index.json`.
    pub navigation: Navigation,
    /// Input format found (`usfm`, `md`, `tsv`).
    pub input_format: String,
    /// Files converted, one line each, sorted alphabetically by source file.
    pub log: Vec<String>,
    /// Odd input converted anyway (`FILE:LINE: message`).
    pub warnings: Vec<String>,
    /// Input that could not be converted.
    pub errors: Vec<String>,
    /// Source files in the repository.
    pub files_in: usize,
    /// Bytes of the source files.
    pub bytes_in: u64,
    /// Pages written.
    pub pages: usize,
    /// Bytes written (uncompressed), pages and metadata.
    pub bytes_out: u64,
    /// Seconds spent converting (manifest to bundle, no unpacking).
    pub convert_seconds: f64,
    /// CPU seconds of the converting thread over the same span (what a
    /// single-thread speed is measured by on a busy machine), where known.
    pub convert_cpu_seconds: Option<f64>,
    /// Seconds end to end (unpacking included).
    pub seconds: f64,
}

/// Converts an unpacked tree into `sink`.
pub fn convert_tree(tree: &SourceTree, repo_name: &str, sink: &mut dyn Sink) -> Result<Report, ConvertError> {
    let started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    let (manifest, mut warnings) = manifest::detect(tree, repo_name)?;
    let ctx = Context {
        tree,
        manifest: &manifest,
        repo_name,
    };
    let mut pages: Vec<String> = Vec::new();
    let mut items = Vec::new();
    let mut log: Vec<(String, String)> = Vec::new();
    let mut notes = Vec::new();
    {
        let mut emit = |p: Page| -> Result<(), ConvertError> {
            if pages.contains(&p.name) {
                return Err(ConvertError::Output(format!("two pages named {}", p.name)));
            }
            sink.put(&p.name, p.html.as_bytes())?;
            let first = p.sources.first().cloned().unwrap_or_else(|| p.name.clone());
            let from = if p.sources.len() > 1 {
                format!("{first} and {} more files", p.sources.len() - 1)
            } else {
                first.clone()
            };
            log.push((first, format!("Converted {from} to {}", p.name)));
            warnings.extend(p.warnings);
            pages.push(p.name);
            items.push(p.nav);
            Ok(())
        };
        preprocess::run(&ctx, &mut emit, &mut notes)?;
    }
    warnings.extend(notes);
    if pages.is_empty() {
        return Err(ConvertError::Empty(format!(
            "no pages produced for a {} resource",
            manifest.resource_type.as_str()
        )));
    }
    // Front matter reads first, whatever its name sorts as.
    if let Some(i) = pages.iter().position(|p| p == "front.html") {
        let p = pages.remove(i);
        pages.insert(0, p);
        let it = items.remove(i);
        items.insert(0, it);
    }
    let navigation = Navigation {
        title: manifest.title.clone(),
        resource_type: manifest.resource_type,
        direction: manifest.language.direction.clone(),
        language: manifest.language.id.clone(),
        pages: pages.clone(),
        items,
    };
    let index = serde_json::to_vec_pretty(&navigation).map_err(|e| ConvertError::Output(e.to_string()))?;
    sink.put(output_files::INDEX_JSON, &index)?;
    let mjson = serde_json::to_vec_pretty(&manifest).map_err(|e| ConvertError::Output(e.to_string()))?;
    sink.put(output_files::MANIFEST_JSON, &mjson)?;
    let myaml = serde_yaml::to_string(&manifest).map_err(|e| ConvertError::Output(e.to_string()))?;
    sink.put(output_files::MANIFEST_YAML, myaml.as_bytes())?;
    sink.finish()?;
    log.sort();
    let mut lines = vec![format!(
        "Detected {} resource {:?} ({}) in {} from {}",
        manifest.resource_type.as_str(),
        manifest.resource_id,
        manifest.title,
        manifest.language.id,
        manifest.source_format
    )];
    lines.extend(log.into_iter().map(|(_, l)| l));
    lines.push(format!("Wrote {} pages, index.json and manifest", pages.len()));
    let input_format = match manifest.resource_type {
        tx_shared::domain::manifest::ResourceType::Bible => "usfm",
        tx_shared::domain::manifest::ResourceType::Tn if tree.files.iter().any(|f| f.ends_with(".tsv")) => {
            "tsv"
        }
        _ => "md",
    }
    .to_string();
    Ok(Report {
        input_format,
        manifest,
        navigation,
        log: lines,
        warnings,
        errors: Vec::new(),
        files_in: tree.files.len(),
        bytes_in: tree.total_bytes(),
        pages: pages.len(),
        bytes_out: sink.bytes(),
        convert_seconds: started.elapsed().as_secs_f64(),
        convert_cpu_seconds: thread_cpu_seconds().zip(cpu_started).map(|(b, a)| b - a),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Opens a zip file (read in place) or a folder as a source tree.
pub fn open_input(input: &Path, limits: &Limits) -> Result<SourceTree, ConvertError> {
    let meta = std::fs::metadata(input).map_err(|e| {
        // The file's name, not where it lies: the handler's input is in a
        // temporary folder, and errors reach public build logs.
        let name = input.file_name().map_or_else(
            || input.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        ConvertError::io(&name, e)
    })?;
    if meta.is_dir() {
        SourceTree::from_folder(input, limits.max_file_bytes)
    } else {
        unzip::open(input, limits)
    }
}

/// The repo name to use: the given one, else the input's file name.
fn repo_name_for(input: &Path, repo_name: &str) -> String {
    if !repo_name.trim().is_empty() {
        return repo_name.to_string();
    }
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".zip").unwrap_or(&name).to_string()
}

/// Converts a zip archive or a folder into `sink` (which it finishes).
pub fn convert_path_to_sink(
    input: &Path,
    repo_name: &str,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<Report, ConvertError> {
    let started = Instant::now();
    let tree = open_input(input, limits)?;
    let mut report = convert_tree(&tree, &repo_name_for(input, repo_name), sink)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Converts a zip archive or a folder into an output zip at `out_zip`.
/// `repo_name` may be empty: the input's name is used.
pub fn convert_path_to_zip(
    input: &Path,
    repo_name: &str,
    out_zip: &Path,
    limits: &Limits,
) -> Result<Report, ConvertError> {
    let mut sink = ZipSink::create(out_zip)?;
    convert_path_to_sink(input, repo_name, limits, &mut sink)
}

/// Converts a zip archive or a folder into an output folder (`tx build`).
pub fn convert_path_to_dir(
    input: &Path,
    repo_name: &str,
    out_dir: &Path,
    limits: &Limits,
) -> Result<Report, ConvertError> {
    let mut sink = DirSink::create(out_dir)?;
    convert_path_to_sink(input, repo_name, limits, &mut sink)
}

/// Converts without writing any output (benchmarks): every page is rendered
/// and counted, then dropped.
pub fn convert_path_dry(input: &Path, repo_name: &str, limits: &Limits) -> Result<Report, ConvertError> {
    let mut sink = CountSink::default();
    convert_path_to_sink(input, repo_name, limits, &mut sink)
}

/// One benchmark line for `tx bench convert`.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchFigures {
    /// Source files.
    pub files: usize,
    /// Source bytes.
    pub bytes: u64,
    /// Seconds of conversion proper (no unpacking, no output).
    pub convert_seconds: f64,
    /// Seconds end to end (unpacking included).
    pub seconds: f64,
    /// Source megabytes (10^6) per second of conversion proper (wall clock).
    pub mb_per_s: f64,
    /// The same per CPU second of the converting thread, where known.
    pub mb_per_cpu_s: Option<f64>,
    /// Peak resident memory of the process so far, in KiB (`VmHWM`), if known.
    pub peak_rss_kb: Option<u64>,
    /// Warnings produced.
    pub warnings: usize,
}

/// CPU time of the calling thread in seconds (`/proc/thread-self/schedstat`,
/// nanosecond resolution), when the platform has it.
pub fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// User + system CPU time of this process in seconds (`/proc/self/stat`,
/// in the kernel's fixed 100 Hz `USER_HZ` ticks), when the platform has it.
pub fn process_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may itself hold spaces.
    let mut rest = s.rsplit_once(')')?.1.split_whitespace();
    let utime: u64 = rest.nth(11)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Peak resident set size of this process (`VmHWM` in /proc/self/status).
pub fn peak_rss_kb() -> Option<u64> {
    status_kb("VmHWM:")
}

/// Resident set size of this process now (`VmRSS` in /proc/self/status).
pub fn rss_kb() -> Option<u64> {
    status_kb("VmRSS:")
}

/// A KiB figure of /proc/self/status.
fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Converts `input` without writing output and measures it.
pub fn bench_convert(input: &Path, limits: &Limits) -> Result<BenchFigures, ConvertError> {
    let r = convert_path_dry(input, "", limits)?;
    Ok(BenchFigures {
        files: r.files_in,
        bytes: r.bytes_in,
        convert_seconds: r.convert_seconds,
        seconds: r.seconds,
        mb_per_s: r.bytes_in as f64 / 1e6 / r.convert_seconds.max(1e-9),
        mb_per_cpu_s: r
            .convert_cpu_seconds
            .map(|c| r.bytes_in as f64 / 1e6 / c.max(1e-9)),
        peak_rss_kb: peak_rss_kb(),
        warnings: r.warnings.len(),
    })
}
