//! Newton solves of `F(y; θ) = 0`, differentiated by the implicit function theorem.
//!
//! Forward: Newton's method with a backtracking (Armijo) line search on `φ(y) = ½‖F(y; θ)‖²`,
//! the Jacobian `J = ∂F/∂y` by reverse-mode AD (one sweep per row), dense LU for the step.
//!
//! Backward (derivation in `docs/linalg.md`): at the solution `F(y*(θ), θ) = 0`, so
//! `J dy* + ∂F/∂θ dθ = 0` and for a cotangent `ȳ`
//!
//! ```text
//! λ = J⁻ᵀ ȳ,    θ̄ = −(∂F/∂θ)ᵀ λ = −∂/∂θ ⟨λ, F(y, θ)⟩ |_(y = y*)
//! ```
//!
//! The iterations are never differentiated. `J` at `y*` is factorised once in the forward and
//! that factorisation is reused by the VJP. When gradients are recorded (`Tape::grad`), `J` and
//! the partial `∂F/∂θ` are re-recorded on the tape at `y*` (the op's own output), so the result is
//! differentiable again.

use super::dense::DenseSystem;
use super::jacobian::JacobianLayout;
use super::pattern::{Factorization, SparsePattern};
use super::solve::{SolveOp, System};
use crate::autodiff::{Op, Tape, Var, VjpArgs};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

const OP: &str = "newton_solve";

/// Settings of [`newton_solve`].
#[derive(Clone, Debug)]
pub struct NewtonConfig {
    /// Converged when `‖F(y; θ)‖∞ ≤ tol`. Default `1e-10`.
    pub tol: f64,
    /// Newton steps before giving up. Default 50.
    pub max_iter: usize,
    /// Step halvings per line search before giving up. Default 30.
    pub max_backtracks: usize,
    /// Armijo constant `c`: a step `t` is accepted when `φ(y + tδ) ≤ (1 − 2ct) φ(y)`.
    /// Default `1e-4`.
    pub armijo: f64,
    /// The sparsity pattern of `J = ∂F/∂y`, if sparse. `None` (the default): `J` is dense,
    /// assembled with `n` reverse sweeps of `F` and factorised by dense LU. `Some(pattern)`:
    /// rows are grouped so that rows in a group share no column, `J` is assembled with one
    /// sweep per group (about a dozen for a 5-point stencil) and factorised on the pattern
    /// (its symbolic analysis reused across iterations and calls). A derivative of `F` outside
    /// the pattern is an [`Error::InvalidInput`]: one more sweep with a fixed probe `s`
    /// compares `Jᵀ s` with the assembled `J`.
    pub jacobian: Option<SparsePattern>,
}

impl Default for NewtonConfig {
    fn default() -> Self {
        NewtonConfig {
            tol: 1e-10,
            max_iter: 50,
            max_backtracks: 30,
            armijo: 1e-4,
            jacobian: None,
        }
    }
}

type Residual = dyn for<'t> Fn(&'t Tape, Var<'t>, &[Var<'t>]) -> Var<'t>;

struct NewtonOp<S: System> {
    f: Rc<Residual>,
    y0: Tensor,
    cfg: NewtonConfig,
    /// How `J` is stored and factorised (dense, or on a sparsity pattern).
    system: Arc<S>,
    layout: JacobianLayout,
    /// The factorisation of `J(y*)` from the forward, reused by the VJP.
    jacobian: RefCell<Option<Arc<Vec<S::Factor>>>>,
}

impl<S: System> NewtonOp<S> {
    fn n(&self) -> usize {
        self.y0.len()
    }

    /// `F(y; θ)` as a tensor.
    fn residual(&self, y: &Tensor, theta: &[&Tensor]) -> Tensor {
        let tape = Tape::new();
        let th: Vec<Var<'_>> = theta.iter().map(|t| tape.constant((*t).clone())).collect();
        let r = (self.f)(&tape, tape.constant(y.clone()), &th);
        self.check_shape(r);
        r.value()
    }

    /// `F(y; θ)` and the stored values of `J = ∂F/∂y`, one reverse sweep per row group.
    fn residual_and_jacobian(&self, y: &Tensor, theta: &[&Tensor]) -> Result<(Tensor, Vec<f64>)> {
        let tape = Tape::new();
        let th: Vec<Var<'_>> = theta.iter().map(|t| tape.constant((*t).clone())).collect();
        let yv = tape.var(y.clone());
        let r = (self.f)(&tape, yv, &th);
        self.check_shape(r);
        let mut block = Vec::new();
        for seed in self.layout.seeds() {
            let rows = tape.gradients(&[r], Some(&[seed]), &[yv]);
            block.extend_from_slice(rows[0].data());
        }
        let probe = self.layout.probe().map(|s| {
            let jts = tape.gradients(&[r], Some(std::slice::from_ref(&s)), &[yv]);
            (s, jts[0].clone())
        });
        let probe = probe.as_ref().map(|(s, g)| (s.data(), g.data()));
        Ok((r.value(), self.layout.values(OP, &block, probe)?))
    }

