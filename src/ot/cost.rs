//! The fused pairwise ground-cost op `Cᵢⱼ = c(xᵢ, yⱼ)` with its VJP in `Var` ops.

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
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
    let mut out = vec![0.0; n * m];
    let (xd, yd) = (x.data(), y.data());
    let fill = |(i, row): (usize, &mut [f64])| {
        let xi = &xd[i * s..(i + 1) * s];
        for (j, c) in row.iter_mut().enumerate() {
            *c = ground.eval(xi, &yd[j * s..(j + 1) * s]);
        }
    };
    if m > 0 && n * m * s.max(1) >= PAR_COST_WORK {
        out.par_chunks_mut(m).enumerate().for_each(fill);
    } else if m > 0 {
        out.chunks_mut(m).enumerate().for_each(fill);
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
