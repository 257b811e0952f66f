//! The `tx` command line: thin; everything it runs lives in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tx::demo;
use tx::runtime::aws::DEFAULT_QUEUE;
use tx::runtime::{AwsBackend, Backend, Runtime, RuntimeOptions};

/// tX in Rust: Bible-translation repositories to static websites.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole stack on this machine (HTTP API, events, site).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Where secrets (and, with the local backend, tables and buckets) are kept.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
        /// With `--backend aws`: create missing tables, buckets, the queue and the
        /// CDN bucket's notification first (for an empty emulator such as moto).
        #[arg(long)]
        provision: bool,
    },
    /// Publish the sample repositories through a loopback forge.
    Demo {
        /// Exit after the sites are published (non-zero if one is not within 60 s).
        #[arg(long)]
        once: bool,
        /// Address to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Data directory (default: a fresh temporary one).
        #[arg(long)]
        data: Option<PathBuf>,
        // With `--backend aws`, missing tables, buckets and the queue are created.
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Convert a local repository (folder or zip) into a browsable site, no server.
    Build {
        /// The repository folder or archive.
        path: PathBuf,
        /// Where the site goes.
        #[arg(long)]
        out: PathBuf,
        /// Exit with status 1 when the build has any warning or error (for
        /// a translator's pre-push check or a CI step).
        #[arg(long)]
        strict: bool,
    },
    /// Build again what a repository, ref or commit last built (operators).
    Rebuild {
        /// `owner/repo` (its default branch), `owner/repo@ref` or `owner/repo@commit`.
        target: String,
        #[command(flatten)]
        api: OperatorArgs,
    },
    /// Cancel a requested or started job (operators).
    Cancel {
        /// The job id (`tx serve`'s log, the build log, `project.json`).
        job_id: String,
        #[command(flatten)]
        api: OperatorArgs,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

/// Which tX API an operator command talks to, and with what token.
#[derive(Args)]
struct OperatorArgs {
    /// The API's base URL (`tx serve`'s address, or a SAM stack's API).
    #[arg(long, env = "TX_API_URL", default_value = "http://127.0.0.1:8080")]
    api: String,
    /// The operator token; without it, the one `tx serve` keeps in `--data`.
    #[arg(long, env = "TX_OPERATOR_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// `tx serve`'s data directory, for its operator token.
    #[arg(long, default_value = "data")]
    data: PathBuf,
}

impl OperatorArgs {
    fn operator(&self) -> anyhow::Result<tx::steer::Operator> {
        let token = match &self.token {
            Some(t) => t.clone(),
            None => tx::steer::local_token(&self.data)?,
        };
        tx::steer::Operator::new(&self.api, &token)
    }
}

/// Where the runtime keeps tables, buckets and events.
#[derive(Args)]
struct BackendArgs {
    /// `local`: SQLite and directories in the data directory; `aws`: DynamoDB,
    /// S3 and SQS as the AWS environment says (`AWS_ENDPOINT_URL`, `AWS_REGION`,
    /// credentials).
    #[arg(long, value_enum, default_value_t = BackendKind::Local)]
    backend: BackendKind,
    /// With `--backend aws`: the SQS queue (name or URL) the CDN bucket notifies.
    #[arg(long, env = "TX_CDN_QUEUE", default_value = DEFAULT_QUEUE)]
    queue: String,
    /// With `--backend aws`: invoke the converter as the Lambda function
    /// `TX_CONVERTER_FUNCTION` instead of running it in this process.
    #[arg(long, env = "TX_INVOKE_LAMBDA", value_parser = clap::builder::BoolishValueParser::new())]
    invoke_lambda: bool,
}

/// The backends of `--backend`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendKind {
    /// SQLite tables and directory buckets.
    Local,
    /// AWS services (or an emulator of them).
    Aws,
}

impl BackendArgs {
    /// The runtime's backend; AWS clients come from the environment.
    async fn backend(&self, provision: bool) -> anyhow::Result<Backend> {
        Ok(match self.backend {
            BackendKind::Local => Backend::Local,
            BackendKind::Aws => {
                let mut aws = AwsBackend::from_env().await?;
                aws.queue = self.queue.clone();
                aws.invoke_lambda = self.invoke_lambda;
                aws.provision = provision;
                Backend::Aws(Box::new(aws))
            }
        })
    }
}

#[derive(Subcommand)]
enum Bench {
    /// Convert inputs without writing; one line of figures per input.
    Convert {
        /// Conversions of each input (the best and the median are shown).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// Repository folders or archives.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Webhook → published page on the embedded runtime and a loopback
    /// forge, with the stage breakdown and the webhook's answer times.
    E2e {
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
        /// Webhook deliveries sent at once in the concurrent measurement.
        #[arg(long, default_value_t = 200)]
        concurrency: usize,
        /// Then build the last input this many times more and compare the
        /// resident memory after the fifth build with that after the last.
        #[arg(long, default_value_t = 0)]
        memory: usize,
        /// Repository archives or folders (default: the README's set from
        /// the corpus, `TX_CORPUS` or `../shared/corpus`).
        paths: Vec<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tx_shared::memory::limit_malloc_arenas();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tx=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            addr,
            data,
            backend,
            provision,
        } => {
            let mut options = RuntimeOptions::new(addr, data);
            options.backend = backend.backend(provision).await?;
            let runtime = Runtime::start(options).await?;
            println!(
                "tx serving on {} (API, site at /, CDN at /cdn/); Ctrl-C stops",
                runtime.url()
            );
            println!("webhook: POST {}/client/webhook", runtime.url());
            tokio::signal::ctrl_c().await?;
            runtime.stop().await;
            Ok(())
        }
        Command::Demo {
            once,
            addr,
            data,
            backend,
        } => {
            let (data_dir, _temp) = match data {
                Some(d) => (d, None),
                None => {
                    let t = tempfile::tempdir()?;
                    (t.path().to_path_buf(), Some(t))
                }
            };
            let mut options = RuntimeOptions::new(addr, &data_dir);
            // The demo starts from nothing: on AWS services it creates what is missing.
            options.backend = backend.backend(true).await?;
            let demo = demo::run(options, Duration::from_secs(60)).await?;
            for site in &demo.sites {
                println!(
                    "published {}/{} ({}): {}",
                    demo::DEMO_OWNER,
                    site.repo,
                    site.status.as_str(),
                    site.url
                );
            }
            if once {
                demo.stop().await;
                return Ok(());
            }
            println!("serving on {}; Ctrl-C stops", demo.runtime.url());
            tokio::signal::ctrl_c().await?;
            demo.stop().await;
            Ok(())
        }
        Command::Build { path, out, strict } => {
            let preview = tokio::task::spawn_blocking(move || tx::preview::build(&path, &out)).await??;
            for w in &preview.warnings {
                eprintln!("warning: {w}");
            }
            for e in &preview.errors {
                eprintln!("error: {e}");
            }
            println!(
                "{} pages ({}), {} warning(s), {} error(s): open {} (build log: {})",
                preview.pages,
                preview.resource_type,
                preview.warnings.len(),
                preview.errors.len(),
                preview.index.display(),
                preview.build_log.display()
            );
            if strict && (!preview.warnings.is_empty() || !preview.errors.is_empty()) {
                eprintln!("--strict: the build has warnings or errors");
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Rebuild { target, api } => {
            let target = tx::steer::RebuildTarget::parse(&target)?;
            let answer = api.operator()?.rebuild(&target).await?;
            println!(
                "{} job {} of {} ({})",
                answer["disposition"].as_str().unwrap_or("queued"),
                answer["job"]["job_id"].as_str().unwrap_or("?"),
                target.repo,
                answer["job"]["commit_id"].as_str().unwrap_or("?"),
            );
            Ok(())
        }
        Command::Cancel { job_id, api } => {
            let answer = api.operator()?.cancel(&job_id).await?;
            println!(
                "cancelled job {} ({})",
                answer["job"]["job_id"].as_str().unwrap_or(&job_id),
                answer["job"]["identifier"].as_str().unwrap_or("?"),
            );
            Ok(())
        }
        Command::Bench {
            what: Bench::Convert { repeat, paths },
        } => tokio::task::spawn_blocking(move || tx::bench::convert(&paths, repeat)).await?,
        Command::Bench {
            what:
                Bench::E2e {
                    json,
                    concurrency,
                    memory,
                    paths,
                },
        } => {
            tx::bench::e2e(tx::bench::E2eOptions {
                paths,
                json,
                concurrency,
                memory_builds: memory,
            })
            .await
        }
    }
}
