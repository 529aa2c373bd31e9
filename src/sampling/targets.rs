//! Unnormalised benchmark densities whose coordinates are independent: `q(x) = Πᵢ fᵢ(xᵢ)`.
//!
//! Because the density factorises, everything a sampler is scored against reduces to 1-D
//! integrals: `log Z = Σᵢ log ∫ fᵢ`, the per-dimension mean and standard deviation, and exact
//! samples by inverse-CDF sampling of each factor.
//!
//! * **GMM** (d = 2): nine equal modes `N(m, 0.3 I)` at `m ∈ {−5, 0, 5}²`, normalised, so
//!   `log Z = 0`; it is the product of two 1-D three-mode mixtures, per-dimension variance
//!   `0.3 + (25 + 0 + 25)/3`, standard deviation `4.119061…`.
//! * **Many-Well** (d, m, δ): `q(x) = exp(−Σ_{i≤m}(xᵢ² − δ)² − ½Σ_{i>m} xᵢ²)`, `2ᵐ` modes.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One 1-D factor `f(x)` of a factorised density, with `log f` and its first two derivatives in
/// closed form.
#[derive(Clone, Debug, PartialEq)]
pub enum Factor {
    /// The normalised equal-weight mixture `(1/K) Σₖ N(x; mₖ, s²)`.
    Mixture {
        /// The means `mₖ`.
        means: Vec<f64>,
        /// The common variance `s²`.
        var: f64,
    },
    /// The double well `exp(−(x² − δ)²)` (unnormalised), modes at `±√δ`.
    DoubleWell {
        /// `δ > 0`.
        delta: f64,
    },
    /// The unnormalised standard Gaussian `exp(−x²/2)`.
    Gaussian,
}

impl Factor {
    /// `(log f(x), (log f)′(x), (log f)″(x))`.
    ///
    /// For the mixture, with responsibilities `rₖ ∝ exp(−(x − mₖ)²/(2s²))` and
    /// `gₖ = −(x − mₖ)/s²`: `(log f)′ = Σ rₖgₖ` and `(log f)″ = Σ rₖ(gₖ² − 1/s²) − ((log f)′)²`.
    pub fn log_derivs(&self, x: f64) -> (f64, f64, f64) {
        match self {
            Factor::Mixture { means, var } => {
                // Relative to the nearest mean's exponent, with no allocation and one log: this
                // runs at every collocation point of every training step.
                let expo = |m: f64| -(x - m) * (x - m) / (2.0 * var);
                let top = means.iter().fold(f64::NEG_INFINITY, |a, &m| a.max(expo(m)));
                let (mut s, mut g, mut h) = (0.0, 0.0, 0.0);
                for &m in means {
                    let r = (expo(m) - top).exp();
                    let gk = -(x - m) / var;
                    s += r;
                    g += r * gk;
                    h += r * (gk * gk - 1.0 / var);
                }
                let k = means.len() as f64;
                let norm = k * (2.0 * std::f64::consts::PI * var).sqrt();
                let (g, h) = (g / s, h / s);
                (top + (s / norm).ln(), g, h - g * g)
            }
            Factor::DoubleWell { delta } => {
                let u = x * x - delta;
                (-u * u, -4.0 * x * u, -4.0 * (3.0 * x * x - delta))
            }
            Factor::Gaussian => (-0.5 * x * x, -x, -1.0),
        }
    }

    /// An interval outside which `f` is below `e⁻⁹⁰` of its peak (the quadrature range).
    pub fn support(&self) -> (f64, f64) {
        match self {
            Factor::Mixture { means, var } => {
                let lo = means.iter().fold(f64::INFINITY, |a, &b| a.min(b));
                let hi = means.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                let w = (180.0 * var).sqrt();
                (lo - w, hi + w)
            }
            Factor::DoubleWell { delta } => {
                let w = (delta.max(0.0) + 90f64.sqrt()).sqrt();
                (-w, w)
            }
            Factor::Gaussian => (-180f64.sqrt(), 180f64.sqrt()),
        }
    }
}

/// Reference values of one factor or of a whole target, from quadrature.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// `log Z = log ∫ q`.
    pub log_z: f64,
    /// Per-dimension means.
    pub mean: Vec<f64>,
    /// Per-dimension standard deviations.
    pub std: Vec<f64>,
}

