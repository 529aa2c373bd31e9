//! Tridiagonal solves for 1-D problems: banded LU with partial pivoting (the LAPACK `gttrf` /
//! `gttrs` scheme), `O(n)` per system, batched across rayon.
//!
//! Row interchanges make `U` have two superdiagonals (`du`, `du2`); the multipliers stay in
//! `dl`. The transpose of a tridiagonal matrix is tridiagonal with the off-diagonals swapped,
//! and the stored factors solve `Aᵀ x = b` directly (`Uᵀ` forward, then `Lᵀ` backward).

use super::dense::check_pivots;
use super::solve::{apply_solve, GradIndex, System};
use crate::autodiff::Var;
use crate::error::{Error, Result};
use std::sync::Arc;

const OP: &str = "tridiagonal_solve";

/// Systems of size `n` stored as `[lower (n−1), diagonal (n), upper (n−1)]`.
pub(crate) struct TridiagonalSystem {
    n: usize,
    grad: GradIndex,
}

/// `P A = L U` of one tridiagonal matrix of size `n`.
///
/// The bands live back to back in one buffer (one allocation per matrix, not six), each band
/// at a multiple of `n` and zero-padded to length `n`: the multipliers of `L`, the diagonal and
/// the two superdiagonals of `U`, and the reciprocal pivots.
pub(crate) struct TridiagonalFactor {
    n: usize,
    bands: Vec<f64>,
    /// Whether rows `i` and `i + 1` were swapped at step `i`; empty when no row was swapped
    /// (the common case of a diagonally dominant matrix), which lets the substitutions skip
    /// the test.
    swapped: Vec<bool>,
}

/// Offsets (in units of `n`) of the bands in [`TridiagonalFactor::bands`].
const DL: usize = 0;
const D: usize = 1;
const DU: usize = 2;
const DU2: usize = 3;
/// `1 / d`, so the substitutions multiply instead of divide (a division's latency sits on the
/// loop-carried dependency chain of a substitution).
const DINV: usize = 4;
const BANDS: usize = 5;

impl TridiagonalFactor {
    /// Band `k` (one of [`DL`], [`D`], [`DU`], [`DU2`], [`DINV`]), `n` long.
    #[inline(always)]
    fn band(&self, k: usize) -> &[f64] {
        &self.bands[k * self.n..(k + 1) * self.n]
    }

    /// Whether any row interchange took place.
    fn pivoted(&self) -> bool {
        !self.swapped.is_empty()
    }
}

impl TridiagonalSystem {
    fn new(n: usize) -> Self {
        let m = n.saturating_sub(1);
        let mut rows = Vec::with_capacity(3 * n);
        let mut cols = Vec::with_capacity(3 * n);
        for k in 0..m {
            rows.push(k + 1);
            cols.push(k);
        }
        for k in 0..n {
            rows.push(k);
            cols.push(k);
        }
        for k in 0..m {
            rows.push(k);
            cols.push(k + 1);
        }
        TridiagonalSystem {
            n,
            grad: GradIndex {
                rows,
                cols,
                scatter: None,
            },
        }
    }
}

/// Gaussian elimination with partial pivoting on a tridiagonal matrix.
fn factor(lower: &[f64], diag: &[f64], upper: &[f64]) -> TridiagonalFactor {
    let mut f = unfactored(lower, diag, upper);
    for i in 0..diag.len().saturating_sub(1) {
        eliminate(&mut f, i);
    }
    finish(f)
}

/// The bands copied into factor storage, before any elimination step.
fn unfactored(lower: &[f64], diag: &[f64], upper: &[f64]) -> TridiagonalFactor {
    let n = diag.len();
    // Written once, band by band (no zeroing pass first).
    let mut bands = Vec::with_capacity(BANDS * n);
    for band in [lower, diag, upper] {
        bands.extend_from_slice(band);
        bands.resize(bands.len() + n - band.len(), 0.0);
    }
    bands.resize(BANDS * n, 0.0);
    TridiagonalFactor {
        n,
        bands,
        swapped: Vec::new(),
    }
}

/// Elimination step `i`: pivots between rows `i` and `i + 1`, then removes `A[i+1, i]`.
#[inline(always)]
fn eliminate(fa: &mut TridiagonalFactor, i: usize) {
    let n = fa.n;
    let (dl, rest) = fa.bands.split_at_mut(n);
    let (d, rest) = rest.split_at_mut(n);
    let (du, rest) = rest.split_at_mut(n);
    let du2 = &mut rest[..n];
    if d[i].abs() >= dl[i].abs() {
        // No interchange: eliminate A[i+1, i] with row i.
        let f = if d[i] != 0.0 { dl[i] / d[i] } else { 0.0 };
        dl[i] = f;
        d[i + 1] -= f * du[i];
    } else {
        // Swap rows i and i+1, then eliminate.
        if fa.swapped.is_empty() {
            fa.swapped = vec![false; n - 1];
        }
        fa.swapped[i] = true;
        let f = d[i] / dl[i];
        d[i] = dl[i];
        dl[i] = f;
        let t = du[i];
        du[i] = d[i + 1];
        d[i + 1] = t - f * d[i + 1];
        if i + 2 < n {
            du2[i] = du[i + 1];
            du[i + 1] *= -f;
        }
    }
}

