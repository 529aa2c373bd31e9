//! Gaussian random fields with the squared-exponential covariance, sampled exactly on given
//! points through a Cholesky factor of the covariance matrix.
//!
//! ```text
//! k(x, x′) = σ² exp(−‖x − x′‖² / ρ),    K + δ I = L Lᵀ,    sample = L z,  z ~ N(0, I).
//! ```
//!
//! Note the length scale convention: `ρ` divides the *squared* distance, with no factor 2
//! (`ρ = 2ℓ²` for the usual `exp(−r²/(2ℓ²))`). `K` is positive semi-definite but numerically
//! singular for close points or long length scales, so a jitter `δ` is added to the diagonal,
//! starting at `GrfConfig::jitter · σ²` and growing tenfold until the factorisation succeeds
//! or exceeds `GrfConfig::max_jitter · σ²`. Samples are therefore exact draws from
//! `N(0, K + δ I)`; [`GaussianRandomField::jitter`] reports the `δ` used.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use faer::linalg::solvers::Llt;
use faer::{MatRef, Side};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const OP: &str = "GaussianRandomField";

/// Jitter schedule for the Cholesky factorisation (relative to `σ²`).
#[derive(Clone, Debug)]
pub struct GrfConfig {
    /// First jitter tried, relative to `σ²` (default `1e-10`; `0` tries the bare kernel first).
    pub jitter: f64,
    /// Largest jitter tried, relative to `σ²` (default `1e-4`).
    pub max_jitter: f64,
}

impl Default for GrfConfig {
    fn default() -> Self {
        GrfConfig {
            jitter: 1e-10,
            max_jitter: 1e-4,
        }
    }
}

/// A zero-mean Gaussian random field on a fixed set of points, factorised once.
#[derive(Clone, Debug)]
pub struct GaussianRandomField {
    n: usize,
    /// `L`, row-major `n × n`, lower triangular.
    l: Vec<f64>,
    delta: f64,
}

/// The covariance matrix `K[i, j] = σ² exp(−‖xᵢ − xⱼ‖² / ρ)` of `points` `[N, d]`, as `[N, N]`.
///
/// # Panics
/// If `points` is not rank 2.
#[track_caller]
pub fn squared_exponential(points: &Tensor, sigma2: f64, rho: f64) -> Tensor {
    assert_eq!(
        points.ndim(),
        2,
        "squared_exponential: points must be [N, d]"
    );
    let (n, d) = (points.shape()[0], points.shape()[1]);
    let p = points.data();
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let r2: f64 = (0..d).map(|c| (p[i * d + c] - p[j * d + c]).powi(2)).sum();
            let v = sigma2 * (-r2 / rho).exp();
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
    }
    Tensor::from_vec(k, &[n, n])
}

impl GaussianRandomField {
    /// Builds the covariance of `points` `[N, d]` and factorises `K + δ I` with the smallest
    /// jitter `δ` of the schedule in `cfg` that gives a Cholesky factor whose pivots are all
    /// at least `δ/2` (exact arithmetic gives pivots `≥ δ`).
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN/∞ points or parameters; [`Error::InvalidInput`] for
    /// `σ² ≤ 0`, `ρ ≤ 0`, an empty point set, or a bad jitter schedule
    /// (`0 ≤ jitter ≤ max_jitter` required); [`Error::Singular`] when even `max_jitter` fails.
    ///
    /// # Panics
    /// If `points` is not rank 2.
    #[track_caller]
    pub fn new(points: &Tensor, sigma2: f64, rho: f64, cfg: &GrfConfig) -> Result<Self> {
        assert_eq!(
            points.ndim(),
            2,
            "{OP}: points must be [N, d], got {:?}",
            points.shape()
        );
        if points.has_non_finite() || !sigma2.is_finite() || !rho.is_finite() {
            return Err(Error::NonFinite {
                op: OP.into(),
                what: "points, σ² or ρ".into(),
            });
        }
        let invalid = |detail: String| Error::InvalidInput {
            op: OP.into(),
            detail,
        };
        if sigma2 <= 0.0 || rho <= 0.0 {
            return Err(invalid(format!("σ² = {sigma2} and ρ = {rho} must be > 0")));
        }
        let n = points.shape()[0];
        if n == 0 {
            return Err(invalid("no points".into()));
        }
        if !(cfg.jitter >= 0.0 && cfg.max_jitter >= cfg.jitter && cfg.max_jitter.is_finite()) {
            return Err(invalid(format!(
                "jitter schedule {} .. {} (want 0 ≤ jitter ≤ max_jitter < ∞)",
                cfg.jitter, cfg.max_jitter
            )));
        }
        let k = squared_exponential(points, sigma2, rho);
        let mut rel = cfg.jitter;
        loop {
            let delta = rel * sigma2;
            if let Some(l) = factor(k.data(), n, delta) {
                return Ok(GaussianRandomField { n, l, delta });
            }
            if rel >= cfg.max_jitter {
                return Err(Error::Singular {
                    op: OP.into(),
                    detail: format!(
                        "covariance of {n} points not positive definite even with jitter {delta:e}"
                    ),
                });
            }
            rel = if rel == 0.0 {
                cfg.max_jitter.min(1e-12)
            } else {
                (rel * 10.0).min(cfg.max_jitter)
            };
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always `false` (a field has at least one point).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The jitter `δ` (absolute) on the diagonal of the factorised covariance.
    pub fn jitter(&self) -> f64 {
        self.delta
    }

    /// The lower-triangular factor `L` `[N, N]` with `L Lᵀ = K + δ I`.
    pub fn factor(&self) -> Tensor {
        Tensor::from_vec(self.l.clone(), &[self.n, self.n])
    }

    /// `batch` independent samples `[batch, N]`, row `b` = `L z_b` with `z_b ~ N(0, I)` drawn
    /// from ChaCha8 seeded with `seed` (same seed, same samples).
    pub fn sample(&self, batch: usize, seed: u64) -> Tensor {
        let n = self.n;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = vec![0.0; batch * n];
        let mut z = vec![0.0; n];
        for row in out.chunks_mut(n) {
            for v in z.iter_mut() {
                *v = StandardNormal.sample(&mut rng);
            }
            for (i, o) in row.iter_mut().enumerate() {
                let li = &self.l[i * n..i * n + i + 1];
                *o = li.iter().zip(&z).map(|(a, b)| a * b).sum();
            }
        }
        Tensor::from_vec(out, &[batch, n])
    }
}

/// Cholesky factor of `K + δ I` (row-major lower), or `None` if faer fails or a pivot `L_ii²`
/// falls below `δ/2` (or is not positive).
fn factor(k: &[f64], n: usize, delta: f64) -> Option<Vec<f64>> {
    let mut a = k.to_vec();
    for i in 0..n {
        a[i * n + i] += delta;
    }
    let llt = Llt::new(MatRef::from_row_major_slice(&a, n, n), Side::Lower).ok()?;
    let l = llt.L();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        let p = l[(i, i)] * l[(i, i)];
        if !(p > 0.0 && p >= 0.5 * delta && p.is_finite()) {
            return None;
        }
        for j in 0..=i {
            out[i * n + j] = l[(i, j)];
        }
    }
    Some(out)
}
