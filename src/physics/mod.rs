//! Differentiable discretisations of physical models, written as ordinary tape code on top of
//! the implicit solves in [`crate::linalg`], so gradients (of any order) flow from the solution
//! back to coefficients, sources and boundary data.
//!
//! * [`poisson`] — finite differences for `−(a u′)′ = f` in 1-D (tridiagonal solve, batched) and
//!   `∇·(κ∇u) = f` on the unit square (5-point stencil on a fixed sparse pattern, Cholesky).
//! * [`fem`] — plane-stress linear elasticity with Q4 elements on structured rectangular meshes,
//!   assembled on a fixed sparse pattern from per-element (or per-Gauss-point) `(E, ν)`.
//! * [`random_field`] — Gaussian random fields with the squared-exponential covariance, sampled
//!   through a jittered Cholesky factor.
//!
//! Equations, grids, node ordering and sign conventions: `docs/physics.md`.

pub mod fem;
pub mod poisson;
pub mod random_field;
