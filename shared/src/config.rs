//! Configuration: environment variables into one typed struct, checked once at
//! start-up so a missing setting is named before the first request, not
//! discovered by a failing one. The forges this deployment serves (their
//! secrets and tokens) are not here but in [`crate::forges`]: only the webhook
//! client reads them, from a secret store rather than every function's
//! environment.

use std::time::Duration;

/// Everything a tX function needs to know about its deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `TX_JOB_TABLE`: the job table's name.
    pub job_table: String,
    /// `TX_QUEUE_TABLE` (default `<TX_JOB_TABLE>-queue`, [`default_queue_table`]):
    /// the job queue slots on DynamoDB, one item per coalescing key, apart
    /// from the jobs so neither the job stream nor the sweep's scan sees them.
    pub queue_table: String,
    /// `TX_MANIFEST_TABLE`: the manifest table's name.
    pub manifest_table: String,
    /// `TX_PRECONVERT_BUCKET`: sources uploaded by API clients.
    pub preconvert_bucket: String,
    /// `TX_CDN_BUCKET`: converter output and build logs (triggers the deployer).
    pub cdn_bucket: String,
    /// `TX_WEBSITE_BUCKET`: the published site.
    pub website_bucket: String,
    /// `TX_CONVERTER_FUNCTION`: name of the converter function.
    pub converter_function: String,
    /// `TX_CALLBACK_SECRET`: signs job manager → client callbacks.
    pub callback_secret: String,
    /// `TX_API_URL`: public base URL of the HTTP API (callbacks go there).
    pub api_url: String,
    /// `TX_SITE_URL`: public base URL of the website bucket.
    pub site_url: String,
    /// `TX_CDN_URL`: public base URL of the CDN bucket (build logs).
    pub cdn_url: String,
    /// `TX_OPERATOR_TOKEN` (optional): the bearer token that opens job
    /// details (`GET /tx/job/{id}`: sources, callbacks, delivery ids, logs).
    /// Without one they are open to nobody; `tx serve` generates one.
    pub operator_token: Option<String>,
    /// `TX_BRANCHES` (optional, comma-separated): branches built; empty builds
    /// every branch.
    pub branches: Vec<String>,
    /// `TX_JOB_TIMEOUT_SECS` (default 900): a started job past this is retried.
    pub job_timeout: Duration,
    /// `TX_MAX_ATTEMPTS` (default 3): converter attempts before a job fails.
    pub max_attempts: u32,
}

/// What was wrong with the environment.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    /// Required variables that are not set (all of them, not just the first).
    #[error("missing environment variable(s): {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    /// A variable that is set but cannot be read.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests and
    /// in the embedded runtime).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            let value = lookup(name).filter(|v| !v.trim().is_empty());
            if value.is_none() {
                missing.push(name);
            }
            value.unwrap_or_default()
        };
        let job_table = required("TX_JOB_TABLE");
        let manifest_table = required("TX_MANIFEST_TABLE");
        let preconvert_bucket = required("TX_PRECONVERT_BUCKET");
        let cdn_bucket = required("TX_CDN_BUCKET");
        let website_bucket = required("TX_WEBSITE_BUCKET");
        let converter_function = required("TX_CONVERTER_FUNCTION");
        let callback_secret = required("TX_CALLBACK_SECRET");
        let api_url = required("TX_API_URL");
        let site_url = required("TX_SITE_URL");
        let cdn_url = required("TX_CDN_URL");
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing));
        }
        let list = |name: &str| -> Vec<String> {
            lookup(name)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|e: std::num::ParseIntError| ConfigError::Invalid {
                        name,
                        reason: e.to_string(),
                    }),
            }
        };
        let max_attempts =
            u32::try_from(number("TX_MAX_ATTEMPTS", 3)?).map_err(|e| ConfigError::Invalid {
                name: "TX_MAX_ATTEMPTS",
                reason: e.to_string(),
            })?;
        let queue_table = lookup("TX_QUEUE_TABLE")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| default_queue_table(&job_table));
        Ok(Config {
            job_table,
            queue_table,
            manifest_table,
            preconvert_bucket,
            cdn_bucket,
            website_bucket,
            converter_function,
            callback_secret,
            api_url: api_url.trim_end_matches('/').to_string(),
            site_url: site_url.trim_end_matches('/').to_string(),
            cdn_url: cdn_url.trim_end_matches('/').to_string(),
            operator_token: lookup("TX_OPERATOR_TOKEN")
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            branches: list("TX_BRANCHES"),
            job_timeout: Duration::from_secs(number("TX_JOB_TIMEOUT_SECS", 900)?),
            max_attempts: max_attempts.max(1),
        })
    }
}

/// The queue-slot table's name when `TX_QUEUE_TABLE` is not set: the job
/// table's with `-queue` (the template names its tables so), so deployments
/// and tests that name only the job table find it.
pub fn default_queue_table(job_table: &str) -> String {
    format!("{job_table}-queue")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn full() -> HashMap<&'static str, String> {
        [
            "TX_JOB_TABLE",
            "TX_MANIFEST_TABLE",
            "TX_PRECONVERT_BUCKET",
            "TX_CDN_BUCKET",
            "TX_WEBSITE_BUCKET",
            "TX_CONVERTER_FUNCTION",
            "TX_CALLBACK_SECRET",
            "TX_API_URL",
            "TX_SITE_URL",
            "TX_CDN_URL",
        ]
        .into_iter()
        .map(|k| (k, format!("{}-value", k.to_lowercase())))
        .collect()
    }

    #[test]
    fn names_every_missing_variable() {
        let mut env = full();
        env.remove("TX_CDN_BUCKET");
        env.remove("TX_CALLBACK_SECRET");
        let err = Config::from_lookup(|k| env.get(k).cloned()).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing(vec!["TX_CDN_BUCKET", "TX_CALLBACK_SECRET"])
        );
        assert!(err.to_string().contains("TX_CDN_BUCKET, TX_CALLBACK_SECRET"));
    }

    #[test]
    fn reads_lists_and_numbers() {
        let mut env = full();
        env.insert("TX_BRANCHES", "master, main,".into());
        env.insert("TX_JOB_TIMEOUT_SECS", "60".into());
        let c = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        assert_eq!(c.branches, vec!["master", "main"]);
        assert_eq!(c.job_timeout, Duration::from_secs(60));
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.queue_table, "tx_job_table-value-queue");
        env.insert("TX_QUEUE_TABLE", " slots ".into());
        let c = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        assert_eq!(c.queue_table, "slots");
        env.insert("TX_MAX_ATTEMPTS", "many".into());
        assert!(matches!(
            Config::from_lookup(|k| env.get(k).cloned()),
            Err(ConfigError::Invalid {
                name: "TX_MAX_ATTEMPTS",
                ..
            })
        ));
    }
}
