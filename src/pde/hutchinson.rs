//! Hutchinson trace estimation: `tr(A) = E[zᵀAz]` for probes with `E[zzᵀ] = I`, averaged over
//! `k` probes drawn independently for every row of the batch.
//!
//! For the second-order term of a [`Request`] with directions `D` `[d, m]` (unit vectors of a
//! Laplacian subset, or the columns of `σ`), `A = Dᵀ∇²v D` and each probe costs one
//! Hessian–vector product along `s = Dz` (nested) or one direction of a jet. For a divergence,
//! `A = ∂u/∂x` restricted to the field's coordinates and each probe costs one VJP. The estimate is
//! unbiased; its variance over `k` Rademacher probes is `(2/k) Σ_{i≠j} A_ij²` for symmetric `A`
//! (zero when `A` is diagonal) and `(2/k)‖A‖_F²` for Gaussian probes.

use super::jet::{identity, scalar_output, Jet};
use super::{batch_dims, batch_values, neural, Derivatives, Request};
use crate::autodiff::Var;
use crate::nn::{Bound, Mlp};
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The probe distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// Entries `±1` with probability ½ (the lower-variance default).
    Rademacher,
    /// Standard normal entries.
    Gaussian,
}

/// Settings of the estimator. Defaults: 16 Rademacher probes, seed 0.
#[derive(Clone, Debug)]
pub struct HutchinsonConfig {
    /// Probes per row, `k ≥ 1`.
    pub probes: usize,
    /// Their distribution.
    pub probe: Probe,
    /// Seed of the ChaCha8 stream the probes are drawn from.
    pub seed: u64,
}

impl Default for HutchinsonConfig {
    fn default() -> Self {
        HutchinsonConfig {
            probes: 16,
            probe: Probe::Rademacher,
            seed: 0,
        }
    }
}

