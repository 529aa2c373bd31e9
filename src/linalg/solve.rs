//! The one op behind every linear solve: "solve with a stored factorisation", with a transpose
//! flag. Sparse, dense and tridiagonal systems plug in through [`System`].
//!
//! # VJP (derivation in `docs/linalg.md`)
//!
//! For `u = A⁻¹ b` (`transpose = false`): differentiating `A u = b` gives `A du = db − dA u`, so
//! for a cotangent `ḡ`, with `λ = A⁻ᵀ ḡ`,
//! `⟨ḡ, du⟩ = ⟨λ, db⟩ − ⟨λ, dA u⟩`, hence `b̄ = λ` and `Āᵢⱼ = −λᵢ uⱼ`. A stored value `vₖ` at
//! position `(rowₖ, colₖ)` therefore gets `v̄ₖ = −λ[rowₖ] u[colₖ]`.
//!
//! For `u = A⁻ᵀ b` (`transpose = true`) the same argument with `Aᵀ` gives `λ = A⁻¹ ḡ`,
//! `b̄ = λ` and `v̄ₖ = −λ[colₖ] u[rowₖ]`.
//!
//! `λ` is computed by this same op with the flag flipped and the *same* factorisation, recorded
//! on the tape with inputs `(values, ḡ)`, so the VJP is itself differentiable (second order).

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::{Error, Result};
use crate::tensor::{pool, Tensor};
use rayon::prelude::*;
use std::cell::RefCell;
use std::sync::Arc;

/// A family of square systems of size `n` whose matrices are given by `values_len` numbers.
pub(crate) trait System: Send + Sync + 'static {
    /// The numeric factorisation of one matrix.
    type Factor: Send + Sync;
    /// The op name used in errors and panics.
    fn op_name(&self) -> &'static str;
    /// The matrix size.
    fn n(&self) -> usize;
    /// How many numbers describe one matrix.
    fn values_len(&self) -> usize;
    /// Factors one matrix (values already checked finite and of the right length).
    fn factor(&self, values: &[f64]) -> Result<Self::Factor>;
    /// Overwrites the column-major `n × k` block `rhs` with `A⁻¹ rhs` (or `A⁻ᵀ rhs`).
    fn solve_in_place(&self, factor: &Self::Factor, rhs: &mut [f64], k: usize, transpose: bool);
    /// Factors a batch of matrices stored back to back on the calling thread; on failure, the
    /// index of the first matrix that failed and its error. Overridden like
    /// [`System::solve_batch_in_place`].
    fn factor_batch(
        &self,
        values: &[f64],
    ) -> std::result::Result<Vec<Self::Factor>, (usize, Error)> {
        values
            .chunks(self.values_len())
            .enumerate()
            .map(|(i, v)| self.factor(v).map_err(|e| (i, e)))
            .collect()
    }
    /// Overwrites each length-`n` block `i` of `rhs` with `Aᵢ⁻¹ rhsᵢ` (or `Aᵢ⁻ᵀ rhsᵢ`), on the
    /// calling thread. Systems whose solves are short dependency chains override this to work
    /// on several independent systems at once.
    fn solve_batch_in_place(&self, factors: &[Self::Factor], rhs: &mut [f64], transpose: bool) {
        for (x, f) in rhs.chunks_mut(self.n()).zip(factors) {
            self.solve_in_place(f, x, 1, transpose);
        }
    }
    /// The positions of the values: value `scatter[m]` receives `−λ[rows[m]]·u[cols[m]]`
    /// (see [`GradIndex`]).
    fn grad_index(&self) -> &GradIndex;
}

/// Where each stored value sits in the matrix, for the VJP `v̄ₖ = −Σ λ[row] u[col]`.
///
/// Term `m` contributes `−λ[rows[m]]·u[cols[m]]` to value `scatter[m]` (to value `m` when
/// `scatter` is `None`, i.e. one term per value).
#[derive(Clone, Debug)]
pub(crate) struct GradIndex {
    pub rows: Vec<usize>,
    pub cols: Vec<usize>,
    pub scatter: Option<Vec<usize>>,
}

/// How values and right-hand sides pair up.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Layout {
    /// values `[len]`, rhs `[n]`.
    Single,
    /// values `[len]`, rhs `[k, n]`: `k` right-hand sides, one matrix.
    Multi(usize),
    /// values `[b, len]`, rhs `[b, n]`: `b` independent systems.
    Batch(usize),
}

