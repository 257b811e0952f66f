//! A moto server for one test: started from the project's `.venv` (made by
//! `scripts/moto-venv`) on a free loopback port, waited for with a bounded
//! loop, killed when dropped.
//!
//! Without `.venv/bin/moto_server` a test skips with a message, except under
//! `CI=true`, where a missing moto is a failure (CI must install it).

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tx_shared::aws::AwsClients;

/// Region the tests use (no LocationConstraint needed for buckets).
pub const REGION: &str = "us-east-1";

/// How long a server may take to listen before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    log: PathBuf,
}

/// The project's moto_server, if `scripts/moto-venv` has run. The project
/// root is the nearest ancestor of the test crate holding `Cargo.lock`, so
/// any crate of the workspace can include this harness.
pub fn moto_binary() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.ancestors().find(|d| d.join("Cargo.lock").is_file())?;
    let path = root.join(".venv/bin/moto_server");
    path.is_file().then_some(path)
}

/// A moto server that handles one request at a time. Its threaded server
/// runs requests side by side without isolation: `TransactWriteItems`
/// snapshots whole tables, checks, writes, and on a failed condition puts the
/// snapshots back over whatever other requests wrote meanwhile, and a
/// conditional put checks and writes in two steps. DynamoDB makes every
/// request atomic and isolated; one request at a time is how moto does too.
/// Clients still race between their requests (a read, then a write), which
/// is what concurrency tests are about.
const SERIALIZED_SERVER: &str = r#"
import sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
app = DomainDispatcherApplication(create_backend_app)
one_at_a_time = threading.Lock()
def serialized(environ, start_response):
    with one_at_a_time:
        return list(app(environ, start_response))
run_simple(sys.argv[1], int(sys.argv[2]), serialized, threaded=True, request_handler=MotoRequestHandler)
"#;

impl Moto {
    /// Starts a server, or returns `None` (after saying why) when moto is not
    /// installed and this is not CI.
    pub fn start(test: &str) -> Option<Moto> {
        Moto::start_with(test, false)
    }

    /// Starts a server that serves one request at a time
    /// ([`SERIALIZED_SERVER`]), for tests of concurrent writers, or returns
    /// `None` as [`Moto::start`] does.
    pub fn start_serialized(test: &str) -> Option<Moto> {
        Moto::start_with(test, true)
    }

    fn start_with(test: &str, serialized: bool) -> Option<Moto> {
        let Some(bin) = moto_binary() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: .venv/bin/moto_server is missing and CI=true: run scripts/moto-venv first");
            }
            eprintln!("SKIPPED {test}: .venv/bin/moto_server missing (run scripts/moto-venv)");
            return None;
        };
        // The port is free when probed; a server that lost it to another
        // process exits at once and is retried on a new port.
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
                Ok(addr) => addr.port(),
                Err(e) => panic!("{test}: no free port: {e}"),
            };
            let log = std::env::temp_dir().join(format!("tx-moto-{port}.log"));
            let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{test}: moto log: {e}"));
            let err_file = log_file
                .try_clone()
                .unwrap_or_else(|e| panic!("{test}: moto log: {e}"));
            let mut command = if serialized {
                // The venv's python, beside moto_server.
                let mut c = Command::new(bin.with_file_name("python"));
                c.args(["-c", SERIALIZED_SERVER, "127.0.0.1", &port.to_string()]);
                c
            } else {
                let mut c = Command::new(&bin);
                c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                c
            };
            let child = command
                .env("MOTO_PORT", port.to_string())
                .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
                .stdin(Stdio::null())
                .stdout(log_file)
                .stderr(err_file)
                .spawn()
                .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", bin.display()));
            let mut moto = Moto {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
                log,
            };
            match moto.wait_listening(port) {
                Ok(()) => return Some(moto),
                Err(e) => last_error = e,
            }
        }
        panic!("{test}: moto did not start: {last_error}");
    }

    /// Waits (bounded) until the server accepts connections.
    fn wait_listening(&mut self, port: u16) -> Result<(), String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("moto exited with {status}: {}", self.log_tail()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "not listening after {START_TIMEOUT:?}: {}",
            self.log_tail()
        ))
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(2000);
        text.get(start..).unwrap_or_default().to_string()
    }

    /// Clients pointed at this server with dummy credentials.
    pub async fn clients(&self) -> AwsClients {
        AwsClients::for_endpoint(&self.endpoint, REGION).await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
