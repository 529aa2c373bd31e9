//! Cahn–Hilliard reference simulator for binary two-phase microstructures (the targets of the
//! volume-fraction and two-point-correlation invariances), on plain tensors.
//!
//! The model, on the periodic square `[0, N h)²` sampled at `N × N` points `x = (j h, i h)`:
//!
//! ```text
//! ∂c/∂t = M Δ(f′(c) − κ Δc),   f(c) = (c² − 1)²/4,   f′(c) = c³ − c,
//! E[c]  = Σₓ h² [ (c² − 1)²/4 + κ/2 |∇c|² ]   (non-increasing along solutions),
//! ```
//!
//! with `c ≈ ±1` in the two phases. The mean of `c` is conserved.
//!
//! **Scheme** (stabilised semi-implicit Fourier spectral, Chen–Shen / Shen–Yang): with `k²` the
//! spectral symbol of `−Δ` (wavenumbers `2π m/(N h)`, `m ∈ (−N/2, N/2]`) and `S ≥ 0` a
//! stabilisation constant,
//!
//! ```text
//! (1 + Δt M k² (κ k² + S)) ĉⁿ⁺¹ = (1 + Δt M k² (S + 1)) ĉⁿ − Δt M k² (cⁿ)³^
//! ```
//!
//! The stiff fourth-order term and the stabilisation `S c` are implicit, `c³ − (1 + S) c` is
//! explicit. The `k = 0` coefficients are exactly 1 and 0, so the mean is conserved to round-off
//! at every step; for `S ≥ L/2`, `L = max f″ = 3 max c² − 1` along the trajectory, the discrete
//! energy `E` is non-increasing for every `Δt` (the default `S = 2` covers `|c| ≤ 1.29`). The
//! linearisation about `c = 0` grows a Fourier mode at the per-step factor
//! `(1 + Δt M k² (S + 1)) / (1 + Δt M k² (S + κ k²))`, i.e. at the rate
//! `σ(k) = M k² (1 − κ k²) + O(Δt)`.
//!
//! **FFT.** `rustfft` (mixed-radix, SIMD kernels with runtime detection, any `N`): per step one
//! inverse and one forward 2-D transform. The spectral state is kept in transposed layout (row
//! transforms, one transpose, row transforms), which is harmless because `k²` is symmetric.
//! Because the update multiplies by real, even symbols, two real images evolve independently in
//! the real and imaginary parts of one complex field: [`simulate_batch`] runs images in pairs
//! (half the transforms), rayon across pairs.

use super::fft2::Plans;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rustfft::num_complex::Complex64;

const OP: &str = "cahn_hilliard";

/// Settings of a Cahn–Hilliard run (see the module docs for the equation and scheme).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CahnHilliardConfig {
    /// Grid size `N` (the image is `N × N`), `N ≥ 4`; any `N` works, powers of two are fastest.
    pub n: usize,
    /// Grid spacing `h > 0`.
    pub h: f64,
    /// Gradient-energy coefficient `κ > 0`; interfaces are `≈ 2√(2κ)` wide and the fastest
    /// growing wavelength at onset is `2π √(2κ)`.
    pub kappa: f64,
    /// Mobility `M > 0`.
    pub mobility: f64,
    /// Time step `Δt > 0`.
    pub dt: f64,
    /// Number of steps (`≥ 1`); the final time is `steps · Δt`.
    pub steps: usize,
    /// Mean concentration `m ∈ (−1, 1)`; the phase `c > 0` then fills about `(1 + m)/2` of the
    /// image (phase separation from small noise needs the spinodal range `|m| < 1/√3`).
    pub mean: f64,
    /// Amplitude `A ≥ 0` of the initial noise: `c₀ = m + u − ⟨u⟩`, `u ~ U(−A, A)` per point.
    pub noise: f64,
    /// Stabilisation `S ≥ 0` (energy stable for `S ≥ (3 max c² − 1)/2`).
    pub stabilization: f64,
    /// Seed of the initial noise (ChaCha8).
    pub seed: u64,
}

