//! Grid fields: finite-difference and Sobel derivatives of fields sampled on regular grids, as
//! compositions of tape ops (pad by slicing and concatenation, shifted slices, scaled sums), so
//! derivatives of every order come from the primitives.
//!
//! A field is any tensor; `axis` selects the grid direction and `h` its spacing. Stencils
//! (`f_i` the value at offset `i`):
//!
//! | operator | order 2 | order 4 |
//! |---|---|---|
//! | `∂f` | `(f₁ − f₋₁)/(2h)` | `(−f₂ + 8f₁ − 8f₋₁ + f₋₂)/(12h)` |
//! | `∂²f` | `(f₁ − 2f₀ + f₋₁)/h²` | `(−f₂ + 16f₁ − 30f₀ + 16f₋₁ − f₋₂)/(12h²)` |
//!
//! Sobel: `∂_a f ≈ (1/(8h_a)) [1 2 1]_b ⊗ [−1 0 1]_a`, a central difference along `a` smoothed
//! along `b`; the smoothed second derivative is its companion
//! `∂²_a f ≈ (1/(4h_a²)) [1 2 1]_b ⊗ [1 −2 1]_a` ([`smoothed_diff2`]).

use crate::autodiff::Var;

/// How values beyond the grid are defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Boundary {
    /// Repeat the edge value (first derivatives vanish at the edge; accuracy drops to first
    /// order in the outermost points).
    #[default]
    Replicate,
    /// Wrap around: the grid is one period (spacing `h = L/n`).
    Periodic,
}

/// The accuracy order of a central stencil.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Accuracy {
    /// Second order (three points).
    #[default]
    Second,
    /// Fourth order (five points).
    Fourth,
}

/// `f` padded by `w` values on both ends of `axis`.
///
/// # Panics
/// If the axis is out of range, or `w > n` for periodic padding, or `n = 0`.
#[track_caller]
pub fn pad<'t>(f: Var<'t>, axis: usize, w: usize, boundary: Boundary) -> Var<'t> {
    let s = f.shape();
    assert!(
        axis < s.len(),
        "grid::pad: axis {axis} out of range for {:?}",
        s.as_slice()
    );
    let n = s[axis];
    assert!(n > 0, "grid::pad: empty axis {axis}");
    if w == 0 {
        return f;
    }
    let (lo, hi) = match boundary {
        Boundary::Replicate => {
            let first = f.slice(axis, 0..1);
            let last = f.slice(axis, n - 1..n);
            (
                Var::concat(&vec![first; w], axis),
                Var::concat(&vec![last; w], axis),
            )
        }
        Boundary::Periodic => {
            assert!(
                w <= n,
                "grid::pad: periodic padding {w} exceeds the axis length {n}"
            );
            (f.slice(axis, n - w..n), f.slice(axis, 0..w))
        }
    };
    Var::concat(&[lo, f, hi], axis)
}

/// `scale · Σ c·f(· + offset)` along `axis`, same shape as `f`.
#[track_caller]
pub fn stencil<'t>(
    f: Var<'t>,
    axis: usize,
    taps: &[(isize, f64)],
    scale: f64,
    boundary: Boundary,
) -> Var<'t> {
    let w = taps
        .iter()
        .map(|(o, _)| o.unsigned_abs())
        .max()
        .unwrap_or(0);
    let n = f.shape()[axis];
    let padded = pad(f, axis, w, boundary);
    let mut acc: Option<Var<'t>> = None;
    for &(o, c) in taps {
        let start = (w as isize + o) as usize;
        let term = padded.slice(axis, start..start + n) * (c * scale);
        acc = Some(acc.map_or(term, |a| a + term));
    }
    acc.expect("grid::stencil: no taps")
}

/// `∂f/∂x_axis` with spacing `h`.
#[track_caller]
pub fn diff1<'t>(f: Var<'t>, axis: usize, h: f64, acc: Accuracy, boundary: Boundary) -> Var<'t> {
    assert!(h > 0.0, "grid::diff1: spacing must be positive, got {h}");
    match acc {
        Accuracy::Second => stencil(f, axis, &[(1, 1.0), (-1, -1.0)], 0.5 / h, boundary),
        Accuracy::Fourth => stencil(
            f,
            axis,
            &[(2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0)],
            1.0 / (12.0 * h),
            boundary,
        ),
    }
}

/// `∂²f/∂x_axis²` with spacing `h`.
#[track_caller]
pub fn diff2<'t>(f: Var<'t>, axis: usize, h: f64, acc: Accuracy, boundary: Boundary) -> Var<'t> {
    assert!(h > 0.0, "grid::diff2: spacing must be positive, got {h}");
    match acc {
        Accuracy::Second => stencil(
            f,
            axis,
            &[(1, 1.0), (0, -2.0), (-1, 1.0)],
            1.0 / (h * h),
            boundary,
        ),
        Accuracy::Fourth => stencil(
            f,
            axis,
            &[(2, -1.0), (1, 16.0), (0, -30.0), (-1, 16.0), (-2, -1.0)],
            1.0 / (12.0 * h * h),
            boundary,
        ),
    }
}

/// `Σ_j ∂²f/∂x_{axes[j]}²` with spacings `spacing[j]`.
///
/// # Panics
/// If `axes` and `spacing` differ in length or are empty.
#[track_caller]
pub fn laplacian<'t>(
    f: Var<'t>,
    axes: &[usize],
    spacing: &[f64],
    acc: Accuracy,
    boundary: Boundary,
) -> Var<'t> {
    assert!(
        !axes.is_empty() && axes.len() == spacing.len(),
        "grid::laplacian: {} axes but {} spacings",
        axes.len(),
        spacing.len()
    );
    let mut out = diff2(f, axes[0], spacing[0], acc, boundary);
    for (&a, &h) in axes.iter().zip(spacing).skip(1) {
        out = out + diff2(f, a, h, acc, boundary);
    }
    out
}

/// The Sobel derivative along `axis` (spacing `h`), smoothed with `[1, 2, 1]/4` along `across`.
///
/// # Panics
/// If the two axes coincide.
#[track_caller]
pub fn sobel<'t>(f: Var<'t>, axis: usize, across: usize, h: f64, boundary: Boundary) -> Var<'t> {
    assert!(axis != across, "grid::sobel: the two axes must differ");
    let smooth = stencil(f, across, &[(-1, 1.0), (0, 2.0), (1, 1.0)], 0.25, boundary);
    diff1(smooth, axis, h, Accuracy::Second, boundary)
}

/// The smoothed second derivative along `axis` (spacing `h`): the three-point `∂²f` of the field
/// first smoothed with `[1, 2, 1]/4` along `across`, i.e. the 3×3 kernel
/// `(1/(4h²)) [1 2 1]_across ⊗ [1 −2 1]_axis` — the second-derivative companion of [`sobel`]
/// (second order; on `f = g(x_axis)·q(x_across)` it gives `∂²g · (q₋ + 2q + q₊)/4`).
///
/// # Panics
/// If the two axes coincide or `h ≤ 0`.
#[track_caller]
pub fn smoothed_diff2<'t>(
    f: Var<'t>,
    axis: usize,
    across: usize,
    h: f64,
    boundary: Boundary,
) -> Var<'t> {
    assert!(
        axis != across,
        "grid::smoothed_diff2: the two axes must differ"
    );
    let smooth = stencil(f, across, &[(-1, 1.0), (0, 2.0), (1, 1.0)], 0.25, boundary);
    diff2(smooth, axis, h, Accuracy::Second, boundary)
}
