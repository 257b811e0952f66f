//! The event router: what Lambda's event source mappings do on AWS.
//!
//! It reads the durable event log from each consumer's checkpoint, applies
//! the same filter the SAM template gives the mapping, and delivers records
//! as `aws_lambda_events` types. At least once: the checkpoint moves only
//! past records whose handler answered, so records in flight when the
//! process stops are delivered again after a restart.
//!
//! Records run concurrently, in order per repository (a lane): a build
//! whose download stalls holds its own repository's later records, never
//! another's, as DynamoDB Streams' per-item order and a mapping's
//! parallelization do on AWS. A record that keeps failing is retried a
//! bounded number of times, then parked as a dead letter (the local twin of
//! the mapping's on-failure destination) so it never blocks its lane. A
//! CDN notification whose object is notified again later in its lane is
//! skipped: the deployer reads the object, not the record, so the later
//! notification deploys what the earlier one would have (a burst of pushes
//! then deploys its placeholder build logs once, not once per write).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::{Id, JoinSet};
use tx_shared::filter::{JOB_STREAM_PATTERN, matches};
use tx_shared::local::{CDN_NOTIFICATIONS, EventLog, JOB_STREAM, LoggedEvent};

use super::functions::Functions;

/// Records handled at once, all lanes together.
const MAX_RUNNING: usize = 16;

/// Records read from the log and not yet handled (a bound on memory).
const READ_AHEAD: usize = 512;

/// Deliveries of one record before it is parked.
const MAX_ATTEMPTS: u32 = 3;

/// How often the log is polled when no bell rang.
const POLL: Duration = Duration::from_millis(500);

/// How long records in flight may finish once the router is told to stop;
/// after that they are dropped and delivered again after a restart.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The two mappings of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// `tx-job` stream → job manager.
    JobStream,
    /// CDN bucket notifications → deployer.
    CdnNotifications,
}

impl Mapping {
    fn consumer(self) -> &'static str {
        match self {
            Mapping::JobStream => "job-manager",
            Mapping::CdnNotifications => "deployer",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Mapping::JobStream => JOB_STREAM,
            Mapping::CdnNotifications => CDN_NOTIFICATIONS,
        }
    }

    /// The lane a record runs in: its job's repository, or the repository
    /// folder (`u/<owner>/<repo>`) of the notified object.
    fn lane(self, record: &Value) -> String {
        match self {
            Mapping::JobStream => {
                let change = &record["dynamodb"];
                change["NewImage"]["repo"]["S"]
                    .as_str()
                    .or_else(|| change["Keys"]["job_id"]["S"].as_str())
                    .unwrap_or_default()
                    .to_string()
            }
            Mapping::CdnNotifications => {
                let key = notified_key(record);
                key.splitn(4, '/').take(3).collect::<Vec<_>>().join("/")
            }
        }
    }
}

fn notified_key(record: &Value) -> &str {
    record["s3"]["object"]["key"].as_str().unwrap_or_default()
}

