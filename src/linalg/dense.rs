//! Dense solves for small systems: LU with partial pivoting or Cholesky through faer.

use super::pattern::Factorization;
use super::solve::{apply_solve, GradIndex, System};
use crate::autodiff::Var;
use crate::error::{Error, Result};
use faer::linalg::solvers::{Llt, PartialPivLu, SolveCore};
use faer::{Conj, MatMut, MatRef, Side};
use std::sync::Arc;

const OP: &str = "dense_solve";

/// `n × n` matrices stored row-major as `n²` values.
pub(crate) struct DenseSystem {
    n: usize,
    factorization: Factorization,
    grad: GradIndex,
}

/// One factorised dense matrix.
pub(crate) enum DenseFactor {
    Lu(PartialPivLu<f64>),
    Llt(Llt<f64>),
}

impl DenseSystem {
    pub(crate) fn new(n: usize, factorization: Factorization) -> Self {
        let rows = (0..n * n).map(|k| k / n).collect();
        let cols = (0..n * n).map(|k| k % n).collect();
        DenseSystem {
            n,
            factorization,
            grad: GradIndex {
                rows,
                cols,
                scatter: None,
            },
        }
    }

    fn check_symmetric(&self, a: &[f64]) -> Result<()> {
        let n = self.n;
        for i in 0..n {
            for j in 0..i {
                let (x, y) = (a[i * n + j], a[j * n + i]);
                if (x - y).abs() > 1e-12 * (x.abs() + y.abs()) {
                    return Err(Error::InvalidInput {
                        op: OP.into(),
                        detail: format!(
                            "Cholesky needs a symmetric matrix: a[{i},{j}] = {x:e} but a[{j},{i}] = {y:e}"
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Fails when a pivot is below `n·ε·max|aᵢⱼ|` (numerically singular).
pub(crate) fn check_pivots(
    op: &str,
    pivots: impl Iterator<Item = f64>,
    scale: f64,
    n: usize,
) -> Result<()> {
    let tol = n as f64 * f64::EPSILON * scale;
    for (i, p) in pivots.enumerate() {
        if p.abs() <= tol || !p.is_finite() {
            return Err(Error::Singular {
                op: op.into(),
                detail: format!("pivot {i} is {p:e}, at most n·ε·max|aᵢⱼ| = {tol:e}"),
            });
        }
    }
    Ok(())
}

impl System for DenseSystem {
    type Factor = DenseFactor;

    fn op_name(&self) -> &'static str {
        OP
    }

    fn n(&self) -> usize {
        self.n
    }

    fn values_len(&self) -> usize {
        self.n * self.n
    }

    fn factor(&self, values: &[f64]) -> Result<DenseFactor> {
        let n = self.n;
        let a = MatRef::from_row_major_slice(values, n, n);
        let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        match self.factorization {
            Factorization::Lu => {
                let lu = PartialPivLu::new(a);
                let u = lu.U();
                check_pivots(OP, (0..n).map(|i| u[(i, i)]), scale, n)?;
                Ok(DenseFactor::Lu(lu))
            }
            Factorization::Cholesky => {
                self.check_symmetric(values)?;
                let llt = Llt::new(a, Side::Lower).map_err(|e| Error::Singular {
                    op: OP.into(),
                    detail: format!("not positive definite ({e:?})"),
                })?;
                let l = llt.L();
                // L's diagonal squared are the pivots of the elimination.
                check_pivots(OP, (0..n).map(|i| l[(i, i)] * l[(i, i)]), scale, n)?;
                Ok(DenseFactor::Llt(llt))
            }
        }
    }

    fn solve_in_place(&self, factor: &DenseFactor, rhs: &mut [f64], k: usize, transpose: bool) {
        let x = MatMut::from_column_major_slice_mut(rhs, self.n, k);
        match (factor, transpose) {
            (DenseFactor::Lu(lu), false) => lu.solve_in_place_with_conj(Conj::No, x),
            (DenseFactor::Lu(lu), true) => lu.solve_transpose_in_place_with_conj(Conj::No, x),
            (DenseFactor::Llt(llt), _) => llt.solve_in_place_with_conj(Conj::No, x),
        }
    }

    fn grad_index(&self) -> &GradIndex {
        &self.grad
    }
}

/// `u = A⁻¹ b` for a dense `A`: `a [n, n]` with `b [n]` or `b [k, n]` (`k` right-hand sides), or
/// a batch `a [B, n, n]` with `b [B, n]` (solved in parallel). The output has the shape of `b`.
///
/// `factorization` picks LU with partial pivoting or Cholesky (symmetric positive definite; the
/// lower triangle is factorised and the matrix must be symmetric). Gradients, with
/// `λ = A⁻ᵀ ū` from the same factorisation: `b̄ = λ`, `Ā = −λ uᵀ` (summed over right-hand
/// sides); recorded on the tape, so second derivatives work.
///
/// # Errors
/// [`Error::NonFinite`] for NaN/∞ inputs; [`Error::Singular`] when a pivot is at most
/// `n·ε·max|aᵢⱼ|` or the matrix is not positive definite (Cholesky);
/// [`Error::InvalidInput`] for a non-symmetric matrix with Cholesky.
///
/// # Panics
/// If the shapes do not fit (naming the op and both shapes).
///
/// ```
/// use physgrad::linalg::{dense_solve, Factorization};
/// use physgrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let a = tape.var(Tensor::from_vec(vec![4.0, 1.0, 1.0, 3.0], &[2, 2]));
/// let b = tape.var(Tensor::from_vec(vec![5.0, 4.0], &[2]));
/// let u = dense_solve(a, b, Factorization::Cholesky).unwrap();
/// assert!(u.value().approx_eq(&Tensor::from_vec(vec![1.0, 1.0], &[2]), 1e-14, 1e-14));
/// ```
#[track_caller]
pub fn dense_solve<'t>(a: Var<'t>, b: Var<'t>, factorization: Factorization) -> Result<Var<'t>> {
    dense(a, b, factorization, false)
}

/// `u = A⁻ᵀ b`: as [`dense_solve`] with the transposed matrix; gradients `λ = A⁻¹ ū`,
/// `b̄ = λ`, `Ā = −u λᵀ`.
///
/// # Errors
/// As [`dense_solve`].
#[track_caller]
pub fn dense_solve_transpose<'t>(
    a: Var<'t>,
    b: Var<'t>,
    factorization: Factorization,
) -> Result<Var<'t>> {
    dense(a, b, factorization, true)
}

#[track_caller]
fn dense<'t>(
    a: Var<'t>,
    b: Var<'t>,
    factorization: Factorization,
    transpose: bool,
) -> Result<Var<'t>> {
    let (sa, sb) = (a.shape(), b.shape());
    let fits = match sa.as_slice() {
        [n, m] => n == m && (sb.as_slice() == [*n] || (sb.len() == 2 && sb[1] == *n)),
        [bt, n, m] => n == m && sb.as_slice() == [*bt, *n],
        _ => false,
    };
    assert!(
        fits,
        "{OP}: a of shape {:?} and b of shape {:?} do not fit (want [n, n] with [n] or [k, n], \
         or [B, n, n] with [B, n])",
        sa.as_slice(),
        sb.as_slice()
    );
    let n = sa[sa.len() - 1];
    let flat = if sa.len() == 2 {
        a.reshape(&[n * n])
    } else {
        a.reshape(&[sa[0], n * n])
    };
    apply_solve(
        &Arc::new(DenseSystem::new(n, factorization)),
        flat,
        b,
        transpose,
    )
}
