//! `tx bench e2e [--json] [PATH…]`: webhook → published page on the
//! embedded runtime, against a loopback forge, with where the time went.
//!
//! Each input (a repository archive as a forge serves it, or a folder, which
//! is zipped as one) is published on the forge and pushed with a signed
//! webhook; the bench follows the build log in the CDN bucket (the callback
//! is done when it is final there) and on the website (the deployer is done
//! when it is final there). The job row gives the queue and converter
//! figures, the converter's own stages the rest. In the same run, `tx bench
//! convert`'s time for the same input (best of three) is the yardstick.
//! Then the webhook path alone: pushes to a runtime that stores jobs but
//! runs none, one at a time and then all at once.
//!
//! Without PATHs it runs the set the README quotes, from the corpus
//! (`TX_CORPUS`, else `../shared/corpus`): a one-book repository, the BSB as
//! a repository, `en_ult.zip` and `en_tn.v84.zip`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tx_converter::tree::SourceTree;
use tx_converter::{Limits, bench_convert, process_cpu_seconds, rss_kb};
use tx_shared::domain::build_log::{BUILD_LOG, BuildLog};
use tx_shared::domain::convert::ConvertStages;
use tx_shared::domain::job::{Job, commit10, site_prefix};
use tx_shared::ports::ObjectStore;

use crate::demo::DEMO_OWNER;
use crate::demo::forge::DemoForge;
use crate::runtime::Runtime;

/// Longest wait for one input's page.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(300);

/// How often the build logs are looked at while a build runs.
const FOLLOW_EVERY: Duration = Duration::from_millis(5);

/// Sequential webhook deliveries measured (after a few unmeasured ones).
const SEQUENTIAL: usize = 100;

/// The inputs of the README's figures, relative to the corpus.
const DEFAULT_INPUTS: [&str; 4] = [
    "repos/51-PHP.zip",
    "bibles/bsb",
    "repos/en_ult.zip",
    "repos/en_tn.v84.zip",
];

/// What `tx bench e2e` is asked.
#[derive(Debug, Clone)]
pub struct E2eOptions {
    /// Inputs; empty for the default set.
    pub paths: Vec<PathBuf>,
    /// One JSON object per line instead of text.
    pub json: bool,
    /// Deliveries sent at once in the concurrent webhook measurement.
    pub concurrency: usize,
    /// Builds of the last input, one after another, after which the
    /// process's resident memory is compared with that after five (0: none).
    pub memory_builds: usize,
}

/// One input, ready to push.
struct Input {
    /// As given (printed).
    label: String,
    /// Where `tx bench convert` reads it.
    path: PathBuf,
    /// Repository name on the forge.
    repo: String,
    /// The archive the forge serves (shared by every commit pushed).
    archive: bytes::Bytes,
}

/// Where one build's time went.
struct Followed {
    e2e_s: f64,
    answer_s: f64,
    queue_s: f64,
    stages: ConvertStages,
    callback_s: f64,
    deploy_s: f64,
}

/// Runs the benchmark; one line (or JSON object) per input and per
/// webhook concurrency on stdout.
pub async fn e2e(options: E2eOptions) -> anyhow::Result<()> {
    let inputs = inputs(&options.paths)?;
    let forge = DemoForge::start(DEMO_OWNER).await?;
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let builds = tempfile::tempdir()?;
    let runtime = Runtime::start(forge.runtime_options(builds.path(), &secret)).await?;
    let pushing = Pusher {
        forge: &forge,
        http: &http,
        hook: format!("{}/client/webhook", runtime.url()),
        secret: &secret,
    };
    let mut outcome = Ok(());
    for input in &inputs {
        let convert_s = convert_seconds(&input.path).await?;
        match follow(&runtime, &pushing, input).await {
            Ok(f) => print_input(options.json, input, convert_s, &f),
            Err(e) => {
                println!("{}: error: {e:#}", input.label);
                outcome = Err(e);
            }
        }
    }
    if options.memory_builds > 0
        && let Some(input) = inputs.last()
    {
        match memory(&runtime, &pushing, input, options.memory_builds).await {
            Ok(m) => print_memory(options.json, input, &m),
            Err(e) => {
                println!("memory: error: {e:#}");
                outcome = Err(e);
            }
        }
    }
    runtime.stop().await;

    // The webhook path alone: jobs are stored, nothing runs.
    let hooks = tempfile::tempdir()?;
    let mut quiet = forge.runtime_options(hooks.path(), &secret);
    quiet.deliver_events = false;
    let runtime = Runtime::start(quiet).await?;
    let pushing = Pusher {
        hook: format!("{}/client/webhook", runtime.url()),
        ..pushing
    };
    let cpu_before = process_cpu_seconds();
    let sequential = sequential_latencies(&pushing).await?;
    let cpu_between = process_cpu_seconds();
    print_webhook(options.json, 1, &sequential, cpu_spent(cpu_before, cpu_between));
    let concurrent = concurrent_latencies(&pushing, options.concurrency.max(1)).await?;
    let cpu = cpu_spent(cpu_between, process_cpu_seconds());
    print_webhook(options.json, options.concurrency.max(1), &concurrent, cpu);
    runtime.stop().await;
    forge.stop().await;
    outcome
}

