//! Optimal transport: the exact discrete Wasserstein distance and its gradients.
//!
//! For weights `a ∈ ℝⁿ₊`, `b ∈ ℝᵐ₊` with `Σa = Σb` and a cost matrix `C ∈ ℝⁿˣᵐ`, the transport
//! problem is the linear program
//!
//! ```text
//! W(C, a, b) = min_P ⟨P, C⟩ = Σᵢⱼ Pᵢⱼ Cᵢⱼ   s.t.  P ≥ 0,  P 1 = a,  Pᵀ 1 = b,
//! ```
//!
//! with the dual `max Σᵢ aᵢ αᵢ + Σⱼ bⱼ βⱼ  s.t.  αᵢ + βⱼ ≤ Cᵢⱼ`. `W` is concave and piecewise linear
//! in `C`; where the optimal plan `P*` is unique, `∂W/∂C = P*`, and `∂W/∂a = α − mean(α)`,
//! `∂W/∂b = β − mean(β)` (the centring keeps the gradient on the plane `Σa = Σb`).
//!
//! Two layers:
//!
//! * solvers on plain data, with no tape: [`network_simplex`] (exact, sparse plan, duals and a
//!   checked optimality certificate), [`sinkhorn_log`] (entropic, log domain, ε-scaling),
//!   [`wasserstein_1d`] (the closed form on the line by sorting);
//! * tape ops: [`pairwise_cost`] builds a differentiable cost matrix from two point clouds, and
//!   [`wasserstein`] turns any cost matrix on the tape into the scalar `W`, whose VJP is the
//!   plan held constant (so second derivatives come from the cost alone).
//!   [`wasserstein_points`] composes the two; [`Whitening`] maps points to a data set's
//!   leading principal axes at unit variance, for a ground cost in which weak directions count.
//!
//! Every failure that depends on data is a typed [`Error`](crate::Error): negative, non-finite
//! or empty weights, totals that do not agree ([`Error::InvalidInput`](crate::Error::InvalidInput)),
//! NaN costs ([`Error::NonFinite`](crate::Error::NonFinite)), an exhausted iteration cap or a
//! failed certificate ([`Error::NotConverged`](crate::Error::NotConverged)). See `docs/ot.md`.

mod assignment;
mod cost;
mod marginals;
mod network_simplex;
mod one_d;
mod sinkhorn;
mod transport;
mod wasserstein;
mod whitening;

pub use cost::{pairwise_cost, pairwise_cost_tensor, Ground};
pub use marginals::{balance_marginals, uniform_weights, MARGINAL_RTOL};
pub use network_simplex::{network_simplex, NetworkSimplexConfig};
pub use one_d::{wasserstein_1d, Transport1d};
pub use sinkhorn::{sinkhorn_log, EntropicTransport, SinkhornConfig};
pub use transport::{verify_certificate, PlanEntry, Transport};
pub use wasserstein::{wasserstein, wasserstein_points, Method, Weights};
pub use whitening::Whitening;
