//! `tx`: the local face of tX in Rust — the embedded runtime (`tx serve`),
//! the demo (`tx demo`), the offline preview (`tx build`) and the converter
//! benchmark (`tx bench convert`).

pub mod bench;
pub mod demo;
pub mod preview;
pub mod runtime;
pub mod steer;
