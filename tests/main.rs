//! The single integration-test binary: one module per area.
//!
//! Property tests take their case count from `PROPTEST_CASES` (default 32 here).

mod core;
mod data;
mod dsl;
mod linalg;
mod nn;
mod ot;
mod papers;
mod pde;
mod physics;
mod problem;
mod report;
mod sampling;
mod support;
