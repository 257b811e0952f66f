//! The `tx` command line: thin; everything it runs lives in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tx::demo;
use tx::runtime::{Runtime, RuntimeOptions};

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
        /// Where tables, buckets and secrets are kept.
        #[arg(long, default_value = "data")]
        data: PathBuf,
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
    },
    /// Convert a local repository (folder or zip) into a browsable site, no server.
    Build {
        /// The repository folder or archive.
        path: PathBuf,
        /// Where the site goes.
        #[arg(long)]
        out: PathBuf,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// Convert inputs without writing; one line of figures per input.
    Convert {
        /// Repository folders or archives.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
        Command::Serve { addr, data } => {
            let runtime = Runtime::start(RuntimeOptions::new(addr, data)).await?;
            println!(
                "tx serving on {} (API, site at /, CDN at /cdn/); Ctrl-C stops",
                runtime.url()
            );
            println!("webhook: POST {}/client/webhook", runtime.url());
            tokio::signal::ctrl_c().await?;
            runtime.stop().await;
            Ok(())
        }
        Command::Demo { once, addr, data } => {
            let (data_dir, _temp) = match data {
                Some(d) => (d, None),
                None => {
                    let t = tempfile::tempdir()?;
                    (t.path().to_path_buf(), Some(t))
                }
            };
            let demo = demo::run(RuntimeOptions::new(addr, &data_dir), Duration::from_secs(60)).await?;
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
        Command::Build { path, out } => {
            let preview = tokio::task::spawn_blocking(move || tx::preview::build(&path, &out)).await??;
            for w in &preview.warnings {
                eprintln!("warning: {w}");
            }
            for e in &preview.errors {
                eprintln!("error: {e}");
            }
            println!(
                "{} pages ({}), {} warning(s), {} error(s): open {}",
                preview.pages,
                preview.resource_type,
                preview.warnings.len(),
                preview.errors.len(),
                preview.index.display()
            );
            Ok(())
        }
        Command::Bench {
            what: Bench::Convert { paths },
        } => tokio::task::spawn_blocking(move || tx::bench::convert(&paths)).await?,
    }
}