/// `(log ∫f, E x, sd x)` of one factor by composite Simpson's rule with `panels` (even) panels on
/// [`Factor::support`]; the integrand is scaled by `exp(−max log f)` so nothing overflows.
///
/// # Errors
/// [`Error::InvalidInput`] if `panels` is odd or below 2.
pub fn factor_moments(f: &Factor, panels: usize) -> Result<(f64, f64, f64)> {
    if panels < 2 || panels % 2 == 1 {
        return Err(Error::InvalidInput {
            op: "factor_moments".into(),
            detail: format!("Simpson's rule needs an even number ≥ 2 of panels, got {panels}"),
        });
    }
    let (lo, hi) = f.support();
    let h = (hi - lo) / panels as f64;
    let xs: Vec<f64> = (0..=panels).map(|i| lo + i as f64 * h).collect();
    let lf: Vec<f64> = xs.iter().map(|&x| f.log_derivs(x).0).collect();
    let top = lf.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let mut m = [0.0; 3];
    for (i, (&x, &l)) in xs.iter().zip(&lf).enumerate() {
        let w = if i == 0 || i == panels {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        } * (l - top).exp();
        m[0] += w;
        m[1] += w * x;
        m[2] += w * x * x;
    }
    let mass = m[0] * h / 3.0;
    let mean = m[1] / m[0];
    let var = (m[2] / m[0] - mean * mean).max(0.0);
    Ok((mass.ln() + top, mean, var.sqrt()))
}

/// A tabulated inverse CDF of one factor: the CDF by the trapezoidal rule on `cells` equal
/// cells of the support, inverted by bisection and linear interpolation within the cell.
#[derive(Clone, Debug)]
pub struct InverseCdf {
    xs: Vec<f64>,
    cdf: Vec<f64>,
}

impl InverseCdf {
    /// Tabulates `f` on `cells` cells (at least 2).
    pub fn new(f: &Factor, cells: usize) -> InverseCdf {
        let cells = cells.max(2);
        let (lo, hi) = f.support();
        let h = (hi - lo) / cells as f64;
        let xs: Vec<f64> = (0..=cells).map(|i| lo + i as f64 * h).collect();
        let lf: Vec<f64> = xs.iter().map(|&x| f.log_derivs(x).0).collect();
        let top = lf.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let dens: Vec<f64> = lf.iter().map(|l| (l - top).exp()).collect();
        let mut cdf = vec![0.0; cells + 1];
        for i in 1..=cells {
            cdf[i] = cdf[i - 1] + 0.5 * h * (dens[i - 1] + dens[i]);
        }
        let total = cdf[cells];
        cdf.iter_mut().for_each(|c| *c /= total);
        InverseCdf { xs, cdf }
    }

    /// `F⁻¹(u)` for `u ∈ [0, 1]`.
    pub fn quantile(&self, u: f64) -> f64 {
        let i = self
            .cdf
            .partition_point(|&c| c < u)
            .clamp(1, self.cdf.len() - 1);
        let (c0, c1) = (self.cdf[i - 1], self.cdf[i]);
        let frac = if c1 > c0 { (u - c0) / (c1 - c0) } else { 0.5 };
        self.xs[i - 1] + frac.clamp(0.0, 1.0) * (self.xs[i] - self.xs[i - 1])
    }
}

/// A factorised unnormalised density `q(x) = Πᵢ fᵢ(xᵢ)` with a collocation box.
#[derive(Clone, Debug)]
pub struct Target {
    /// A short name (`gmm`, `mw5`, `mw50`, …).
    pub name: String,
    /// One factor per dimension.
    pub factors: Vec<Factor>,
    /// The collocation box `K`, one interval per dimension.
    pub collocation: Vec<(f64, f64)>,
}

impl Target {
    /// The 9-mode GMM in d = 2 (modes `{−5, 0, 5}²`, covariance `0.3 I`, `log Z = 0`); box
    /// `±7.74` (the choice).
    pub fn gmm() -> Target {
        let f = Factor::Mixture {
            means: vec![-5.0, 0.0, 5.0],
            var: 0.3,
        };
        Target {
            name: "gmm".into(),
            factors: vec![f.clone(), f],
            collocation: vec![(-7.74, 7.74); 2],
        }
    }

    /// Many-Well in dimension `d` with `m ≤ d` double wells of depth `δ`; box `±(√δ + 2.5)` on
    /// well dimensions and `±5` on the Gaussian ones.
    ///
    /// # Panics
    /// If `m > d` or `δ` is not positive.
    #[track_caller]
    pub fn many_well(d: usize, m: usize, delta: f64) -> Target {
        assert!(
            m <= d && delta > 0.0,
            "Target::many_well: need m ≤ d and δ > 0, got d = {d}, m = {m}, δ = {delta}"
        );
        let w = delta.sqrt() + 2.5;
        let factors = (0..d)
            .map(|i| {
                if i < m {
                    Factor::DoubleWell { delta }
                } else {
                    Factor::Gaussian
                }
            })
            .collect();
        let collocation = (0..d)
            .map(|i| if i < m { (-w, w) } else { (-5.0, 5.0) })
            .collect();
        Target {
            name: format!("mw{d}"),
            factors,
            collocation,
        }
    }

