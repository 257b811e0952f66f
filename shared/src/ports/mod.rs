//! Ports: what handlers need from the world, as traits. The AWS adapters and
//! the local adapters implement the same traits and pass the same contract tests.

pub mod clock;
pub mod forge;
pub mod invoker;
pub mod job_api;
pub mod job_table;
pub mod manifest_table;
pub mod object_store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use forge::{CommitStatus, ForgeClient, ForgeError, ForgeKind, StatusState, TagQuery};
pub use invoker::{FunctionInvoker, InvokeError, MAX_PAYLOAD_BYTES};
pub use job_api::{JobApi, JobApiError};
pub use job_table::{JobCursor, JobPage, JobTable, QueueSlot, TableError};
pub use manifest_table::ManifestTable;
pub use object_store::{ObjectStore, StoreError};
