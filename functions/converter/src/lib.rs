//! tx-converter: turns a repository of Bible-translation resources (USFM,
//! Markdown, TSV; Resource Container, translationStudio or legacy layout)
//! into HTML page fragments, navigation data (`index.json`) and a normalised
//! manifest, all in one zip for the deployer.
//!
//! Entry points: [`handle`] (the Lambda body), [`convert_path_to_zip`] /
//! [`convert_path_to_dir`] (`tx build`), [`convert_path_dry`] and
//! [`bench_convert`] (`tx bench convert`).

pub mod bundle;
pub mod convert;
pub mod error;
pub mod fetch;
pub mod handler;
pub mod headings;
pub mod html;
pub mod limits;
pub mod links;
pub mod manifest;
pub mod markdown;
pub mod page;
pub mod preprocess;
pub mod release;
mod sanitize;
pub mod simple_markdown;
pub mod tree;
pub mod tsv;
pub mod unzip;
pub mod usfm;
pub mod warnings;

pub use convert::{
    BenchFigures, Report, bench_convert, convert_path_dry, convert_path_to_dir, convert_path_to_sink,
    convert_path_to_zip, convert_tree, open_input, peak_rss_kb, process_cpu_seconds, rss_kb,
};
pub use error::ConvertError;
pub use handler::{ConverterDeps, handle};
pub use limits::Limits;
