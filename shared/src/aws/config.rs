//! One AWS SDK configuration per process (per Lambda cold start), and the
//! service clients built from it.
//!
//! Building the clients makes no network call, so a Lambda `main` can do it
//! before `run` and every invocation reuses the same connection pools. Every
//! client gets explicit timeouts: the webhook path (API Gateway gives up after
//! 29 s) must fail fast on a hung DynamoDB or S3 call instead of hanging until
//! the gateway does, while the converter invocation is allowed to last as long
//! as the converter itself.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// Environment variable that forces (`true`/`1`) or forbids (`false`/`0`)
/// path-style S3 addressing. Unset: path style exactly when an S3 endpoint is
/// overridden (moto, MinIO and LocalStack do not resolve virtual-host buckets).
pub const S3_PATH_STYLE_ENV: &str = "TX_S3_PATH_STYLE";

/// Why the AWS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AwsConfigError {
    /// Neither `AWS_REGION`, `AWS_DEFAULT_REGION` nor a profile names a region;
    /// guessing one would silently write to the wrong tables.
    #[error("no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION)")]
    NoRegion,
    /// An environment variable holds a value that cannot be used.
    #[error("environment variable {name} has an unusable value {value:?}: {reason}")]
    BadEnv {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
}

/// Timeouts per kind of call. The defaults keep a webhook's whole path
/// (a DynamoDB conditional put and one small S3 put) well inside API Gateway's
/// 29 s, while letting large S3 transfers and the converter run to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsTimeouts {
    /// TCP + TLS connect, every service.
    pub connect: Duration,
    /// One DynamoDB / DynamoDB Streams attempt.
    pub table_attempt: Duration,
    /// A DynamoDB call with its retries.
    pub table_operation: Duration,
    /// Wait for the first response byte from S3 (guards against a hung
    /// connection without capping the length of a large transfer).
    pub s3_read: Duration,
    /// One S3 attempt (a large zip upload must fit).
    pub s3_attempt: Duration,
    /// An S3 call with its retries.
    pub s3_operation: Duration,
    /// A synchronous Lambda invocation: as long as the longest function may run.
    pub invoke_operation: Duration,
    /// One SQS call; must exceed the long-poll wait (20 s).
    pub queue_attempt: Duration,
}

impl Default for AwsTimeouts {
    fn default() -> Self {
        AwsTimeouts {
            connect: Duration::from_secs(2),
            table_attempt: Duration::from_secs(3),
            table_operation: Duration::from_secs(8),
            s3_read: Duration::from_secs(10),
            s3_attempt: Duration::from_secs(120),
            s3_operation: Duration::from_secs(300),
            // Lambda's maximum run time (900 s) plus a margin for the round trip.
            invoke_operation: Duration::from_secs(910),
            queue_attempt: Duration::from_secs(25),
        }
    }
}

/// Options that are not in the SDK's own environment handling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// Address S3 buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key`.
    pub force_path_style: bool,
    /// See [`AwsTimeouts`].
    pub timeouts: AwsTimeouts,
}

/// The service clients every adapter is built from. Cheap to clone (each
/// client is an `Arc` inside), so one value is built at start-up and shared.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// The resolved configuration (region, credentials, endpoint overrides).
    pub sdk: SdkConfig,
    /// DynamoDB: the job and manifest tables.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// DynamoDB Streams: read by `tx serve --backend aws` and the tests.
    pub streams: aws_sdk_dynamodbstreams::Client,
    /// S3: the preconvert, CDN and website buckets.
    pub s3: aws_sdk_s3::Client,
    /// Lambda: the job manager invoking the converter.
    pub lambda: aws_sdk_lambda::Client,
    /// SQS: S3 notifications polled by `tx serve --backend aws` and the tests.
    pub sqs: aws_sdk_sqs::Client,
}

impl AwsClients {
    /// Builds the clients the way a Lambda function or `tx serve --backend aws`
    /// should: region and credentials from the standard chain, endpoint
    /// overrides from `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`, S3
    /// addressing from [`S3_PATH_STYLE_ENV`].
    pub async fn from_env() -> Result<AwsClients, AwsConfigError> {
        let options = AwsOptions {
            force_path_style: path_style_from_env()?,
            timeouts: AwsTimeouts::default(),
        };
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(base_timeouts(&options.timeouts))
            .load()
            .await;
        if sdk.region().is_none() {
            return Err(AwsConfigError::NoRegion);
        }
        Ok(AwsClients::from_sdk_config(sdk, &options))
    }

