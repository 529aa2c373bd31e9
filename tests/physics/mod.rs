//! Physics: discretisations against manufactured solutions with measured orders, gradients of
//! every assembly at first and second order, random-field covariance against the kernel;
//! ODE/SDE integrators against closed forms with measured orders, the Burgers reference solver
//! against Cole's exact solution, image statistics on known patterns.

// Index loops read more like the formulas in these tests.
#![allow(clippy::needless_range_loop)]

mod burgers;
mod cahn_hilliard;
mod common;
mod fem;
mod ode;
mod poisson;
mod radial;
mod random_field;
mod sde;
mod statistics;