impl Default for CahnHilliardConfig {
    /// `N = 64`, `h = 1`, `κ = ½`, `M = 1`, `Δt = 1`, 300 steps (`t = 300`), `m = 0`
    /// (volume fraction ½), noise amplitude 0.05, `S = 2`, seed 0.
    fn default() -> Self {
        CahnHilliardConfig {
            n: 64,
            h: 1.0,
            kappa: 0.5,
            mobility: 1.0,
            dt: 1.0,
            steps: 300,
            mean: 0.0,
            noise: 0.05,
            stabilization: 2.0,
            seed: 0,
        }
    }
}

impl CahnHilliardConfig {
    /// The target volume fraction of the phase `c > 0` for sharp interfaces, `(1 + m)/2`.
    pub fn target_volume_fraction(&self) -> f64 {
        0.5 * (1.0 + self.mean)
    }

    /// The analytic linear growth rate `σ(k) = M k² (1 − κ k²)` of a mode about `c = 0`.
    pub fn growth_rate(&self, k: f64) -> f64 {
        self.mobility * k * k * (1.0 - self.kappa * k * k)
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a non-finite parameter; [`Error::InvalidInput`] for a parameter
    /// out of range (`N < 4`, `h, κ, M, Δt ≤ 0`, `steps = 0`, `|m| ≥ 1`, `A < 0`, `S < 0`).
    pub fn validate(&self) -> Result<()> {
        let params = [
            ("h", self.h),
            ("kappa", self.kappa),
            ("mobility", self.mobility),
            ("dt", self.dt),
            ("mean", self.mean),
            ("noise", self.noise),
            ("stabilization", self.stabilization),
        ];
        if let Some((name, _)) = params.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite {
                op: OP.into(),
                what: format!("parameter {name}"),
            });
        }
        let bad = |detail: String| {
            Err(Error::InvalidInput {
                op: OP.into(),
                detail,
            })
        };
        if self.n < 4 {
            return bad(format!(
                "grid size N = {} is not supported (need N ≥ 4)",
                self.n
            ));
        }
        if self.steps == 0 {
            return bad("steps must be ≥ 1".into());
        }
        if !(self.h > 0.0 && self.kappa > 0.0 && self.mobility > 0.0 && self.dt > 0.0) {
            return bad(format!(
                "need h, κ, M, Δt > 0 (h = {}, κ = {}, M = {}, Δt = {})",
                self.h, self.kappa, self.mobility, self.dt
            ));
        }
        if self.mean.abs() >= 1.0 || self.noise < 0.0 || self.stabilization < 0.0 {
            return bad(format!(
                "need |m| < 1, noise ≥ 0, S ≥ 0 (m = {}, noise = {}, S = {})",
                self.mean, self.noise, self.stabilization
            ));
        }
        Ok(())
    }

    /// `k²` at index `m` of one axis (wavenumber `2π m′/(N h)`, `m′ ∈ (−N/2, N/2]`).
    fn k2_axis(&self, m: usize) -> f64 {
        let n = self.n;
        let signed = if m <= n / 2 {
            m as f64
        } else {
            m as f64 - n as f64
        };
        let k = 2.0 * std::f64::consts::PI * signed / (n as f64 * self.h);
        k * k
    }

    /// `k²` on the (symmetric) spectral grid, row-major.
    fn k2_grid(&self) -> Vec<f64> {
        let n = self.n;
        let ax: Vec<f64> = (0..n).map(|m| self.k2_axis(m)).collect();
        (0..n * n).map(|p| ax[p / n] + ax[p % n]).collect()
    }
}

