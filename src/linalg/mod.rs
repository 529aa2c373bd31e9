//! Implicit solves as tape ops, differentiated by the adjoint method.
//!
//! `u = A⁻¹ b` is recorded as one op whose inputs are the matrix (its stored values) and the
//! right-hand side. Its VJP solves once more with the *same* factorisation:
//!
//! ```text
//! λ = A⁻ᵀ ū,    b̄ = λ,    Ā = −λ uᵀ   (so a stored value at (i, j) gets −λᵢ uⱼ)
//! ```
//!
//! and that transposed solve is itself the same op with a transpose flag, recorded on the tape,
//! so second derivatives through a solve need no further rules. Derivations: `docs/linalg.md`.
//!
//! * [`sparse_solve`] on a [`SparsePattern`] (faer sparse LU or Cholesky; symbolic analysis once
//!   per pattern), single, multiple right-hand sides or batched (rayon across the batch).
//! * [`dense_solve`] for small dense systems, single or batched.
//! * [`tridiagonal_solve`] for 1-D problems: banded LU with partial pivoting, batched.
//! * [`newton_solve`] for `F(y; θ) = 0`: Newton with line search forward, the implicit function
//!   theorem backward (never differentiating the iterations).
//!
//! Bad numbers (NaN/∞, singular or indefinite matrices, non-convergence) are typed
//! [`Error`](crate::Error)s naming the op; shapes that do not fit are programmer errors and panic
//! naming the op and the shapes.
//!
//! ```
//! use physgrad::linalg::{sparse_solve, Factorization, SparsePattern};
//! use physgrad::{Tape, Tensor};
//!
//! // A(θ) = [[2θ, 1], [1, 3]], u = A⁻¹ b, L = Σu.
//! let p = SparsePattern::new(2, &[(0, 0), (0, 1), (1, 0), (1, 1)], Factorization::Lu).unwrap();
//! let tape = Tape::new();
//! let theta = tape.var(Tensor::scalar(1.0));
//! let rest = tape.constant(Tensor::from_vec(vec![1.0, 1.0, 3.0], &[3]));
//! let values = physgrad::Var::concat(&[(theta * 2.0).reshape(&[1]), rest], 0);
//! let b = tape.constant(Tensor::from_vec(vec![1.0, 2.0], &[2]));
//! let u = sparse_solve(&p, values, b).unwrap();
//! let dl = tape.grad(&[u.sum()], &[theta])[0];
//! assert!((u.value().data()[0] - 0.2).abs() < 1e-12);
//! assert!(dl.item().is_finite());
//! ```

mod dense;
mod jacobian;
mod newton;
mod pattern;
mod solve;
mod sparse;
mod tridiagonal;

pub use dense::{dense_solve, dense_solve_transpose};
pub use newton::{newton_solve, NewtonConfig};
pub use pattern::{Factorization, SparsePattern};
pub use sparse::{sparse_solve, sparse_solve_transpose};
pub use tridiagonal::{tridiagonal_solve, tridiagonal_solve_transpose};