/// Reads the layout from the input shapes; panics (naming the op) on misuse.
#[track_caller]
fn layout(op: &str, n: usize, len: usize, values: &[usize], rhs: &[usize]) -> Layout {
    let fail = || -> ! {
        panic!(
            "{op}: values of shape {values:?} and rhs of shape {rhs:?} do not fit a system of size \
             {n} with {len} values (want [{len}] with [{n}] or [k, {n}], or [b, {len}] with [b, {n}])"
        )
    };
    match (values, rhs) {
        ([l], [m]) if *l == len && *m == n => Layout::Single,
        ([l], [k, m]) if *l == len && *m == n => Layout::Multi(*k),
        ([b, l], [c, m]) if *l == len && *m == n && b == c => Layout::Batch(*b),
        _ => fail(),
    }
}

/// The solve op. Its forward factors the values (unless it was built around an existing
/// factorisation, as the VJP does) and solves.
pub(crate) struct SolveOp<S: System> {
    system: Arc<S>,
    transpose: bool,
    factors: RefCell<Option<Arc<Vec<S::Factor>>>>,
}

impl<S: System> SolveOp<S> {
    /// An op that factors in its forward.
    pub(crate) fn new(system: Arc<S>, transpose: bool) -> Self {
        SolveOp {
            system,
            transpose,
            factors: RefCell::new(None),
        }
    }

    /// An op reusing `factors` (no factorisation, no finiteness checks: used inside VJPs).
    pub(crate) fn with_factors(
        system: Arc<S>,
        transpose: bool,
        factors: Arc<Vec<S::Factor>>,
    ) -> Self {
        SolveOp {
            system,
            transpose,
            factors: RefCell::new(Some(factors)),
        }
    }

    /// The factorisation made by the forward (after it ran).
    pub(crate) fn factors(&self) -> Option<Arc<Vec<S::Factor>>> {
        self.factors.borrow().clone()
    }

    /// Rejects NaN/∞ in the values or the right-hand side.
    fn check_finite(&self, values: &Tensor, rhs: &Tensor) -> Result<()> {
        let name = self.system.op_name();
        for (t, what) in [(values, "matrix values"), (rhs, "right-hand side")] {
            if t.has_non_finite() {
                return Err(Error::NonFinite {
                    op: name.into(),
                    what: what.into(),
                });
            }
        }
        Ok(())
    }

    /// Factorises each batch element and solves its right-hand side: large batches in rayon
    /// tasks (each factor still in cache when its solve runs), small ones on this thread
    /// (all factors, then [`System::solve_batch_in_place`]).
    fn factor_and_solve_batch(&self, values: &Tensor, out: &mut [f64]) -> Result<Vec<S::Factor>> {
        let sys = &*self.system;
        let transpose = self.transpose;
        if worth_splitting(values.len()) {
            out.par_chunks_mut(sys.n())
                .zip(values.data().par_chunks(sys.values_len()))
                .enumerate()
                .map(|(i, (x, v))| {
                    let f = sys.factor(v).map_err(|e| in_batch(e, i))?;
                    sys.solve_in_place(&f, x, 1, transpose);
                    Ok(f)
                })
                .collect()
        } else {
            let factors = sys
                .factor_batch(values.data())
                .map_err(|(i, e)| in_batch(e, i))?;
            sys.solve_batch_in_place(&factors, out, transpose);
            Ok(factors)
        }
    }

    /// Solves `out` in place with stored factors.
    fn solve_stored(&self, factors: &[S::Factor], out: &mut [f64], lay: Layout) {
        let sys = &*self.system;
        let transpose = self.transpose;
        match lay {
            Layout::Single => sys.solve_in_place(&factors[0], out, 1, transpose),
            Layout::Multi(k) => sys.solve_in_place(&factors[0], out, k, transpose),
            Layout::Batch(_)
                if sys.n() > 0 && worth_splitting(factors.len() * sys.values_len()) =>
            {
                out.par_chunks_mut(sys.n())
                    .zip(factors.par_iter())
                    .for_each(|(x, f)| sys.solve_in_place(f, x, 1, transpose));
            }
            Layout::Batch(_) if sys.n() > 0 => sys.solve_batch_in_place(factors, out, transpose),
            Layout::Batch(_) => {}
        }
    }
}

/// Batches describing fewer matrix numbers than this are factorised and solved on the calling
/// thread: for 32 tridiagonal systems of 100 unknowns (9,600 numbers) the whole batch is ≈ 10 µs
/// of arithmetic, less than waking the rayon workers costs.
const PAR_BATCH_VALUES: usize = 1 << 14;

/// Whether a batch holding `values` matrix numbers in total is worth spreading over threads.
fn worth_splitting(values: usize) -> bool {
    values >= PAR_BATCH_VALUES && crate::parallel::kernel_threads() > 1
}

