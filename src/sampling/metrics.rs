//! Scores of a sampler that returns samples `X` with their model log-density `log p(X)`:
//! importance weights against an unnormalised target, log-normaliser error, effective sample
//! size, per-dimension standard deviations and the entropic transport distance to exact samples.

use super::targets::{Reference, Target};
use crate::error::{Error, Result};
use crate::ot::{pairwise_cost_tensor, sinkhorn_log, Ground, SinkhornConfig};
use crate::tensor::Tensor;

/// Settings of [`evaluate`].
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    /// Samples (first rows of `X`) and exact samples compared by Sinkhorn; 0 skips it
    /// (default 2 000).
    pub sinkhorn_samples: usize,
    /// The entropic regularisation ε of the Sinkhorn distance (default `1e-3`), in the units of
    /// the unsquared Euclidean ground cost.
    pub epsilon: f64,
    /// Sinkhorn's stopping tolerance on the column marginals `‖Pᵀ1 − b‖₂` (default `1e-5`;
    /// at ε = 1e-3 the iterations converge slowly, and the cost moves by about
    /// `tol · max C`).
    pub tol: f64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            sinkhorn_samples: 2000,
            epsilon: 1e-3,
            tol: 1e-5,
        }
    }
}

/// The four scores of the issue, plus the importance-sampling estimate of `log Z` and the
/// number of samples that diverged.
///
/// A diverged sample (a NaN row of `X`, as [`transport`](super::transport) marks a row that
/// left the finite range under [`OnDivergence::Mark`](super::OnDivergence::Mark)) went to
/// where `q` vanishes: it has weight 0 in the ESS and the importance-sampling estimate, which
/// count all `N` samples, and is left out of the other scores.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleMetrics {
    /// `mean(log w) − log Z` over the samples that stayed finite, with
    /// `log w = log q(X) − log p(X)` (≤ 0 in expectation: the evidence lower bound minus the
    /// truth).
    pub delta_log_z: f64,
    /// `log mean(w) − log Z` (the importance-sampling estimate minus the truth).
    pub delta_log_z_is: f64,
    /// The normalised effective sample size `(Σw)² / (N Σw²)` in `(0, 1]`.
    pub ess: f64,
    /// Samples that diverged (NaN rows of `X`), out of `N`.
    pub diverged: usize,
    /// `(1/d) Σᵢ |sdᵢ(X) − sdᵢ|`: the unweighted sample standard deviation per dimension against
    /// the reference.
    pub delta_std: f64,
    /// The Sinkhorn transport cost `⟨P_ε, C⟩` (ground cost `‖x − y‖₂`) between the first
    /// samples of `X` and as many exact samples; `None` when skipped.
    pub sinkhorn: Option<f64>,
}

/// `log w = log q(X) − log p(X)` for each row of `X` `[N, d]`.
///
/// # Panics
/// If `log_p` does not have one entry per row.
#[track_caller]
pub fn log_weights(target: &Target, x: &Tensor, log_p: &[f64]) -> Vec<f64> {
    let lq = target.log_q(x);
    assert_eq!(
        lq.len(),
        log_p.len(),
        "log_weights: {} samples but {} log-densities",
        lq.len(),
        log_p.len()
    );
    lq.iter().zip(log_p).map(|(a, b)| a - b).collect()
}

/// `log Σ exp(aᵢ)`, shifted by the maximum.
pub fn log_sum_exp(a: &[f64]) -> f64 {
    let top = a.iter().fold(f64::NEG_INFINITY, |s, &x| s.max(x));
    if !top.is_finite() {
        return top;
    }
    top + a.iter().map(|x| (x - top).exp()).sum::<f64>().ln()
}

/// The normalised effective sample size `(Σw)² / (N Σw²)` from log-weights, computed as
/// `exp(2 LSE(log w) − LSE(2 log w) − log N)`.
pub fn normalised_ess(log_w: &[f64]) -> f64 {
    let twice: Vec<f64> = log_w.iter().map(|l| 2.0 * l).collect();
    (2.0 * log_sum_exp(log_w) - log_sum_exp(&twice) - (log_w.len() as f64).ln()).exp()
}

/// Per-dimension sample standard deviations (divisor `N`) of `X` `[N, d]`.
pub fn column_std(x: &Tensor) -> Vec<f64> {
    let (n, d) = (x.shape()[0], x.shape()[1]);
    let mut m = vec![0.0; d];
    let mut s = vec![0.0; d];
    for row in x.data().chunks(d) {
        for (i, v) in row.iter().enumerate() {
            m[i] += v;
            s[i] += v * v;
        }
    }
    (0..d)
        .map(|i| {
            let mean = m[i] / n as f64;
            (s[i] / n as f64 - mean * mean).max(0.0).sqrt()
        })
        .collect()
}

