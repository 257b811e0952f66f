//! tx-shared: the domain, the ports and the adapters every tX function uses.
//!
//! Handlers depend only on [`ports`]; which adapters fill them (SQLite tables
//! and directory buckets on one machine, DynamoDB/S3/Lambda on AWS) is decided
//! once, at start-up, by the binary.

pub mod domain;
pub mod ports;
pub mod time;
