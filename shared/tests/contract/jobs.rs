//! The job table's contract.

use tx_shared::domain::job::{CommitInfo, Job, JobStatus};
use tx_shared::domain::job_request::NewerCommit;
use tx_shared::ports::{JobCursor, JobPage, JobTable, QueueSlot, TableError};

use super::fixtures::{finished, job};

/// Runs every case on `table` (empty), naming `adapter` in failures.
pub async fn suite(adapter: &str, table: &dyn JobTable) {
    insert_twice_conflicts(adapter, table).await;
    get_missing_is_none(adapter, table).await;
    update_checks_the_version(adapter, table).await;
    a_lease_is_renewed_in_place_by_its_holder_only(adapter, table).await;
    rows_round_trip_every_field(adapter, table).await;
    by_repo_is_newest_first_and_limited(adapter, table).await;
    by_repo_pages_walk_every_job_once(adapter, table).await;
    repos_lists_every_repo_with_a_job(adapter, table).await;
    sweep_candidates_are_the_waiting_and_the_running(adapter, table).await;
    sweep_candidates_include_undelivered_callbacks(adapter, table).await;
    deliveries_are_remembered_until_they_expire(adapter, table).await;
}

async fn deliveries_are_remembered_until_they_expire(adapter: &str, table: &dyn JobTable) {
    let later = chrono::Utc::now().timestamp() + 3600;
    let remember = |id: &'static str, job: &'static str, until: i64| async move {
        table
            .remember_delivery(id, job, until)
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] remember_delivery: {e}"))
    };
    let read = |id: &'static str| async move {
        table
            .delivery(id)
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] delivery: {e}"))
    };
    assert_eq!(read("d-unknown").await, None, "[{adapter}] unknown delivery");
    remember("d-1", "job-a", later).await;
    assert_eq!(
        read("d-1").await.as_deref(),
        Some("job-a"),
        "[{adapter}] remembered"
    );
    // Remembered again (a redelivery rebuilt it): the newer job.
    remember("d-1", "job-b", later).await;
    assert_eq!(
        read("d-1").await.as_deref(),
        Some("job-b"),
        "[{adapter}] replaced"
    );
    remember("d-2", "job-c", chrono::Utc::now().timestamp() - 1).await;
    assert_eq!(read("d-2").await, None, "[{adapter}] expired");
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

async fn a_lease_is_renewed_in_place_by_its_holder_only(adapter: &str, table: &dyn JobTable) {
    let mut claim = job("lease-1", "ana/en_ulb", 1);
    claim.status = JobStatus::Started;
    let claim = table
        .insert(&claim)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] insert: {e}"));
    let until = claim.created_at + chrono::Duration::seconds(20);
    table
        .renew_lease("lease-1", claim.version, until)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] renew: {e}"));
    let read = table.get("lease-1").await.ok().flatten();
    let read = read.unwrap_or_else(|| panic!("[{adapter}] renewed row vanished"));
    assert_eq!(read.lease_until, Some(until), "[{adapter}] lease extended");
    assert_eq!(read.version, claim.version, "[{adapter}] version untouched");
    assert_eq!(
        read.status,
        JobStatus::Started,
        "[{adapter}] nothing else changed"
    );
    // The holder's next write still holds, and after it the old claim's
    // renewal (a runner that lost the job) is refused, as is a ghost's.
    let mut done = read.clone();
    done.status = JobStatus::Finished;
    let moved = table
        .update(&done, read.version)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] update after renew: {e}"));
    for (id, version) in [("lease-1", claim.version), ("lease-ghost", 1)] {
        let lost = table.renew_lease(id, version, until).await;
        assert!(
            matches!(lost, Err(TableError::Conflict(_))),
            "[{adapter}] renew {id} v{version}: {lost:?}"
        );
    }
    let read = table.get("lease-1").await.ok().flatten();
    assert_eq!(
        read.map(|j| j.version),
        Some(moved.version),
        "[{adapter}] refused renewal wrote"
    );
    assert!(
        table.get("lease-ghost").await.ok().flatten().is_none(),
        "[{adapter}] a renewal created a row"
    );
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