/// The Sinkhorn distance `⟨P_ε, C⟩` between two point clouds of equal weights, ground cost
/// `‖x − y‖₂`, log-domain iterations with ε-scaling ([`sinkhorn_log`]).
///
/// # Errors
/// As [`sinkhorn_log`] (e.g. [`Error::NotConverged`]).
pub fn sinkhorn_distance(x: &Tensor, y: &Tensor, epsilon: f64, tol: f64) -> Result<f64> {
    let cost = pairwise_cost_tensor(x, y, Ground::L2);
    let (n, m) = (x.shape()[0], y.shape()[0]);
    let cfg = SinkhornConfig {
        epsilon,
        tol,
        ..SinkhornConfig::default()
    };
    let plan = sinkhorn_log(
        &vec![1.0 / n as f64; n],
        &vec![1.0 / m as f64; m],
        &cost,
        &cfg,
    )?;
    Ok(plan.cost)
}

/// All scores of samples `X` `[N, d]` with model log-densities `log_p` against `target` (its
/// [`Reference`] from quadrature) and exact samples `exact` (used for Sinkhorn).
///
/// # Errors
/// [`Error::NonFinite`] if a log-weight of a finite sample is not finite, or if every sample
/// diverged; Sinkhorn's errors.
///
/// # Panics
/// If `log_p` does not have one entry per row of `X`.
pub fn evaluate(
    target: &Target,
    reference: &Reference,
    x: &Tensor,
    log_p: &[f64],
    exact: &Tensor,
    cfg: &MetricsConfig,
) -> Result<SampleMetrics> {
    let d = x.shape()[1];
    assert_eq!(
        log_p.len(),
        x.shape()[0],
        "sampling::evaluate: {} samples but {} log-densities",
        x.shape()[0],
        log_p.len()
    );
    let kept: Vec<usize> = (0..x.shape()[0])
        .filter(|&r| !x.data()[r * d..(r + 1) * d].iter().any(|v| v.is_nan()))
        .collect();
    let n = log_p.len() as f64;
    let diverged = log_p.len() - kept.len();
    if kept.is_empty() {
        return Err(Error::NonFinite {
            op: "sampling::evaluate".into(),
            what: format!("every sample ({diverged} of {diverged} diverged)"),
        });
    }
    let x = if diverged > 0 {
        let rows = kept
            .iter()
            .flat_map(|&r| x.data()[r * d..(r + 1) * d].iter().copied());
        Tensor::from_vec(rows.collect(), &[kept.len(), d])
    } else {
        x.clone()
    };
    let kept_log_p: Vec<f64> = kept.iter().map(|&r| log_p[r]).collect();
    let lw = log_weights(target, &x, &kept_log_p);
    if let Some(bad) = lw.iter().find(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            op: "sampling::evaluate".into(),
            what: format!("log-weight {bad}"),
        });
    }
    let mean_lw = lw.iter().sum::<f64>() / lw.len() as f64;
    // Diverged samples have weight 0: they count in N, not in the sums.
    let mut all_lw = lw.clone();
    all_lw.resize(log_p.len(), f64::NEG_INFINITY);
    let sd = column_std(&x);
    let delta_std = sd
        .iter()
        .zip(&reference.std)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / sd.len() as f64;
    let k = cfg.sinkhorn_samples.min(x.shape()[0]).min(exact.shape()[0]);
    let sinkhorn = if k > 0 {
        let a = crate::tensor::kernels::slice(&x, 0, 0, k);
        let b = crate::tensor::kernels::slice(exact, 0, 0, k);
        Some(sinkhorn_distance(&a, &b, cfg.epsilon, cfg.tol)?)
    } else {
        None
    };
    Ok(SampleMetrics {
        delta_log_z: mean_lw - reference.log_z,
        delta_log_z_is: log_sum_exp(&all_lw) - n.ln() - reference.log_z,
        ess: normalised_ess(&all_lw),
        diverged,
        delta_std,
        sinkhorn,
    })
}

/// CSV text of samples and log-weights: header `x0,…,x{d−1},log_w`, one row per sample.
pub fn samples_csv(x: &Tensor, log_w: &[f64]) -> String {
    let d = x.shape()[1];
    let mut s: String = (0..d).map(|i| format!("x{i},")).collect();
    s.push_str("log_w\n");
    for (row, lw) in x.data().chunks(d).zip(log_w) {
        for v in row {
            s.push_str(&format!("{v:.10e},"));
        }
        s.push_str(&format!("{lw:.10e}\n"));
    }
    s
}
