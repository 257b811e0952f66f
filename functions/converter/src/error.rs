//! Typed errors of the converter. Each message names the file or entry at
//! fault, because it ends up verbatim in a translator's build log.

use tx_shared::ports::StoreError;

/// Why a conversion could not produce output.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The source could not be downloaded or read from the bucket.
    #[error("fetch failed: {0}")]
    Fetch(String),
    /// The archive is not a readable zip.
    #[error("bad archive: {0}")]
    Archive(String),
    /// An entry would write outside the work folder or is not a plain file.
    #[error("unsafe archive entry {entry:?}: {reason}")]
    UnsafeEntry {
        /// The entry's name as stored in the zip.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A size, count or ratio limit was exceeded.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// No manifest and nothing recognisable in the files or the repo name.
    #[error("{0}")]
    Manifest(String),
    /// The manifest names a resource type nobody converts.
    #[error("unsupported resource type {0:?}: no converter for it")]
    UnknownResource(String),
    /// The resource holds nothing to convert.
    #[error("nothing to convert: {0}")]
    Empty(String),
    /// Reading or writing a local file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// File concerned.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Writing the output zip failed.
    #[error("writing output: {0}")]
    Output(String),
    /// The output could not be stored.
    #[error("upload failed: {0}")]
    Store(#[from] StoreError),
}

impl ConvertError {
    /// An I/O error on a named file.
    pub fn io(path: &str, source: std::io::Error) -> ConvertError {
        ConvertError::Io {
            path: path.to_string(),
            source,
        }
    }
}