/// The queue-slot cases ([`JobTable::queue_slot`], [`JobTable::enqueue`]),
/// run after [`suite`] on the same table (their jobs are of repository
/// `qs/en_ulb`, so they change none of its answers).
pub async fn queue_suite(adapter: &str, table: &dyn JobTable) {
    a_new_key_has_an_empty_slot(adapter, table).await;
    an_empty_slot_is_taken_once(adapter, table).await;
    a_waiting_holder_keeps_its_slot(adapter, table).await;
    the_waiting_holder_is_coalesced_in_one_write(adapter, table).await;
    a_holder_that_moved_on_gives_up_its_slot(adapter, table).await;
    the_holder_is_requeued_in_place(adapter, table).await;
    enqueue_refuses_what_it_never_writes(adapter, table).await;
    slots_are_never_jobs(adapter, table).await;
    cancelled_jobs_owed_a_callback_are_sweep_candidates(adapter, table).await;
}

const QS_REPO: &str = "qs/en_ulb";
const QS_KEY: &str = "qs/en_ulb/refs/heads/master";

async fn slot(adapter: &str, table: &dyn JobTable) -> QueueSlot {
    table
        .queue_slot(QS_KEY)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] queue_slot: {e}"))
}

async fn stored(adapter: &str, table: &dyn JobTable, id: &str) -> Option<Job> {
    table
        .get(id)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] get {id}: {e}"))
}

async fn a_new_key_has_an_empty_slot(adapter: &str, table: &dyn JobTable) {
    let empty = slot(adapter, table).await;
    assert_eq!(empty, QueueSlot::empty(QS_KEY), "[{adapter}] slot of a new key");
    assert!(empty.queued().is_none());
}

async fn an_empty_slot_is_taken_once(adapter: &str, table: &dyn JobTable) {
    let seen = slot(adapter, table).await;
    // Two requests read the empty slot; both try to queue a new job.
    let a = table
        .enqueue(&job("qs-a", QS_REPO, 0), None, &seen)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] enqueue qs-a: {e}"));
    assert_eq!(
        (a.version, a.status),
        (1, JobStatus::Requested),
        "[{adapter}] queued as inserted"
    );
    let b = table.enqueue(&job("qs-b", QS_REPO, 0), None, &seen).await;
    assert!(
        matches!(b, Err(TableError::Conflict(_))),
        "[{adapter}] second writer on the empty slot: {b:?}"
    );
    assert!(
        stored(adapter, table, "qs-b").await.is_none(),
        "[{adapter}] the loser's job was written"
    );
    let now = slot(adapter, table).await;
    assert_eq!(
        (now.version, now.holder_id.as_deref()),
        (1, Some("qs-a")),
        "[{adapter}] slot after the first enqueue"
    );
    assert_eq!(
        now.queued(),
        Some(&a),
        "[{adapter}] the holder is read with the slot"
    );
}

async fn a_waiting_holder_keeps_its_slot(adapter: &str, table: &dyn JobTable) {
    // A fresh read: the slot is as it stands, but its holder still waits.
    let fresh = slot(adapter, table).await;
    let c = table.enqueue(&job("qs-c", QS_REPO, 1), None, &fresh).await;
    assert!(
        matches!(c, Err(TableError::Conflict(_))),
        "[{adapter}] new job beside a requested holder: {c:?}"
    );
    assert!(stored(adapter, table, "qs-c").await.is_none());
    assert_eq!(slot(adapter, table).await, fresh, "[{adapter}] slot unchanged");
}

