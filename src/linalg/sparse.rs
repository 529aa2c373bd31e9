//! Sparse solves through faer: the symbolic analysis lives in the [`SparsePattern`], the numeric
//! factorisation in the solve op (one per batch element, `Par::Seq` inside each, rayon across the
//! batch).

use super::pattern::{Factorization, SparsePattern};
use super::solve::{apply_solve, GradIndex, System};
use crate::autodiff::Var;
use crate::error::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, LltRef, SymbolicCholesky, SymmetricOrdering,
};
use faer::sparse::linalg::lu::{
    factorize_symbolic_lu, LuRef, LuSymbolicParams, NumericLu, SymbolicLu,
};
use faer::sparse::linalg::{LuError, SupernodalThreshold};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};
use std::sync::atomic::{AtomicUsize, Ordering};

const OP: &str = "sparse_solve";

enum Symbolic {
    Lu(SymbolicLu<usize>),
    Llt(SymbolicCholesky<usize>),
}

/// The numeric factorisation of one matrix on a pattern.
pub(crate) enum SparseFactor {
    Lu(Box<NumericLu<usize, f64>>),
    Llt(Vec<f64>),
}

/// A validated pattern with its symbolic factorisation.
pub(crate) struct SparseSystem {
    pub(crate) n: usize,
    pub(crate) rows: Vec<usize>,
    pub(crate) cols: Vec<usize>,
    pub(crate) factorization: Factorization,
    /// The CSC structure that is factorised (the whole pattern for LU, its lower triangle for
    /// Cholesky), sorted, and the stored value each CSC slot takes.
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    slot_source: Vec<usize>,
    /// Cholesky: (entry above the diagonal, its mirror below), which must hold equal values.
    mirrors: Vec<(usize, usize)>,
    symbolic: Symbolic,
    grad: GradIndex,
    pub(crate) factorizations: AtomicUsize,
}

impl SparseSystem {
    /// Builds the factorised structure and runs the symbolic analysis. `order` sorts the entries
    /// by (column, row); entries are in range and distinct.
    pub(crate) fn analyse(
        n: usize,
        rows: Vec<usize>,
        cols: Vec<usize>,
        order: &[usize],
        factorization: Factorization,
    ) -> std::result::Result<Self, String> {
        let cholesky = factorization == Factorization::Cholesky;
        let slot_source: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&k| !cholesky || rows[k] >= cols[k])
            .collect();
        let mut col_ptr = vec![0usize; n + 1];
        for &k in &slot_source {
            col_ptr[cols[k] + 1] += 1;
        }
        for j in 0..n {
            col_ptr[j + 1] += col_ptr[j];
        }
        let row_idx: Vec<usize> = slot_source.iter().map(|&k| rows[k]).collect();
        let structure = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let (symbolic, mirrors, grad) = if cholesky {
            let sym = factorize_symbolic_cholesky(
                structure,
                Side::Lower,
                SymmetricOrdering::Amd,
                Default::default(),
            )
            .map_err(|e| format!("{e:?}"))?;
            let (mirrors, grad) = cholesky_index(n, &rows, &cols, order)?;
            (Symbolic::Llt(sym), mirrors, grad)
        } else {
            // faer's automatic choice takes the simplicial LU up to a few thousand unknowns
            // on 2-D stencils, where it is 3–4× slower than the supernodal one (Poisson 64×64:
            // ~5 ms against ~20 ms, `examples/linalg_workloads`); always take supernodal.
            let params = LuSymbolicParams {
                supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SUPERNODAL,
                ..Default::default()
            };
            let sym = factorize_symbolic_lu(structure, params).map_err(|e| format!("{e:?}"))?;
            let grad = GradIndex {
                rows: rows.clone(),
                cols: cols.clone(),
                scatter: None,
            };
            (Symbolic::Lu(sym), Vec::new(), grad)
        };
        Ok(SparseSystem {
            n,
            rows,
            cols,
            factorization,
            col_ptr,
            row_idx,
            slot_source,
            mirrors,
            symbolic,
            grad,
            factorizations: AtomicUsize::new(0),
        })
    }

    fn structure(&self) -> SymbolicSparseColMatRef<'_, usize> {
        // SAFETY-free: the arrays were checked by `new_checked` in `analyse`.
        SymbolicSparseColMatRef::new_checked(self.n, self.n, &self.col_ptr, None, &self.row_idx)
    }

    fn check_symmetric(&self, values: &[f64]) -> Result<()> {
        for &(up, low) in &self.mirrors {
            let (a, b) = (values[up], values[low]);
            if (a - b).abs() > 1e-12 * (a.abs() + b.abs()) {
                return Err(Error::InvalidInput {
                    op: OP.into(),
                    detail: format!(
                        "Cholesky needs a symmetric matrix: value {up} at ({}, {}) is {a:e} but \
                         its mirror, value {low}, is {b:e}",
                        self.rows[up], self.cols[up]
                    ),
                });
            }
        }
        Ok(())
    }
}