    #[track_caller]
    fn check_shape(&self, r: Var<'_>) {
        assert!(
            r.shape().as_slice() == [self.n()],
            "{OP}: F returned shape {:?} for y of shape [{}]",
            r.shape().as_slice(),
            self.n()
        );
    }

    fn factor(&self, jac: &[f64], what: &str) -> Result<S::Factor> {
        if jac.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                op: OP.into(),
                what: format!("the Jacobian ∂F/∂y {what}"),
            });
        }
        self.system.factor(jac).map_err(|e| match e {
            Error::Singular { detail, .. } => Error::Singular {
                op: OP.into(),
                detail: format!("Jacobian ∂F/∂y {what}: {detail}"),
            },
            Error::InvalidInput { detail, .. } => Error::InvalidInput {
                op: OP.into(),
                detail: format!("Jacobian ∂F/∂y {what}: {detail}"),
            },
            other => other,
        })
    }

    /// The largest `t = 2⁻ᵏ` with `φ(y + tδ) ≤ (1 − 2ct) φ(y)`, and the new iterate.
    fn line_search(
        &self,
        y: &Tensor,
        step: &[f64],
        phi0: f64,
        theta: &[&Tensor],
    ) -> Option<Tensor> {
        let mut t = 1.0;
        for _ in 0..=self.cfg.max_backtracks {
            let trial = Tensor::from_vec(
                y.data().iter().zip(step).map(|(a, d)| a + t * d).collect(),
                &[self.n()],
            );
            let r = self.residual(&trial, theta);
            let phi = 0.5 * r.dot(&r);
            if phi.is_finite() && phi <= (1.0 - 2.0 * self.cfg.armijo * t) * phi0 {
                return Some(trial);
            }
            t *= 0.5;
        }
        None
    }
}

impl<S: System> Op for NewtonOp<S> {
    fn name(&self) -> &str {
        OP
    }

    fn forward(&self, theta: &[&Tensor]) -> Result<Tensor> {
        let mut y = self.y0.clone();
        let mut norm = f64::INFINITY;
        for it in 0..=self.cfg.max_iter {
            let (r, jac) = self.residual_and_jacobian(&y, theta)?;
            if r.has_non_finite() {
                return Err(Error::NonFinite {
                    op: OP.into(),
                    what: format!("F at iterate {it}"),
                });
            }
            norm = r.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let lu = self.factor(
                &jac,
                if norm <= self.cfg.tol {
                    "at the solution"
                } else {
                    "at an iterate"
                },
            )?;
            if norm <= self.cfg.tol {
                *self.jacobian.borrow_mut() = Some(Arc::new(vec![lu]));
                return Ok(y);
            }
            if it == self.cfg.max_iter {
                break;
            }
            let mut step: Vec<f64> = r.data().iter().map(|v| -v).collect();
            self.system.solve_in_place(&lu, &mut step, 1, false);
            match self.line_search(&y, &step, 0.5 * r.dot(&r), theta) {
                Some(next) => y = next,
                None => {
                    return Err(Error::NotConverged {
                        op: OP.into(),
                        iterations: it + 1,
                        residual: norm,
                    })
                }
            }
        }
        Err(Error::NotConverged {
            op: OP.into(),
            iterations: self.cfg.max_iter,
            residual: norm,
        })
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let factors = self.jacobian.borrow().clone().expect("forward ran");
        let tape = args.output.tape();
        let grads = if tape.is_recording() {
            self.vjp_recorded(args, factors)
        } else {
            self.vjp_values(args, &factors)
        };
        grads
            .into_iter()
            .enumerate()
            .map(|(i, g)| args.needs(i).then_some(g))
            .collect()
    }
}

impl<S: System> NewtonOp<S> {
    /// First order, on tensors: `λ = J⁻ᵀ ȳ` from the stored LU, `θ̄ = −(∂F/∂θ)ᵀ λ` by one sweep
    /// on a private tape.
    fn vjp_values<'t>(&self, args: &VjpArgs<'_, 't>, factors: &[S::Factor]) -> Vec<Var<'t>> {
        let tape = args.output.tape();
        let mut lam = args.grad.value().into_vec();
        self.system.solve_in_place(&factors[0], &mut lam, 1, true);
        let inner = Tape::new();
        let th: Vec<Var<'_>> = args.inputs.iter().map(|t| inner.var(t.value())).collect();
        let r = (self.f)(&inner, inner.constant(args.output.value()), &th);
        let seed = Tensor::from_vec(lam, &[self.n()]);
        inner
            .gradients(&[r], Some(&[seed]), &th)
            .into_iter()
            .map(|g| tape.constant(g.map(|v| -v)))
            .collect()
    }

