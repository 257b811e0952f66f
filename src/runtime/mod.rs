//! The embedded runtime (`tx serve`): the whole stack in one process.
//!
//! An HTTP gateway, the delivery of the two event mappings, and the sweep
//! schedule, over one of two backends: SQLite tables and directory buckets in
//! one data directory (the default), or AWS services ([`aws`]: DynamoDB, S3,
//! SQS, optionally Lambda; real or emulated by moto). The handlers are the
//! same code the Lambdas run; only the adapters differ.

pub mod admission;
pub mod aws;
pub mod functions;
pub mod gateway;
pub mod router;
pub mod settings;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tx_shared::config::Config;
use tx_shared::local::LocalBackend;

pub use aws::AwsBackend;
pub use functions::Functions;
use router::Mapping;

/// Where the runtime keeps tables, buckets and events.
#[derive(Debug, Clone, Default)]
pub enum Backend {
    /// SQLite tables and directory buckets in the data directory: nothing to
    /// install or pay for.
    #[default]
    Local,
    /// DynamoDB, S3 and SQS (and Lambda if asked): the deployed stack's own
    /// services, or an emulator of them (boxed: the SDK clients are large).
    Aws(Box<AwsBackend>),
}

/// How to start the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Address to listen on (port 0 picks a free one).
    pub addr: SocketAddr,
    /// Where secrets live, and with the local backend tables and buckets.
    pub data_dir: PathBuf,
    /// Whether events are delivered (the local event router, or the AWS
    /// backend's stream and queue pollers) and the sweep runs. Off, requests are accepted and stored
    /// but nothing is converted or deployed until a runtime with it on
    /// starts on the same data directory (used to test restarts).
    pub deliver_events: bool,
    /// Period of the sweep.
    pub sweep_every: Duration,
    /// Settings that win over the environment (`TX_FORGES`, …).
    pub overrides: HashMap<String, String>,
    /// Where tables, buckets and events live.
    pub backend: Backend,
}

impl RuntimeOptions {
    /// Defaults for `data_dir` on `addr`, with the local backend.
    pub fn new(addr: SocketAddr, data_dir: impl Into<PathBuf>) -> RuntimeOptions {
        RuntimeOptions {
            addr,
            data_dir: data_dir.into(),
            deliver_events: true,
            sweep_every: Duration::from_secs(5),
            overrides: HashMap::new(),
            backend: Backend::Local,
        }
    }
}

/// A running runtime.
pub struct Runtime {
    /// Where the gateway listens.
    pub addr: SocketAddr,
    /// The configuration the handlers got.
    pub config: Config,
    /// The handlers' dependencies (and through them, the tables and buckets).
    pub functions: Arc<Functions>,
    local: Option<LocalBackend>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The embedded runtime's exclusive hold on its data directory.
    data_lock: Option<std::fs::File>,
}

impl Runtime {
    /// Starts the runtime on the backend `options` names.
    pub async fn start(options: RuntimeOptions) -> anyhow::Result<Runtime> {
        match options.backend.clone() {
            Backend::Local => Runtime::start_local(options).await,
            Backend::Aws(backend) => aws::start(options, *backend).await,
        }
    }

    /// Binds the gateway, wires the handlers to the local adapters, and
    /// starts the event router and the sweep.
    async fn start_local(options: RuntimeOptions) -> anyhow::Result<Runtime> {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .with_context(|| format!("binding {}", options.addr))?;
        let addr = listener.local_addr()?;
        let data_lock = lock_data_dir(&options.data_dir)?;
        let config = settings::local_config(&options.data_dir, addr, &options.overrides)?;
        let forges = Arc::new(settings::local_forges(&options.data_dir, &options.overrides)?);
        let backend = LocalBackend::open(&options.data_dir, &config)
            .with_context(|| format!("opening data directory {}", options.data_dir.display()))?;
        let functions = Arc::new(Functions::local(&config, forges, &backend)?);
        if options.deliver_events {
            // This runtime holds the data directory: what is `started` in it
            // was claimed by one that stopped, and runs again now.
            tx_job_manager::requeue_claimed(&functions.manager)
                .await
                .context("requeuing the jobs a stopped tx was running")?;
        }
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = vec![serve(listener, functions.clone(), stop_rx.clone())];
        if options.deliver_events {
            for mapping in [Mapping::JobStream, Mapping::CdnNotifications] {
                tasks.push(tokio::spawn(router::run(
                    mapping,
                    backend.events.clone(),
                    functions.clone(),
                    stop_rx.clone(),
                )));
            }
            tasks.push(sweep(functions.clone(), options.sweep_every, stop_rx));
        }
        tracing::info!(%addr, data = %options.data_dir.display(), "tx runtime listening");
        let mut runtime = Runtime::assemble(addr, config, functions, Some(backend), stop, tasks);
        runtime.data_lock = Some(data_lock);
        Ok(runtime)
    }

    /// A runtime from parts wired elsewhere (another backend's adapters and
    /// event pollers); `tasks` stop when `stop` turns true.
    pub fn assemble(
        addr: SocketAddr,
        config: Config,
        functions: Arc<Functions>,
        local: Option<LocalBackend>,
        stop: watch::Sender<bool>,
        tasks: Vec<JoinHandle<()>>,
    ) -> Runtime {
        Runtime {
            addr,
            config,
            functions,
            local,
            stop,
            tasks,
            data_lock: None,
        }
    }

    /// The local tables, buckets and event log, when the runtime uses them.
    pub fn local(&self) -> Option<&LocalBackend> {
        self.local.as_ref()
    }

    /// Base URL of the gateway.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests and events, and waits for work in hand.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
    }
}

/// Serves the gateway on `listener` until `stop` turns true.
///
/// HTTP/1.1 over hyper directly (not `axum::serve`) for its header read
/// timeout: a connection that has not sent complete request headers within
/// [`admission::HEADER_READ_TIMEOUT`] (an idle keep-alive one included) is
/// closed, so slow or silent clients cannot hold descriptors. Body reads
/// are bounded by [`admission`]. On stop, no new connection is accepted and
/// the open ones get up to 30 s to finish.
pub fn serve(
    listener: tokio::net::TcpListener,
    functions: Arc<Functions>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let app = gateway::router(functions);
    tokio::spawn(async move {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(admission::HEADER_READ_TIMEOUT)
            .keep_alive(true);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stop.wait_for(|s| *s) => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: wait, do not spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let service = TowerToHyperService::new(app.clone());
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!("connection closed: {e}");
                }
            });
        }
        if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after 30 s; stopping anyway");
        }
    })
}

/// Takes `<data>/tx.lock` for this process: one runtime per data directory,
/// so that at start-up what is `started` in its tables is known to be a
/// stopped runtime's (released when the process ends, however it ends).
fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("tx.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "{} is in use by another tx serve (or tx demo): give each its own --data",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// Runs the job manager's sweep now and every `every` (the schedule rule of
/// the SAM stack) until `stop` turns true.
pub fn sweep(functions: Arc<Functions>, every: Duration, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = tx_job_manager::handle_sweep(&functions.manager).await {
                tracing::error!("sweep: {e}");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}
