//! The object store's contract.

use std::sync::Arc;

use bytes::Bytes;
use tokio::task::JoinSet;
use tx_shared::ports::{ObjectStore, StoreError};

/// Runs every case on `store` (an empty bucket), naming `adapter` in failures.
pub async fn suite(adapter: &str, store: Arc<dyn ObjectStore>) {
    put_get_round_trip(adapter, store.as_ref()).await;
    files_round_trip(adapter, store.as_ref()).await;
    list_is_sorted_and_prefixed(adapter, store.as_ref()).await;
    delete_is_idempotent(adapter, store.as_ref()).await;
    invalid_keys_are_refused(adapter, store.as_ref()).await;
}

async fn put_get_round_trip(adapter: &str, store: &dyn ObjectStore) {
    let key = "u/ana/en ulb/0123456789/build_log+1.json";
    let body = Bytes::from_static("{\"status\":\"requested\",\"ñ\":1}".as_bytes());
    store
        .put(key, body.clone(), "application/json")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] put: {e}"));
    let got = store
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"));
    assert_eq!(got, Some(body), "[{adapter}] get returns what put stored");

    let replaced = Bytes::from_static(b"{}");
    store
        .put(key, replaced.clone(), "application/json")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] put: {e}"));
    assert_eq!(
        store.get(key).await.ok().flatten(),
        Some(replaced),
        "[{adapter}] put replaces"
    );

    let empty = "u/ana/en ulb/0123456789/empty.txt";
    store
        .put(empty, Bytes::new(), "text/plain")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] put empty: {e}"));
    assert_eq!(
        store.get(empty).await.ok().flatten(),
        Some(Bytes::new()),
        "[{adapter}] empty object"
    );

    let missing = store
        .get("u/nobody/x.json")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get missing: {e}"));
    assert!(missing.is_none(), "[{adapter}] get missing is None");
}

async fn files_round_trip(adapter: &str, store: &dyn ObjectStore) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let src = dir.path().join("out.zip");
    // Big enough to be more than one read buffer, not so big the suite drags.
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &content).unwrap_or_else(|e| panic!("write: {e}"));
    store
        .put_file("tx/job/j1.zip", &src, "application/zip")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] put_file: {e}"));
    let dest = dir.path().join("back.zip");
    let found = store
        .get_to_file("tx/job/j1.zip", &dest)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get_to_file: {e}"));
    assert!(found, "[{adapter}] get_to_file found the object");
    assert_eq!(
        std::fs::read(&dest).ok(),
        Some(content),
        "[{adapter}] file content survives"
    );

    let nowhere = dir.path().join("missing.zip");
    let found = store
        .get_to_file("tx/job/none.zip", &nowhere)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get_to_file: {e}"));
    assert!(!found, "[{adapter}] get_to_file of a missing key is false");
}

async fn list_is_sorted_and_prefixed(adapter: &str, store: &dyn ObjectStore) {
    for key in [
        "l/b/2.html",
        "l/a.html",
        "l/b/1.html",
        "l/ab.html",
        "lx/other.html",
        "l/b/10.html",
    ] {
        store
            .put(key, Bytes::from_static(b"x"), "text/html")
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] put {key}: {e}"));
    }
    let all = store
        .list("l/")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] list: {e}"));
    assert_eq!(
        all,
        ["l/a.html", "l/ab.html", "l/b/1.html", "l/b/10.html", "l/b/2.html"],
        "[{adapter}] list l/"
    );
    let partial = store
        .list("l/a")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] list: {e}"));
    assert_eq!(
        partial,
        ["l/a.html", "l/ab.html"],
        "[{adapter}] list by a partial name"
    );
    let sub = store
        .list("l/b/")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] list: {e}"));
    assert_eq!(sub.len(), 3, "[{adapter}] list l/b/");
    let none = store
        .list("nothing/here/")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] list: {e}"));
    assert!(none.is_empty(), "[{adapter}] list of an empty prefix");
    let everything = store
        .list("")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] list: {e}"));
    assert!(
        everything.windows(2).all(|w| w[0] < w[1]),
        "[{adapter}] list('') sorted"
    );
    assert!(
        everything.iter().any(|k| k == "lx/other.html"),
        "[{adapter}] list('') complete"
    );
}

async fn delete_is_idempotent(adapter: &str, store: &dyn ObjectStore) {
    store
        .put("d/gone.txt", Bytes::from_static(b"x"), "text/plain")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] put: {e}"));
    store
        .delete("d/gone.txt")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] delete: {e}"));
    assert!(
        store.get("d/gone.txt").await.ok().flatten().is_none(),
        "[{adapter}] deleted object still there"
    );
    store
        .delete("d/gone.txt")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] delete missing: {e}"));
    store
        .delete("d/never/was.txt")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] delete missing: {e}"));
}

async fn invalid_keys_are_refused(adapter: &str, store: &dyn ObjectStore) {
    let invalid = |r: Result<(), StoreError>| matches!(r, Err(StoreError::InvalidKey(_)));
    for key in ["a/../b", "/abs", "", "a//b", "dir/"] {
        assert!(
            invalid(store.put(key, Bytes::from_static(b"x"), "text/plain").await),
            "[{adapter}] put {key:?}"
        );
        assert!(
            invalid(store.get(key).await.map(|_| ())),
            "[{adapter}] get {key:?}"
        );
        assert!(invalid(store.delete(key).await), "[{adapter}] delete {key:?}");
    }
    assert!(
        invalid(store.list("a/../").await.map(|_| ())),
        "[{adapter}] list a/../"
    );
    let dir = std::env::temp_dir();
    assert!(
        invalid(
            store
                .put_file("x/../../etc", &dir.join("nope"), "text/plain")
                .await
        ),
        "[{adapter}] put_file escaping key"
    );
    assert!(
        invalid(store.get_to_file("../x", &dir.join("nope")).await.map(|_| ())),
        "[{adapter}] get_to_file"
    );
}

/// Stores `n` small objects (16 at a time) and checks a listing returns all of
/// them, sorted: with `n` over 1000 this crosses S3's page size.
pub async fn many_keys(adapter: &str, store: Arc<dyn ObjectStore>, n: usize) {
    let keys: Vec<String> = (0..n).map(|i| format!("many/{:x}/{i}.html", i % 7)).collect();
    let mut tasks = JoinSet::new();
    for chunk in keys.chunks(n.div_ceil(16).max(1)) {
        let store = store.clone();
        let chunk = chunk.to_vec();
        tasks.spawn(async move {
            for key in chunk {
                store.put(&key, Bytes::from_static(b"<p>"), "text/html").await?;
            }
            Ok::<(), StoreError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap_or_else(|e| panic!("[{adapter}] put task: {e}"))
            .unwrap_or_else(|e| panic!("[{adapter}] put: {e}"));
    }
    let mut expected = keys;
    expected.sort();
    let listed = store
        .list("many/")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] list: {e}"));
    assert_eq!(
        listed.len(),
        n,
        "[{adapter}] list returned {} of {n}",
        listed.len()
    );
    assert_eq!(
        listed, expected,
        "[{adapter}] list of {n} keys sorted and complete"
    );
}
