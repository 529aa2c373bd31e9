//! The closed form on the line: the monotone (quantile) coupling.

use super::marginals::{balance_marginals, invalid};
use super::transport::PlanEntry;
use crate::error::{Error, Result};

const OP: &str = "wasserstein_1d";

/// The optimal transport on ℝ for a cost `|x − y|ᵖ`, `p ≥ 1`.
#[derive(Clone, Debug)]
pub struct Transport1d {
    /// `Wₚᵖ = ∫₀ᴹ |F⁻¹(t) − G⁻¹(t)|ᵖ dt = Σ Pᵢⱼ |xᵢ − yⱼ|ᵖ` (`M = Σa`).
    pub cost: f64,
    /// The nonzeros of the monotone plan (at most `n + m − 1`), in increasing quantile order.
    pub plan: Vec<PlanEntry>,
}

/// `Wₚᵖ` between `Σ aᵢ δ(xᵢ)` and `Σ bⱼ δ(yⱼ)` by sorting: for a convex cost `|x − y|ᵖ`
/// (`p ≥ 1`) the comonotone coupling of the quantile functions `F⁻¹, G⁻¹` is optimal, so the
/// plan is built by walking both sorted lists and moving `min(remaining aᵢ, remaining bⱼ)` at
/// each step. `O((n + m) log(n + m))`. Weights are checked and balanced as for
/// [`network_simplex`](super::network_simplex); `W₁` and `W₂²` are `p = 1, 2`.
///
/// # Errors
/// [`Error::NonFinite`] for NaN or infinite positions, [`Error::InvalidInput`] for `p < 1`
/// or bad weights.
///
/// # Panics
/// If `x` and `a` (or `y` and `b`) differ in length.
#[track_caller]
pub fn wasserstein_1d(x: &[f64], a: &[f64], y: &[f64], b: &[f64], p: f64) -> Result<Transport1d> {
    assert!(
        x.len() == a.len() && y.len() == b.len(),
        "{OP}: {} positions with {} weights, {} positions with {} weights",
        x.len(),
        a.len(),
        y.len(),
        b.len()
    );
    if !(p >= 1.0 && p.is_finite()) {
        return Err(invalid(OP, format!("exponent p = {p} must be ≥ 1")));
    }
    for (name, v) in [("x", x), ("y", y)] {
        if let Some(i) = v.iter().position(|t| !t.is_finite()) {
            return Err(Error::NonFinite {
                op: OP.into(),
                what: format!("position {name}[{i}] = {}", v[i]),
            });
        }
    }
    let (a, b) = balance_marginals(OP, a, b)?;
    let order = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        idx
    };
    let (ox, oy) = (order(x), order(y));
    let (mut ra, mut rb) = (a[ox[0]], b[oy[0]]);
    let (mut k, mut l) = (0, 0);
    let mut plan = Vec::with_capacity(x.len() + y.len());
    let mut cost = 0.0;
    loop {
        let (i, j) = (ox[k], oy[l]);
        let mass = ra.min(rb);
        if mass > 0.0 {
            plan.push(PlanEntry { i, j, mass });
            cost += mass * (x[i] - y[j]).abs().powf(p);
        }
        ra -= mass;
        rb -= mass;
        // Advance the side that is used up; at the very end both are (to rounding).
        let x_done = ra <= rb;
        if x_done && k + 1 < ox.len() {
            k += 1;
            ra = a[ox[k]];
        } else if l + 1 < oy.len() {
            l += 1;
            rb = b[oy[l]];
        } else if k + 1 < ox.len() {
            k += 1;
            ra = a[ox[k]];
        } else {
            break;
        }
    }
    Ok(Transport1d { cost, plan })
}