/// A solution with NaN/∞ from finite inputs means a (numerically) singular matrix.
fn check_solution(op: &str, out: &[f64], lay: Layout, n: usize) -> Result<()> {
    let Some(bad) = out.iter().position(|v| !v.is_finite()) else {
        return Ok(());
    };
    let e = Error::Singular {
        op: op.into(),
        detail: "the solution is not finite (numerically singular matrix)".into(),
    };
    Err(match lay {
        Layout::Batch(_) => in_batch(e, bad / n.max(1)),
        _ => e,
    })
}

/// Adds the batch index to an error's detail.
fn in_batch(e: Error, i: usize) -> Error {
    match e {
        Error::Singular { op, detail } => Error::Singular {
            op,
            detail: format!("batch element {i}: {detail}"),
        },
        Error::InvalidInput { op, detail } => Error::InvalidInput {
            op,
            detail: format!("batch element {i}: {detail}"),
        },
        Error::NonFinite { op, what } => Error::NonFinite {
            op,
            what: format!("{what} of batch element {i}"),
        },
        other => other,
    }
}

impl<S: System> Op for SolveOp<S> {
    fn name(&self) -> &str {
        self.system.op_name()
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (values, rhs) = (inputs[0], inputs[1]);
        let sys = &*self.system;
        let n = sys.n();
        let lay = layout(
            sys.op_name(),
            n,
            sys.values_len(),
            values.shape(),
            rhs.shape(),
        );
        let mut out = pool::with_capacity(rhs.len());
        out.extend_from_slice(rhs.data());
        let stored = self.factors();
        if let Some(factors) = stored {
            // Inside a VJP: reuse the forward's factorisation, no checks.
            self.solve_stored(&factors, &mut out, lay);
            return Ok(Tensor::from_vec(out, rhs.shape()));
        }
        self.check_finite(values, rhs)?;
        let factors = match lay {
            Layout::Batch(b) if b > 0 && n > 0 => self.factor_and_solve_batch(values, &mut out)?,
            _ => {
                let count = if let Layout::Batch(b) = lay { b } else { 1 };
                let factors = (0..count)
                    .map(|i| sys.factor(&values.data()[i * sys.values_len()..][..sys.values_len()]))
                    .collect::<Result<Vec<_>>>()?;
                self.solve_stored(&factors, &mut out, lay);
                factors
            }
        };
        *self.factors.borrow_mut() = Some(Arc::new(factors));
        check_solution(sys.op_name(), &out, lay, n)?;
        Ok(Tensor::from_vec(out, rhs.shape()))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (values, u, g) = (args.inputs[0], args.output, args.grad);
        let factors = self.factors().expect("the forward ran before the VJP");
        let adjoint = SolveOp::with_factors(self.system.clone(), !self.transpose, factors);
        // λ = A⁻ᵀ ḡ (or A⁻¹ ḡ for the transposed solve), on the tape.
        let lam = values.tape().record(adjoint, &[values, g]);
        let gv = args.needs(0).then(|| {
            let idx = self.system.grad_index();
            let (lr, uc) = if self.transpose {
                (&idx.cols, &idx.rows)
            } else {
                (&idx.rows, &idx.cols)
            };
            values_grad(
                lam,
                u,
                (lr, uc),
                idx,
                self.system.values_len(),
                values.ndim(),
            )
        });
        vec![gv, args.needs(1).then_some(lam)]
    }
}

/// `v̄ = −Σ λ[lr] ⊙ u[uc]` on the tape, scattered onto the values and summed over multiple
/// right-hand sides.
fn values_grad<'t>(
    lam: Var<'t>,
    u: Var<'t>,
    (lr, uc): (&[usize], &[usize]),
    idx: &GradIndex,
    len: usize,
    values_ndim: usize,
) -> Var<'t> {
    let axis = lam.ndim() - 1;
    let mut terms = lam.gather(axis, lr) * u.gather(axis, uc);
    if let Some(scatter) = &idx.scatter {
        terms = terms.scatter_add(axis, scatter, len);
    }
    if lam.ndim() == 2 && values_ndim == 1 {
        terms = terms.sum_axes(&[0], false);
    }
    -terms
}

/// Records a solve of `system` with `values` and `rhs`.
pub(crate) fn apply_solve<'t, S: System>(
    system: &Arc<S>,
    values: Var<'t>,
    rhs: Var<'t>,
    transpose: bool,
) -> Result<Var<'t>> {
    values
        .tape()
        .apply(SolveOp::new(system.clone(), transpose), &[values, rhs])
}
