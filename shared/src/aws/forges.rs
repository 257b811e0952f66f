//! The forge registry on Lambda: its JSON lives in Secrets Manager (it holds
//! every forge's webhook secret and API token), and only the function that
//! needs it gets the secret's ARN, in `TX_FORGES_SECRET`. It is read once per
//! cold start, so a rotated secret reaches the next cold start.

use crate::forges::ForgeRegistry;

use super::AwsClients;

/// Variable naming the Secrets Manager secret (ARN or name) whose string is
/// the registry's JSON.
pub const FORGES_SECRET_ENV: &str = "TX_FORGES_SECRET";

/// Why the registry could not be had at cold start.
#[derive(Debug, thiserror::Error)]
pub enum ForgesSecretError {
    /// Secrets Manager refused or failed.
    #[error("{FORGES_SECRET_ENV} {secret}: cannot read the secret: {reason}")]
    Fetch {
        /// The secret's ARN or name.
        secret: String,
        /// Why.
        reason: String,
    },
    /// The secret holds no string (a binary secret).
    #[error("{FORGES_SECRET_ENV} {0}: the secret has no string value")]
    NotText(String),
    /// The registry itself is unusable.
    #[error(transparent)]
    Registry(#[from] crate::forges::ForgesError),
}

/// Reads the registry: from the secret `TX_FORGES_SECRET` names when it is
/// set, else from the environment ([`ForgeRegistry::from_lookup`]).
pub async fn forges_at_cold_start(aws: &AwsClients) -> Result<ForgeRegistry, ForgesSecretError> {
    let secret = std::env::var(FORGES_SECRET_ENV)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let Some(secret) = secret else {
        return Ok(ForgeRegistry::from_lookup(|k| std::env::var(k).ok(), None)?);
    };
    let client = aws_sdk_secretsmanager::Client::new(&aws.sdk);
    let value = client
        .get_secret_value()
        .secret_id(&secret)
        .send()
        .await
        .map_err(|e| ForgesSecretError::Fetch {
            secret: secret.clone(),
            reason: super::sdk_error::describe(&e),
        })?;
    let json = value
        .secret_string()
        .ok_or_else(|| ForgesSecretError::NotText(secret.clone()))?;
    let registry = ForgeRegistry::parse(json, &format!("{FORGES_SECRET_ENV} ({secret})"))?;
    tracing::info!(
        forges = registry.forges().len(),
        "forge registry read from {FORGES_SECRET_ENV}"
    );
    Ok(registry)
}
