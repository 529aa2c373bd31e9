//! Nested reverse mode: the reference method for input derivatives of any tape function.
//!
//! Rows of the batch are independent, so one recorded sweep of `Σ_b v_b` gives the per-row
//! gradient `∇ₓv` `[B, d]`. A second-order term along a direction `s` is one more sweep:
//! `sᵀ∇²v s = ⟨∇ₓ(∇v·s), s⟩`, again for the whole batch. Everything is recorded with
//! [`Tape::grad`](crate::Tape::grad), so losses built from the results differentiate further
//! (to the weights, or to higher order).

use super::{batch_dims, batch_values, Derivatives, Request, SecondOrder};
use crate::autodiff::Var;
use crate::tensor::Tensor;

#[track_caller]
fn check_leaf(x: Var<'_>, who: &str) {
    assert!(
        x.requires_grad(),
        "{who}: the points must be a trainable leaf (tape.var) so that input derivatives exist"
    );
}

/// `∇ₓv` `[B, d]` of a scalar field's values `v` `[B]` or `[B, 1]` at the points `x` `[B, d]`.
///
/// # Panics
/// If `x` is not a `[B, d]` trainable leaf or `v` is not `[B]`/`[B, 1]`.
#[track_caller]
pub fn gradient<'t>(x: Var<'t>, v: Var<'t>) -> Var<'t> {
    let (b, _) = batch_dims(x, "neural::gradient");
    check_leaf(x, "neural::gradient");
    let v = batch_values(v, b, "neural::gradient");
    x.tape().grad(&[v], &[x])[0]
}

/// The second derivatives `∂²v/∂xᵢ∂xⱼ` for all `j`, `[B, d]`, from the gradient `g = ∇ₓv`
/// (one sweep): row `b` is row `i` of the Hessian at `x_b`.
///
/// # Panics
/// If `i ≥ d` or the shapes do not match.
#[track_caller]
pub fn hessian_row<'t>(x: Var<'t>, g: Var<'t>, i: usize) -> Var<'t> {
    let (_, d) = batch_dims(x, "neural::hessian_row");
    assert!(i < d, "neural::hessian_row: coordinate {i} ≥ d = {d}");
    x.tape().grad(&[g.slice(1, i..i + 1)], &[x])[0]
}

/// `Σ_{i∈S} ∂²v/∂xᵢ²` `[B]` from the gradient `g = ∇ₓv`: one sweep per coordinate.
///
/// # Panics
/// If a coordinate is out of range.
#[track_caller]
pub fn laplacian_from_gradient<'t>(x: Var<'t>, g: Var<'t>, coords: &[usize]) -> Var<'t> {
    let (b, _) = batch_dims(x, "neural::laplacian");
    let mut acc = x.tape().constant(Tensor::zeros(&[b, 1]));
    for &i in coords {
        acc = acc + hessian_row(x, g, i).slice(1, i..i + 1);
    }
    acc.reshape(&[b])
}

/// `tr(σσᵀ∇²v) = Σ_c σ_cᵀ∇²v σ_c` `[B]` from the gradient `g = ∇ₓv`, for a constant `σ`
/// `[d, k]`: one sweep per column.
///
/// # Panics
/// If `σ` is not `[d, k]`.
#[track_caller]
pub fn diffusion_from_gradient<'t>(x: Var<'t>, g: Var<'t>, sigma: &Tensor) -> Var<'t> {
    let (b, d) = batch_dims(x, "neural::diffusion");
    let s = SecondOrder::Diffusion(sigma.clone()).directions(d);
    let k = s.shape()[1];
    let tape = x.tape();
    let mut acc = tape.constant(Tensor::zeros(&[b, 1]));
    for c in 0..k {
        let col: Vec<f64> = (0..d).map(|i| s.data()[i * k + c]).collect();
        let sc = tape.constant(Tensor::from_vec(col, &[d, 1]));
        let hs = tape.grad(&[g.matmul(sc)], &[x])[0]; // ∇²v σ_c, [B, d]
        acc = acc + hs.matmul(sc);
    }
    acc.reshape(&[b])
}

/// Evaluates the scalar field `f` at `x` `[B, d]` and the derivatives `req` asks for.
///
/// ```
/// use physgrad::pde::{neural, Request};
/// use physgrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
/// // v = x₀² x₁: Δv = 2x₁ = 4
/// let r = neural::scalar(x, |x| x.slice(1, 0..1).square() * x.slice(1, 1..2),
///                        &Request::laplacian(vec![0, 1]));
/// assert!((r.second.unwrap().item() - 4.0).abs() < 1e-14);
/// ```
///
/// # Panics
/// If `x` is not a `[B, d]` trainable leaf, `f` does not return `[B]`/`[B, 1]`, or the request
/// names coordinates out of range.
#[track_caller]
pub fn scalar<'t>(
    x: Var<'t>,
    f: impl FnOnce(Var<'t>) -> Var<'t>,
    req: &Request,
) -> Derivatives<'t> {
    let (b, _) = batch_dims(x, "neural::scalar");
    let value = batch_values(f(x), b, "neural::scalar");
    let g = (req.gradient || req.second.is_some()).then(|| gradient(x, value));
    let second = req.second.as_ref().map(|s| {
        let g = g.expect("gradient computed above");
        match s {
            SecondOrder::Laplacian(coords) => laplacian_from_gradient(x, g, coords),
            SecondOrder::Diffusion(sigma) => diffusion_from_gradient(x, g, sigma),
        }
    });
    Derivatives {
        value,
        gradient: if req.gradient { g } else { None },
        second,
    }
}

/// The divergence `Σ_j ∂u_j/∂x_{coords[j]}` `[B]` of a vector field `u` `[B, m]` at `x` `[B, d]`;
/// `coords` maps column `j` of `u` to its coordinate (`0..d` for a field on all of `x`, `0..d−1`
/// for a drift on `(x, t)`). One sweep per column.
///
/// # Panics
/// If `coords.len() ≠ m`, a coordinate is out of range, or `x` is not a trainable leaf.
#[track_caller]
pub fn divergence<'t>(x: Var<'t>, u: Var<'t>, coords: &[usize]) -> Var<'t> {
    let (b, d) = batch_dims(x, "neural::divergence");
    check_leaf(x, "neural::divergence");
    let s = u.shape();
    assert!(
        s.as_slice() == [b, coords.len()],
        "neural::divergence: u must be [{b}, {}], got {:?}",
        coords.len(),
        s.as_slice()
    );
    let tape = x.tape();
    let mut acc = tape.constant(Tensor::zeros(&[b, 1]));
    for (j, &i) in coords.iter().enumerate() {
        assert!(i < d, "neural::divergence: coordinate {i} ≥ d = {d}");
        let gj = tape.grad(&[u.slice(1, j..j + 1)], &[x])[0];
        acc = acc + gj.slice(1, i..i + 1);
    }
    acc.reshape(&[b])
}
