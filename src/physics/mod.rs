//! Physics: discretisations, simulators and integrators that gradients flow through, written as
//! ordinary tape code on top of the implicit solves in [`crate::linalg`], so gradients (of any
//! order) flow from a solution back to coefficients, sources, parameters and noise.
//!
//! ## Discretisations and random fields (`docs/physics.md`)
//!
//! * [`poisson`] — finite differences for `−(a u′)′ = f` in 1-D (tridiagonal solve, batched) and
//!   `∇·(κ∇u) = f` on the unit square (5-point stencil on a fixed sparse pattern, Cholesky).
//! * [`fem`] — plane-stress linear elasticity with Q4 elements on structured rectangular meshes,
//!   assembled on a fixed sparse pattern from per-element (or per-Gauss-point) `(E, ν)`.
//! * [`random_field`] — Gaussian random fields with the squared-exponential covariance, sampled
//!   through a jittered Cholesky factor.
//!
//! ## Integrators, reference solvers and image statistics (`docs/physics_integrators.md`)
//!
//! * [`ode`] — explicit RK4 (classical and 3/8 rule) on the tape, each declaring its order
//!   ([`ode::Integrator`]); the flow integrator carrying `d/dt log p = −div μ`.
//! * [`sde`] — Euler–Maruyama and jump diffusion with seeded noise and differentiable jump
//!   sizes; strong and weak orders ([`sde::SdeScheme`]).
//! * [`burgers`] — explicit Rusanov/central reference solver for viscous Burgers with a
//!   stability check.
//! * [`statistics`] — volume fraction and periodic two-point correlation of an image, on the tape.
//! * [`cahn_hilliard`] — semi-implicit spectral Cahn–Hilliard simulator: binary two-phase
//!   microstructures (batched, seeded) as targets for those statistics.

pub mod burgers;
pub mod cahn_hilliard;
pub mod fem;
mod fft2;
pub mod ode;
pub mod poisson;
pub mod random_field;
pub mod sde;
pub mod statistics;
