//! The converter's contract: what the job manager sends it and what it answers.
//!
//! It crosses a Lambda Invoke boundary as JSON, so it carries keys, never file
//! contents (Lambda refuses payloads over 6 MB).

use serde::{Deserialize, Serialize};

/// Payload of a converter invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvertRequest {
    /// The job being converted (names the output zip).
    pub job_id: String,
    /// `owner/repo/commit10`, for log lines.
    pub identifier: String,
    /// Repository name: the last resort for detecting language, resource and book.
    pub repo_name: String,
    /// Resource type if the requester knew it, else `unknown`.
    pub resource_type: String,
    /// Input format if known, else `unknown`.
    pub input_format: String,
    /// Requested output (`html`).
    pub output_format: String,
    /// An `http(s)://` archive URL or `s3://<preconvert bucket>/<key>`.
    pub source: String,
    /// Key in the CDN bucket where the output zip goes (`tx/job/<id>.zip`).
    pub output_key: String,
    /// A release's assets: published as downloads, or as the site when one
    /// is a prebuilt site bundle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<super::job_request::ReleaseAsset>,
}

/// Answer of a converter invocation, as tX's converters answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConvertResult {
    /// Whether an output zip was written and is worth publishing.
    pub success: bool,
    /// What was done, in order (files in alphabetical order).
    #[serde(default)]
    pub log: Vec<String>,
    /// Odd input converted anyway, each naming file, line and marker.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Input that could not be converted, each naming the file.
    #[serde(default)]
    pub errors: Vec<String>,
    /// Key of the output zip in the CDN bucket when `success`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The resource type the converter detected (`bible`, `obs`, …), so the
    /// job and its build log name it even when the webhook could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The input format it found (`usfm`, `md`, `tsv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_format: Option<String>,
    /// How long each stage took, so an operator (and `tx bench e2e`) sees
    /// where a build's time went without reading the converter's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<ConvertStages>,
}

/// Seconds of a conversion's stages, and the CPU it cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ConvertStages {
    /// Downloading the source and the release's files.
    pub fetch_s: f64,
    /// Opening the archive and indexing it (read in place, not extracted).
    pub unpack_s: f64,
    /// Manifest to pages, written into the output zip.
    pub convert_s: f64,
    /// Closing, checking and storing the output zip.
    pub bundle_s: f64,
    /// User + system CPU seconds of the converter's process over the whole
    /// invocation (on Lambda, the converter alone), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_s: Option<f64>,
}

/// Files every output zip holds at its root, besides the pages.
pub mod output_files {
    /// The normalised manifest as JSON ([`crate::domain::manifest::NormalizedManifest`]).
    pub const MANIFEST_JSON: &str = "manifest.json";
    /// The same manifest as YAML, for people and RC tools.
    pub const MANIFEST_YAML: &str = "manifest.yaml";
    /// Navigation data ([`crate::domain::navigation::Navigation`]).
    pub const INDEX_JSON: &str = "index.json";
    /// A release's downloads ([`super::Downloads`]); absent for other builds.
    pub const DOWNLOADS_JSON: &str = "downloads.json";
    /// The folder of the output that holds a release's asset files.
    pub const DOWNLOADS_DIR: &str = "downloads/";
}

/// What a release build publishes besides (or instead of) converted pages:
/// `downloads.json` at the root of the output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Downloads {
    /// The asset published as the site itself, when one was a prebuilt site
    /// bundle: the deployer then copies every file as it is, templating none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prebuilt: Option<String>,
    /// Every asset, in the release's order.
    #[serde(default)]
    pub files: Vec<Download>,
}

/// One downloadable asset of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Download {
    /// The asset's name.
    pub name: String,
    /// Where it is, relative to the build folder (`downloads/<name>`).
    pub path: String,
    /// Bytes.
    pub size: u64,
}
