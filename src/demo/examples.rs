//! The sample repositories of `examples/`, embedded in the binary so
//! `tx demo` works from any directory, and packed the way forges serve
//! archives: one top folder named after the repository.

use std::io::Write;

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

static EXAMPLES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/examples");

/// One sample repository.
#[derive(Debug, Clone)]
pub struct ExampleRepo {
    /// Repository name (the folder name under `examples/`).
    pub name: String,
    /// Its archive, as a forge would serve `archive/<sha>.zip`.
    pub archive: Vec<u8>,
    /// A commit id derived from the content (40 hex characters, like SHA-1).
    pub commit_id: String,
}

/// Every sample repository, sorted by name.
pub fn example_repos() -> anyhow::Result<Vec<ExampleRepo>> {
    let mut repos = Vec::new();
    for dir in EXAMPLES.dirs() {
        let name = dir.path().to_string_lossy().to_string();
        let archive = pack(dir, &name)?;
        let commit_id = hex::encode(&Sha256::digest(&archive)[..20]);
        repos.push(ExampleRepo {
            name,
            archive,
            commit_id,
        });
    }
    repos.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(repos)
}

fn pack(dir: &Dir<'_>, repo: &str) -> anyhow::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort_by(|a, b| a.path().cmp(b.path()));
    for file in files {
        let rel = file.path().strip_prefix(dir.path())?;
        zip.start_file(format!("{repo}/{}", rel.to_string_lossy()), options)?;
        zip.write_all(file.contents())?;
    }
    Ok(zip.finish()?.into_inner())
}

fn collect<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    out.extend(dir.files());
    for sub in dir.dirs() {
        collect(sub, out);
    }
}