/// Runs one mapping until `stop` turns true.
pub async fn run(
    mapping: Mapping,
    log: EventLog,
    functions: Arc<Functions>,
    mut stop: watch::Receiver<bool>,
) {
    let mut lanes = match Lanes::resume(mapping, log.clone()) {
        Ok(lanes) => lanes,
        Err(e) => {
            tracing::error!(consumer = mapping.consumer(), "event router cannot start: {e}");
            return;
        }
    };
    let mut running = JoinSet::new();
    while !*stop.borrow() {
        if let Err(e) = lanes.read() {
            tracing::error!(consumer = mapping.consumer(), "event router: {e}");
        }
        lanes.start(&mut running, &functions);
        lanes.checkpoint();
        tokio::select! {
            Some(done) = running.join_next_with_id(), if !running.is_empty() => lanes.finished(done),
            _ = log.wait() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
    let grace = tokio::time::sleep(STOP_GRACE);
    tokio::pin!(grace);
    while !running.is_empty() {
        tokio::select! {
            Some(done) = running.join_next_with_id() => lanes.finished(done),
            _ = &mut grace => break,
        }
    }
    lanes.checkpoint();
}

/// A record task's end, by task id.
type Done = Result<(Id, ()), tokio::task::JoinError>;

/// The records read and not yet handled, queued per lane.
struct Lanes {
    mapping: Mapping,
    log: EventLog,
    pattern: Value,
    /// The last sequence read from the log.
    read_to: i64,
    /// The checkpoint last written.
    checkpointed: i64,
    /// Records waiting, per lane, in log order.
    queued: HashMap<String, VecDeque<LoggedEvent>>,
    /// Lanes with a record being handled.
    busy: HashSet<String>,
    /// The record each running task handles, and its lane.
    in_flight: HashMap<Id, (String, LoggedEvent)>,
    /// Sequences read and not yet handled (queued or running).
    outstanding: BTreeSet<i64>,
}

impl Lanes {
    fn resume(mapping: Mapping, log: EventLog) -> anyhow::Result<Lanes> {
        let checkpointed = log.checkpoint_of(mapping.consumer())?;
        Ok(Lanes {
            mapping,
            log,
            pattern: serde_json::from_str(JOB_STREAM_PATTERN).unwrap_or(Value::Null),
            read_to: checkpointed,
            checkpointed,
            queued: HashMap::new(),
            busy: HashSet::new(),
            in_flight: HashMap::new(),
            outstanding: BTreeSet::new(),
        })
    }

    /// Reads what the log holds beyond `read_to`, as far as the read-ahead
    /// allows, into the lanes; records the mapping's filter drops are done.
    fn read(&mut self) -> anyhow::Result<()> {
        loop {
            let room = READ_AHEAD.saturating_sub(self.outstanding.len());
            if room == 0 {
                return Ok(());
            }
            let events = self.log.after(self.mapping.source(), self.read_to, room)?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(());
            };
            for event in events {
                if self.mapping == Mapping::JobStream && !matches(&self.pattern, &event.record) {
                    continue;
                }
                self.outstanding.insert(event.seq);
                let lane = self.mapping.lane(&event.record);
                self.queued.entry(lane).or_default().push_back(event);
            }
            self.read_to = last;
        }
    }

    /// Starts the head record of every idle lane, oldest first, while fewer
    /// than [`MAX_RUNNING`] run.
    fn start(&mut self, running: &mut JoinSet<()>, functions: &Arc<Functions>) {
        let mut idle: Vec<(i64, String)> = self
            .queued
            .iter()
            .filter(|(lane, q)| !self.busy.contains(*lane) && !q.is_empty())
            .filter_map(|(lane, q)| q.front().map(|e| (e.seq, lane.clone())))
            .collect();
        idle.sort();
        for (_, lane) in idle {
            if running.len() >= MAX_RUNNING {
                return;
            }
            let Some(event) = self.next_of(&lane) else {
                continue;
            };
            self.busy.insert(lane.clone());
            let (mapping, log, functions) = (self.mapping, self.log.clone(), functions.clone());
            let record = event.clone();
            let task =
                running.spawn(async move { deliver_with_retries(mapping, &log, &functions, record).await });
            self.in_flight.insert(task.id(), (lane, event));
        }
    }

    /// The lane's next record to deliver. A CDN notification whose object
    /// is notified again later in the lane is done without a delivery.
    fn next_of(&mut self, lane: &str) -> Option<LoggedEvent> {
        let queue = self.queued.get_mut(lane)?;
        while let Some(event) = queue.pop_front() {
            let renotified = self.mapping == Mapping::CdnNotifications
                && queue
                    .iter()
                    .any(|later| notified_key(&later.record) == notified_key(&event.record));
            if !renotified {
                return Some(event);
            }
            tracing::debug!(key = notified_key(&event.record), "notified again later: skipped");
            self.outstanding.remove(&event.seq);
        }
        None
    }

    /// A record task ended: its lane is free, its record handled.
    /// A handler that panicked has its record parked, like one that kept
    /// failing.
    fn finished(&mut self, done: Done) {
        let id = match &done {
            Ok((id, ())) => *id,
            Err(e) => e.id(),
        };
        let Some((lane, event)) = self.in_flight.remove(&id) else {
            return;
        };
        if let Err(e) = done {
            let consumer = self.mapping.consumer();
            tracing::error!(consumer, seq = event.seq, "handler panicked, record parked: {e}");
            if let Err(e) = self
                .log
                .dead_letter(consumer, &event, &format!("handler panicked: {e}"))
            {
                tracing::error!(consumer, seq = event.seq, "cannot park the record: {e}");
            }
        }
        self.busy.remove(&lane);
        self.outstanding.remove(&event.seq);
        if self.queued.get(&lane).is_some_and(VecDeque::is_empty) {
            self.queued.remove(&lane);
        }
    }

    /// Moves the checkpoint to just before the oldest record not handled.
    fn checkpoint(&mut self) {
        let upto = self.outstanding.first().map_or(self.read_to, |first| first - 1);
        if upto <= self.checkpointed {
            return;
        }
        match self.log.checkpoint(self.mapping.consumer(), upto) {
            Ok(()) => self.checkpointed = upto,
            Err(e) => tracing::error!(consumer = self.mapping.consumer(), "checkpoint: {e}"),
        }
    }
}

/// Delivers one record until its handler takes it, at most [`MAX_ATTEMPTS`]
/// times; then parks it.
async fn deliver_with_retries(mapping: Mapping, log: &EventLog, functions: &Functions, event: LoggedEvent) {
    let consumer = mapping.consumer();
    for attempt in 1..=MAX_ATTEMPTS {
        if deliver(mapping, functions, &event).await {
            return;
        }
        if attempt < MAX_ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
    }
    tracing::error!(
        consumer,
        seq = event.seq,
        "record parked after {MAX_ATTEMPTS} deliveries"
    );
    if let Err(e) = log.dead_letter(consumer, &event, &format!("failed {MAX_ATTEMPTS} deliveries")) {
        tracing::error!(consumer, seq = event.seq, "cannot park the record: {e}");
    }
}

/// Hands one record to its function as a one-record batch; `true` when it
/// was handled (or can never be, and retrying would not help).
async fn deliver(mapping: Mapping, functions: &Functions, event: &LoggedEvent) -> bool {
    let batch = json!({ "Records": [&event.record] });
    match mapping {
        Mapping::JobStream => {
            let batch = match serde_json::from_value(batch) {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(seq = event.seq, "stream record is not a DynamoDB record: {e}");
                    return false;
                }
            };
            let response = tx_job_manager::handle_stream(batch, &functions.manager).await;
            response.batch_item_failures.is_empty()
        }
        Mapping::CdnNotifications => {
            let batch = match serde_json::from_value(batch) {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(seq = event.seq, "notification is not an S3 record: {e}");
                    return false;
                }
            };
            match tx_deployer::handle_s3(batch, &functions.deployer).await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(seq = event.seq, "deployer failed, will retry: {e}");
                    false
                }
            }
        }
    }
}