/// For Cholesky: the mirror pairs to check, and the gradient terms (a lower entry with no stored
/// mirror stands for both `(i, j)` and `(j, i)`). `order` sorts the entries by (column, row), so
/// a mirror is found by binary search.
fn cholesky_index(
    n: usize,
    rows: &[usize],
    cols: &[usize],
    order: &[usize],
) -> std::result::Result<(Vec<(usize, usize)>, GradIndex), String> {
    let key = |i: usize, j: usize| j as u64 * n as u64 + i as u64;
    let sorted: Vec<u64> = order.iter().map(|&k| key(rows[k], cols[k])).collect();
    let find = |i: usize, j: usize| sorted.binary_search(&key(i, j)).ok().map(|m| order[m]);
    let mut mirrors = Vec::new();
    let mut grad = GradIndex {
        rows: rows.to_vec(),
        cols: cols.to_vec(),
        scatter: None,
    };
    let mut extra = Vec::new();
    for k in 0..rows.len() {
        let (i, j) = (rows[k], cols[k]);
        if i < j {
            let m = find(j, i).ok_or_else(|| {
                format!(
                    "Cholesky: entry {k} at ({i}, {j}) above the diagonal has no mirror ({j}, {i})"
                )
            })?;
            mirrors.push((k, m));
        } else if i > j && find(j, i).is_none() {
            extra.push(k);
        }
    }
    if !extra.is_empty() {
        let mut scatter: Vec<usize> = (0..rows.len()).collect();
        for &k in &extra {
            grad.rows.push(cols[k]);
            grad.cols.push(rows[k]);
            scatter.push(k);
        }
        grad.scatter = Some(scatter);
    }
    Ok((mirrors, grad))
}

impl System for SparseSystem {
    type Factor = SparseFactor;

    fn op_name(&self) -> &'static str {
        OP
    }

    fn n(&self) -> usize {
        self.n
    }

    fn values_len(&self) -> usize {
        self.rows.len()
    }

    fn factor(&self, values: &[f64]) -> Result<SparseFactor> {
        let factor = self.factor_unchecked(values)?;
        self.probe(&factor, values)?;
        Ok(factor)
    }

    fn solve_in_place(&self, factor: &SparseFactor, rhs: &mut [f64], k: usize, transpose: bool) {
        self.solve_with(factor, rhs, k, transpose)
    }

    fn grad_index(&self) -> &GradIndex {
        &self.grad
    }
}

/// Relative forward error `‖x − z‖∞ / ‖z‖∞` of the probe solve above which the factorisation
/// is declared numerically singular. A solve loses about `log₁₀ κ(A)` digits, so this flags
/// `κ(A) ≳ 10⁻²/ε ≈ 4·10¹³` — the same regime as the dense path's pivot test
/// `|pivot| ≤ n·ε·max|aᵢⱼ|` — while an exactly singular matrix gives an `O(1)` error.
const PROBE_TOL: f64 = 1e-2;

