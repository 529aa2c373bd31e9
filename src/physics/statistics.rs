//! Microstructure statistics as differentiable functions of an image (compositions of tape ops,
//! so first and higher derivatives come from the primitives' rules).
//!
//! For a phase indicator (or a soft one, `φ ∈ [0, 1]`) on a periodic grid:
//! * volume fraction `p₁ = ⟨φ⟩ = (1/N) Σₓ φ(x)`;
//! * two-point correlation along an axis, `S₂(r) = (1/N) Σₓ φ(x) φ(x + r eₐ)`, indices taken
//!   modulo the axis length (periodic), for `r = 0..=R`. `S₂(0) = ⟨φ²⟩` (= `p₁` for a binary
//!   image) and, for an uncorrelated image, `S₂(r) → p₁²`;
//! * its radial average over all displacements `d ∈ ℤ²` with `round(|d|) = r`
//!   ([`radial_two_point_correlation`], per image of a batch), the isotropic statistic of the
//!   InvNet microstructure experiment.

use crate::autodiff::Var;

/// The volume fraction `p₁ = mean(φ)`, a scalar `Var`.
pub fn volume_fraction<'t>(phi: Var<'t>) -> Var<'t> {
    phi.mean()
}

/// `φ` shifted periodically by `r` along `axis`: entry `i` of the result is entry `(i + r) mod n`.
fn roll<'t>(phi: Var<'t>, axis: usize, r: usize) -> Var<'t> {
    let n = phi.shape()[axis];
    if r.is_multiple_of(n) {
        return phi;
    }
    let r = r % n;
    Var::concat(&[phi.slice(axis, r..n), phi.slice(axis, 0..r)], axis)
}

/// The periodic two-point correlation `S₂(r)` along `axis` for `r = 0..=max_r`, a `Var` of shape
/// `[max_r + 1]`.
///
/// # Panics
/// If `axis` is out of range or `max_r` is not below the axis length.
#[track_caller]
pub fn two_point_correlation<'t>(phi: Var<'t>, axis: usize, max_r: usize) -> Var<'t> {
    let shape = phi.shape();
    assert!(
        axis < shape.len(),
        "two_point_correlation: axis {axis} out of range for shape {shape:?}"
    );
    assert!(
        max_r < shape[axis],
        "two_point_correlation: max_r = {max_r} must be below the axis length {} (shape {shape:?})",
        shape[axis]
    );
    let parts: Vec<Var<'t>> = (0..=max_r)
        .map(|r| (phi * roll(phi, axis, r)).mean().reshape(&[1]))
        .collect();
    Var::concat(&parts, 0)
}

/// Gather indices on a flattened `H × W` image: `rolls[dy][i·W + j] = ((i − dy) mod H)·W + j`
/// for `dy ∈ [−R, R]` (row major over `dy`), and `shifts[(i·W + j)·(2R + 1) + dx] =
/// i·W + (j + dx) mod W` for `dx ∈ [−R, R]`.
fn radial_indices(h: usize, w: usize, r: usize) -> (Vec<usize>, Vec<usize>) {
    let m = |a: isize, n: usize| a.rem_euclid(n as isize) as usize;
    let offsets: Vec<isize> = (-(r as isize)..=r as isize).collect();
    let mut rolls = Vec::with_capacity(offsets.len() * h * w);
    for &dy in &offsets {
        for i in 0..h {
            let src = m(i as isize - dy, h);
            rolls.extend((0..w).map(|j| src * w + j));
        }
    }
    let mut shifts = Vec::with_capacity(offsets.len() * h * w);
    for i in 0..h {
        for j in 0..w {
            shifts.extend(offsets.iter().map(|&dx| i * w + m(j as isize + dx, w)));
        }
    }
    (rolls, shifts)
}

/// The ring weights `[(2R + 1)², R + 1]`: displacement `(dy, dx)` belongs to ring
/// `k = round(√(dy² + dx²))` if `k ≤ R`, with weight `1/#ring k`.
fn ring_weights(r: usize) -> crate::tensor::Tensor {
    let side = 2 * r + 1;
    let ring = |p: usize| {
        let (dy, dx) = (p / side, p % side);
        let (dy, dx) = (dy as f64 - r as f64, dx as f64 - r as f64);
        (dy * dy + dx * dx).sqrt().round() as usize
    };
    let mut count = vec![0usize; r + 1];
    (0..side * side).for_each(|p| {
        if ring(p) <= r {
            count[ring(p)] += 1;
        }
    });
    let mut w = vec![0.0; side * side * (r + 1)];
    for p in 0..side * side {
        let k = ring(p);
        if k <= r {
            w[p * (r + 1) + k] = 1.0 / count[k] as f64;
        }
    }
    crate::tensor::Tensor::from_vec(w, &[side * side, r + 1])
}

/// The radially averaged periodic two-point correlation
///
/// ```text
/// S₂(r) = (1/#ring r) Σ_{d ∈ ℤ², round(|d|) = r}  (1/N) Σₓ φ(x) φ(x + d),   r = 0..=R,
/// ```
///
/// indices modulo the image size (periodic), `N = H·W`, for one image `[H, W]` (result `[R + 1]`)
/// or per image of a batch `[B, H, W]` (result `[B, R + 1]`). `S₂(0) = ⟨φ²⟩` (= `p₁` for a binary
/// image); for an isotropic medium it is the axis-wise [`two_point_correlation`] without the
/// directional bias.
///
/// Computed as one product per image: with `Q[dy, x] = φ(x − dy·e₀)` and
/// `P[x, dx] = φ(x + dx·e₁)` (two `gather`s of the flattened image), `Q·P / N` is the full
/// correlation table `S(dy, dx)` for `|dy|, |dx| ≤ R`, and a constant `[(2R + 1)², R + 1]` matrix
/// averages it over rings. Cost `O(B·N·(2R + 1)²)`; derivatives of every order come from
/// `gather`, `matmul` and `reshape`.
///
/// # Panics
/// If `phi` is not of rank 2 or 3, or `2R + 1` exceeds a side (a displacement would wrap onto
/// another).
#[track_caller]
pub fn radial_two_point_correlation<'t>(phi: Var<'t>, max_r: usize) -> Var<'t> {
    let shape = phi.shape();
    let (b, h, w) = match shape.as_slice() {
        [h, w] => (1, *h, *w),
        [b, h, w] => (*b, *h, *w),
        _ => panic!("radial_two_point_correlation: need [H, W] or [B, H, W], got {shape:?}"),
    };
    assert!(
        2 * max_r < h && 2 * max_r < w,
        "radial_two_point_correlation: 2·max_r + 1 = {} exceeds the image {h} × {w}",
        2 * max_r + 1
    );
    let (n, side) = (h * w, 2 * max_r + 1);
    let (rolls, shifts) = radial_indices(h, w, max_r);
    let flat = phi.reshape(&[b, n]);
    let q = flat.gather(1, &rolls).reshape(&[b, side, n]);
    let p = flat.gather(1, &shifts).reshape(&[b, n, side]);
    let table = q.matmul(p).reshape(&[b, side * side]) / n as f64;
    let rings = table.matmul(phi.tape().constant(ring_weights(max_r)));
    if shape.len() == 2 {
        rings.reshape(&[max_r + 1])
    } else {
        rings
    }
}
