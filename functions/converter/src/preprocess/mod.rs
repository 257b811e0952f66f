//! Preprocessors: one per resource type, each turning the repository's own
//! layout into an ordered series of pages.

pub mod bible;
pub mod helps;
pub mod markdown;
pub mod obs;
pub mod ta;
pub mod tn;
pub mod tq;
pub mod tw;

use tx_shared::domain::manifest::{NormalizedManifest, ResourceType};

use crate::error::ConvertError;
use crate::page::Emit;
use crate::tree::SourceTree;

/// What every preprocessor reads.
pub struct Context<'a> {
    /// The unpacked repository.
    pub tree: &'a SourceTree,
    /// Its normalised manifest.
    pub manifest: &'a NormalizedManifest,
    /// Repository name (book inference for loose files).
    pub repo_name: &'a str,
}

impl Context<'_> {
    /// Reads a text file, reporting replaced bytes as a warning.
    pub fn read(&self, rel: &str, warnings: &mut Vec<String>) -> Result<String, ConvertError> {
        let (text, lossy) = self.tree.read_text(rel)?;
        if lossy {
            warnings.push(format!("{rel}: not valid UTF-8; bad bytes replaced"));
        }
        Ok(text)
    }

    /// Reads a small optional file, trimmed; `None` when absent or empty.
    pub fn read_opt(&self, rel: &str) -> Option<String> {
        if !self.tree.has(rel) {
            return None;
        }
        let (t, _) = self.tree.read_text(rel).ok()?;
        let t = t.trim().to_string();
        (!t.is_empty()).then_some(t)
    }
}

/// Runs the preprocessor for the manifest's type; `notes` receives
/// resource-level warnings (missing stories, unreadable files).
pub fn run(ctx: &Context, emit: &mut Emit, notes: &mut Vec<String>) -> Result<(), ConvertError> {
    match ctx.manifest.resource_type {
        ResourceType::Bible => bible::run(ctx, emit, notes),
        ResourceType::Obs => obs::run(ctx, emit, notes),
        ResourceType::Ta => ta::run(ctx, emit, notes),
        ResourceType::Tn => tn::run(ctx, emit, notes),
        ResourceType::Tq => tq::run(ctx, emit, notes),
        ResourceType::Tw => tw::run(ctx, emit, notes),
        ResourceType::Generic => markdown::run(ctx, emit, notes),
    }
}

/// Sorts numeric-looking names by number (`2` before `10`), others after, by name.
pub fn numeric_key(name: &str) -> (u32, String) {
    let stem = name.split('.').next().unwrap_or(name);
    (stem.parse::<u32>().unwrap_or(u32::MAX), name.to_string())
}