/// Stores the reciprocal pivots once elimination is complete.
fn finish(mut f: TridiagonalFactor) -> TridiagonalFactor {
    let n = f.n;
    let (front, dinv) = f.bands.split_at_mut(DINV * n);
    for (r, &v) in dinv.iter_mut().zip(&front[D * n..(D + 1) * n]) {
        *r = 1.0 / v;
    }
    f
}

/// Solves `A x = b` in place.
fn solve(f: &TridiagonalFactor, b: &mut [f64]) {
    solve_group([f], [b]);
}

/// Solves `Aᵀ x = b` in place.
fn solve_transpose(f: &TridiagonalFactor, b: &mut [f64]) {
    solve_transpose_group([f], [b]);
}

/// Independent systems solved together by [`solve_group`] in a batch.
const LANES: usize = 4;

/// Forward and back substitution of `L` independent systems in lock step. Each system's
/// substitution is a chain where every step waits for the previous one, so interleaving
/// `L = LANES` chains lets the processor overlap them (≈ 3× the throughput of one at a time for
/// n = 100); `L = 1` is the plain solve. Groups in which no row was swapped take a path without
/// the interchange test.
#[inline(always)]
fn solve_group<const L: usize>(fs: [&TridiagonalFactor; L], bs: [&mut [f64]; L]) {
    if fs.iter().any(|f| f.pivoted()) {
        solve_group_with::<L, true>(fs, bs);
    } else {
        solve_group_with::<L, false>(fs, bs);
    }
}

/// [`solve_group`]; `PIVOTED = false` promises that no factor swapped a row.
#[inline(always)]
fn solve_group_with<const L: usize, const PIVOTED: bool>(
    fs: [&TridiagonalFactor; L],
    bs: [&mut [f64]; L],
) {
    let n = fs.first().map_or(0, |f| f.n);
    let bs = bs.map(|b| &mut b[..n]);
    let [dl, du, du2, dinv] = [DL, DU, DU2, DINV].map(|k| fs.map(|f| f.band(k)));
    for i in 0..n.saturating_sub(1) {
        for l in 0..L {
            let b = &mut *bs[l];
            if PIVOTED && fs[l].pivoted() && fs[l].swapped[i] {
                let t = b[i];
                b[i] = b[i + 1];
                b[i + 1] = t - dl[l][i] * b[i];
            } else {
                b[i + 1] -= dl[l][i] * b[i];
            }
        }
    }
    // Back substitution; the last two rows have fewer terms.
    for i in (n.saturating_sub(2)..n).rev() {
        for l in 0..L {
            let b = &mut *bs[l];
            let mut s = b[i];
            if i + 1 < n {
                s -= du[l][i] * b[i + 1];
            }
            b[i] = s * dinv[l][i];
        }
    }
    for i in (0..n.saturating_sub(2)).rev() {
        for l in 0..L {
            let b = &mut *bs[l];
            let mut s = b[i];
            s -= du[l][i] * b[i + 1];
            s -= du2[l][i] * b[i + 2];
            b[i] = s * dinv[l][i];
        }
    }
}

/// `Aᵀ x = b` for `L` systems in lock step (see [`solve_group`]): `Uᵀ y = b`, then the
/// `Lᵀ Pᵀ`-side back substitution.
#[inline(always)]
fn solve_transpose_group<const L: usize>(fs: [&TridiagonalFactor; L], bs: [&mut [f64]; L]) {
    if fs.iter().any(|f| f.pivoted()) {
        solve_transpose_group_with::<L, true>(fs, bs);
    } else {
        solve_transpose_group_with::<L, false>(fs, bs);
    }
}