    /// Builds clients that talk to one local endpoint (moto, LocalStack) with
    /// dummy static credentials and path-style S3, ignoring the environment's
    /// credentials so a test can never reach a real account.
    pub async fn for_endpoint(endpoint_url: &str, region: &str) -> AwsClients {
        let options = AwsOptions {
            force_path_style: true,
            timeouts: AwsTimeouts::default(),
        };
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(endpoint_url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tx-static"))
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(base_timeouts(&options.timeouts))
            .load()
            .await;
        AwsClients::from_sdk_config(sdk, &options)
    }

    /// Builds every client from an already resolved configuration, giving each
    /// service the timeouts that fit its calls.
    pub fn from_sdk_config(sdk: SdkConfig, options: &AwsOptions) -> AwsClients {
        let t = &options.timeouts;
        let table_timeouts = TimeoutConfig::builder()
            .connect_timeout(t.connect)
            .operation_attempt_timeout(t.table_attempt)
            .operation_timeout(t.table_operation)
            .build();
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .timeout_config(table_timeouts.clone())
                .build(),
        );
        let streams = aws_sdk_dynamodbstreams::Client::from_conf(
            aws_sdk_dynamodbstreams::config::Builder::from(&sdk)
                .timeout_config(table_timeouts)
                .build(),
        );
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(options.force_path_style)
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(t.connect)
                        .read_timeout(t.s3_read)
                        .operation_attempt_timeout(t.s3_attempt)
                        .operation_timeout(t.s3_operation)
                        .build(),
                )
                .build(),
        );
        let lambda = aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::config::Builder::from(&sdk)
                // A retried attempt may run the converter twice; one retry for
                // transport errors is enough (the stream redelivers anyway).
                .retry_config(RetryConfig::standard().with_max_attempts(2))
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(t.connect)
                        .operation_attempt_timeout(t.invoke_operation)
                        .operation_timeout(t.invoke_operation)
                        .build(),
                )
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&sdk)
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(t.connect)
                        .operation_attempt_timeout(t.queue_attempt)
                        .operation_timeout(t.queue_attempt * 3)
                        .build(),
                )
                .build(),
        );
        AwsClients {
            sdk,
            dynamodb,
            streams,
            s3,
            lambda,
            sqs,
        }
    }

    /// The configured region's name (stream records and ARNs carry it).
    pub fn region(&self) -> &str {
        self.sdk.region().map(|r| r.as_ref()).unwrap_or("us-east-1")
    }
}

/// The timeouts every client starts from before its own are applied.
fn base_timeouts(t: &AwsTimeouts) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(t.connect)
        .operation_attempt_timeout(t.table_attempt)
        .operation_timeout(t.table_operation)
        .build()
}

/// Reads [`S3_PATH_STYLE_ENV`], defaulting to "path style when an endpoint is
/// overridden".
fn path_style_from_env() -> Result<bool, AwsConfigError> {
    match std::env::var(S3_PATH_STYLE_ENV) {
        Ok(v) => parse_bool(&v).ok_or(AwsConfigError::BadEnv {
            name: S3_PATH_STYLE_ENV,
            value: v,
            reason: "expected true/false/1/0",
        }),
        Err(_) => Ok(["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))),
    }
}

/// `true`/`1`/`yes` or `false`/`0`/`no`, case-insensitive.
fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_bool_accepts_the_usual_spellings() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool(" 0 "), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn default_timeouts_keep_the_webhook_path_under_api_gateway() {
        let t = AwsTimeouts::default();
        // One table write and one S3 attempt that got a first byte in time.
        assert!(t.table_operation + t.s3_read * 2 < Duration::from_secs(29));
        assert!(t.queue_attempt > Duration::from_secs(20));
    }

    #[tokio::test]
    async fn clients_for_a_local_endpoint_need_no_environment() {
        let c = AwsClients::for_endpoint("http://127.0.0.1:1", "eu-west-1").await;
        assert_eq!(c.region(), "eu-west-1");
    }
}
