//! The output bundle: page fragments, `index.json` and the normalised
//! manifest, written to a zip (for the deployer), a folder (for `tx build`)
//! or nowhere (for benchmarks, which only count bytes).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

use crate::error::ConvertError;

/// Where output files go, one at a time.
pub trait Sink {
    /// Adds one file at the bundle root.
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), ConvertError>;
    /// Adds the file at `path` as `name` (a release's files, a prebuilt
    /// bundle's). Reads it whole; the zip sink streams it instead, since a
    /// release file may be as large as a source archive.
    fn put_file(&mut self, name: &str, path: &Path) -> Result<(), ConvertError> {
        let bytes = std::fs::read(path).map_err(|e| ConvertError::io(name, e))?;
        self.put(name, &bytes)
    }
    /// Completes the bundle (the zip writes its directory); nothing to do
    /// for sinks that write each file whole.
    fn finish(&mut self) -> Result<(), ConvertError> {
        Ok(())
    }
    /// Bytes handed to the sink so far (uncompressed).
    fn bytes(&self) -> u64;
}

/// Writes a zip of stored (uncompressed) entries.
///
/// The zip is the downloadable artefact and the publisher's input, which
/// unpacks it moments later: deflating 40 MB of HTML to inflate it again
/// cost 65 % of a push-to-page for en_tn (1.0 s of level-6 deflate), while
/// storing is a copy and a CRC. The object is bigger (stored HTML is ~5×
/// its deflated size); CDN and S3 serve it compressed on the wire anyway.
pub struct ZipSink {
    writer: Option<zip::ZipWriter<BufWriter<File>>>,
    path: PathBuf,
    bytes: u64,
}

impl ZipSink {
    /// Creates (or replaces) the zip at `path`.
    pub fn create(path: &Path) -> Result<ZipSink, ConvertError> {
        let f = File::create(path).map_err(|e| ConvertError::io(&path.display().to_string(), e))?;
        Ok(ZipSink {
            writer: Some(zip::ZipWriter::new(BufWriter::new(f))),
            path: path.to_path_buf(),
            bytes: 0,
        })
    }
}

impl Sink for ZipSink {
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), ConvertError> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| ConvertError::Output("zip already finished".into()))?;
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        w.start_file(name, opts)
            .map_err(|e| ConvertError::Output(format!("{name}: {e}")))?;
        w.write_all(bytes)
            .map_err(|e| ConvertError::Output(format!("{name}: {e}")))?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn put_file(&mut self, name: &str, path: &Path) -> Result<(), ConvertError> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| ConvertError::Output("zip already finished".into()))?;
        let mut file = File::open(path).map_err(|e| ConvertError::io(name, e))?;
        let size = file.metadata().map_err(|e| ConvertError::io(name, e))?.len();
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(size >= u32::MAX as u64);
        w.start_file(name, opts)
            .map_err(|e| ConvertError::Output(format!("{name}: {e}")))?;
        let copied = std::io::copy(&mut file, w).map_err(|e| ConvertError::io(name, e))?;
        self.bytes += copied;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ConvertError> {
        if let Some(w) = self.writer.take() {
            let mut inner = w
                .finish()
                .map_err(|e| ConvertError::Output(format!("{}: {e}", self.path.display())))?;
            inner
                .flush()
                .map_err(|e| ConvertError::io(&self.path.display().to_string(), e))?;
        }
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Writes files into a folder.
pub struct DirSink {
    dir: PathBuf,
    bytes: u64,
}

impl DirSink {
    /// Creates the folder if needed.
    pub fn create(dir: &Path) -> Result<DirSink, ConvertError> {
        std::fs::create_dir_all(dir).map_err(|e| ConvertError::io(&dir.display().to_string(), e))?;
        Ok(DirSink {
            dir: dir.to_path_buf(),
            bytes: 0,
        })
    }
}

impl Sink for DirSink {
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), ConvertError> {
        if name.contains("..") || name.starts_with('/') {
            return Err(ConvertError::Output(format!("refusing output name {name:?}")));
        }
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ConvertError::io(name, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| ConvertError::io(name, e))?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Discards files, counting them: what benchmarks measure.
#[derive(Debug, Default)]
pub struct CountSink {
    /// Files received.
    pub files: usize,
    /// Bytes received.
    pub bytes: u64,
    /// Names received, in order.
    pub names: Vec<String>,
}

impl Sink for CountSink {
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), ConvertError> {
        self.files += 1;
        self.bytes += bytes.len() as u64;
        self.names.push(name.to_string());
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Keeps files in memory: for tests that inspect the output.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// `(name, content)` in the order written.
    pub files: Vec<(String, Vec<u8>)>,
}

impl MemorySink {
    /// Content of a file as text.
    pub fn text(&self, name: &str) -> Option<String> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
    }
}

impl Sink for MemorySink {
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), ConvertError> {
        self.files.push((name.to_string(), bytes.to_vec()));
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, b)| b.len() as u64).sum()
    }
}