/// Sends signed pushes to one hook.
struct Pusher<'a> {
    forge: &'a DemoForge,
    http: &'a reqwest::Client,
    hook: String,
    secret: &'a str,
}

impl Pusher<'_> {
    /// Pushes `commit` of `repo`; answers how long the webhook took.
    async fn push(&self, repo: &str, commit: &str) -> anyhow::Result<Duration> {
        let sent = Instant::now();
        let (status, body) = self
            .forge
            .send_push(self.http, &self.hook, self.secret, repo, commit, "tx bench e2e")
            .await?;
        let took = sent.elapsed();
        ensure!(
            (200..300).contains(&status),
            "the webhook was answered {status}: {body}"
        );
        Ok(took)
    }
}

/// The inputs named, or the default set from the corpus.
fn inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        let corpus = std::env::var_os("TX_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("../shared/corpus"));
        if !corpus.is_dir() {
            bail!(
                "no inputs given and no corpus at {} (set TX_CORPUS or name the inputs)",
                corpus.display()
            );
        }
        DEFAULT_INPUTS.iter().map(|p| corpus.join(p)).collect()
    } else {
        paths.to_vec()
    };
    paths.iter().map(|p| input(p)).collect()
}

fn input(path: &Path) -> anyhow::Result<Input> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{} names no file", path.display()))?;
    let stem = name.strip_suffix(".zip").unwrap_or(&name);
    let repo: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let archive = if path.is_dir() {
        zip_folder(path, &repo)?
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
    }
    .into();
    Ok(Input {
        label: path.display().to_string(),
        path: path.to_path_buf(),
        repo,
        archive,
    })
}

/// A folder as a forge's archive of it, listed by the converter's own
/// folder reader (junk left out).
fn zip_folder(dir: &Path, repo: &str) -> anyhow::Result<Vec<u8>> {
    let tree = SourceTree::from_folder(dir, Limits::default().max_file_bytes)?;
    let files = tree
        .files
        .iter()
        .map(|f| Ok((f.clone(), tree.read_bytes(f)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    crate::demo::examples::archive(repo, files)
}

/// Resident memory after the fifth and the last of a run of builds.
struct Memory {
    builds: usize,
    after_5_kb: u64,
    after_all_kb: u64,
}

/// Builds `input` `builds` times in a row (each a new commit) and reads the
/// process's resident memory after the fifth and after the last.
async fn memory(
    runtime: &Runtime,
    pushing: &Pusher<'_>,
    input: &Input,
    builds: usize,
) -> anyhow::Result<Memory> {
    let mut after_5_kb = 0;
    for n in 1..=builds {
        follow(runtime, pushing, input).await?;
        if n == 5.min(builds) {
            after_5_kb = rss_kb().context("no VmRSS in /proc/self/status")?;
        }
    }
    Ok(Memory {
        builds,
        after_5_kb,
        after_all_kb: rss_kb().context("no VmRSS in /proc/self/status")?,
    })
}

fn print_memory(as_json: bool, input: &Input, m: &Memory) {
    let (five, all) = (m.after_5_kb as f64 / 1024.0, m.after_all_kb as f64 / 1024.0);
    if as_json {
        let line = json!({"memory": {"input": input.label, "builds": m.builds, "rss_after_5_mb": five, "rss_after_all_mb": all}});
        println!("{line}");
    } else {
        println!(
            "memory: {} builds of {}: rss_after_5_MB={five:.1} rss_after_{}_MB={all:.1} growth={:+.0}%",
            m.builds,
            input.label,
            m.builds,
            (all / five.max(1e-9) - 1.0) * 100.0
        );
    }
}

/// `tx bench convert`'s figure for `path`: the best of three conversions.
async fn convert_seconds(path: &Path) -> anyhow::Result<f64> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let limits = Limits::default();
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            best = best.min(bench_convert(&path, &limits)?.convert_seconds);
        }
        Ok(best)
    })
    .await?
}

