//! Nested reverse mode against closed forms, and weight gradients of residual losses.

use physgrad::nn::{MlpConfig, Module, ParamStore};
use physgrad::pde::{neural, Request};
use physgrad::testing::{check_grad, hr, GradCheck};
use physgrad::{Tape, Tensor, Var};

fn col<'t>(x: Var<'t>, i: usize) -> Var<'t> {
    x.slice(1, i..i + 1)
}

fn quadratic<'t>(x: Var<'t>, a: &Tensor, b: &Tensor) -> Var<'t> {
    let tape = x.tape();
    let (ac, bc) = (tape.constant(a.clone()), tape.constant(b.clone()));
    (0.5 * (x.matmul(ac) * x) + x * bc).sum_axes(&[1], false)
}

fn sin_product(x: Var<'_>) -> Var<'_> {
    col(x, 0).sin() * col(x, 1).sin() * col(x, 2).sin()
}

/// `v = ½xᵀAx + bᵀx` (A symmetric): `∇v = Ax + b`, `Σ_{i∈S} ∂ᵢ²v = Σ_{i∈S} Aᵢᵢ`,
/// `tr(σσᵀ∇²v) = tr(σᵀAσ)`.
#[test]
fn quadratic_closed_form() {
    let d = 4;
    let m = Tensor::randn(&[d, d], 1);
    let a = Tensor::from_vec(
        (0..d * d)
            .map(|k| m.data()[k] + m.data()[(k % d) * d + k / d])
            .collect(),
        &[d, d],
    );
    let b = Tensor::randn(&[d], 2);
    let xs = Tensor::randn(&[5, d], 3);
    let sigma = Tensor::randn(&[d, 3], 4);
    let tape = Tape::new();
    let x = tape.var(xs.clone());
    let (ac, bc) = (tape.constant(a.clone()), tape.constant(b.clone()));
    let r = neural::scalar(
        x,
        |x| quadratic(x, &a, &b),
        &Request::laplacian(vec![0, 2]).with_gradient(),
    );
    let want_g = (x.matmul(ac) + bc).value();
    assert!(r.gradient.unwrap().value().max_abs_diff(&want_g) < 1e-13);
    let want_l = a.at(&[0, 0]) + a.at(&[2, 2]);
    for &l in r.second.unwrap().value().data() {
        assert!((l - want_l).abs() < 1e-13);
    }
    let r = neural::scalar(
        x,
        |x| quadratic(x, &a, &b),
        &Request::diffusion(sigma.clone()),
    );
    let mut want = 0.0;
    for c in 0..3 {
        for i in 0..d {
            for j in 0..d {
                want += sigma.at(&[i, c]) * a.at(&[i, j]) * sigma.at(&[j, c]);
            }
        }
    }
    for &l in r.second.unwrap().value().data() {
        assert!(
            (l - want).abs() < 1e-12 * (1.0 + want.abs()),
            "{l} vs {want}"
        );
    }
    assert!(r.gradient.is_none());
}

/// `v = Πᵢ sin xᵢ`: `Δv = −d·v`; `∂ᵢ∂ⱼv = v cot xᵢ cot xⱼ` off the diagonal.
#[test]
fn sin_product_closed_form() {
    let d = 3;
    let xs = Tensor::rand_uniform(&[6, d], 0.3, 2.8, 5);
    let sigma = Tensor::randn(&[d, 2], 6);
    let tape = Tape::new();
    let x = tape.var(xs.clone());
    let r = neural::scalar(x, sin_product, &Request::laplacian(vec![0, 1, 2]));
    let v = r.value.value();
    let lap = r.second.unwrap().value();
    for bi in 0..6 {
        assert!((lap.data()[bi] + 3.0 * v.data()[bi]).abs() < 1e-13);
    }
    let r = neural::scalar(x, sin_product, &Request::diffusion(sigma.clone()));
    let tr = r.second.unwrap().value();
    for bi in 0..6 {
        let p = v.data()[bi];
        let cot: Vec<f64> = (0..d).map(|i| 1.0 / xs.at(&[bi, i]).tan()).collect();
        let mut want = 0.0;
        for c in 0..2 {
            for i in 0..d {
                for j in 0..d {
                    let h = if i == j { -p } else { p * cot[i] * cot[j] };
                    want += sigma.at(&[i, c]) * h * sigma.at(&[j, c]);
                }
            }
        }
        assert!(
            (tr.data()[bi] - want).abs() < 1e-13,
            "{} vs {want}",
            tr.data()[bi]
        );
    }
}

/// Gaussian log-density (up to its constant) `v = −½‖x‖²/s²`: `∇v = −x/s²`, `Δv = −d/s²`.
#[test]
fn gaussian_log_density() {
    let (d, s2) = (5, 0.7);
    let xs = Tensor::randn(&[4, d], 7);
    let tape = Tape::new();
    let x = tape.var(xs.clone());
    let r = neural::scalar(
        x,
        |x| -0.5 / s2 * x.square().sum_axes(&[1], false),
        &Request::laplacian((0..d).collect()).with_gradient(),
    );
    assert!(
        r.gradient
            .unwrap()
            .value()
            .max_abs_diff(&xs.map(|v| -v / s2))
            < 1e-14
    );
    assert!(
        r.derivative(3).value().max_abs_diff(&Tensor::from_vec(
            (0..4).map(|b| -xs.at(&[b, 3]) / s2).collect(),
            &[4]
        )) < 1e-14
    );
    for &l in r.second.unwrap().value().data() {
        assert!((l + d as f64 / s2).abs() < 1e-13);
    }
}

/// `u = (x₀²x₁, sin x₁, x₀x₂)` on `(x₀, x₁, x₂)`: `div u = 2x₀x₁ + cos x₁ + x₀`; a drift on the
/// first two coordinates only: `2x₀x₁ + cos x₁`.
#[test]
fn divergence_closed_form() {
    let xs = Tensor::randn(&[5, 3], 8);
    let tape = Tape::new();
    let x = tape.var(xs.clone());
    let u = Var::concat(
        &[
            col(x, 0).square() * col(x, 1),
            col(x, 1).sin(),
            col(x, 0) * col(x, 2),
        ],
        1,
    );
    let div = neural::divergence(x, u, &[0, 1, 2]).value();
    let div2 = neural::divergence(x, u.slice(1, 0..2), &[0, 1]).value();
    for b in 0..5 {
        let (x0, x1) = (xs.at(&[b, 0]), xs.at(&[b, 1]));
        let want2 = 2.0 * x0 * x1 + x1.cos();
        assert!((div.data()[b] - want2 - x0).abs() < 1e-14);
        assert!((div2.data()[b] - want2).abs() < 1e-14);
    }
}

/// A residual loss built from nested derivatives differentiates to the weights: first-order
/// finite-difference check of `mean((Δv + ‖∇v‖²)²)` in every parameter.
#[test]
fn weight_gradient_of_nested_loss() {
    let mut store = ParamStore::new(3);
    let net = MlpConfig::new(&[3, 6, 6, 1]).build(&mut store, "v");
    let xs = Tensor::randn(&[4, 3], 9);
    let f = hr(move |tape, w| {
        let p = store.bind_vars(w);
        let x = tape.var(xs.clone());
        let r = neural::scalar(
            x,
            |x| net.forward(&p, x),
            &Request::laplacian(vec![0, 1, 2]).with_gradient(),
        );
        let g = r.gradient.unwrap();
        (r.second.unwrap() + g.square().sum_axes(&[1], false))
            .square()
            .mean()
    });
    let mut s2 = ParamStore::new(3);
    MlpConfig::new(&[3, 6, 6, 1]).build(&mut s2, "v");
    check_grad(f, s2.values(), &GradCheck::default()).unwrap();
}

#[test]
#[should_panic(expected = "trainable leaf")]
fn constant_points_are_refused() {
    let tape = Tape::new();
    let x = tape.constant(Tensor::zeros(&[2, 2]));
    let _ = neural::gradient(x, x.sum_axes(&[1], false));
}