    /// Any order, recorded: `F` re-recorded at copies `y′ = y*`, `θ′ = θ` (copies, so that the
    /// partial derivatives do not follow the path `θ → y*`), `J` by recorded sweeps, `λ` by the
    /// solve op on the stored LU, `θ̄ = −∂/∂θ′ ⟨λ, F(y′, θ′)⟩`.
    fn vjp_recorded<'t>(
        &self,
        args: &VjpArgs<'_, 't>,
        factors: Arc<Vec<S::Factor>>,
    ) -> Vec<Var<'t>> {
        let n = self.n();
        let tape = args.output.tape();
        let y = args.output * 1.0;
        let th: Vec<Var<'t>> = args.inputs.iter().map(|&t| t * 1.0).collect();
        let r = (self.f)(tape, y, &th);
        let rows: Vec<Var<'t>> = self
            .layout
            .seeds()
            .map(|e| tape.grad_with_seeds(&[r], &[tape.constant(e)], &[y])[0].reshape(&[1, n]))
            .collect();
        let jac = self.layout.values_var(Var::concat(&rows, 0));
        let adjoint = SolveOp::with_factors(self.system.clone(), true, factors);
        let lam = tape.record(adjoint, &[jac, args.grad]);
        tape.grad_with_seeds(&[r], &[lam], &th)
            .into_iter()
            .map(|g| -g)
            .collect()
    }
}

/// `y* = y(θ)` with `F(y*; θ) = 0`, for a residual `F: ℝⁿ × Θ → ℝⁿ` written with tape ops.
///
/// Starts at `y0` (a rank-1 `Var` whose value is used; no gradient flows to it) and runs
/// Newton with line search (see [`NewtonConfig`]). Gradients with respect to `θ` follow from the
/// implicit function theorem, `dy*/dθ = −J⁻¹ ∂F/∂θ` with `J = ∂F/∂y` at `y*`: for a cotangent
/// `ȳ`, `λ = J⁻ᵀ ȳ` and `θ̄ = −(∂F/∂θ)ᵀ λ`. Recorded gradients are differentiable again.
///
/// # Errors
/// [`Error::NotConverged`] when `‖F‖∞ ≤ tol` is not reached in `max_iter` steps or a line search
/// fails; [`Error::Singular`] when `J` is singular at an iterate or at the solution;
/// [`Error::NonFinite`] when `F` or `J` is not finite.
///
/// # Panics
/// If `y0` is not rank 1 or `F` returns a different shape.
///
/// ```
/// use physgrad::linalg::{newton_solve, NewtonConfig};
/// use physgrad::{Tape, Tensor};
/// // y² = θ  ⇒  y = √θ, dy/dθ = 1/(2√θ)
/// let tape = Tape::new();
/// let theta = tape.var(Tensor::from_vec(vec![4.0], &[1]));
/// let y0 = tape.constant(Tensor::from_vec(vec![1.0], &[1]));
/// let y = newton_solve(|_, y, th| y * y - th[0], y0, &[theta], &NewtonConfig::default()).unwrap();
/// assert!((y.value().data()[0] - 2.0).abs() < 1e-12);
/// let dy = tape.grad(&[y.sum()], &[theta])[0];
/// assert!((dy.item() - 0.25).abs() < 1e-12);
/// ```
#[track_caller]
pub fn newton_solve<'t, F>(
    f: F,
    y0: Var<'t>,
    theta: &[Var<'t>],
    cfg: &NewtonConfig,
) -> Result<Var<'t>>
where
    F: for<'s> Fn(&'s Tape, Var<'s>, &[Var<'s>]) -> Var<'s> + 'static,
{
    assert!(
        y0.ndim() == 1,
        "{OP}: y0 must be rank 1, got shape {:?}",
        y0.shape().as_slice()
    );
    let n = y0.len();
    match &cfg.jacobian {
        None => {
            let system = Arc::new(DenseSystem::new(n, Factorization::Lu));
            record(f, y0, theta, cfg, system, JacobianLayout::dense(n))
        }
        Some(p) => {
            assert!(
                p.n() == n,
                "{OP}: Jacobian pattern of size {} for y0 of shape [{n}]",
                p.n()
            );
            let layout = JacobianLayout::sparse(n, p.rows(), p.cols());
            record(f, y0, theta, cfg, p.system.clone(), layout)
        }
    }
}

fn record<'t, F, S: System>(
    f: F,
    y0: Var<'t>,
    theta: &[Var<'t>],
    cfg: &NewtonConfig,
    system: Arc<S>,
    layout: JacobianLayout,
) -> Result<Var<'t>>
where
    F: for<'s> Fn(&'s Tape, Var<'s>, &[Var<'s>]) -> Var<'s> + 'static,
{
    let op = NewtonOp {
        f: Rc::new(f),
        y0: y0.value(),
        cfg: cfg.clone(),
        system,
        layout,
        jacobian: RefCell::new(None),
    };
    y0.tape().apply(op, theta)
}
