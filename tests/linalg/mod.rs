//! Implicit solves: solutions against the matrix (A·u = b), gradients at first and second order
//! against finite differences, Newton against known solutions and analytic implicit derivatives,
//! typed errors on bad numbers, and reuse of the forward factorisation by the VJP.

mod assembly;
mod common;
mod dense_tridiagonal;
mod errors;
mod newton;
mod sparse;