/// Pushes `input` as a new commit and follows it to its published page.
async fn follow(runtime: &Runtime, pushing: &Pusher<'_>, input: &Input) -> anyhow::Result<Followed> {
    let commit = new_commit();
    pushing.forge.publish(&input.repo, &commit, input.archive.clone());
    let pushed_at = Utc::now();
    let sent = Instant::now();
    let answer = pushing.push(&input.repo, &commit).await?;
    let prefix = site_prefix(DEMO_OWNER, &input.repo, commit10(&commit));
    let (cdn, website) = (&runtime.functions.cdn, &runtime.functions.website);
    let mut called_back = None;
    let published = loop {
        if called_back.is_none() && is_final(cdn.as_ref(), &prefix).await? {
            called_back = Some(sent.elapsed());
        }
        if is_final(website.as_ref(), &prefix).await? {
            break sent.elapsed();
        }
        ensure!(
            sent.elapsed() < PUBLISH_TIMEOUT,
            "{prefix} not published within {PUBLISH_TIMEOUT:?}"
        );
        tokio::time::sleep(FOLLOW_EVERY).await;
    };
    let called_back = called_back.unwrap_or(published);
    let job = job_of(runtime, &input.repo).await?;
    let since_push = |t: Option<DateTime<Utc>>| -> f64 {
        t.map(|t| (t - pushed_at).num_microseconds().unwrap_or(0) as f64 / 1e6)
            .unwrap_or(0.0)
    };
    let started = since_push(job.started_at);
    let ended = since_push(job.ended_at);
    Ok(Followed {
        e2e_s: published.as_secs_f64(),
        answer_s: answer.as_secs_f64(),
        queue_s: (started - answer.as_secs_f64()).max(0.0),
        stages: job.stages.unwrap_or_default(),
        callback_s: (called_back.as_secs_f64() - ended).max(0.0),
        deploy_s: (published - called_back).as_secs_f64(),
    })
}

async fn is_final(store: &dyn ObjectStore, prefix: &str) -> anyhow::Result<bool> {
    let Some(bytes) = store.get(&format!("{prefix}{BUILD_LOG}")).await? else {
        return Ok(false);
    };
    let log: BuildLog = serde_json::from_slice(&bytes).context("reading a build log")?;
    Ok(log.status.is_final())
}

async fn job_of(runtime: &Runtime, repo: &str) -> anyhow::Result<Job> {
    let jobs = &runtime.functions.manager.jobs;
    jobs.by_repo(&format!("{DEMO_OWNER}/{repo}"), 1)
        .await?
        .into_iter()
        .next()
        .with_context(|| format!("no job for {repo}"))
}

/// A fresh 40-hex commit id.
fn new_commit() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{a}{}", &b[..8])
}

/// Answer times of [`SEQUENTIAL`] pushes sent one after another, each to
/// its own repository (a few unmeasured ones first open the connection).
async fn sequential_latencies(pushing: &Pusher<'_>) -> anyhow::Result<Vec<Duration>> {
    for i in 0..5 {
        pushing.push(&format!("warm-{i:03}"), &new_commit()).await?;
    }
    let mut took = Vec::with_capacity(SEQUENTIAL);
    for i in 0..SEQUENTIAL {
        took.push(pushing.push(&format!("seq-{i:03}"), &new_commit()).await?);
    }
    Ok(took)
}

