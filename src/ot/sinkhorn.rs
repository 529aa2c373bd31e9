//! Entropic transport by Sinkhorn iterations in the log domain, with ε-scaling.

use super::marginals::{balance_marginals, check_cost, invalid};
use crate::error::{Error, Result};
use crate::tensor::fastmath::exp_into;
use crate::Tensor;
use rayon::prelude::*;

const OP: &str = "sinkhorn_log";

/// Settings of [`sinkhorn_log`].
#[derive(Clone, Debug)]
pub struct SinkhornConfig {
    /// The target regularisation ε, in the units of the cost (default `0.01`).
    pub epsilon: f64,
    /// The first ε of the schedule; `None` (default) means `max C − min C` (at least ε).
    pub epsilon_start: Option<f64>,
    /// Factor by which ε shrinks between stages, in `(0, 1)` (default `0.5`).
    pub scaling: f64,
    /// Stop when `‖Pᵀ1 − b‖₂ ≤ tol` with the rows exact (default `1e-9`, POT's `stopThr`).
    pub tol: f64,
    /// Cap on Sinkhorn iterations over all stages (default `100 000`).
    pub max_iterations: usize,
}

impl Default for SinkhornConfig {
    fn default() -> Self {
        SinkhornConfig {
            epsilon: 0.01,
            epsilon_start: None,
            scaling: 0.5,
            tol: 1e-9,
            max_iterations: 100_000,
        }
    }
}

/// The entropic optimal plan `P_ε`, its costs and potentials.
#[derive(Clone, Debug)]
pub struct EntropicTransport {
    /// `⟨P_ε, C⟩`, the transport cost of the entropic plan.
    pub cost: f64,
    /// `OT_ε = ⟨P_ε, C⟩ + ε KL(P_ε ‖ a⊗b)`; its gradient in `C` is `P_ε`.
    pub objective: f64,
    /// The dense `n×m` plan `Pᵢⱼ = aᵢ bⱼ exp((fᵢ + gⱼ − Cᵢⱼ)/ε)`.
    pub plan: Tensor,
    /// Potentials `f` of the sources.
    pub alpha: Vec<f64>,
    /// Potentials `g` of the targets.
    pub beta: Vec<f64>,
    /// Iterations over all stages.
    pub iterations: usize,
    /// The final `‖Pᵀ1 − b‖₂` (the rows match `a` to rounding).
    pub marginal_error: f64,
}

/// Solves `min_P ⟨P, C⟩ + ε KL(P ‖ a⊗b)` over plans with marginals `a`, `b` by alternating the
/// exact updates of the dual potentials in the log domain,
///
/// ```text
/// gⱼ ← −ε log Σᵢ aᵢ exp((fᵢ − Cᵢⱼ)/ε),     fᵢ ← −ε log Σⱼ bⱼ exp((gⱼ − Cᵢⱼ)/ε),
/// ```
///
/// each a log-sum-exp shifted by its maximum, so no ε underflows. ε starts at
/// `epsilon_start` and shrinks by `scaling` until it reaches `epsilon`, each stage warm-started
/// from the last (without this, small ε stalls). After each `f` update the rows are exact and
/// the next `g` update gives the column violation for free:
/// `(Pᵀ1)ⱼ = bⱼ exp((gⱼ − gⱼ⁺)/ε)`. Intermediate stages stop at `max(tol, 1e-6·Σa)`, the last at
/// `tol`. Zero weights are allowed.
///
/// # Errors
/// Invalid weights or costs as for [`network_simplex`](super::network_simplex), ε not positive
/// and finite ([`Error::InvalidInput`]), and [`Error::NotConverged`] if the cap is reached.
///
/// # Panics
/// If `cost` is not `n×m`.
#[track_caller]
pub fn sinkhorn_log(
    a: &[f64],
    b: &[f64],
    cost: &Tensor,
    cfg: &SinkhornConfig,
) -> Result<EntropicTransport> {
    let (a, b) = balance_marginals(OP, a, b)?;
    let (n, m) = (a.len(), b.len());
    check_cost(OP, cost, n, m)?;
    let eps = cfg.epsilon;
    if !(eps > 0.0 && eps.is_finite() && cfg.scaling > 0.0 && cfg.scaling < 1.0) {
        return Err(invalid(
            OP,
            format!(
                "need ε > 0 and 0 < scaling < 1, got {eps:e}, {}",
                cfg.scaling
            ),
        ));
    }
    let c = cost.data();
    let ct = transpose(c, n, m);
    let (la, lb): (Vec<f64>, Vec<f64>) = (
        a.iter().map(|x| x.ln()).collect(),
        b.iter().map(|x| x.ln()).collect(),
    );
    let spread = c.iter().fold(f64::NEG_INFINITY, |s, &x| s.max(x))
        - c.iter().fold(f64::INFINITY, |s, &x| s.min(x));
    let mut stage_eps = cfg.epsilon_start.unwrap_or(spread).max(eps);
    let mass: f64 = a.iter().sum();
    let (mut f, mut g, mut g_next) = (vec![0.0; n], vec![0.0; m], vec![0.0; m]);
    let (mut iterations, mut last_err) = (0, f64::INFINITY);
    loop {
        let last = stage_eps <= eps;
        let e = if last { eps } else { stage_eps };
        let tol = if last {
            cfg.tol
        } else {
            cfg.tol.max(1e-6 * mass)
        };
        c_transform(&ct, &la, &f, e, &mut g);
        let err = loop {
            if iterations >= cfg.max_iterations {
                return Err(Error::NotConverged {
                    op: format!("{OP} (ε = {e:e})"),
                    iterations,
                    residual: last_err,
                });
            }
            c_transform(c, &lb, &g, e, &mut f);
            c_transform(&ct, &la, &f, e, &mut g_next);
            iterations += 1;
            let err = column_violation(&b, &g, &g_next, e);
            if err <= tol {
                break err;
            }
            last_err = err;
            if !err.is_finite() {
                return Err(Error::NotConverged {
                    op: format!("{OP} (ε = {e:e})"),
                    iterations,
                    residual: err,
                });
            }
            std::mem::swap(&mut g, &mut g_next);
        };
        if last {
            return Ok(finish(c, &a, &b, f, g, eps, iterations, err));
        }
        stage_eps = (stage_eps * cfg.scaling).max(eps);
    }
}

