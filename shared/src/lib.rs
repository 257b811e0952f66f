//! tx-shared: the domain, the ports and the adapters every tX function uses.
//!
//! Handlers depend only on [`ports`]; which adapters fill them (SQLite tables
//! and directory buckets on one machine, DynamoDB/S3/Lambda on AWS) is decided
//! once, at start-up, by the binary.

pub mod api;
pub mod archive;
pub mod config;
pub mod domain;
pub mod dynamo_json;
pub mod filter;
pub mod forge_client;
pub mod forges;
pub mod http_client;
pub mod identity;
pub mod local;
pub mod memory;
pub mod ports;
pub mod rc;
pub mod signature;
pub mod time;

#[cfg(feature = "aws")]
pub mod aws;
