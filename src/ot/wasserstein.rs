//! The tape op `W(C, a, b)`: its VJP is the optimal plan (held constant) and the centred duals.

use super::cost::{pairwise_cost, Ground};
use super::marginals::invalid;
use super::network_simplex::{network_simplex, NetworkSimplexConfig};
use super::one_d::wasserstein_1d;
use super::sinkhorn::{sinkhorn_log, SinkhornConfig};
use super::uniform_weights;
use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::Tensor;
use std::cell::OnceCell;

/// How [`wasserstein`] solves the transport problem.
#[derive(Clone, Debug)]
pub enum Method {
    /// The exact LP by [`network_simplex`]; the value is `W = ⟨P*, C⟩`.
    Exact(NetworkSimplexConfig),
    /// Log-domain Sinkhorn ([`sinkhorn_log`]); the value is the entropic objective
    /// `OT_ε = ⟨P_ε, C⟩ + ε KL(P_ε ‖ a⊗b)`, whose gradient in `C` is `P_ε` (envelope theorem).
    Sinkhorn(SinkhornConfig),
    /// The closed form on the line ([`wasserstein_1d`]) for one-dimensional clouds (`s = 1`),
    /// in `O((n + m) log(n + m))`: only through [`wasserstein_points`], which has the
    /// positions. The value is `Σₖ mₖ c(x_{iₖ}, y_{jₖ})` over the monotone plan's entries with
    /// the masses held constant, so its gradients are the exact method's (weights must not be
    /// `Var`s).
    Line,
}

impl Default for Method {
    /// [`Method::Exact`] with the default configuration.
    fn default() -> Self {
        Method::Exact(NetworkSimplexConfig::default())
    }
}

/// The marginal weights of one side.
#[derive(Clone, Copy, Debug)]
pub enum Weights<'a, 't> {
    /// `1/n` each.
    Uniform,
    /// Fixed data: no gradient.
    Fixed(&'a [f64]),
    /// A rank-1 `Var`: receives the gradient `ḡ·(α − mean α)` (resp. `β`).
    Var(Var<'t>),
}

/// The optimal transport cost between weights `a` (length `n`) and `b` (length `m`) under the
/// cost matrix `cost` (`n×m`, any `Var`: built by [`pairwise_cost`] or by any tape ops), as a
/// scalar `Var`.
///
/// VJP with upstream `ḡ`: `C̄ = ḡ·P*` with `P*` a constant tensor on the tape, so the second
/// derivatives of a loss `W(C(θ))` come from the cost function alone; `ā = ḡ·(α − mean α)`,
/// `b̄ = ḡ·(β − mean β)` when the weights are `Var`s. Where `P*` is not unique (degenerate
/// problems) this is one supergradient of the concave function `C ↦ W`:
/// `W(C + hE) ≤ W(C) + h⟨P*, E⟩` for every `E`. Mixed second derivatives between `C` and the
/// weights are zero on the tape (the plan and the duals are held constant).
///
/// Weights given as `Var`s must keep equal totals under perturbation: normalise them on the tape
/// (`a = w / w.sum()`), otherwise a finite step unbalances them and the solve fails.
///
/// ```
/// use physgrad::ot::{pairwise_cost, wasserstein, Ground, Method, Weights};
/// use physgrad::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let x = tape.var(Tensor::from_vec(vec![0.0, 1.0, 3.0], &[3, 1]));
/// let y = tape.constant(Tensor::from_vec(vec![0.5, 2.0, 3.5], &[3, 1]));
/// let c = pairwise_cost(x, y, Ground::SqL2);
/// let w = wasserstein(c, Weights::Uniform, Weights::Uniform, &Method::default()).unwrap();
/// // Sorted points are matched in order: W = (0.25 + 1 + 0.25) / 3.
/// assert!((w.item() - 0.5).abs() < 1e-15);
/// // ∂W/∂xᵢ = 2(xᵢ − y_σ(i))/3 through the constant plan.
/// let g = w.backward().wrt(x);
/// assert!((g.data()[0] + 1.0 / 3.0).abs() < 1e-15);
/// ```
///
/// # Errors
/// Those of the chosen solver: invalid or unbalanced weights, NaN costs, non-convergence.
///
/// # Panics
/// If `cost` is not a matrix or the weights' lengths do not match its shape.
#[track_caller]
pub fn wasserstein<'t>(
    cost: Var<'t>,
    a: Weights<'_, 't>,
    b: Weights<'_, 't>,
    method: &Method,
) -> Result<Var<'t>> {
    let shape = cost.shape();
    assert!(
        shape.len() == 2,
        "wasserstein: cost must be an n×m matrix, got {:?}",
        shape.as_slice()
    );
    let tape = cost.tape();
    let weight_var = |w: Weights<'_, 't>, len: usize| match w {
        Weights::Uniform => tape.constant(Tensor::from_vec(uniform_weights(len), &[len])),
        Weights::Fixed(v) => tape.constant(Tensor::from_vec(v.to_vec(), &[v.len()])),
        Weights::Var(v) => v,
    };
    let (av, bv) = (weight_var(a, shape[0]), weight_var(b, shape[1]));
    assert!(
        av.shape().as_slice() == [shape[0]] && bv.shape().as_slice() == [shape[1]],
        "wasserstein: weights of shapes {:?} and {:?} do not match a cost of shape {:?}",
        av.shape().as_slice(),
        bv.shape().as_slice(),
        shape.as_slice()
    );
    if let Method::Line = method {
        return Err(invalid(
            "wasserstein",
            "Method::Line needs point positions: use wasserstein_points".into(),
        ));
    }
    let op = Wasserstein {
        method: method.clone(),
        solution: OnceCell::new(),
    };
    tape.apply(op, &[cost, av, bv])
}

