//! The job manager: the job API, the stream handler that runs jobs, and the
//! sweep that keeps any of them from being lost.
//!
//! Every entry point takes [`ManagerDeps`] (ports), so the same code runs
//! behind API Gateway + DynamoDB Streams and inside `tx serve`.

pub mod admin;
mod announce;
pub mod callback;
pub mod deps;
pub mod error;
pub mod http;
mod lease;
pub mod read_api;
pub mod registry;
pub mod request;
pub mod run;
pub mod stream;
pub mod sweep;

pub use deps::{ManagerDeps, runner_name};
pub use error::ManagerError;
pub use http::handle_http;
pub use registry::{ConverterModule, ModuleRegistry};
pub use request::{InProcessJobApi, request_job};
pub use run::{RunOutcome, run_job};
pub use stream::handle_stream;
pub use sweep::{SweepReport, handle_scheduled_sweep, handle_sweep, requeue_claimed};
