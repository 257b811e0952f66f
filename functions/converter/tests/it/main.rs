//! The converter's integration tests, one binary: the Lambda handler against
//! real buckets and HTTP, the corpus (real repositories, Bibles, fixtures),
//! the verse-text oracle, and robustness against arbitrary input.

mod corpus;
mod fuzz;
mod handler;
mod helps;
mod kit;
mod links;
mod oracle;