/// A newer push at commit `c`×40 that says less about its commit than the
/// fixtures do: what it leaves out is removed, but for the repository URL,
/// which is kept.
fn newer_commit(c: char) -> NewerCommit {
    let commit_id = c.to_string().repeat(40);
    NewerCommit {
        identifier: format!("{QS_REPO}/{}", &commit_id[..10]),
        commit: CommitInfo {
            commit_id,
            commit_message: Some("Newer".to_string()),
            ..CommitInfo::default()
        },
        delivery_id: Some(format!("delivery-{c}")),
        repo_url: None,
        resource_type: "unknown".to_string(),
        input_format: "unknown".to_string(),
        output_format: "html".to_string(),
        source: format!("https://git.example/{QS_REPO}/archive/{c}.zip"),
        callback: None,
        default_branch: None,
        assets: Vec::new(),
        note: format!("now builds {c}"),
    }
}

async fn the_waiting_holder_is_coalesced_in_one_write(adapter: &str, table: &dyn JobTable) {
    let before = slot(adapter, table).await;
    let waiting = before
        .queued()
        .cloned()
        .unwrap_or_else(|| panic!("[{adapter}] nothing queued"));
    let change = newer_commit('f');
    let done = table
        .coalesce("qs-a", &change)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] coalesce: {e}"));
    assert_eq!(done.superseded, waiting, "[{adapter}] the job as it was");
    let mut expected = waiting.clone();
    change.apply(&mut expected);
    expected.version = waiting.version + 1;
    assert_eq!(done.job, expected, "[{adapter}] the job as written");
    assert_eq!(
        stored(adapter, table, "qs-a").await.as_ref(),
        Some(&expected),
        "[{adapter}] the stored row is the one returned"
    );
    assert_eq!(expected.repo_url, waiting.repo_url, "[{adapter}] repo URL kept");
    assert_eq!(
        (
            expected.commit.committed_by.as_deref(),
            expected.callback.as_deref()
        ),
        (None, None),
        "[{adapter}] options the newer push lacks are removed"
    );

    // Already at that commit; no such job: nothing written.
    let again = table.coalesce("qs-a", &change).await;
    assert!(
        matches!(again, Err(TableError::Conflict(_))),
        "[{adapter}] coalesce to the commit it builds: {again:?}"
    );
    let ghost = table.coalesce("qs-ghost", &change).await;
    assert!(
        matches!(ghost, Err(TableError::Conflict(_))),
        "[{adapter}] coalesce of no job: {ghost:?}"
    );
    assert!(stored(adapter, table, "qs-ghost").await.is_none());
    assert_eq!(
        stored(adapter, table, "qs-a").await.map(|j| j.version),
        Some(expected.version),
        "[{adapter}] a refused coalesce wrote"
    );
    let now = slot(adapter, table).await;
    assert_eq!(
        (now.version, now.holder_id.as_deref()),
        (1, Some("qs-a")),
        "[{adapter}] coalescing leaves the slot"
    );
}

