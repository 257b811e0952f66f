//! The contract every adapter of a port must keep, written once against the
//! traits and run against the local adapters (`contract_local.rs`) and the AWS
//! adapters on moto (`contract_aws.rs`): same answers, same errors.
//!
//! Each suite is a list of named cases run in order on one fresh backend, so
//! a failure names the case and the adapter.

#![allow(dead_code)]

pub mod fixtures;
pub mod invoker;
pub mod jobs;
pub mod manifests;
pub mod objects;
