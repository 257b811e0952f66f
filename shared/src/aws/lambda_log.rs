//! Logging of the Lambda binaries: plain lines without colours or
//! timestamps, because CloudWatch stamps every line itself and shows escape
//! codes as noise. `RUST_LOG` chooses the level (default `info`).

/// Installs the subscriber once, at the start of a Lambda main.
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