/// [`wasserstein`] of [`pairwise_cost`]`(x, y, ground)`: point clouds `x: n×s`, `y: m×s`.
///
/// # Errors
/// As [`wasserstein`].
#[track_caller]
pub fn wasserstein_points<'t>(
    x: Var<'t>,
    y: Var<'t>,
    ground: Ground,
    a: Weights<'_, 't>,
    b: Weights<'_, 't>,
    method: &Method,
) -> Result<Var<'t>> {
    if let Method::Line = method {
        return line_points(x, y, ground, a, b);
    }
    wasserstein(pairwise_cost(x, y, ground), a, b, method)
}

/// [`Method::Line`]: the monotone plan from [`wasserstein_1d`], then the matched pairs gathered
/// on the tape.
#[track_caller]
fn line_points<'t>(
    x: Var<'t>,
    y: Var<'t>,
    ground: Ground,
    a: Weights<'_, 't>,
    b: Weights<'_, 't>,
) -> Result<Var<'t>> {
    let (xs, ys) = (x.shape(), y.shape());
    assert!(
        xs.len() == 2 && ys.len() == 2 && xs[1] == 1 && ys[1] == 1,
        "wasserstein_points (Method::Line): points must be n×1 and m×1, got {:?} and {:?}",
        xs.as_slice(),
        ys.as_slice()
    );
    let fixed = |w: Weights<'_, 't>, len: usize| match w {
        Weights::Uniform => Ok(uniform_weights(len)),
        Weights::Fixed(v) => Ok(v.to_vec()),
        Weights::Var(_) => Err(invalid(
            "wasserstein_points",
            "Method::Line does not differentiate the weights: pass them as Weights::Fixed".into(),
        )),
    };
    let (a, b) = (fixed(a, xs[0])?, fixed(b, ys[0])?);
    let p = if ground == Ground::SqL2 { 2.0 } else { 1.0 };
    let t = wasserstein_1d(x.value().data(), &a, y.value().data(), &b, p)?;
    let is: Vec<usize> = t.plan.iter().map(|e| e.i).collect();
    let js: Vec<usize> = t.plan.iter().map(|e| e.j).collect();
    let mass: Vec<f64> = t.plan.iter().map(|e| e.mass).collect();
    let mass = x.tape().constant(Tensor::from_vec(mass, &[is.len(), 1]));
    let d = x.gather(0, &is) - y.gather(0, &js);
    let c = if ground == Ground::SqL2 {
        d.square()
    } else {
        d.abs()
    };
    Ok((c * mass).sum())
}

/// What the forward keeps for the VJP.
struct Solution {
    plan: Tensor,
    alpha: Tensor,
    beta: Tensor,
}

struct Wasserstein {
    method: Method,
    solution: OnceCell<Solution>,
}

fn centred(v: &[f64]) -> Tensor {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Tensor::from_vec(v.iter().map(|x| x - mean).collect(), &[v.len()])
}

impl Op for Wasserstein {
    fn name(&self) -> &str {
        "wasserstein"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (cost, a, b) = (inputs[0], inputs[1].data(), inputs[2].data());
        let (value, solution) = match &self.method {
            Method::Exact(cfg) => {
                let t = network_simplex(a, b, cost, cfg)?;
                let s = Solution {
                    plan: t.dense_plan(),
                    alpha: centred(&t.alpha),
                    beta: centred(&t.beta),
                };
                (t.cost, s)
            }
            Method::Line => unreachable!("Method::Line is handled before the op is recorded"),
            Method::Sinkhorn(cfg) => {
                let t = sinkhorn_log(a, b, cost, cfg)?;
                let s = Solution {
                    alpha: centred(&t.alpha),
                    beta: centred(&t.beta),
                    plan: t.plan,
                };
                (t.objective, s)
            }
        };
        // The forward runs once per recorded op; a second call would only re-solve.
        let _ = self.solution.set(solution);
        Ok(Tensor::scalar(value))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let s = self
            .solution
            .get()
            .expect("wasserstein: VJP before forward");
        let tape = args.grad.tape();
        let g = args.grad;
        let term = |i: usize, t: &Tensor| args.needs(i).then(|| g * tape.constant(t.clone()));
        vec![term(0, &s.plan), term(1, &s.alpha), term(2, &s.beta)]
    }
}