impl SparseSystem {
    /// The numeric factorisation, without the singularity probe.
    fn factor_unchecked(&self, values: &[f64]) -> Result<SparseFactor> {
        self.check_symmetric(values)?;
        self.factorizations.fetch_add(1, Ordering::Relaxed);
        let csc: Vec<f64> = self.slot_source.iter().map(|&k| values[k]).collect();
        let a = SparseColMatRef::new(self.structure(), &csc);
        let par = Par::Seq;
        match &self.symbolic {
            Symbolic::Lu(sym) => {
                let mut numeric = NumericLu::new();
                let mut buf = MemBuffer::new(
                    sym.factorize_numeric_lu_scratch::<f64>(par, Default::default()),
                );
                sym.factorize_numeric_lu(
                    &mut numeric,
                    a,
                    par,
                    MemStack::new(&mut buf),
                    Default::default(),
                )
                .map_err(|e| match e {
                    LuError::SymbolicSingular { index } => Error::Singular {
                        op: OP.into(),
                        detail: format!("no pivot at elimination step {index}"),
                    },
                    LuError::Generic(e) => Error::InvalidInput {
                        op: OP.into(),
                        detail: format!("LU failed: {e:?}"),
                    },
                })?;
                Ok(SparseFactor::Lu(Box::new(numeric)))
            }
            Symbolic::Llt(sym) => {
                let mut l = vec![0.0; sym.len_val()];
                let mut buf = MemBuffer::new(
                    sym.factorize_numeric_llt_scratch::<f64>(par, Default::default()),
                );
                sym.factorize_numeric_llt(
                    &mut l,
                    a,
                    Side::Lower,
                    LltRegularization::default(),
                    par,
                    MemStack::new(&mut buf),
                    Default::default(),
                )
                .map_err(|e| Error::Singular {
                    op: OP.into(),
                    detail: format!("not positive definite ({e:?})"),
                })?;
                Ok(SparseFactor::Llt(l))
            }
        }
    }

    /// Detects (numerically) singular matrices that faer factorises without complaint (a tiny
    /// positive Cholesky pivot, a tiny LU pivot): solves `A x = A z` for the fixed probe
    /// `zᵢ = 1 + ((7i) mod 11)/11` (mean ≠ 0, so constant null vectors — pure-Neumann
    /// Laplacians — are caught) and fails if `x` misses `z` by more than [`PROBE_TOL`]
    /// relatively. Costs one product with `A` and one solve: `O(nnz(A) + nnz(L + U))`.
    fn probe(&self, factor: &SparseFactor, values: &[f64]) -> Result<()> {
        let n = self.n;
        let z: Vec<f64> = (0..n).map(|i| 1.0 + ((7 * i) % 11) as f64 / 11.0).collect();
        let mut x = vec![0.0; n];
        for (k, (&i, &j)) in self.rows.iter().zip(&self.cols).enumerate() {
            x[i] += values[k] * z[j];
        }
        for k in self.grad.scatter.iter().flatten().skip(self.rows.len()) {
            // Cholesky entries below the diagonal without a stored mirror act on both sides.
            x[self.cols[*k]] += values[*k] * z[self.rows[*k]];
        }
        self.solve_with(factor, &mut x, 1, false);
        // NaN-aware: a non-finite x counts as an infinite error.
        let err = x.iter().zip(&z).fold(0.0f64, |m, (a, b)| {
            let d = (a - b).abs();
            if d.is_nan() {
                f64::INFINITY
            } else {
                m.max(d)
            }
        });
        let zmax = 1.0 + 10.0 / 11.0;
        if err <= PROBE_TOL * zmax {
            return Ok(());
        }
        Err(Error::Singular {
            op: OP.into(),
            detail: format!(
                "numerically singular: the probe solve A x = A z misses z by {:e} (relative), \
                 more than {PROBE_TOL:e}",
                err / zmax
            ),
        })
    }

