//! The manifest table's contract.

use tx_shared::ports::ManifestTable;

use super::fixtures::manifest;

/// Runs every case on `table` (empty), naming `adapter` in failures.
pub async fn suite(adapter: &str, table: &dyn ManifestTable) {
    let missing = table
        .get("no/such")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"));
    assert!(missing.is_none(), "[{adapter}] get missing");
    let empty = table
        .list()
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] list: {e}"));
    assert!(empty.is_empty(), "[{adapter}] list of an empty table");

    for repo in [
        "zed/en_ulb",
        "ana/en_obs",
        "mia/es-419_tn",
        "ana/en_ta",
        "bob/fr_tw",
    ] {
        table
            .put(&manifest(repo, "first"))
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] put {repo}: {e}"));
    }
    let replaced = manifest("ana/en_obs", "second");
    table
        .put(&replaced)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] put again: {e}"));

    let got = table
        .get("ana/en_obs")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"));
    assert_eq!(
        got,
        Some(replaced),
        "[{adapter}] put replaces the row, every field kept"
    );

    let repos: Vec<String> = table
        .list()
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] list: {e}"))
        .into_iter()
        .map(|r| r.repo)
        .collect();
    assert_eq!(
        repos,
        [
            "ana/en_obs",
            "ana/en_ta",
            "bob/fr_tw",
            "mia/es-419_tn",
            "zed/en_ulb"
        ],
        "[{adapter}] list is complete and sorted by repo"
    );
}