/// Answer times of `n` pushes sent at once, each to its own repository and
/// on its own connection, as forges deliver. The bodies are built and signed
/// before the clock starts, and each is sent from its own task, so what is
/// measured is the server, not one client task preparing 200 requests.
async fn concurrent_latencies(pushing: &Pusher<'_>, n: usize) -> anyhow::Result<Vec<Duration>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()?;
    let requests: Vec<reqwest::Request> = (0..n)
        .map(|i| {
            let payload = pushing
                .forge
                .push_payload(&format!("burst-{i:03}"), &new_commit(), "tx bench e2e");
            let body = serde_json::to_vec(&payload)?;
            let signature = tx_shared::signature::sign_hex(pushing.secret.as_bytes(), &body);
            Ok(http
                .post(&pushing.hook)
                .header("content-type", "application/json")
                .header("X-Gitea-Event", "push")
                .header("X-Gitea-Delivery", uuid::Uuid::new_v4().to_string())
                .header("X-Gitea-Signature", signature)
                .body(body)
                .build()?)
        })
        .collect::<anyhow::Result<_>>()?;
    let mut sends = tokio::task::JoinSet::new();
    for request in requests {
        let http = http.clone();
        sends.spawn(async move {
            let sent = Instant::now();
            let status = http.execute(request).await.map(|r| r.status().as_u16());
            (status, sent.elapsed())
        });
    }
    let mut took = Vec::with_capacity(n);
    while let Some(done) = sends.join_next().await {
        let (status, elapsed) = done?;
        let status = status?;
        ensure!(
            (200..300).contains(&status),
            "a webhook of the burst was answered {status}"
        );
        took.push(elapsed);
    }
    Ok(took)
}

/// The `p`-th percentile (0–100) of `samples`, in milliseconds.
fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    let mut sorted: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn stages_json(f: &Followed) -> Value {
    json!({
        "answer": f.answer_s,
        "queue": f.queue_s,
        "fetch": f.stages.fetch_s,
        "unpack": f.stages.unpack_s,
        "convert": f.stages.convert_s,
        "bundle": f.stages.bundle_s,
        "callback": f.callback_s,
        "deploy": f.deploy_s,
    })
}

fn print_input(as_json: bool, input: &Input, convert_s: f64, f: &Followed) {
    if as_json {
        let line = json!({
            "input": input.label,
            "e2e_s": f.e2e_s,
            "convert_s": convert_s,
            "converter_cpu_s": f.stages.cpu_s,
            "stages": stages_json(f),
        });
        println!("{line}");
        return;
    }
    let stages = stages_json(f);
    let breakdown: Vec<String> = [
        "answer", "queue", "fetch", "unpack", "convert", "bundle", "callback", "deploy",
    ]
    .iter()
    .map(|k| format!("{k}={:.3}", stages[k].as_f64().unwrap_or(0.0)))
    .collect();
    println!(
        "{}: e2e_s={:.3} convert_s={:.4} ratio={:.2} | {} | converter_cpu_s={}",
        input.label,
        f.e2e_s,
        convert_s,
        f.e2e_s / convert_s.max(1e-9),
        breakdown.join(" "),
        f.stages
            .cpu_s
            .map(|c| format!("{c:.2}"))
            .unwrap_or_else(|| "?".into()),
    );
}

/// CPU seconds between two readings, when both were had.
fn cpu_spent(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    after.zip(before).map(|(a, b)| a - b)
}

/// One webhook line; `cpu_s` is the whole process's CPU over the
/// measurement (server and the bench's own client), per delivery.
fn print_webhook(as_json: bool, concurrency: usize, samples: &[Duration], cpu_s: Option<f64>) {
    let (p50, p99) = (percentile_ms(samples, 50.0), percentile_ms(samples, 99.0));
    let cpu_ms = cpu_s.map(|c| c * 1e3 / samples.len().max(1) as f64);
    if as_json {
        let line = json!({"webhook": {"concurrency": concurrency, "p50_ms": p50, "p99_ms": p99, "cpu_ms_per_delivery": cpu_ms}});
        println!("{line}");
    } else {
        println!(
            "webhook: concurrency={concurrency} deliveries={} p50_ms={p50:.1} p99_ms={p99:.1} cpu_ms_per_delivery={}",
            samples.len(),
            cpu_ms.map(|c| format!("{c:.2}")).unwrap_or_else(|| "?".into())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_ranks_of_the_sorted_samples() {
        let samples: Vec<Duration> = (1..=200).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&samples, 50.0), 100.0);
        assert_eq!(percentile_ms(&samples, 99.0), 198.0);
        assert_eq!(percentile_ms(&samples[..1], 99.0), 200.0);
    }
}