async fn a_holder_that_moved_on_gives_up_its_slot(adapter: &str, table: &dyn JobTable) {
    // The holder is claimed: the next job may take the slot.
    let a = stored(adapter, table, "qs-a")
        .await
        .unwrap_or_else(|| panic!("[{adapter}] qs-a vanished"));
    let mut claimed = a.clone();
    claimed.status = JobStatus::Started;
    let a = table
        .update(&claimed, a.version)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] claim qs-a: {e}"));
    let stale = slot(adapter, table).await;
    assert!(
        stale.queued().is_none(),
        "[{adapter}] a started holder is not queued"
    );
    let late = table.coalesce("qs-a", &newer_commit('d')).await;
    assert!(
        matches!(late, Err(TableError::Conflict(_))),
        "[{adapter}] coalesce into a started job: {late:?}"
    );
    let d = table
        .enqueue(&job("qs-d", QS_REPO, 2), None, &stale)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] enqueue qs-d: {e}"));
    let after_d = slot(adapter, table).await;
    assert_eq!(
        (after_d.version, after_d.holder_id.as_deref()),
        (2, Some("qs-d")),
        "[{adapter}] slot taken over"
    );
    // A writer that read the slot before the takeover loses, even with a new id.
    let e = table.enqueue(&job("qs-e", QS_REPO, 3), None, &stale).await;
    assert!(
        matches!(e, Err(TableError::Conflict(_))),
        "[{adapter}] enqueue on a slot read before its takeover: {e:?}"
    );
    assert!(stored(adapter, table, "qs-e").await.is_none());

    // The started job cannot go back to the queue while qs-d waits...
    let mut again = a.clone();
    again.status = JobStatus::Requested;
    let beside = table.enqueue(&again, Some(a.version), &after_d).await;
    assert!(
        matches!(beside, Err(TableError::Conflict(_))),
        "[{adapter}] requeue beside a waiting job: {beside:?}"
    );
    assert_eq!(
        stored(adapter, table, "qs-a").await.map(|j| j.status),
        Some(JobStatus::Started),
        "[{adapter}] a lost requeue wrote the job"
    );
    // ...but takes the slot back once qs-d is claimed too.
    let mut claimed_d = d.clone();
    claimed_d.status = JobStatus::Started;
    table
        .update(&claimed_d, d.version)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] claim qs-d: {e}"));
    let free = slot(adapter, table).await;
    let back = table
        .enqueue(&again, Some(a.version), &free)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] requeue qs-a: {e}"));
    assert_eq!(
        (back.status, back.version),
        (JobStatus::Requested, a.version + 1),
        "[{adapter}] requeued"
    );
    let now = slot(adapter, table).await;
    assert_eq!(
        (now.version, now.holder_id.as_deref()),
        (3, Some("qs-a")),
        "[{adapter}] slot back with qs-a"
    );
}

async fn the_holder_is_requeued_in_place(adapter: &str, table: &dyn JobTable) {
    // qs-a holds the slot again; claimed, then returned to the queue.
    let a = stored(adapter, table, "qs-a")
        .await
        .unwrap_or_else(|| panic!("[{adapter}] qs-a vanished"));
    let mut claimed = a.clone();
    claimed.status = JobStatus::Started;
    let claimed = table
        .update(&claimed, a.version)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] claim: {e}"));
    let seen = slot(adapter, table).await;
    let mut again = claimed.clone();
    again.status = JobStatus::Requested;
    let back = table
        .enqueue(&again, Some(claimed.version), &seen)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] requeue in place: {e}"));
    assert_eq!(back.version, claimed.version + 1, "[{adapter}] version bumped");
    let stale = table.enqueue(&again, Some(claimed.version), &seen).await;
    assert!(
        matches!(stale, Err(TableError::Conflict(_))),
        "[{adapter}] requeue at a stale version: {stale:?}"
    );
    assert_eq!(
        slot(adapter, table).await.version,
        seen.version,
        "[{adapter}] slot unchanged"
    );
}

async fn enqueue_refuses_what_it_never_writes(adapter: &str, table: &dyn JobTable) {
    let seen = slot(adapter, table).await;
    let mut started = job("qs-x", QS_REPO, 4);
    started.status = JobStatus::Started;
    let mut elsewhere = job("qs-y", QS_REPO, 4);
    elsewhere.coalesce_key = format!("{QS_REPO}/refs/heads/other");
    let holder_as_new = job("qs-a", QS_REPO, 4);
    for (what, j) in [
        ("a started job", started),
        ("a job of another key", elsewhere),
        ("the holder as a new job", holder_as_new),
    ] {
        let refused = table.enqueue(&j, None, &seen).await;
        assert!(
            matches!(refused, Err(TableError::Invalid(_))),
            "[{adapter}] enqueue of {what}: {refused:?}"
        );
    }
    assert!(stored(adapter, table, "qs-x").await.is_none());
    assert!(stored(adapter, table, "qs-y").await.is_none());
    assert_eq!(slot(adapter, table).await, seen, "[{adapter}] slot unchanged");
}

