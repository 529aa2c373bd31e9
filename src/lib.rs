//! # physgrad
//!
//! Physics-aware machine learning with exact, checked gradients.
//!
//! A [`Tape`] records a computation on dense `f64` [`Tensor`]s; each value is a [`Var`], a `Copy`
//! handle, so code reads like the maths:
//!
//! ```
//! use physgrad::{Tape, Tensor};
//!
//! let tape = Tape::new();
//! let x = tape.constant(Tensor::randn(&[64, 3], 0));
//! let w = tape.var(Tensor::randn(&[3, 1], 1));
//! let b = tape.var(Tensor::zeros(&[1]));
//! let loss = (x.matmul(w) + b).tanh().square().mean();
//!
//! // First order, into tensors; nothing is recorded.
//! let grads = loss.backward();
//! assert_eq!(grads.wrt(w).shape(), &[3, 1]);
//!
//! // Any order: gradients recorded on the tape can be differentiated again.
//! let gw = tape.grad(&[loss], &[w])[0];
//! let hessian_vector = tape.grad(&[gw.sum()], &[w])[0];   // H·1
//! assert_eq!(hessian_vector.shape().as_slice(), &[3, 1]);
//! ```
//!
//! ## How gradients are computed
//!
//! For `y = f(x)` the reverse sweep propagates `x̄ = ∂L/∂x = J_f(x)ᵀ ȳ`, the vector–Jacobian
//! product (VJP), from the output back to the inputs. Each [`Op`] supplies its VJP as ordinary
//! `Var` code; [`Tape::grad`] records that code, so `x̄` is itself a function on the tape and
//! `∂/∂x ⟨x̄, v⟩ = H v` is one more sweep. [`Var::backward`] runs the same rules with recording
//! off, for the common first-order case.
//!
//! ## Reading order
//!
//! * [`tensor`] — storage, broadcasting, kernels (matmul through faer, vectorised `exp`/`tanh`).
//! * [`autodiff`] — the tape, `Var`, the [`Op`] trait, the reverse sweeps.
//! * [`ops`] — the primitive table with every VJP, and compositions.
//! * [`linalg`] — implicit solves (sparse, dense, tridiagonal, Newton) with adjoint VJPs.
//! * [`ot`] — optimal transport: network simplex, Sinkhorn, 1-D, the Wasserstein tape op.
//! * [`nn`] — parameters, layers (dense, MLP, Fourier, convolution), checkpoints, training
//!   utilities.
//! * [`optim`] — SGD, Adam/AdamW, RMSProp, L-BFGS, extra-gradient, schedules, clipping.
//! * [`physics`] — differentiable discretisations (Poisson, Q4 elasticity), random fields,
//!   integrators (RK4, Euler–Maruyama, jump diffusion), a Burgers reference solver, statistics.
//! * [`pde`] — input derivatives of neural fields (nested reverse mode, forward jets,
//!   Hutchinson), Fokker–Planck/HJB operators, grid stencils.
//! * [`problem`] — the problem builder the `pde!` macro targets: named, weighted residual,
//!   condition, periodic and invariance terms on neural or grid fields.
//! * [`data`] — the IDX (MNIST) format, read and write; the shipped digits set is in `data/digits/`.
//! * [`report`] — output folders, summary tables and SVG plots for the experiment examples.
//! * [`sampling`] — benchmark targets with quadrature references, flow transport with the
//!   log-density, importance-sampling scores (PINN-based sampling).
//! * [`testing`] — the gradient checker (first and second order) and proptest strategies.
//! * [`Error`] — data-dependent failures; misuse of shapes panics instead.
#![deny(missing_docs)]

pub mod autodiff;
pub mod data;
pub mod error;
pub mod linalg;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod ot;
pub mod parallel;
pub mod pde;
pub mod physics;
pub mod problem;
pub mod report;
pub mod sampling;
pub mod tensor;
pub mod testing;

pub use autodiff::{Gradients, Op, Tape, Var, VjpArgs};
pub use error::{Error, Result};
/// `pde! { … }`: a declarative problem statement (coordinates, parameters, fields, residuals,
/// conditions, invariances), checked at compile time with errors at the user's token and expanded
/// to [`problem`] builder calls; see `docs/dsl.md` for the grammar and every operator.
/// Depend on `physgrad` and write `physgrad::pde!`: the macro crate `physgrad-dsl` is an
/// implementation detail whose expansion names `::physgrad::problem`.
pub use physgrad_dsl::pde;
pub use tensor::Tensor;
