//! Physics: discretisations, simulators and integrators that gradients flow through.
//!
//! ## Integrators, reference solvers and image statistics
//!
//! * [`ode`] — explicit RK4 (classical and 3/8 rule) on the tape, each declaring its order
//!   ([`ode::Integrator`]); the 3/8-rule flow integrator carrying `d/dt log p = −div μ`.
//! * [`sde`] — Euler–Maruyama and jump diffusion with seeded noise and differentiable jump
//!   sizes; strong and weak orders ([`sde::SdeScheme`]).
//!
//! * [`burgers`] — explicit Rusanov/central reference solver for viscous Burgers with a
//!   stability check.
//!
//! * [`statistics`] — volume fraction and periodic two-point correlation of an image, on the tape.
//!
//! Equations, schemes and conventions: `docs/physics_integrators.md`.

pub mod burgers;
pub mod ode;
pub mod sde;
pub mod statistics;