/// [`solve_transpose_group`]; `PIVOTED = false` promises that no factor swapped a row.
#[inline(always)]
fn solve_transpose_group_with<const L: usize, const PIVOTED: bool>(
    fs: [&TridiagonalFactor; L],
    bs: [&mut [f64]; L],
) {
    let n = fs.first().map_or(0, |f| f.n);
    let bs = bs.map(|b| &mut b[..n]);
    let [dl, du, du2, dinv] = [DL, DU, DU2, DINV].map(|k| fs.map(|f| f.band(k)));
    // The first two rows have fewer terms.
    for i in 0..n.min(2) {
        for l in 0..L {
            let b = &mut *bs[l];
            let mut s = b[i];
            if i >= 1 {
                s -= du[l][i - 1] * b[i - 1];
            }
            b[i] = s * dinv[l][i];
        }
    }
    for i in 2..n {
        for l in 0..L {
            let b = &mut *bs[l];
            let mut s = b[i];
            s -= du[l][i - 1] * b[i - 1];
            s -= du2[l][i - 2] * b[i - 2];
            b[i] = s * dinv[l][i];
        }
    }
    for i in (0..n.saturating_sub(1)).rev() {
        for l in 0..L {
            let b = &mut *bs[l];
            if PIVOTED && fs[l].pivoted() && fs[l].swapped[i] {
                let t = b[i + 1];
                b[i + 1] = b[i] - dl[l][i] * t;
                b[i] = t;
            } else {
                b[i] -= dl[l][i] * b[i + 1];
            }
        }
    }
}

impl TridiagonalSystem {
    /// `(lower, diag, upper)` of one matrix's values.
    fn bands<'v>(&self, values: &'v [f64]) -> (&'v [f64], &'v [f64], &'v [f64]) {
        let (lower, rest) = values.split_at(self.n - 1);
        let (diag, upper) = rest.split_at(self.n);
        (lower, diag, upper)
    }

    /// `f`, or `Singular` when a pivot is negligible against the largest of `values`.
    fn checked(&self, values: &[f64], f: TridiagonalFactor) -> Result<TridiagonalFactor> {
        let scale = max_abs(values);
        check_pivots(OP, f.band(D).iter().copied(), scale, self.n)?;
        Ok(f)
    }
}

/// `max |vᵢ|` (0 for no values) in four independent lanes; the values are finite (checked by the
/// solve op), so the order of the comparisons does not change the result.
fn max_abs(values: &[f64]) -> f64 {
    let chunks = values.chunks_exact(4);
    let tail = chunks
        .remainder()
        .iter()
        .fold(0.0f64, |a, v| a.max(v.abs()));
    let mut lanes = [0.0f64; 4];
    for c in chunks {
        for (m, v) in lanes.iter_mut().zip(c) {
            *m = m.max(v.abs());
        }
    }
    lanes.iter().fold(tail, |a, &m| a.max(m))
}

impl System for TridiagonalSystem {
    type Factor = TridiagonalFactor;

    fn op_name(&self) -> &'static str {
        OP
    }

    fn n(&self) -> usize {
        self.n
    }

    fn values_len(&self) -> usize {
        3 * self.n - 2
    }

    fn factor(&self, values: &[f64]) -> Result<TridiagonalFactor> {
        let (lower, diag, upper) = self.bands(values);
        self.checked(values, factor(lower, diag, upper))
    }

    fn factor_batch(
        &self,
        values: &[f64],
    ) -> std::result::Result<Vec<TridiagonalFactor>, (usize, Error)> {
        let len = self.values_len();
        let mut out = Vec::with_capacity(values.len() / len.max(1));
        let mut groups = values.chunks_exact(LANES * len);
        for group in &mut groups {
            let mut fs: [TridiagonalFactor; LANES] = std::array::from_fn(|l| {
                let (lower, diag, upper) = self.bands(&group[l * len..(l + 1) * len]);
                unfactored(lower, diag, upper)
            });
            for i in 0..self.n.saturating_sub(1) {
                for f in fs.iter_mut() {
                    eliminate(f, i);
                }
            }
            for (l, f) in fs.into_iter().enumerate() {
                let index = out.len();
                let f = self.checked(&group[l * len..(l + 1) * len], finish(f));
                out.push(f.map_err(|e| (index, e))?);
            }
        }
        for v in groups.remainder().chunks_exact(len) {
            let index = out.len();
            out.push(self.factor(v).map_err(|e| (index, e))?);
        }
        Ok(out)
    }

    fn solve_in_place(&self, f: &TridiagonalFactor, rhs: &mut [f64], k: usize, transpose: bool) {
        for col in rhs.chunks_mut(self.n).take(k) {
            if transpose {
                solve_transpose(f, col);
            } else {
                solve(f, col);
            }
        }
    }

    fn solve_batch_in_place(
        &self,
        factors: &[TridiagonalFactor],
        rhs: &mut [f64],
        transpose: bool,
    ) {
        let n = self.n;
        let mut groups = rhs.chunks_exact_mut(LANES * n);
        for (block, fs) in (&mut groups).zip(factors.chunks_exact(LANES)) {
            let mut cols = block.chunks_exact_mut(n);
            let bs: [&mut [f64]; LANES] = std::array::from_fn(|_| cols.next().expect("lane"));
            let fs: [&TridiagonalFactor; LANES] = std::array::from_fn(|l| &fs[l]);
            if transpose {
                solve_transpose_group(fs, bs);
            } else {
                solve_group(fs, bs);
            }
        }
        let done = factors.len() / LANES * LANES;
        let rest = groups.into_remainder();
        for (x, f) in rest.chunks_exact_mut(n).zip(&factors[done..]) {
            self.solve_in_place(f, x, 1, transpose);
        }
    }

    fn grad_index(&self) -> &GradIndex {
        &self.grad
    }
}