    fn solve_with(&self, factor: &SparseFactor, rhs: &mut [f64], k: usize, transpose: bool) {
        let par = Par::Seq;
        let x = MatMut::from_column_major_slice_mut(rhs, self.n, k);
        match (&self.symbolic, factor) {
            (Symbolic::Lu(sym), SparseFactor::Lu(num)) => {
                let mut buf = MemBuffer::new(sym.solve_in_place_scratch::<f64>(k, par));
                let lu = LuRef::new_unchecked(sym, num);
                if transpose {
                    lu.solve_transpose_in_place_with_conj(
                        Conj::No,
                        x,
                        par,
                        MemStack::new(&mut buf),
                    );
                } else {
                    lu.solve_in_place_with_conj(Conj::No, x, par, MemStack::new(&mut buf));
                }
            }
            (Symbolic::Llt(sym), SparseFactor::Llt(l)) => {
                // Symmetric: Aᵀ = A.
                let mut buf = MemBuffer::new(sym.solve_in_place_scratch::<f64>(k, par));
                LltRef::new(sym, l).solve_in_place_with_conj(
                    Conj::No,
                    x,
                    par,
                    MemStack::new(&mut buf),
                );
            }
            _ => unreachable!("a factor always matches its pattern's symbolic kind"),
        }
    }
}

/// `u = A⁻¹ b` for the sparse matrix `A` with `values` on `pattern`.
///
/// Shapes: `values [nnz]` with `rhs [n]` (one system) or `rhs [k, n]` (`k` right-hand sides,
/// one factorisation), or `values [b, nnz]` with `rhs [b, n]` (`b` systems on one pattern,
/// factorised and solved in parallel). The output has the shape of `rhs`.
///
/// Gradients (derivation in `docs/linalg.md`): with `λ = A⁻ᵀ ū` from the same factorisation,
/// `b̄ = λ` and `v̄ₖ = −λ[rowₖ] u[colₖ]` (summed over right-hand sides). The VJP is recorded on
/// the tape, so second derivatives work.
///
/// # Errors
/// [`Error::NonFinite`] for NaN/∞ in `values` or `rhs`; [`Error::Singular`] when the
/// factorisation fails (no pivot, not positive definite), the matrix is numerically singular
/// (a probe solve `A x = A z` misses `z` by more than 1 % — condition number `≳ 4·10¹³`, e.g.
/// a pure-Neumann Laplacian), or the solution is not finite;
/// [`Error::InvalidInput`] when a Cholesky matrix is not symmetric. Errors in a batch name the
/// element.
///
/// # Panics
/// If the shapes do not fit the pattern (naming the op and both shapes).
///
/// ```
/// use physgrad::linalg::{sparse_solve, Factorization, SparsePattern};
/// use physgrad::{Tape, Tensor};
/// let p = SparsePattern::new(2, &[(0, 0), (0, 1), (1, 1)], Factorization::Lu).unwrap();
/// let tape = Tape::new();
/// let a = tape.var(Tensor::from_vec(vec![2.0, 1.0, 4.0], &[3]));   // [[2, 1], [0, 4]]
/// let b = tape.var(Tensor::from_vec(vec![3.0, 4.0], &[2]));
/// let u = sparse_solve(&p, a, b).unwrap();
/// assert_eq!(u.value().data(), &[1.0, 1.0]);
/// ```
#[track_caller]
pub fn sparse_solve<'t>(pattern: &SparsePattern, values: Var<'t>, rhs: Var<'t>) -> Result<Var<'t>> {
    apply_solve(&pattern.system, values, rhs, false)
}

/// `u = A⁻ᵀ b`: as [`sparse_solve`] with the transposed matrix (same shapes, errors and
/// factorisation); gradients `λ = A⁻¹ ū`, `b̄ = λ`, `v̄ₖ = −λ[colₖ] u[rowₖ]`.
///
/// # Errors
/// As [`sparse_solve`].
#[track_caller]
pub fn sparse_solve_transpose<'t>(
    pattern: &SparsePattern,
    values: Var<'t>,
    rhs: Var<'t>,
) -> Result<Var<'t>> {
    apply_solve(&pattern.system, values, rhs, true)
}
