//! Microstructure statistics as differentiable functions of an image (compositions of tape ops,
//! so first and higher derivatives come from the primitives' rules).
//!
//! For a phase indicator (or a soft one, `φ ∈ [0, 1]`) on a periodic grid:
//! * volume fraction `p₁ = ⟨φ⟩ = (1/N) Σₓ φ(x)`;
//! * two-point correlation along an axis, `S₂(r) = (1/N) Σₓ φ(x) φ(x + r eₐ)`, indices taken
//!   modulo the axis length (periodic), for `r = 0..=R`. `S₂(0) = ⟨φ²⟩` (= `p₁` for a binary
//!   image) and, for an uncorrelated image, `S₂(r) → p₁²`.

use crate::autodiff::Var;

/// The volume fraction `p₁ = mean(φ)`, a scalar `Var`.
pub fn volume_fraction<'t>(phi: Var<'t>) -> Var<'t> {
    phi.mean()
}

/// `φ` shifted periodically by `r` along `axis`: entry `i` of the result is entry `(i + r) mod n`.
fn roll<'t>(phi: Var<'t>, axis: usize, r: usize) -> Var<'t> {
    let n = phi.shape()[axis];
    if r % n == 0 {
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
