//! Reverse-mode automatic differentiation on a tape.
//!
//! * [`Tape`] records values; [`Var`] is a `Copy` handle to one of them.
//! * [`Op`] is the one trait every operation implements, built-in or custom: a forward on tensors
//!   and a VJP written in `Var` operations.
//! * [`Var::backward`] and [`Tape::gradients`] give first-order gradients as tensors, recording
//!   nothing; [`Tape::grad`] records the gradient computation so it can be differentiated again.

mod backward;
mod op;
mod tape;

pub use backward::Gradients;
pub use op::{Op, VjpArgs};
pub use tape::{Tape, Var};
