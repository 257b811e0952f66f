//! What every Lambda main does once per cold start, before its first event:
//! logging, configuration and the AWS clients. Kept in one place so the four
//! functions start the same way and a start-up change is made once.

use crate::config::Config;

use super::AwsClients;

/// Installs logging, reads the configuration and builds the AWS clients (no
/// network call: credentials resolve lazily). A missing setting fails the
/// init phase, where Lambda reports it, rather than the first event.
pub async fn cold_start() -> Result<(Config, AwsClients), Box<dyn std::error::Error + Send + Sync>> {
    init_lambda_tracing();
    let config = Config::from_env()?;
    let aws = AwsClients::from_env().await?;
    Ok((config, aws))
}

/// Plain lines without colours or timestamps, because CloudWatch stamps
/// every line itself and shows escape codes as noise. `RUST_LOG` chooses
/// the level (default `info`).
pub fn init_lambda_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}
