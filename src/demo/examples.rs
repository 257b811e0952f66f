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
    let mut files = Vec::new();
    collect(dir, &mut files);
    let files = files
        .into_iter()
        .map(|f| {
            Ok((
                f.path().strip_prefix(dir.path())?.to_string_lossy().into_owned(),
                f.contents(),
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    archive(repo, files)
}

/// A forge's archive of `repo`: each `(relative path, contents)` under
/// `<repo>/`, in path order, with fixed timestamps (the same files give the
/// same bytes, hence the same commit id).
pub fn archive(repo: &str, mut files: Vec<(String, impl AsRef<[u8]>)>) -> anyhow::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (rel, contents) in files {
        zip.start_file(format!("{repo}/{rel}"), options)?;
        zip.write_all(contents.as_ref())?;
    }
    Ok(zip.finish()?.into_inner())
}

fn collect<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    out.extend(dir.files());
    for sub in dir.dirs() {
        collect(sub, out);
    }
}
