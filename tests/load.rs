//! Cheap refusals under load, on a real `tx serve` child process (its memory
//! is measured from /proc): bounded loopback runs, every connection and the
//! child stopped at the end.
//!
//! - 150 concurrent unsigned 9.5 MiB webhook bodies, declared with
//!   `Content-Length` and then undeclared (chunked), keep the server's peak
//!   RSS under 100 MiB; none is accepted.
//! - 400 connections that never finish their headers are closed by the
//!   header read timeout, while ordinary requests keep answering.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MIB: usize = 1024 * 1024;
const BODY: usize = 9 * MIB + MIB / 2;
const CONCURRENT: usize = 150;
const SLOW: usize = 400;

/// The child `tx serve`, killed when dropped.
struct Serve {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    async fn start() -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("127.0.0.1:{port}");
        let forges = serde_json::json!([
            {"id": "f", "kind": "gitea", "url": "http://127.0.0.1:9", "secret": "load-test-secret"}
        ]);
        let child = Command::new(env!("CARGO_BIN_EXE_tx"))
            .args(["serve", "--addr", &addr, "--data"])
            .arg(dir.path())
            .env("TX_FORGES", forges.to_string())
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let serve = Serve {
            child,
            addr,
            _dir: dir,
        };
        for _ in 0..300 {
            if serve.get_status("/api/projects").await == Some(200) {
                return serve;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tx serve did not answer within 30 s");
    }

    /// `kB` from a /proc/<pid>/status line (`VmRSS`, `VmHWM`).
    fn status_kib(&self, field: &str) -> u64 {
        let mut text = String::new();
        std::fs::File::open(format!("/proc/{}/status", self.child.id()))
            .and_then(|mut f| f.read_to_string(&mut text))
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|rest| rest.trim_start_matches(':').trim().split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Status of a plain GET, within 5 s.
    async fn get_status(&self, path: &str) -> Option<u16> {
        let request = format!("GET {path} HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n");
        tokio::time::timeout(Duration::from_secs(5), async {
            let mut s = TcpStream::connect(&self.addr).await.ok()?;
            s.write_all(request.as_bytes()).await.ok()?;
            read_status(&mut s).await
        })
        .await
        .ok()
        .flatten()
    }
}

/// Reads an HTTP response's status code.
async fn read_status(s: &mut TcpStream) -> Option<u16> {
    let mut buf = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        let n = s.read(&mut buf[got..]).await.ok()?;
        if n == 0 {
            return None;
        }
        got += n;
    }
    std::str::from_utf8(&buf[9..12]).ok()?.parse().ok()
}

/// Posts an unsigned 9.5 MiB "Gitea push" and returns the status, if any
/// (the server may close the connection before the body is sent).
async fn flood_one(addr: String, chunked: bool) -> Option<u16> {
    let mut s = TcpStream::connect(&addr).await.ok()?;
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {BODY}")
    };
    let head = format!(
        "POST /client/webhook HTTP/1.1\r\nHost: load\r\nX-Gitea-Event: push\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.ok()?;
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    let (mut reader, mut writer) = s.into_split();
    let writing = async {
        while sent < BODY {
            let n = chunk.len().min(BODY - sent);
            let ok = if chunked {
                writer.write_all(format!("{n:x}\r\n").as_bytes()).await.is_ok()
                    && writer.write_all(&chunk[..n]).await.is_ok()
                    && writer.write_all(b"\r\n").await.is_ok()
            } else {
                writer.write_all(&chunk[..n]).await.is_ok()
            };
            if !ok {
                return;
            }
            sent += n;
        }
        if chunked {
            let _ = writer.write_all(b"0\r\n\r\n").await;
        }
    };
    let reading = async {
        let mut buf = [0u8; 64];
        let mut got = 0;
        while got < 12 {
            match reader.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => got += n,
            }
        }
        std::str::from_utf8(&buf[9..12]).ok()?.parse::<u16>().ok()
    };
    let (_, status) = tokio::time::timeout(Duration::from_secs(60), async { tokio::join!(writing, reading) })
        .await
        .ok()?;
    status
}