async fn slots_are_never_jobs(adapter: &str, table: &dyn JobTable) {
    let ids = |jobs: Vec<Job>| {
        let mut ids: Vec<String> = jobs.into_iter().map(|j| j.job_id).collect();
        ids.sort();
        ids
    };
    let listed = table
        .by_repo(QS_REPO, 100)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] by_repo: {e}"));
    assert_eq!(
        ids(listed),
        ["qs-a", "qs-d"],
        "[{adapter}] by_repo lists jobs only"
    );
    let swept: Vec<Job> = candidates(adapter, table)
        .await
        .into_iter()
        .filter(|j| j.repo == QS_REPO)
        .collect();
    assert_eq!(
        ids(swept),
        ["qs-a", "qs-d"],
        "[{adapter}] the sweep scans jobs only"
    );
    assert!(
        stored(adapter, table, QS_KEY).await.is_none(),
        "[{adapter}] a slot read as a job"
    );
}

async fn cancelled_jobs_owed_a_callback_are_sweep_candidates(adapter: &str, table: &dyn JobTable) {
    for (id, pending) in [("cc-1", true), ("cc-2", false)] {
        let j = table
            .insert(&job(id, "cc/en_ulb", 50))
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] insert {id}: {e}"));
        let mut cancelled = j.clone();
        cancelled.status = JobStatus::Cancelled;
        cancelled.callback_pending = pending;
        table
            .update(&cancelled, j.version)
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] update {id}: {e}"));
    }
    assert_eq!(
        ids_in(&candidates(adapter, table).await, JobStatus::Cancelled),
        ["cc-1"],
        "[{adapter}] a cancelled job is a candidate only while its callback is owed"
    );
}

async fn by_repo_pages_walk_every_job_once(adapter: &str, table: &dyn JobTable) {
    for (id, minutes) in [
        ("pg-3", 3),
        ("pg-1", 1),
        ("pg-7", 7),
        ("pg-5", 5),
        ("pg-2", 2),
        ("pg-6", 6),
        ("pg-4", 4),
    ] {
        table
            .insert(&job(id, "pat/walk", minutes))
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] insert {id}: {e}"));
    }
    table
        .insert(&job("pg-x", "pat/other", 9))
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] insert: {e}"));
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut cursor: Option<JobCursor> = None;
    loop {
        let page = table
            .by_repo_page("pat/walk", 3, cursor.as_ref())
            .await
            .unwrap_or_else(|e| panic!("[{adapter}] by_repo_page: {e}"));
        pages.push(page.jobs.len());
        seen.extend(page.jobs.into_iter().map(|j| j.job_id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages.len() < 10, "[{adapter}] the walk ends");
    }
    assert_eq!(pages, [3, 3, 1], "[{adapter}] page sizes");
    assert_eq!(
        seen,
        ["pg-7", "pg-6", "pg-5", "pg-4", "pg-3", "pg-2", "pg-1"],
        "[{adapter}] every job once, newest first"
    );
    let whole = table
        .by_repo_page("pat/walk", 7, None)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] by_repo_page: {e}"));
    assert_eq!(
        (whole.jobs.len(), whole.next),
        (7, None),
        "[{adapter}] an exact last page has no cursor"
    );
    let none = table
        .by_repo_page("pat/none", 5, None)
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] by_repo_page: {e}"));
    assert_eq!(none, JobPage::default(), "[{adapter}] an unknown repo");
}

async fn repos_lists_every_repo_with_a_job(adapter: &str, table: &dyn JobTable) {
    let repos = table
        .repos()
        .await
        .unwrap_or_else(|e| panic!("[{adapter}] repos: {e}"));
    assert!(repos.contains(&"pat/walk".to_string()), "[{adapter}] {repos:?}");
    assert!(repos.contains(&"pat/other".to_string()), "[{adapter}] {repos:?}");
    let mut sorted = repos.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(repos, sorted, "[{adapter}] sorted, each once");
}