/// `u = A⁻¹ b` for the tridiagonal `A` with `A[i+1, i] = lower[i]`, `A[i, i] = diag[i]`,
/// `A[i, i+1] = upper[i]`.
///
/// Shapes: `lower [n−1]`, `diag [n]`, `upper [n−1]` with `b [n]` or `b [k, n]`; or a batch
/// `[B, n−1]`, `[B, n]`, `[B, n−1]` with `b [B, n]` (solved in parallel). The output has the
/// shape of `b`. Elimination uses partial pivoting, so a zero on the diagonal is fine as long as
/// the matrix is nonsingular.
///
/// Gradients, with `λ = A⁻ᵀ ū` from the same factorisation: `b̄ = λ`,
/// `lower̄ᵢ = −λᵢ₊₁ uᵢ`, `diag̅ᵢ = −λᵢ uᵢ`, `upper̄ᵢ = −λᵢ uᵢ₊₁`; recorded on the tape.
///
/// # Errors
/// [`Error::NonFinite`](crate::Error::NonFinite) for NaN/∞ inputs;
/// [`Error::Singular`](crate::Error::Singular) when a pivot is at most `n·ε·max|aᵢⱼ|`.
///
/// # Panics
/// If the shapes do not fit, or `n = 0`.
///
/// ```
/// use physgrad::linalg::tridiagonal_solve;
/// use physgrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let lo = tape.constant(Tensor::from_vec(vec![-1.0, -1.0], &[2]));
/// let di = tape.constant(Tensor::from_vec(vec![2.0, 2.0, 2.0], &[3]));
/// let up = tape.constant(Tensor::from_vec(vec![-1.0, -1.0], &[2]));
/// let b = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 1.0], &[3]));
/// let u = tridiagonal_solve(lo, di, up, b).unwrap();
/// assert!(u.value().approx_eq(&Tensor::ones(&[3]), 1e-14, 1e-14));
/// ```
#[track_caller]
pub fn tridiagonal_solve<'t>(
    lower: Var<'t>,
    diag: Var<'t>,
    upper: Var<'t>,
    b: Var<'t>,
) -> Result<Var<'t>> {
    tridiagonal(lower, diag, upper, b, false)
}

/// `u = A⁻ᵀ b`, i.e. the tridiagonal solve with `lower` and `upper` swapped, from the same
/// factorisation; gradients `λ = A⁻¹ ū`, `b̄ = λ`, `lower̄ᵢ = −λᵢ uᵢ₊₁`, `upper̄ᵢ = −λᵢ₊₁ uᵢ`.
///
/// # Errors
/// As [`tridiagonal_solve`].
#[track_caller]
pub fn tridiagonal_solve_transpose<'t>(
    lower: Var<'t>,
    diag: Var<'t>,
    upper: Var<'t>,
    b: Var<'t>,
) -> Result<Var<'t>> {
    tridiagonal(lower, diag, upper, b, true)
}

#[track_caller]
fn tridiagonal<'t>(
    lower: Var<'t>,
    diag: Var<'t>,
    upper: Var<'t>,
    b: Var<'t>,
    transpose: bool,
) -> Result<Var<'t>> {
    let (sl, sd, su) = (lower.shape(), diag.shape(), upper.shape());
    let nd = sd.len();
    let fits = (nd == 1 || nd == 2)
        && sd[nd - 1] > 0
        && sl.len() == nd
        && su.len() == nd
        && sl[nd - 1] + 1 == sd[nd - 1]
        && su[nd - 1] + 1 == sd[nd - 1]
        && sl[..nd - 1] == sd[..nd - 1]
        && su[..nd - 1] == sd[..nd - 1];
    assert!(
        fits,
        "{OP}: lower {:?}, diag {:?}, upper {:?} are not bands of a tridiagonal matrix \
         (want [n−1], [n], [n−1] with n ≥ 1, optionally with a leading batch axis)",
        sl.as_slice(),
        sd.as_slice(),
        su.as_slice()
    );
    let n = sd[nd - 1];
    let values = Var::concat(&[lower, diag, upper], nd - 1);
    apply_solve(&Arc::new(TridiagonalSystem::new(n)), values, b, transpose)
}
