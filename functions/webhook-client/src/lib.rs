//! tx-webhook-client: the two HTTP doors of the pipeline that face the forges.
//!
//! `POST /client/webhook` (thread 1 of DESIGN.md) turns a signed forge event
//! into a job request and the first `build_log.json`, and answers in well
//! under a second: it never waits for a forge's status API (the pending
//! status is set from the job table's stream, by the job manager). `POST /client/callback` (step 8) takes
//! the finished job from the job manager, publishes its output into the CDN
//! bucket, updates the repository's manifest row and the commit status, and
//! writes the final `build_log.json` last, because that write is what starts
//! the deployer.
//!
//! The handlers only see ports ([`ClientDeps`]), so the same code runs behind
//! API Gateway and inside `tx serve`.

#![deny(missing_docs)]

pub mod archive;
pub mod build_log_store;
pub mod callback;
pub mod deps;
pub mod error;
pub mod event;
pub mod filters;
pub mod forge;
pub mod forge_api;
pub mod job_api;
pub mod manifest_row;
pub mod payload;
pub mod release_commit;
pub mod router;
pub mod signature_check;
pub mod unpack;
pub mod urls;
pub mod webhook;
pub mod webhook_body;

pub use deps::ClientDeps;
pub use error::ClientError;
pub use job_api::HttpJobApi;
pub use router::handle_http;
