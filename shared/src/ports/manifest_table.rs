//! Manifest table port (`tx-manifest`, key `repo`).

use async_trait::async_trait;

use super::job_table::TableError;
use crate::domain::manifest::ManifestRow;

/// The manifest table: one row per repository, written after each build.
#[async_trait]
pub trait ManifestTable: Send + Sync {
    /// Creates or replaces the row of `row.repo`.
    async fn put(&self, row: &ManifestRow) -> Result<(), TableError>;

    /// Reads one repository's row.
    async fn get(&self, repo: &str) -> Result<Option<ManifestRow>, TableError>;

    /// Every row, sorted by `repo` (the site-wide index).
    async fn list(&self) -> Result<Vec<ManifestRow>, TableError>;
}