    /// The targets by name: `gmm`, `mw5` (d = 5, m = 5, δ = 4), `mw50` (d = 50, m = 5,
    /// δ = 2).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for another name.
    pub fn by_name(name: &str) -> Result<Target> {
        match name {
            "gmm" => Ok(Target::gmm()),
            "mw5" => Ok(Target::many_well(5, 5, 4.0)),
            "mw50" => Ok(Target::many_well(50, 5, 2.0)),
            _ => Err(Error::InvalidInput {
                op: "Target::by_name".into(),
                detail: format!("unknown target `{name}` (gmm, mw5, mw50)"),
            }),
        }
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.factors.len()
    }

    /// `log q`, `∇ log q` and `Δ log q` at the rows of `x` `[B, d]`: shapes `[B]`, `[B, d]`, `[B]`.
    ///
    /// # Panics
    /// If `x` is not `[B, d]`.
    #[track_caller]
    pub fn log_q_derivs(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        let d = self.dim();
        assert!(
            x.shape().len() == 2 && x.shape()[1] == d,
            "Target::log_q_derivs: x must be [B, {d}], got {:?}",
            x.shape()
        );
        let b = x.shape()[0];
        // The mixture's `exp` and `ln` come from the C library: called with the upper halves of
        // the vector registers dirty (after the products of a training step), each costs many
        // times its usual time.
        crate::tensor::clear_upper_simd_state();
        let (mut v, mut g, mut l) = (vec![0.0; b], vec![0.0; b * d], vec![0.0; b]);
        for (r, row) in x.data().chunks(d).enumerate() {
            for (i, (f, &xi)) in self.factors.iter().zip(row).enumerate() {
                let (a, da, dda) = f.log_derivs(xi);
                v[r] += a;
                g[r * d + i] = da;
                l[r] += dda;
            }
        }
        (
            Tensor::from_vec(v, &[b]),
            Tensor::from_vec(g, &[b, d]),
            Tensor::from_vec(l, &[b]),
        )
    }

    /// `log q` at the rows of `x` `[B, d]`.
    pub fn log_q(&self, x: &Tensor) -> Vec<f64> {
        self.log_q_derivs(x).0.data().to_vec()
    }

    /// `log Z`, means and standard deviations by Simpson's rule with `panels` panels per factor
    /// (identical factors are integrated once).
    ///
    /// # Errors
    /// As [`factor_moments`].
    pub fn reference(&self, panels: usize) -> Result<Reference> {
        let mut cache: Vec<(&Factor, (f64, f64, f64))> = Vec::new();
        let mut out = Reference {
            log_z: 0.0,
            mean: vec![],
            std: vec![],
        };
        for f in &self.factors {
            let m = match cache.iter().find(|(g, _)| *g == f) {
                Some((_, m)) => *m,
                None => {
                    let m = factor_moments(f, panels)?;
                    cache.push((f, m));
                    m
                }
            };
            out.log_z += m.0;
            out.mean.push(m.1);
            out.std.push(m.2);
        }
        Ok(out)
    }

    /// `n` exact samples `[n, d]` (seeded ChaCha8): each coordinate by inverse-CDF sampling of
    /// its factor, tabulated on `cells` cells (`200 000` is ample for every target here).
    pub fn sample(&self, n: usize, cells: usize, seed: u64) -> Tensor {
        let d = self.dim();
        let mut tables: Vec<(&Factor, InverseCdf)> = Vec::new();
        for f in &self.factors {
            if !tables.iter().any(|(g, _)| *g == f) {
                tables.push((f, InverseCdf::new(f, cells)));
            }
        }
        let idx: Vec<usize> = self
            .factors
            .iter()
            .map(|f| tables.iter().position(|(g, _)| *g == f).expect("tabulated"))
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut data = vec![0.0; n * d];
        for row in data.chunks_mut(d.max(1)).take(n) {
            for (x, &k) in row.iter_mut().zip(&idx) {
                *x = tables[k].1.quantile(rng.random::<f64>());
            }
        }
        Tensor::from_vec(data, &[n, d])
    }
}