/// A running simulation of one image — or of two, carried in the real and imaginary parts.
pub struct Stepper {
    cfg: CahnHilliardConfig,
    plans: Plans,
    /// Spectral state `ĉ_A + i ĉ_B` (transposed layout, unnormalised DFT).
    state: Vec<Complex64>,
    /// Per-mode multipliers: `ĉⁿ⁺¹ = a ĉⁿ − b (c³)^`.
    a: Vec<f64>,
    b: Vec<f64>,
    work: Vec<Complex64>,
    tmp: Vec<Complex64>,
    scratch: Vec<Complex64>,
    step: usize,
}

/// `m + u − ⟨u⟩` with `u ~ U(−A, A)` from ChaCha8(`seed`).
fn initial_field(cfg: &CahnHilliardConfig, seed: u64) -> Vec<f64> {
    let nn = cfg.n * cfg.n;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let u: Vec<f64> = (0..nn)
        .map(|_| {
            if cfg.noise > 0.0 {
                rng.random_range(-cfg.noise..cfg.noise)
            } else {
                0.0
            }
        })
        .collect();
    let mu = u.iter().sum::<f64>() / nn as f64;
    u.iter().map(|v| cfg.mean + v - mu).collect()
}

impl Stepper {
    /// A stepper started from the seeded initial condition of `cfg` (seed `cfg.seed`).
    ///
    /// # Errors
    /// As [`CahnHilliardConfig::validate`].
    pub fn new(cfg: &CahnHilliardConfig) -> Result<Stepper> {
        cfg.validate()?;
        let c0 = initial_field(cfg, cfg.seed);
        Ok(Stepper::from_parts(cfg, Plans::new(cfg.n), &c0, None))
    }

    /// A stepper started from a given `N × N` field `c0` (its own mean is kept, `cfg.mean`,
    /// `cfg.noise` and `cfg.seed` are ignored).
    ///
    /// # Errors
    /// As [`CahnHilliardConfig::validate`]; [`Error::NonFinite`] for a non-finite `c0`.
    ///
    /// # Panics
    /// If `c0` is not of shape `[N, N]`.
    #[track_caller]
    pub fn from_field(cfg: &CahnHilliardConfig, c0: &Tensor) -> Result<Stepper> {
        cfg.validate()?;
        assert_eq!(
            c0.shape(),
            &[cfg.n, cfg.n],
            "cahn_hilliard: initial field of shape {:?}, config has N = {}",
            c0.shape(),
            cfg.n
        );
        if c0.has_non_finite() {
            return Err(Error::NonFinite {
                op: OP.into(),
                what: "initial field".into(),
            });
        }
        Ok(Stepper::from_parts(cfg, Plans::new(cfg.n), c0.data(), None))
    }

