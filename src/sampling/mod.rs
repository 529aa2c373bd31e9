//! Sampling from unnormalised densities: benchmark targets with quadrature references and exact
//! samples, transport of prior samples by a learned flow with its log-density, and the scores
//! of the samples (issue 11, PINN-based sampling).
//!
//! * [`targets`] — factorised targets `q(x) = Πᵢ fᵢ(xᵢ)` (the 9-mode GMM, Many-Well): `log q`,
//!   `∇ log q`, `Δ log q` in closed form; `log Z`, means and standard deviations by 1-D Simpson
//!   quadrature; exact samples by 1-D inverse-CDF sampling.
//! * [`flow`] — `dx/dt = u(x, t)` with `d/dt log p = −div u` by the 3/8-rule RK4, one tape per
//!   step and chunk of rows.
//! * [`metrics`] — importance weights `w = q/p`, `Δ log Z`, normalised ESS, `Δ std` and the
//!   Sinkhorn distance to exact samples; samples + log-weights as CSV.
//!
//! The PINN losses themselves are `pde!` statements in `examples/pinn_sampling/` (the macro
//! expands to `::physgrad::…` paths, so it is used from outside the crate).

pub mod flow;
pub mod metrics;
pub mod targets;

pub use flow::{standard_normal, transport, FlowConfig, OnDivergence};
pub use metrics::{
    column_std, evaluate, log_sum_exp, log_weights, normalised_ess, samples_csv, sinkhorn_distance,
    MetricsConfig, SampleMetrics,
};
pub use targets::{factor_moments, Factor, InverseCdf, Reference, Target};
