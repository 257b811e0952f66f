//! The job table's contract.

use tx_shared::domain::job::{Job, JobStatus};
use tx_shared::ports::{JobTable, TableError};

use super::fixtures::{finished, job};

/// Runs every case on `table` (empty), naming `adapter` in failures.
pub async fn suite(adapter: &str, table: &dyn JobTable) {
    insert_twice_conflicts(adapter, table).await;
    get_missing_is_none(adapter, table).await;
    update_checks_the_version(adapter, table).await;
    rows_round_trip_every_field(adapter, table).await;
    by_repo_is_newest_first_and_limited(adapter, table).await;
    sweep_candidates_are_the_waiting_and_the_running(adapter, table).await;
    sweep_candidates_include_undelivered_callbacks(adapter, table).await;
}

async fn insert_twice_conflicts(adapter: &str, table: &dyn JobTable) {
    let j = job("ins-1", "ana/en_ulb", 0);
    let stored = table
        .insert(&j)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] insert: {e}"));
    assert_eq!(stored.version, 1, "[{adapter}] insert stores version 1");
    let again = table.insert(&j).await;
    assert!(
        matches!(again, Err(TableError::Conflict(_))),
        "[{adapter}] second insert: {again:?}"
    );
    // Even with a different body: the id is taken.
    let mut other = j.clone();
    other.status = JobStatus::Started;
    let again = table.insert(&other).await;
    assert!(
        matches!(again, Err(TableError::Conflict(_))),
        "[{adapter}] insert over: {again:?}"
    );
    let read = table
        .get("ins-1")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"));
    assert_eq!(
        read.map(|r| r.status),
        Some(JobStatus::Requested),
        "[{adapter}] loser changed the row"
    );
}

async fn get_missing_is_none(adapter: &str, table: &dyn JobTable) {
    let got = table
        .get("no-such-job")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"));
    assert!(got.is_none(), "[{adapter}] get missing: {got:?}");
}

async fn update_checks_the_version(adapter: &str, table: &dyn JobTable) {
    let j = table
        .insert(&job("upd-1", "ana/en_ulb", 1))
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] insert: {e}"));
    let mut started = j.clone();
    started.status = JobStatus::Started;
    let v2 = table
        .update(&started, 1)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] update v1: {e}"));
    assert_eq!(v2.version, 2, "[{adapter}] update bumps the version");
    assert_eq!(v2.status, JobStatus::Started);

    // A second writer that read version 1 loses.
    let mut stale = j.clone();
    stale.status = JobStatus::Cancelled;
    let lost = table.update(&stale, 1).await;
    assert!(
        matches!(lost, Err(TableError::Conflict(_))),
        "[{adapter}] stale update: {lost:?}"
    );
    let ahead = table.update(&stale, 7).await;
    assert!(
        matches!(ahead, Err(TableError::Conflict(_))),
        "[{adapter}] future version: {ahead:?}"
    );

    let read = table
        .get("upd-1")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"));
    let read = read.unwrap_or_else(|| panic!("[{adapter}] updated row vanished"));
    assert_eq!(
        (read.version, read.status),
        (2, JobStatus::Started),
        "[{adapter}] stored row"
    );

    // Updating a job nobody inserted is a conflict too, whatever the version.
    for v in [0, 1] {
        let ghost = table.update(&job("upd-ghost", "ana/en_ulb", 2), v).await;
        assert!(
            matches!(ghost, Err(TableError::Conflict(_))),
            "[{adapter}] update missing v{v}: {ghost:?}"
        );
    }
    let ghost = table
        .get("upd-ghost")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"));
    assert!(ghost.is_none(), "[{adapter}] a failed update created a row");
}

async fn rows_round_trip_every_field(adapter: &str, table: &dyn JobTable) {
    let j = table
        .insert(&job("rt-1", "ana/en_obs", 3))
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] insert: {e}"));
    let done = finished(j.clone());
    let written = table
        .update(&done, j.version)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] update: {e}"));
    let read = table
        .get("rt-1")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"));
    assert_eq!(
        read.as_ref(),
        Some(&written),
        "[{adapter}] stored row differs from the written one"
    );
    let mut expected = done;
    expected.version = 2;
    assert_eq!(read, Some(expected), "[{adapter}] a field was lost or changed");
}

