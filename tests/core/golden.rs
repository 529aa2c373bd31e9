//! Hand-derived derivatives at fixed points: a check of the checker, and of conventions
//! (tie rules, derivatives at kinks) that finite differences cannot see.

use physgrad::{Tape, Tensor, Var};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-13 * (1.0 + b.abs()), "{a} vs {b}");
}

#[test]
fn tanh_first_second_third_derivatives() {
    let x0: f64 = 0.7;
    let t = x0.tanh();
    let tape = Tape::new();
    let x = tape.var(Tensor::scalar(x0));
    let d1 = tape.grad(&[x.tanh()], &[x])[0];
    let d2 = tape.grad(&[d1], &[x])[0];
    let d3 = tape.grad(&[d2], &[x])[0];
    close(d1.item(), 1.0 - t * t);
    close(d2.item(), -2.0 * t * (1.0 - t * t));
    close(d3.item(), (1.0 - t * t) * (6.0 * t * t - 2.0));
}

#[test]
fn quadratic_form_hessian_is_symmetrised_matrix() {
    // f(x) = xᵀAx: ∇f = (A + Aᵀ)x, ∇²f = A + Aᵀ; the Hessian columns come from H·eᵢ.
    let a = Tensor::from_vec(vec![1.0, 2.0, -1.0, 0.5, 3.0, 0.0, 4.0, -2.0, 1.0], &[3, 3]);
    let x0 = Tensor::from_vec(vec![0.3, -0.2, 0.9], &[3]);
    let tape = Tape::new();
    let x = tape.var(x0.clone());
    let av = tape.constant(a.clone());
    let f = x.matmul(av.matmul(x));
    let g = tape.grad(&[f], &[x])[0];
    for i in 0..3 {
        for j in 0..3 {
            let expect_g: f64 = (0..3)
                .map(|k| (a.at(&[i, k]) + a.at(&[k, i])) * x0.at(&[k]))
                .sum();
            close(g.value().at(&[i]), expect_g);
            let row = tape.grad(&[g.slice(0, i..i + 1).sum()], &[x])[0];
            close(row.value().at(&[j]), a.at(&[i, j]) + a.at(&[j, i]));
        }
    }
}

#[test]
fn logsumexp_gradient_is_softmax() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 1000.0], &[4]));
    let g = x.logsumexp(&[0], false).backward().wrt(x);
    let z: f64 = [1.0f64, 2.0, 3.0]
        .iter()
        .map(|v| (v - 1000.0).exp())
        .sum::<f64>()
        + 1.0;
    close(g.data()[3], 1.0 / z);
    close(g.data()[0], (1.0f64 - 1000.0).exp() / z);
}

#[test]
fn matmul_gradients_match_formulas() {
    // L = Σ W ⊙ (A·B): Ā = W·Bᵀ, B̄ = Aᵀ·W.
    let a = Tensor::randn(&[3, 4], 1);
    let b = Tensor::randn(&[4, 2], 2);
    let w = Tensor::randn(&[3, 2], 3);
    let tape = Tape::new();
    let (av, bv) = (tape.var(a.clone()), tape.var(b.clone()));
    let g = (av.matmul(bv) * tape.constant(w.clone())).sum().backward();
    for i in 0..3 {
        for k in 0..4 {
            close(
                g.wrt(av).at(&[i, k]),
                (0..2).map(|j| w.at(&[i, j]) * b.at(&[k, j])).sum(),
            );
        }
    }
    for k in 0..4 {
        for j in 0..2 {
            close(
                g.wrt(bv).at(&[k, j]),
                (0..3).map(|i| a.at(&[i, k]) * w.at(&[i, j])).sum(),
            );
        }
    }
}

#[test]
fn ties_and_kinks_follow_the_documented_rules() {
    let tape = Tape::new();
    let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let b = tape.var(Tensor::from_vec(vec![1.0, 5.0, 0.0], &[3]));
    let g = a.maximum(b).sum().backward();
    assert_eq!(g.wrt(a).data(), &[0.5, 0.0, 1.0]);
    assert_eq!(g.wrt(b).data(), &[0.5, 1.0, 0.0]);
    let g = a.minimum(b).sum().backward();
    assert_eq!(g.wrt(a).data(), &[0.5, 1.0, 0.0]);
    // max over an axis: tied maxima share the gradient equally.
    let m = tape.var(Tensor::from_vec(vec![2.0, 7.0, 7.0, 1.0], &[4]));
    assert_eq!(m.max().backward().wrt(m).data(), &[0.0, 0.5, 0.5, 0.0]);
    // abs and relu have derivative 0 at 0.
    let z = tape.var(Tensor::from_vec(vec![0.0, -1.0, 2.0], &[3]));
    assert_eq!(z.abs().sum().backward().wrt(z).data(), &[0.0, -1.0, 1.0]);
    assert_eq!(z.relu().sum().backward().wrt(z).data(), &[0.0, 0.0, 1.0]);
}

#[test]
fn broadcasting_gradients_sum_over_broadcast_axes() {
    let tape = Tape::new();
    let x = tape.var(Tensor::ones(&[2, 3]));
    let row = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let col = tape.var(Tensor::from_vec(vec![10.0, 20.0], &[2, 1]));
    let g = (x * row + col).sum().backward();
    assert_eq!(g.wrt(row).data(), &[2.0, 2.0, 2.0]);
    assert_eq!(g.wrt(col).data(), &[3.0, 3.0]);
    assert_eq!(g.wrt(x).data(), &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
}

#[test]
fn sigmoid_and_softplus_are_stable_in_the_tails() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![-800.0, 0.0, 800.0], &[3]));
    assert_eq!(x.sigmoid().value().data(), &[0.0, 0.5, 1.0]);
    assert_eq!(x.softplus().value().data()[2], 800.0);
    close(x.softplus().value().data()[1], 2f64.ln());
    let g = x.softplus().sum().backward().wrt(x);
    assert_eq!(g.data(), &[0.0, 0.5, 1.0]);
    assert!(!x.sigmoid().sum().backward().wrt(x).has_non_finite());
}

#[test]
fn pow_with_scalar_exponent_and_mixed_partials() {
    // f(a, b) = a^b: ∂²f/∂a∂b = a^(b−1)(1 + b ln a).
    let (a0, b0): (f64, f64) = (1.7, 2.3);
    let tape = Tape::new();
    let a = tape.var(Tensor::scalar(a0));
    let b = tape.var(Tensor::scalar(b0));
    let da = tape.grad(&[a.pow(b)], &[a])[0];
    let dab = tape.grad(&[da], &[b])[0];
    close(da.item(), b0 * a0.powf(b0 - 1.0));
    close(dab.item(), a0.powf(b0 - 1.0) * (1.0 + b0 * a0.ln()));
    let c: Var<'_> = a.powf(-0.5);
    close(c.backward().wrt(a).item(), -0.5 * a0.powf(-1.5));
}
