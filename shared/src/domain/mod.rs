//! Domain types: DESIGN.md's contracts, in one place.

pub mod build_log;
pub mod convert;
pub mod job;
pub mod job_request;
mod job_state;
pub mod manifest;
pub mod navigation;
pub mod project;
