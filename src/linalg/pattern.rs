//! Sparsity patterns: the fixed positions of a sparse matrix's stored values, validated once and
//! analysed once (fill-reducing ordering, symbolic factorisation) for every solve on them.

use super::sparse::SparseSystem;
use crate::error::{Error, Result};
use std::sync::Arc;

/// Which factorisation a sparse or dense solve uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Factorization {
    /// `A = Pᵀ L U Q` with partial (threshold) pivoting: any nonsingular matrix. The default.
    #[default]
    Lu,
    /// `A = Pᵀ L Lᵀ P` for a symmetric positive definite matrix: about half the work of LU.
    ///
    /// Only entries on or below the diagonal (`row ≥ col`) are read; an entry above the diagonal
    /// must mirror one below and hold the same value (checked in the forward). The gradient of
    /// each stored value is the one of the general solve, `v̄ₖ = −λ[rowₖ] u[colₖ]`, plus the
    /// mirrored term `−λ[colₖ] u[rowₖ]` for an off-diagonal entry stored only below the diagonal,
    /// so that it agrees with the general solve along every symmetric perturbation.
    Cholesky,
}

/// The positions of the nonzeros of an `n × n` sparse matrix, with its symbolic factorisation.
///
/// Value `k` of a matrix on this pattern sits at `(rows()[k], cols()[k])`, in the order the
/// entries were given. The fill-reducing ordering and symbolic analysis are computed once here
/// and shared (the pattern is an `Arc`; cloning is cheap) by every solve and batch element.
///
/// ```
/// use physgrad::linalg::{Factorization, SparsePattern};
/// // [[4, 1], [1, 3]]
/// let p = SparsePattern::new(2, &[(0, 0), (0, 1), (1, 0), (1, 1)], Factorization::Cholesky)
///     .unwrap();
/// assert_eq!((p.n(), p.nnz()), (2, 4));
/// ```
#[derive(Clone)]
pub struct SparsePattern {
    pub(crate) system: Arc<SparseSystem>,
}

impl std::fmt::Debug for SparsePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparsePattern")
            .field("n", &self.n())
            .field("nnz", &self.nnz())
            .field("factorization", &self.factorization())
            .finish()
    }
}

const OP: &str = "SparsePattern";

fn invalid(detail: String) -> Error {
    Error::InvalidInput {
        op: OP.into(),
        detail,
    }
}

impl SparsePattern {
    /// A pattern from `(row, col)` pairs, in the order the values will be given.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if an index is out of range, a position repeats, or (for
    /// Cholesky) an entry above the diagonal has no mirror below it.
    pub fn new(n: usize, entries: &[(usize, usize)], factorization: Factorization) -> Result<Self> {
        let (rows, cols) = entries.iter().copied().unzip();
        Self::from_coordinates(n, rows, cols, factorization)
    }

    /// A pattern from compressed sparse column arrays: column `j` holds rows
    /// `row_idx[col_ptr[j]..col_ptr[j+1]]`; values are given in this order.
    ///
    /// # Errors
    /// As [`SparsePattern::new`], and if `col_ptr` is not a non-decreasing array of `n + 1`
    /// offsets from 0 to `row_idx.len()`.
    pub fn from_csc(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        factorization: Factorization,
    ) -> Result<Self> {
        let cols = expand_ptr(n, col_ptr, row_idx.len(), "col_ptr")?;
        Self::from_coordinates(n, row_idx.to_vec(), cols, factorization)
    }

    /// A pattern from compressed sparse row arrays: row `i` holds columns
    /// `col_idx[row_ptr[i]..row_ptr[i+1]]`; values are given in this order.
    ///
    /// # Errors
    /// As [`SparsePattern::from_csc`].
    pub fn from_csr(
        n: usize,
        row_ptr: &[usize],
        col_idx: &[usize],
        factorization: Factorization,
    ) -> Result<Self> {
        let rows = expand_ptr(n, row_ptr, col_idx.len(), "row_ptr")?;
        Self::from_coordinates(n, rows, col_idx.to_vec(), factorization)
    }

    fn from_coordinates(
        n: usize,
        rows: Vec<usize>,
        cols: Vec<usize>,
        factorization: Factorization,
    ) -> Result<Self> {
        if let Some(k) = (0..rows.len()).find(|&k| rows[k] >= n || cols[k] >= n) {
            return Err(invalid(format!(
                "entry {k} at ({}, {}) is outside a {n}×{n} matrix",
                rows[k], cols[k]
            )));
        }
        // Column-major keys: sorting them sorts by (column, row).
        let keys: Vec<u64> = (0..rows.len())
            .map(|k| cols[k] as u64 * n as u64 + rows[k] as u64)
            .collect();
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_unstable_by_key(|&k| keys[k]);
        if let Some(w) = order
            .windows(2)
            .find(|w| (rows[w[0]], cols[w[0]]) == (rows[w[1]], cols[w[1]]))
        {
            return Err(invalid(format!(
                "entries {} and {} are both at ({}, {})",
                w[0].min(w[1]),
                w[0].max(w[1]),
                rows[w[0]],
                cols[w[0]]
            )));
        }
        let system = SparseSystem::analyse(n, rows, cols, &order, factorization)
            .map_err(|e| invalid(format!("symbolic analysis failed: {e}")))?;
        Ok(SparsePattern {
            system: Arc::new(system),
        })
    }

    /// The matrix size `n`.
    pub fn n(&self) -> usize {
        self.system.n
    }

    /// The number of stored values.
    pub fn nnz(&self) -> usize {
        self.system.rows.len()
    }

    /// Row of each stored value.
    pub fn rows(&self) -> &[usize] {
        &self.system.rows
    }

    /// Column of each stored value.
    pub fn cols(&self) -> &[usize] {
        &self.system.cols
    }

    /// The factorisation solves on this pattern use.
    pub fn factorization(&self) -> Factorization {
        self.system.factorization
    }

    /// How many numeric factorisations have been made on this pattern so far (one per solve and
    /// batch element; VJPs reuse the forward's). A diagnostic, used by the tests.
    pub fn factorizations(&self) -> usize {
        self.system
            .factorizations
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Expands compressed offsets into one outer index per entry.
fn expand_ptr(n: usize, ptr: &[usize], nnz: usize, what: &str) -> Result<Vec<usize>> {
    let ok =
        ptr.len() == n + 1 && ptr[0] == 0 && ptr[n] == nnz && ptr.windows(2).all(|w| w[0] <= w[1]);
    if !ok {
        return Err(invalid(format!(
            "{what} must be {} non-decreasing offsets from 0 to {nnz}, got {} entries",
            n + 1,
            ptr.len()
        )));
    }
    let mut out = Vec::with_capacity(nnz);
    for j in 0..n {
        out.extend(std::iter::repeat_n(j, ptr[j + 1] - ptr[j]));
    }
    Ok(out)
}