/// Ordinary requests made every 200 ms while `busy` runs: (answered, slowest).
async fn while_probing<F: std::future::Future>(
    serve: &Serve,
    busy: F,
) -> (F::Output, usize, usize, Duration) {
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = async {
        let (mut ok, mut total, mut slowest) = (0, 0, Duration::ZERO);
        while !done.load(Ordering::SeqCst) {
            let started = Instant::now();
            total += 1;
            if serve.get_status("/api/projects").await == Some(200) {
                ok += 1;
            }
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        (ok, total, slowest)
    };
    let work = async {
        let out = busy.await;
        done.store(true, Ordering::SeqCst);
        out
    };
    let (out, (ok, total, slowest)) = tokio::join!(work, probe);
    (out, ok, total, slowest)
}

async fn flood(serve: &Serve, chunked: bool) -> Vec<Option<u16>> {
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|_| tokio::spawn(flood_one(serve.addr.clone(), chunked)))
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_large_unsigned_bodies_and_slow_headers_cost_little() {
    let serve = Serve::start().await;
    let baseline = serve.status_kib("VmRSS");

    for chunked in [false, true] {
        let (statuses, ok, total, slowest) = while_probing(&serve, flood(&serve, chunked)).await;
        let accepted = statuses
            .iter()
            .filter(|s| s.is_some_and(|c| (200..300).contains(&c)))
            .count();
        let mut counts = std::collections::BTreeMap::new();
        for s in &statuses {
            *counts.entry(*s).or_insert(0) += 1;
        }
        let peak = serve.status_kib("VmHWM");
        eprintln!(
            "{CONCURRENT} x {BODY} B {}: answers {counts:?}; tx serve RSS baseline {baseline} KiB, peak {peak} KiB; probes {ok}/{total}, slowest {slowest:?}",
            if chunked { "chunked" } else { "with Content-Length" }
        );
        assert_eq!(accepted, 0, "an unsigned body was accepted: {counts:?}");
        assert!(
            statuses.iter().flatten().all(|c| matches!(c, 413 | 503)),
            "{counts:?}"
        );
        assert!(peak < 100 * 1024, "tx serve peaked at {peak} KiB");
        assert_eq!(ok, total, "ordinary requests failed during the flood");
    }

    // Slow headers: connections that send a header line every second and
    // never finish, plus ones that send nothing at all.
    let closed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut held = Vec::new();
    for i in 0..SLOW {
        let addr = serve.addr.clone();
        let closed = closed.clone();
        held.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(&addr).await else {
                closed.fetch_add(1, Ordering::SeqCst);
                return;
            };
            let talk = i % 2 == 0;
            if talk {
                let _ = s
                    .write_all(b"POST /client/webhook HTTP/1.1\r\nHost: slow\r\n")
                    .await;
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut buf = [0u8; 256];
            while Instant::now() < deadline {
                tokio::select! {
                    r = s.read(&mut buf) => match r {
                        Ok(0) | Err(_) => { closed.fetch_add(1, Ordering::SeqCst); return; }
                        Ok(_) => {}
                    },
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {
                        if talk && s.write_all(b"X-Slow: 1\r\n").await.is_err() {
                            closed.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            }
        }));
    }
    let wait = async {
        while closed.load(Ordering::SeqCst) < SLOW && started.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        started.elapsed()
    };
    let (took, ok, total, slowest) = while_probing(&serve, wait).await;
    for h in held {
        let _ = h.await;
    }
    let all_closed = closed.load(Ordering::SeqCst);
    eprintln!(
        "{SLOW} slow-header connections: {all_closed} closed by the server after {took:?}; probes {ok}/{total}, slowest {slowest:?}"
    );
    assert_eq!(all_closed, SLOW, "slow connections still held after {took:?}");
    assert!(took < Duration::from_secs(25), "closing took {took:?}");
    assert_eq!(
        ok, total,
        "ordinary requests failed while slow connections were held"
    );
}
