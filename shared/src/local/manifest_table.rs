//! `tx-manifest` on SQLite (no stream: nothing is triggered by it).

use async_trait::async_trait;
use rusqlite::params;

use super::db::{Cached, Db, backend, query_items};
use crate::domain::manifest::ManifestRow;
use crate::ports::{ManifestTable, TableError};

/// The manifest table of the embedded runtime.
#[derive(Clone)]
pub struct SqliteManifestTable {
    db: Db,
}

impl SqliteManifestTable {
    /// The table in `db`.
    pub fn new(db: Db) -> SqliteManifestTable {
        SqliteManifestTable { db }
    }

    fn rows(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<ManifestRow>, TableError> {
        query_items(&self.db, sql, args)
    }
}

#[async_trait]
impl ManifestTable for SqliteManifestTable {
    async fn put(&self, row: &ManifestRow) -> Result<(), TableError> {
        let text = serde_json::to_string(row).map_err(|e| TableError::Malformed(e.to_string()))?;
        let conn = self.db.lock()?;
        conn.run(
            "INSERT INTO manifests (repo, item) VALUES (?1, ?2)
             ON CONFLICT (repo) DO UPDATE SET item = excluded.item",
            params![row.repo, text],
        )
        .map_err(backend)?;
        Ok(())
    }

    async fn get(&self, repo: &str) -> Result<Option<ManifestRow>, TableError> {
        Ok(self
            .rows("SELECT item FROM manifests WHERE repo = ?1", &[&repo])?
            .into_iter()
            .next())
    }

    async fn list(&self) -> Result<Vec<ManifestRow>, TableError> {
        self.rows("SELECT item FROM manifests ORDER BY repo", &[])
    }
}