impl HutchinsonConfig {
    /// Probes `z` `[B, k, m]`, row-major, from the configured stream.
    ///
    /// # Panics
    /// If `probes` is zero.
    #[track_caller]
    pub fn draw(&self, b: usize, m: usize) -> Tensor {
        assert!(self.probes > 0, "Hutchinson: need at least one probe");
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let n = b * self.probes * m;
        let data: Vec<f64> = match self.probe {
            Probe::Rademacher => (0..n)
                .map(|_| {
                    if rand::Rng::random::<bool>(&mut rng) {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect(),
            Probe::Gaussian => (0..n).map(|_| StandardNormal.sample(&mut rng)).collect(),
        };
        Tensor::from_vec(data, &[b, self.probes, m])
    }
}

/// `s = z·Dᵀ` per row: `[B, k, m]` probes times directions `[d, m]` → `[B, k, d]`.
fn probe_directions(z: &Tensor, dirs: &Tensor) -> Tensor {
    let (b, k, m) = (z.shape()[0], z.shape()[1], z.shape()[2]);
    let d = dirs.shape()[0];
    let mut out = vec![0.0; b * k * d];
    for (row, zr) in z.data().chunks(m).enumerate() {
        for i in 0..d {
            let di = &dirs.data()[i * m..(i + 1) * m];
            out[row * d + i] = zr.iter().zip(di).map(|(a, c)| a * c).sum();
        }
    }
    Tensor::from_vec(out, &[b, k, d])
}

/// Probe `p` of every row, `[B, n]`, from `[B, k, n]`.
fn probe(z: &Tensor, p: usize) -> Tensor {
    let (b, k, n) = (z.shape()[0], z.shape()[1], z.shape()[2]);
    let data = (0..b)
        .flat_map(|row| {
            z.data()[(row * k + p) * n..(row * k + p + 1) * n]
                .iter()
                .copied()
        })
        .collect();
    Tensor::from_vec(data, &[b, n])
}

/// Probe directions `[B, k, d]` for the second-order term of `req`, or `None`.
fn second_order_probes(
    b: usize,
    d: usize,
    req: &Request,
    cfg: &HutchinsonConfig,
) -> Option<Tensor> {
    let dirs = req.second.as_ref()?.directions(d);
    let z = cfg.draw(b, dirs.shape()[1]);
    Some(probe_directions(&z, &dirs))
}

/// The scalar field `f` at `x` `[B, d]` with the exact gradient (if requested) and a Hutchinson
/// estimate of the second-order term, by nested reverse mode: one Hessian–vector sweep per probe.
///
/// # Panics
/// As [`neural::scalar`].
#[track_caller]
pub fn scalar<'t>(
    x: Var<'t>,
    f: impl FnOnce(Var<'t>) -> Var<'t>,
    req: &Request,
    cfg: &HutchinsonConfig,
) -> Derivatives<'t> {
    let (b, d) = batch_dims(x, "hutchinson::scalar");
    let value = batch_values(f(x), b, "hutchinson::scalar");
    let probes = second_order_probes(b, d, req, cfg);
    let g = (req.gradient || probes.is_some()).then(|| neural::gradient(x, value));
    let tape = x.tape();
    let second = probes.map(|s| {
        let g = g.expect("gradient computed above");
        let k = cfg.probes;
        let mut acc = tape.constant(Tensor::zeros(&[b]));
        for p in 0..k {
            let sp = tape.constant(probe(&s, p));
            let hv = tape.grad(&[g * sp], &[x])[0];
            acc = acc + (hv * sp).sum_axes(&[1], false);
        }
        acc * (1.0 / k as f64)
    });
    Derivatives {
        value,
        gradient: if req.gradient { g } else { None },
        second,
    }
}

/// The same estimate for a scalar-output [`Mlp`] by forward jets along the `k` probe directions
/// (plus the unit vectors when the gradient is requested).
///
/// # Panics
/// As [`super::jet::mlp_scalar`].
#[track_caller]
pub fn mlp_scalar<'t>(
    net: &Mlp,
    p: &Bound<'t>,
    x: Var<'t>,
    req: &Request,
    cfg: &HutchinsonConfig,
) -> Derivatives<'t> {
    let (b, d) = batch_dims(x, "hutchinson::mlp_scalar");
    let probes = second_order_probes(b, d, req, cfg);
    let g = usize::from(req.gradient) * d;
    let k = probes.as_ref().map_or(0, |_| cfg.probes);
    let mut dirs = vec![0.0; b * (g + k) * d];
    let eye = identity(d);
    for row in 0..b {
        let base = row * (g + k) * d;
        dirs[base..base + g * d].copy_from_slice(&eye.data()[..g * d]);
        if let Some(s) = &probes {
            dirs[base + g * d..base + (g + k) * d]
                .copy_from_slice(&s.data()[row * k * d..(row + 1) * k * d]);
        }
    }
    let dirs = Tensor::from_vec(dirs, &[b, g + k, d]);
    let out = Jet::input_rows(x, &dirs, (g..g + k).collect()).mlp(net, p);
    let mut r = scalar_output(out, b, d, req);
    if k > 0 {
        r.second = r.second.map(|l| l * (1.0 / k as f64));
    }
    r
}

/// A Hutchinson estimate of `div u = Σ_j ∂u_j/∂x_{coords[j]}` `[B]` for a vector field `u`
/// `[B, m]` at `x` `[B, d]`: `E[zᵀ(∂u/∂x_S)z]`, one VJP sweep per probe.
///
/// # Panics
/// As [`neural::divergence`].
#[track_caller]
pub fn divergence<'t>(x: Var<'t>, u: Var<'t>, coords: &[usize], cfg: &HutchinsonConfig) -> Var<'t> {
    let (b, d) = batch_dims(x, "hutchinson::divergence");
    let m = coords.len();
    assert!(
        u.shape().as_slice() == [b, m],
        "hutchinson::divergence: u must be [{b}, {m}], got {:?}",
        u.shape().as_slice()
    );
    assert!(
        coords.iter().all(|&i| i < d),
        "hutchinson::divergence: coordinates {coords:?} out of range for d = {d}"
    );
    let z = cfg.draw(b, m);
    let tape = x.tape();
    let k = cfg.probes;
    let mut acc = tape.constant(Tensor::zeros(&[b]));
    for p in 0..k {
        let zp = tape.constant(probe(&z, p));
        let vjp = tape.grad(&[u * zp], &[x])[0].gather(1, coords);
        acc = acc + (vjp * zp).sum_axes(&[1], false);
    }
    acc * (1.0 / k as f64)
}
