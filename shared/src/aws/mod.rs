//! AWS adapters: the ports on DynamoDB, S3 and Lambda, plus the readers of
//! DynamoDB Streams and SQS that let `tx serve --backend aws` (and the tests)
//! drive the handlers with the events AWS itself would deliver.
//!
//! Everything is built from one [`AwsClients`], made once per process (once
//! per Lambda cold start) with [`AwsClients::from_env`].

pub mod cold_start;
pub mod config;
pub mod dynamo_jobs;
pub mod dynamo_manifests;
pub mod forges;
pub mod lambda;
pub mod provision;
pub mod s3;
pub mod s3_event;
pub mod sdk_error;
pub mod sqs;
pub mod streams;

pub use cold_start::{cold_start, init_lambda_tracing};
pub use config::{AwsClients, AwsConfigError, AwsOptions, AwsTimeouts};
pub use dynamo_jobs::{DynamoJobTable, REPO_INDEX};
pub use dynamo_manifests::DynamoManifestTable;
pub use forges::{FORGES_SECRET_ENV, ForgesSecretError, forges_at_cold_start};
pub use lambda::LambdaInvoker;
pub use s3::S3Store;
pub use s3_event::{EventObject, event_object};
pub use sqs::{QueueError, QueuedS3Event, S3EventQueue, parse_notification};
pub use streams::{ShardBatch, StartPosition, StreamError, StreamReader, to_lambda_record};