/// `out_k = −ε log Σₗ wₗ exp((pₗ − Mₖₗ)/ε)` for each row `k` of `M` (`lw = log w`).
fn c_transform(mat: &[f64], lw: &[f64], p: &[f64], eps: f64, out: &mut [f64]) {
    let len = lw.len();
    let inv = 1.0 / eps;
    let row_lse = |row: &[f64], buf: &mut Vec<f64>, ex: &mut Vec<f64>| -> f64 {
        buf.clear();
        buf.extend(
            row.iter()
                .zip(lw)
                .zip(p)
                .map(|((c, l), q)| l + (q - c) * inv),
        );
        let max = buf.iter().fold(f64::NEG_INFINITY, |s, &x| s.max(x));
        buf.iter_mut().for_each(|x| *x -= max);
        ex.resize(len, 0.0);
        exp_into(buf, ex);
        -eps * (max + ex.iter().sum::<f64>().ln())
    };
    if out.len() * len >= 1 << 15 && crate::parallel::kernel_threads() > 1 {
        out.par_iter_mut()
            .zip(mat.par_chunks_exact(len))
            .for_each_init(
                || (Vec::with_capacity(len), Vec::with_capacity(len)),
                |(buf, ex), (o, row)| *o = row_lse(row, buf, ex),
            );
    } else {
        let (mut buf, mut ex) = (Vec::with_capacity(len), Vec::with_capacity(len));
        for (o, row) in out.iter_mut().zip(mat.chunks_exact(len)) {
            *o = row_lse(row, &mut buf, &mut ex);
        }
    }
}

/// `‖b ⊙ (exp((g − g⁺)/ε) − 1)‖₂`: the column violation of the plan of `(f, g)`.
fn column_violation(b: &[f64], g: &[f64], g_next: &[f64], eps: f64) -> f64 {
    b.iter()
        .zip(g.iter().zip(g_next))
        .map(|(bj, (p, q))| {
            let d = bj * (((p - q) / eps).exp() - 1.0);
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

fn transpose(c: &[f64], n: usize, m: usize) -> Vec<f64> {
    let mut t = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            t[j * n + i] = c[i * m + j];
        }
    }
    t
}

#[allow(clippy::too_many_arguments)]
fn finish(
    c: &[f64],
    a: &[f64],
    b: &[f64],
    f: Vec<f64>,
    g: Vec<f64>,
    eps: f64,
    iterations: usize,
    marginal_error: f64,
) -> EntropicTransport {
    let (n, m) = (a.len(), b.len());
    let mut plan = vec![0.0; n * m];
    let (mut cost, mut kl) = (0.0, 0.0);
    let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    for i in 0..n {
        for j in 0..m {
            let k = i * m + j;
            let log_ratio = (f[i] + g[j] - c[k]) / eps;
            let p = a[i] * b[j] * log_ratio.exp();
            plan[k] = p;
            cost += p * c[k];
            if p > 0.0 {
                kl += p * log_ratio - p;
            }
        }
    }
    kl += sa * sb;
    EntropicTransport {
        cost,
        objective: cost + eps * kl,
        plan: Tensor::from_vec(plan, &[n, m]),
        alpha: f,
        beta: g,
        iterations,
        marginal_error,
    }
}