    fn from_parts(cfg: &CahnHilliardConfig, plans: Plans, ca: &[f64], cb: Option<&[f64]>) -> Self {
        let nn = cfg.n * cfg.n;
        let mut work: Vec<Complex64> = (0..nn)
            .map(|p| Complex64::new(ca[p], cb.map_or(0.0, |c| c[p])))
            .collect();
        let mut state = vec![Complex64::default(); nn];
        let mut scratch = vec![Complex64::default(); plans.scratch_len()];
        plans.fft2(false, &mut work, &mut state, &mut scratch);
        let (mdt, s) = (cfg.mobility * cfg.dt, cfg.stabilization);
        let k2 = cfg.k2_grid();
        let den: Vec<f64> = k2
            .iter()
            .map(|&k| 1.0 + mdt * k * (cfg.kappa * k + s))
            .collect();
        let a = k2
            .iter()
            .zip(&den)
            .map(|(&k, d)| (1.0 + mdt * k * (s + 1.0)) / d)
            .collect();
        let b = k2.iter().zip(&den).map(|(&k, d)| mdt * k / d).collect();
        Stepper {
            cfg: *cfg,
            plans,
            state,
            a,
            b,
            work,
            tmp: vec![Complex64::default(); nn],
            scratch,
            step: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps_taken(&self) -> usize {
        self.step
    }

    /// The current time `steps_taken · Δt`.
    pub fn time(&self) -> f64 {
        self.step as f64 * self.cfg.dt
    }

    /// Advances one step.
    ///
    /// # Errors
    /// [`Error::NonFinite`] if the field has blown up (a value is NaN or ±∞).
    pub fn step(&mut self) -> Result<()> {
        let inv_nn = 1.0 / (self.cfg.n * self.cfg.n) as f64;
        self.work.copy_from_slice(&self.state);
        let (w, t, s) = (&mut self.work, &mut self.tmp, &mut self.scratch);
        self.plans.fft2(true, w, t, s);
        let mut finite = true;
        for z in t.iter_mut() {
            let (x, y) = (z.re * inv_nn, z.im * inv_nn);
            finite &= x.is_finite() && y.is_finite();
            *z = Complex64::new(x * x * x, y * y * y);
        }
        if !finite {
            return Err(Error::NonFinite {
                op: OP.into(),
                what: format!(
                    "field after {} steps (blow-up: reduce Δt or raise S)",
                    self.step
                ),
            });
        }
        self.plans.fft2(false, t, w, s);
        for (((z, cube), a), b) in self
            .state
            .iter_mut()
            .zip(w.iter())
            .zip(&self.a)
            .zip(&self.b)
        {
            *z = *z * *a - *cube * *b;
        }
        self.step += 1;
        Ok(())
    }

    /// Both carried fields `(c_A, c_B)` as row-major `N × N` values.
    fn fields(&mut self) -> (Vec<f64>, Vec<f64>) {
        let inv_nn = 1.0 / (self.cfg.n * self.cfg.n) as f64;
        self.work.copy_from_slice(&self.state);
        let (w, t, s) = (&mut self.work, &mut self.tmp, &mut self.scratch);
        self.plans.fft2(true, w, t, s);
        t.iter().map(|z| (z.re * inv_nn, z.im * inv_nn)).unzip()
    }

    /// The current field `c`, shape `[N, N]`.
    pub fn field(&mut self) -> Tensor {
        let n = self.cfg.n;
        Tensor::from_vec(self.fields().0, &[n, n])
    }
}

/// Runs `cfg.steps` steps from the seeded initial condition; returns the continuous field `c`,
/// shape `[N, N]`.
///
/// # Errors
/// As [`CahnHilliardConfig::validate`]; [`Error::NonFinite`] on blow-up.
pub fn simulate(cfg: &CahnHilliardConfig) -> Result<Tensor> {
    let mut st = Stepper::new(cfg)?;
    for _ in 0..cfg.steps {
        st.step()?;
    }
    Ok(st.field())
}

/// The seed of image `i` of a batch: `cfg.seed + i` (wrapping), so image `i` equals
/// [`simulate`] with that seed (to round-off).
pub fn batch_seed(cfg: &CahnHilliardConfig, i: usize) -> u64 {
    cfg.seed.wrapping_add(i as u64)
}

/// `K` fields with seeds [`batch_seed`]`(cfg, 0..K)`, shape `[K, N, N]`; images run in pairs
/// (real and imaginary parts of one complex field), rayon across pairs.
///
/// # Errors
/// As [`simulate`]; [`Error::InvalidInput`] for `K = 0`.
pub fn simulate_batch(cfg: &CahnHilliardConfig, k: usize) -> Result<Tensor> {
    cfg.validate()?;
    if k == 0 {
        return Err(Error::InvalidInput {
            op: OP.into(),
            detail: "batch of K = 0 images".into(),
        });
    }
    let plans = Plans::new(cfg.n);
    let pairs: Vec<(Vec<f64>, Vec<f64>)> = (0..k.div_ceil(2))
        .into_par_iter()
        .map(|p| {
            let ca = initial_field(cfg, batch_seed(cfg, 2 * p));
            let cb = (2 * p + 1 < k).then(|| initial_field(cfg, batch_seed(cfg, 2 * p + 1)));
            let mut st = Stepper::from_parts(cfg, plans.clone(), &ca, cb.as_deref());
            for _ in 0..cfg.steps {
                st.step()?;
            }
            Ok(st.fields())
        })
        .collect::<Result<_>>()?;
    let nn = cfg.n * cfg.n;
    let mut out = Vec::with_capacity(k * nn);
    for (a, b) in pairs {
        out.extend(a);
        out.extend(b);
    }
    out.truncate(k * nn);
    Ok(Tensor::from_vec(out, &[k, cfg.n, cfg.n]))
}

/// `K` binary microstructures `[K, N, N]`: [`threshold`] of [`simulate_batch`].
///
/// # Errors
/// As [`simulate_batch`].
pub fn microstructures(cfg: &CahnHilliardConfig, k: usize) -> Result<Tensor> {
    Ok(threshold(&simulate_batch(cfg, k)?))
}

/// The phase indicator `1[c > 0]` (values in `{0, 1}`, same shape).
pub fn threshold(c: &Tensor) -> Tensor {
    c.map(|v| f64::from(u8::from(v > 0.0)))
}

/// The unnormalised 2-D DFT of a real `[N, N]` field (transposed layout) and `k²` on it.
fn spectrum(c: &Tensor, h: f64) -> (Vec<Complex64>, Vec<f64>) {
    assert!(
        c.ndim() == 2 && c.shape()[0] == c.shape()[1],
        "cahn_hilliard: need a square [N, N] field, got {:?}",
        c.shape()
    );
    let n = c.shape()[0];
    let plans = Plans::new(n);
    let mut a: Vec<Complex64> = c.data().iter().map(|&v| Complex64::new(v, 0.0)).collect();
    let mut b = vec![Complex64::default(); n * n];
    let mut s = vec![Complex64::default(); plans.scratch_len()];
    plans.fft2(false, &mut a, &mut b, &mut s);
    let geo = CahnHilliardConfig {
        n,
        h,
        ..CahnHilliardConfig::default()
    };
    (b, geo.k2_grid())
}

/// The discrete free energy `E = Σₓ h² [(c² − 1)²/4 + κ/2 |∇c|²]` of a square field, the
/// gradient term taken spectrally (consistent with the scheme):
/// `Σₓ h² |∇c|² = (h²/N²) Σₖ k² |ĉₖ|²` (Parseval).
///
/// # Panics
/// If `c` is not square 2-D.
#[track_caller]
pub fn free_energy(c: &Tensor, cfg: &CahnHilliardConfig) -> f64 {
    let (spec, k2) = spectrum(c, cfg.h);
    let n = c.shape()[0] as f64;
    let h2 = cfg.h * cfg.h;
    let bulk: f64 = c.data().iter().map(|v| (v * v - 1.0).powi(2) / 4.0).sum();
    let grad: f64 = spec.iter().zip(&k2).map(|(z, k)| k * z.norm_sqr()).sum();
    h2 * bulk + 0.5 * cfg.kappa * h2 * grad / (n * n)
}

/// The coarsening length `L = 2π Σₖ S(k) / Σₖ |k| S(k)` of a square field (grid spacing `h`),
/// `S(k) = |ĉₖ|²` over `k ≠ 0`: the inverse first moment of the structure factor. `∞` for a
/// constant field.
///
/// # Panics
/// If `c` is not square 2-D.
#[track_caller]
pub fn characteristic_length(c: &Tensor, h: f64) -> f64 {
    let (spec, k2) = spectrum(c, h);
    let (mut s0, mut s1) = (0.0, 0.0);
    for (z, k) in spec.iter().zip(&k2).skip(1) {
        s0 += z.norm_sqr();
        s1 += k.sqrt() * z.norm_sqr();
    }
    2.0 * std::f64::consts::PI * s0 / s1
}
