//! The fused pairwise ground-cost op `Cᵢⱼ = c(xᵢ, yⱼ)` with its VJP in `Var` ops.

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::tensor::pool;
use crate::Tensor;
use rayon::prelude::*;

/// Ground cost between two points `x, y ∈ ℝˢ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ground {
    /// `Σₖ |xₖ − yₖ|`; its gradient takes `sign(0) = 0` at ties.
    L1,
    /// `‖x − y‖₂`; its gradient is defined as 0 where the two points coincide.
    L2,
    /// `‖x − y‖₂²`.
    SqL2,
}

impl Ground {
    /// `c(x, y)` for two points given as slices of equal length.
    pub fn eval(self, x: &[f64], y: &[f64]) -> f64 {
        match self {
            Ground::L1 => lanes_sum(x, y, |d| d.abs()),
            Ground::L2 => lanes_sum(x, y, |d| d * d).sqrt(),
            Ground::SqL2 => lanes_sum(x, y, |d| d * d),
        }
    }
}

/// `Σₖ f(xₖ − yₖ)` accumulated in four independent lanes, so the compiler can keep the sum in
/// one SIMD register (a single running sum is a serial chain it may not reorder).
#[inline(always)]
fn lanes_sum(x: &[f64], y: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(p, q)| f(p - q))
        .sum();
    let mut acc = [0.0; 4];
    for (p, q) in xc.zip(yc) {
        for l in 0..4 {
            acc[l] += f(p[l] - q[l]);
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `[c(x, y₀), …, c(x, y₃)]`, bit for bit what [`Ground::eval`] gives for each pair: the same
/// four lanes per pair, but the four pairs advance together, so every load of `x` serves four
/// sums and the processor has sixteen independent accumulators to overlap.
#[inline(always)]
fn lanes_sum4(x: &[f64], ys: [&[f64]; 4], f: impl Fn(f64) -> f64, lanes: Lanes) -> [f64; 4] {
    let whole = x.len() / 4 * 4;
    let acc = match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Lanes::Avx2*` is only chosen after checking that the CPU has AVX2.
        Lanes::Avx2Square => unsafe { lane_sums_avx2::<false>(x, ys) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2Abs => unsafe { lane_sums_avx2::<true>(x, ys) },
        Lanes::Portable => lane_sums(x, ys, &f),
    };
    std::array::from_fn(|b| {
        let tail: f64 = x[whole..]
            .iter()
            .zip(&ys[b][whole..])
            .map(|(p, q)| f(p - q))
            .sum();
        let a = acc[b];
        (a[0] + a[1]) + (a[2] + a[3]) + tail
    })
}

/// How [`lanes_sum4`] accumulates its lanes: portable code, or AVX2 registers holding the four
/// lanes of one pair (the same sums in the same order, so the same bits).
#[derive(Clone, Copy)]
enum Lanes {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2Square,
    #[cfg(target_arch = "x86_64")]
    Avx2Abs,
}

/// Lane `l` of pair `b`: `Σ f(x_k − y_b,k)` over `k ≡ l (mod 4)`, `k` below the last multiple
/// of 4, accumulated in increasing `k`.
#[inline(always)]
fn lane_sums(x: &[f64], ys: [&[f64]; 4], f: impl Fn(f64) -> f64) -> [[f64; 4]; 4] {
    let mut acc = [[0.0; 4]; 4];
    let [y0, y1, y2, y3] = ys.map(|y| y.chunks_exact(4));
    for ((((p, q0), q1), q2), q3) in x.chunks_exact(4).zip(y0).zip(y1).zip(y2).zip(y3) {
        for (a, q) in acc.iter_mut().zip([q0, q1, q2, q3]) {
            for l in 0..4 {
                a[l] += f(p[l] - q[l]);
            }
        }
    }
    acc
}

/// [`lane_sums`] with `f(d) = d²` (`ABS = false`) or `|d|` (`ABS = true`), one 256-bit register
/// per pair. (The compiler vectorises the portable loop in 128-bit halves only.)
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lane_sums_avx2<const ABS: bool>(x: &[f64], ys: [&[f64]; 4]) -> [[f64; 4]; 4] {
    use std::arch::x86_64::{
        _mm256_add_pd, _mm256_andnot_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_pd,
        _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    let sign = _mm256_set1_pd(-0.0);
    let mut acc = [_mm256_setzero_pd(); 4];
    let [y0, y1, y2, y3] = ys.map(|y| y.chunks_exact(4));
    for ((((p, q0), q1), q2), q3) in x.chunks_exact(4).zip(y0).zip(y1).zip(y2).zip(y3) {
        // Every chunk holds exactly four values, so each 256-bit load stays inside its slice.
        let p = _mm256_loadu_pd(p.as_ptr());
        for (a, q) in acc.iter_mut().zip([q0, q1, q2, q3]) {
            let d = _mm256_sub_pd(p, _mm256_loadu_pd(q.as_ptr()));
            let v = if ABS {
                _mm256_andnot_pd(sign, d)
            } else {
                _mm256_mul_pd(d, d)
            };
            *a = _mm256_add_pd(*a, v);
        }
    }
    let mut out = [[0.0; 4]; 4];
    for (o, a) in out.iter_mut().zip(acc) {
        _mm256_storeu_pd(o.as_mut_ptr(), a);
    }
    out
}

/// One row of the cost matrix, `row[j] = post(Σₖ f(xₖ − y_{j,k}))` for the `s`-long rows `y_j`
/// of `y`, four at a time ([`lanes_sum4`]).
#[inline(always)]
fn cost_row(
    x: &[f64],
    y: &[f64],
    row: &mut [f64],
    (f, post): (impl Fn(f64) -> f64 + Copy, impl Fn(f64) -> f64),
    lanes: Lanes,
) {
    let s = x.len();
    let mut blocks = row.chunks_exact_mut(4);
    let mut j = 0;
    for out in &mut blocks {
        let ys = std::array::from_fn(|b| &y[(j + b) * s..(j + b + 1) * s]);
        for (o, v) in out.iter_mut().zip(lanes_sum4(x, ys, f, lanes)) {
            *o = post(v);
        }
        j += 4;
    }
    for o in blocks.into_remainder() {
        *o = post(lanes_sum(x, &y[j * s..(j + 1) * s], f));
        j += 1;
    }
}

/// Rows `first..` of the cost matrix into `out` (`m` entries per row), equal bit for bit to
/// [`Ground::eval`] on each pair.
fn cost_rows(ground: Ground, x: &[f64], y: &[f64], s: usize, first: usize, out: &mut [f64]) {
    cost_rows_with(simd_lanes(ground), ground, x, y, s, first, out);
}

/// [`cost_rows`] with the lane accumulation chosen by the caller.
fn cost_rows_with(
    lanes: Lanes,
    ground: Ground,
    x: &[f64],
    y: &[f64],
    s: usize,
    first: usize,
    out: &mut [f64],
) {
    if s == 0 {
        // Points in ℝ⁰ all coincide.
        out.fill(0.0);
        return;
    }
    let m = y.len() / s;
    for (i, row) in out.chunks_mut(m.max(1)).enumerate() {
        let xi = &x[(first + i) * s..(first + i + 1) * s];
        match ground {
            Ground::L1 => cost_row(xi, y, row, (|d: f64| d.abs(), |v| v), lanes),
            Ground::L2 => cost_row(xi, y, row, (|d: f64| d * d, f64::sqrt), lanes),
            Ground::SqL2 => cost_row(xi, y, row, (|d: f64| d * d, |v| v), lanes),
        }
    }
}

/// The fastest [`Lanes`] this CPU offers for `ground`.
fn simd_lanes(ground: Ground) -> Lanes {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        return match ground {
            Ground::L1 => Lanes::Avx2Abs,
            Ground::L2 | Ground::SqL2 => Lanes::Avx2Square,
        };
    }
    let _ = ground;
    Lanes::Portable
}

#[track_caller]
fn dims(op: &str, x: &[usize], y: &[usize]) -> (usize, usize, usize) {
    assert!(
        x.len() == 2 && y.len() == 2 && x[1] == y[1],
        "{op}: point clouds must be n×s and m×s, got {x:?} and {y:?}"
    );
    (x[0], y[0], x[1])
}

/// Cost matrices needing fewer coordinate differences than this are filled on the calling
/// thread (32 × 32 points in ℝ¹⁰⁰, PhysGNN's batch, is ≈ 30 µs of work: splitting it cost more
/// in thread wake-ups than it saved).
const PAR_COST_WORK: usize = 1 << 19;

/// The `n×m` matrix `Cᵢⱼ = c(xᵢ, yⱼ)` for `x: n×s`, `y: m×s` (rows are points), on plain
/// tensors. Each entry is computed from the differences `xᵢₖ − yⱼₖ` (no `‖x‖² + ‖y‖² − 2x·y`
/// cancellation); rows are split over threads for large problems.
///
/// # Panics
/// If `x` and `y` are not matrices with the same number of columns.
#[track_caller]
pub fn pairwise_cost_tensor(x: &Tensor, y: &Tensor, ground: Ground) -> Tensor {
    let (n, m, s) = dims("pairwise_cost", x.shape(), y.shape());
    let mut out = pool::scratch(n * m);
    let (xd, yd) = (x.data(), y.data());
    if m > 0 && n * m * s.max(1) >= PAR_COST_WORK && crate::parallel::kernel_threads() > 1 {
        out.par_chunks_mut(m)
            .enumerate()
            .for_each(|(i, row)| cost_rows(ground, xd, yd, s, i, row));
    } else if m > 0 {
        cost_rows(ground, xd, yd, s, 0, &mut out);
    }
    Tensor::from_vec(out, &[n, m])
}

/// The differentiable pairwise cost matrix `Cᵢⱼ = c(xᵢ, yⱼ)` of point clouds `x: n×s`,
/// `y: m×s`. VJPs, with `ḡ` the `n×m` upstream gradient:
///
/// * `SqL2`: `x̄ = 2(diag(ḡ1) x − ḡ y)`, `ȳ = 2(diag(ḡᵀ1) y − ḡᵀ x)`;
/// * `L2`: the same with `ḡ` replaced by `W = ḡ ⊘ (2C)` (`Wᵢⱼ = 0` where `Cᵢⱼ = 0`);
/// * `L1`: `x̄ᵢₖ = Σⱼ ḡᵢⱼ sign(xᵢₖ − yⱼₖ)`, `ȳⱼₖ = −Σᵢ ḡᵢⱼ sign(xᵢₖ − yⱼₖ)`.
///
/// The rules are `Var` code, so second derivatives exist (for `L1` they are zero away from ties;
/// for `L2` they are correct away from coincident points).
///
/// # Panics
/// If `x` and `y` are not matrices with the same number of columns.
#[track_caller]
pub fn pairwise_cost<'t>(x: Var<'t>, y: Var<'t>, ground: Ground) -> Var<'t> {
    dims("pairwise_cost", &x.shape(), &y.shape());
    x.tape()
        .apply(PairwiseCost { ground }, &[x, y])
        .expect("pairwise_cost cannot fail")
}

struct PairwiseCost {
    ground: Ground,
}

impl Op for PairwiseCost {
    fn name(&self) -> &str {
        "pairwise_cost"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        Ok(pairwise_cost_tensor(inputs[0], inputs[1], self.ground))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (x, y, g) = (args.inputs[0], args.inputs[1], args.grad);
        match self.ground {
            Ground::SqL2 => sq_l2_vjp(x, y, g * 2.0, args.needs),
            Ground::L2 => {
                let c = args.output;
                let tape = x.tape();
                let zero = tape.scalar(0.0);
                let positive = c.gt(zero);
                let safe = Var::select(&positive, c, tape.scalar(1.0));
                let w = Var::select(&positive, g / safe, zero);
                sq_l2_vjp(x, y, w, args.needs)
            }
            Ground::L1 => l1_vjp(x, y, g, args.needs),
        }
    }
}

/// `(diag(w1) x − w y, diag(wᵀ1) y − wᵀ x)`: the VJP of `Σₖ (xᵢₖ − yⱼₖ)²/2` seeded with `w`.
fn sq_l2_vjp<'t>(x: Var<'t>, y: Var<'t>, w: Var<'t>, needs: &[bool]) -> Vec<Option<Var<'t>>> {
    let gx = needs[0].then(|| w.sum_axes(&[1], true) * x - w.matmul(y));
    let gy = needs[1].then(|| w.sum_axes(&[0], true).t() * y - w.t().matmul(x));
    vec![gx, gy]
}

/// Coordinate by coordinate: `Sₖ = sign(xₖ − yₖᵀ)` is a constant `n×m` mask, so the rule is
/// linear in `ḡ` and its own derivative in `x`, `y` is zero.
fn l1_vjp<'t>(x: Var<'t>, y: Var<'t>, g: Var<'t>, needs: &[bool]) -> Vec<Option<Var<'t>>> {
    let tape = x.tape();
    let (xv, yv) = (x.value(), y.value());
    let (n, m, s) = dims("pairwise_cost", xv.shape(), yv.shape());
    let (mut gx, mut gy) = (Vec::with_capacity(s), Vec::with_capacity(s));
    for k in 0..s {
        let mut sign = vec![0.0; n * m];
        for i in 0..n {
            let xi = xv.data()[i * s + k];
            for j in 0..m {
                let d = xi - yv.data()[j * s + k];
                sign[i * m + j] = if d > 0.0 {
                    1.0
                } else if d < 0.0 {
                    -1.0
                } else {
                    0.0
                };
            }
        }
        let gs = g * tape.constant(Tensor::from_vec(sign, &[n, m]));
        if needs[0] {
            gx.push(gs.sum_axes(&[1], true));
        }
        if needs[1] {
            gy.push(-gs.sum_axes(&[0], true).t());
        }
    }
    let join = |parts: Vec<Var<'t>>| (!parts.is_empty()).then(|| Var::concat(&parts, 1));
    vec![join(gx), join(gy)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocked kernel (SIMD lanes where the CPU has them, and the portable lanes) against
    /// `Ground::eval` pair by pair, bit for bit, over shapes that leave every remainder (rows of
    /// `y` past a multiple of 4, coordinates past a multiple of 4).
    #[test]
    fn blocked_cost_rows_equal_pairwise_eval() {
        for (n, m, s) in [
            (1, 1, 1),
            (3, 5, 3),
            (4, 8, 4),
            (7, 9, 13),
            (32, 32, 100),
            (2, 6, 0),
        ] {
            let x = Tensor::randn(&[n, s], 3 + n as u64);
            let y = Tensor::randn(&[m, s], 5 + m as u64);
            for ground in [Ground::L1, Ground::L2, Ground::SqL2] {
                let mut portable = vec![f64::NAN; n * m];
                cost_rows_with(
                    Lanes::Portable,
                    ground,
                    x.data(),
                    y.data(),
                    s,
                    0,
                    &mut portable,
                );
                let c = pairwise_cost_tensor(&x, &y, ground);
                assert_eq!(
                    c.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{ground:?} {n}×{m}×{s}: SIMD and portable lanes differ"
                );
                for i in 0..n {
                    for j in 0..m {
                        let want = ground
                            .eval(&x.data()[i * s..(i + 1) * s], &y.data()[j * s..(j + 1) * s]);
                        assert_eq!(
                            c.data()[i * m + j].to_bits(),
                            want.to_bits(),
                            "{ground:?} {n}×{m}×{s} at ({i}, {j})"
                        );
                    }
                }
            }
        }
    }
}