async fn by_repo_is_newest_first_and_limited(adapter: &str, table: &dyn JobTable) {
    // Inserted out of order; created 10..14 minutes after t0.
    for (id, minutes) in [
        ("br-c", 12),
        ("br-a", 10),
        ("br-e", 14),
        ("br-b", 11),
        ("br-d", 13),
    ] {
        table
            .insert(&job(id, "bob/fr_tn", minutes))
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] insert {id}: {e}"));
    }
    table
        .insert(&job("br-other", "bob/fr_tq", 20))
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] insert: {e}"));

    let ids = |jobs: Vec<tx_shared::domain::job::Job>| jobs.into_iter().map(|j| j.job_id).collect::<Vec<_>>();
    let top3 = table
        .by_repo("bob/fr_tn", 3)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] by_repo: {e}"));
    assert_eq!(ids(top3), ["br-e", "br-d", "br-c"], "[{adapter}] by_repo limit 3");
    let all = table
        .by_repo("bob/fr_tn", 100)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] by_repo: {e}"));
    assert_eq!(
        ids(all),
        ["br-e", "br-d", "br-c", "br-b", "br-a"],
        "[{adapter}] by_repo all"
    );
    let none = table
        .by_repo("bob/fr_tn", 0)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] by_repo: {e}"));
    assert!(none.is_empty(), "[{adapter}] by_repo limit 0");
    let other = table
        .by_repo("bob/fr_tq", 10)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] by_repo: {e}"));
    assert_eq!(ids(other), ["br-other"], "[{adapter}] by_repo other repo");
    let missing = table
        .by_repo("nobody/none", 10)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] by_repo: {e}"));
    assert!(missing.is_empty(), "[{adapter}] by_repo unknown repo");
}

async fn sweep_candidates_are_the_waiting_and_the_running(adapter: &str, table: &dyn JobTable) {
    // Started jobs, created out of order, among jobs of every other status.
    for (id, minutes, status) in [
        ("bs-2", 32, JobStatus::Started),
        ("bs-x", 30, JobStatus::Cancelled),
        ("bs-1", 31, JobStatus::Started),
        ("bs-y", 33, JobStatus::Finished),
        ("bs-3", 34, JobStatus::Started),
    ] {
        let j = table
            .insert(&job(id, "cy/de_tw", minutes))
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] insert {id}: {e}"));
        let mut moved = j.clone();
        moved.status = status;
        table
            .update(&moved, j.version)
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] update {id}: {e}"));
    }
    let candidates = candidates(adapter, table).await;
    // Earlier cases left `upd-1` started (minute 1).
    assert_eq!(
        ids_in(&candidates, JobStatus::Started),
        ["upd-1", "bs-1", "bs-2", "bs-3"],
        "[{adapter}] sweep candidates: started, oldest first"
    );
    assert!(
        ids_in(&candidates, JobStatus::Cancelled).is_empty(),
        "[{adapter}] a cancelled job is no candidate"
    );
    // `rt-1` (finished, callback pending) is left by an earlier case; `bs-y`
    // is finished with nothing owed.
    assert_eq!(
        ids_in(&candidates, JobStatus::Finished),
        ["rt-1"],
        "[{adapter}] only finished jobs owed a callback"
    );
    let requested = ids_in(&candidates, JobStatus::Requested);
    assert!(
        requested.len() >= 7,
        "[{adapter}] sweep candidates: requested found {}",
        requested.len()
    );
    let mut sorted = candidates.clone();
    sorted.sort_by(|a, b| (a.created_at, &a.job_id).cmp(&(b.created_at, &b.job_id)));
    assert_eq!(candidates, sorted, "[{adapter}] sweep candidates, oldest first");
}

async fn sweep_candidates_include_undelivered_callbacks(adapter: &str, table: &dyn JobTable) {
    for (id, minutes, status, pending) in [
        ("pc-2", 42, JobStatus::Finished, true),
        ("pc-x", 41, JobStatus::Finished, false),
        ("pc-1", 40, JobStatus::Finished, true),
        // The flag only counts on finished rows.
        ("pc-y", 43, JobStatus::Started, true),
    ] {
        let j = table
            .insert(&job(id, "di/fr_tn", minutes))
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] insert {id}: {e}"));
        let mut moved = j.clone();
        moved.status = status;
        moved.callback_pending = pending;
        table
            .update(&moved, j.version)
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] update {id}: {e}"));
    }
    let owed = |jobs: Vec<Job>| ids_in(&jobs, JobStatus::Finished);
    assert_eq!(
        owed(candidates(adapter, table).await),
        ["rt-1", "pc-1", "pc-2"],
        "[{adapter}] pending callbacks, oldest first"
    );

    let one = table
        .get("pc-1")
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get: {e}"))
        .unwrap_or_else(|| panic!("[{adapter}] pc-1 is gone"));
    let mut delivered = one.clone();
    delivered.callback_pending = false;
    table
        .update(&delivered, one.version)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] update pc-1: {e}"));
    assert_eq!(
        owed(candidates(adapter, table).await),
        ["rt-1", "pc-2"],
        "[{adapter}] a delivered callback is no longer pending"
    );
}

async fn candidates(adapter: &str, table: &dyn JobTable) -> Vec<Job> {
    table
        .sweep_candidates()
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] sweep_candidates: {e}"))
}

fn ids_in(jobs: &[Job], status: JobStatus) -> Vec<String> {
    jobs.iter()
        .filter(|j| j.status == status)
        .map(|j| j.job_id.clone())
        .collect()
}
