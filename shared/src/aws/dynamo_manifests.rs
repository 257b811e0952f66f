//! `tx-manifest` on DynamoDB (key `repo`). Plain puts: the last build to
//! report back wins, as on SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::sdk_error::describe;
use crate::domain::manifest::ManifestRow;
use crate::ports::{ManifestTable, TableError};

/// The manifest table on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoManifestTable {
    client: Client,
    table: String,
    page_size: Option<i32>,
}

impl DynamoManifestTable {
    /// The table named `table` (from `TX_MANIFEST_TABLE`).
    pub fn new(client: Client, table: impl Into<String>) -> DynamoManifestTable {
        DynamoManifestTable {
            client,
            table: table.into(),
            page_size: None,
        }
    }

    /// Caps how many items one Scan page returns, so tests can exercise
    /// pagination with a few rows.
    pub fn with_page_size(mut self, page_size: i32) -> DynamoManifestTable {
        self.page_size = Some(page_size.max(1));
        self
    }
}

#[async_trait]
impl ManifestTable for DynamoManifestTable {
    async fn put(&self, row: &ManifestRow) -> Result<(), TableError> {
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(row)
            .map_err(|e| TableError::Malformed(format!("manifest {}: {e}", row.repo)))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| TableError::Backend(describe(&e)))?;
        Ok(())
    }

    async fn get(&self, repo: &str) -> Result<Option<ManifestRow>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("repo", AttributeValue::S(repo.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::Backend(describe(&e)))?;
        out.item.map(from_item).transpose()
    }

    async fn list(&self) -> Result<Vec<ManifestRow>, TableError> {
        let mut rows = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .set_limit(self.page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| TableError::Backend(describe(&e)))?;
            for item in out.items.unwrap_or_default() {
                rows.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        rows.sort_by(|a, b| a.repo.cmp(&b.repo));
        Ok(rows)
    }
}

/// A DynamoDB item as a manifest row.
fn from_item(item: HashMap<String, AttributeValue>) -> Result<ManifestRow, TableError> {
    serde_dynamo::from_item(item).map_err(|e| TableError::Malformed(e.to_string()))
}
