//! Newton solves: known solutions, the implicit derivative against its analytic value, gradient
//! checks at first and second order, typed failures.

use super::common::*;
use physgrad::linalg::{dense_solve, newton_solve, Factorization, NewtonConfig, SparsePattern};
use physgrad::{Error, Tape, Tensor, Var};
use rand::Rng;

/// `F(y; θ) = y³ + a ⊙ y + ½ C y − b` with `θ = (a, b)`: monotone when `a > 0` and `C` small.
fn cubic(c: Tensor) -> impl for<'t> Fn(&'t Tape, Var<'t>, &[Var<'t>]) -> Var<'t> + 'static {
    move |tape, y, th| y * y * y + th[0] * y + tape.constant(c.clone()).matmul(y) * 0.5 - th[1]
}

#[test]
fn newton_finds_a_known_solution_and_the_implicit_derivative() {
    for_seeds(|seed| {
        let mut r = rng(seed);
        let n = r.random_range(1..=5);
        let c = Tensor::rand_uniform(&[n, n], -0.3, 0.3, r.random());
        let a = Tensor::rand_uniform(&[n], 0.5, 2.0, r.random());
        let y_true = Tensor::rand_uniform(&[n], -2.0, 2.0, r.random());
        // b = F(y_true; a, 0), so that y_true solves F(y; a, b) = 0.
        let b = {
            let tape = Tape::new();
            let th = [tape.constant(a.clone()), tape.constant(Tensor::zeros(&[n]))];
            cubic(c.clone())(&tape, tape.constant(y_true.clone()), &th).value()
        };
        let tape = Tape::new();
        let (av, bv) = (tape.var(a.clone()), tape.var(b.clone()));
        let y0 = tape.constant(Tensor::zeros(&[n]));
        let y = newton_solve(cubic(c.clone()), y0, &[av, bv], &NewtonConfig::default()).unwrap();
        close(y.value().data(), y_true.data(), 1e-9)?;
        // Analytic: J = diag(3y² + a) + C/2, dy/db = J⁻¹, dy/da = −J⁻¹ diag(y).
        // For L = ⟨w, y⟩: b̄ = J⁻ᵀ w, ā = −y ⊙ J⁻ᵀ w.
        let w = randn(&[n], &mut r);
        let g = tape.gradients(&[y], Some(std::slice::from_ref(&w)), &[av, bv]);
        let jt: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                let yi = y_true.data()[j];
                0.5 * c.data()[j * n + i]
                    + if i == j {
                        3.0 * yi * yi + a.data()[i]
                    } else {
                        0.0
                    }
            })
            .collect();
        let lam = dense_solve(
            tape.constant(Tensor::from_vec(jt, &[n, n])),
            tape.constant(w.clone()),
            Factorization::Lu,
        )
        .unwrap()
        .value();
        close(g[1].data(), lam.data(), 1e-8)?;
        let abar: Vec<f64> = lam
            .data()
            .iter()
            .zip(y_true.data())
            .map(|(l, y)| -l * y)
            .collect();
        close(g[0].data(), &abar, 1e-8)
    });
}

#[test]
fn newton_gradients_first_and_second_order() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 21);
        let n = r.random_range(1..=3);
        let c = Tensor::rand_uniform(&[n, n], -0.3, 0.3, r.random());
        let a = Tensor::rand_uniform(&[n], 0.5, 2.0, r.random());
        let b = Tensor::rand_uniform(&[n], -2.0, 2.0, r.random());
        check_both(
            move |tape, v| {
                let y0 = tape.constant(Tensor::zeros(&[n]));
                newton_solve(cubic(c.clone()), y0, v, &NewtonConfig::default()).unwrap()
            },
            &[a, b],
        )
    });
}

fn sin_arctan<'t>(_: &'t Tape, y: Var<'t>, th: &[Var<'t>]) -> Var<'t> {
    y / (y * y + 1.0).sqrt() - th[0]
}

#[test]
fn line_search_rescues_a_far_start() {
    let tape = Tape::new();
    let theta = tape.var(Tensor::from_vec(vec![0.5], &[1]));
    let y0 = tape.constant(Tensor::from_vec(vec![10.0], &[1]));
    // sin(arctan y) = y/√(1+y²) = θ: flat for large y, so a full step overshoots.
    let y = newton_solve(sin_arctan, y0, &[theta], &NewtonConfig::default()).unwrap();
    let expected = 0.5 / (1.0f64 - 0.25).sqrt();
    assert!((y.value().data()[0] - expected).abs() < 1e-10);
}

#[test]
fn newton_failures_are_typed() {
    let tape = Tape::new();
    let theta = tape.var(Tensor::from_vec(vec![1.0], &[1]));
    let y0 = tape.constant(Tensor::from_vec(vec![0.5], &[1]));
    // y² + θ = 0 has no real root.
    let e = newton_solve(
        |_, y, th| y * y + th[0],
        y0,
        &[theta],
        &NewtonConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, Error::NotConverged { op, .. } if op == "newton_solve"),
        "{e}"
    );
    // J = 2y = 0 at y0 = 0.
    let zero = tape.constant(Tensor::zeros(&[1]));
    let e = newton_solve(
        |_, y, th| y * y - th[0],
        zero,
        &[theta],
        &NewtonConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Singular { .. }), "{e}");
    let cfg = NewtonConfig {
        max_iter: 1,
        ..NewtonConfig::default()
    };
    let e = newton_solve(|_, y, th| y * y * y - th[0], y0, &[theta], &cfg).unwrap_err();
    assert!(
        matches!(e, Error::NotConverged { iterations: 1, .. }),
        "{e}"
    );
}

/// `F(y; θ) = A y + y³ − θ` with `A` the 5-point Laplacian on a `g × g` grid (as a dense
/// constant, so `F` is plain tape code) and the Laplacian's pattern for `J`.
fn nonlinear_poisson(g: usize) -> (Tensor, SparsePattern) {
    let n = g * g;
    let mut a = vec![0.0; n * n];
    let mut entries = Vec::new();
    for i in 0..g {
        for j in 0..g {
            let k = i * g + j;
            let mut put = |c: usize, v: f64| {
                a[k * n + c] = v;
                entries.push((k, c));
            };
            put(k, 4.0);
            if i > 0 {
                put(k - g, -1.0);
            }
            if j > 0 {
                put(k - 1, -1.0);
            }
            if j + 1 < g {
                put(k + 1, -1.0);
            }
            if i + 1 < g {
                put(k + g, -1.0);
            }
        }
    }
    let p = SparsePattern::new(n, &entries, Factorization::Lu).unwrap();
    (Tensor::from_vec(a, &[n, n]), p)
}

fn poisson_residual(
    a: Tensor,
) -> impl for<'t> Fn(&'t Tape, Var<'t>, &[Var<'t>]) -> Var<'t> + 'static {
    move |tape, y, th| tape.constant(a.clone()).matmul(y) + y * y * y - th[0]
}

#[test]
fn sparse_jacobian_newton_matches_dense_and_known_solution() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 31);
        let g = r.random_range(2..=5);
        let n = g * g;
        let (a, p) = nonlinear_poisson(g);
        let y_true = Tensor::rand_uniform(&[n], -1.5, 1.5, r.random());
        let theta = {
            let tape = Tape::new();
            poisson_residual(a.clone())(
                &tape,
                tape.constant(y_true.clone()),
                &[tape.constant(Tensor::zeros(&[n]))],
            )
            .value()
        };
        let w = randn(&[n], &mut r);
        let run = |jacobian: Option<SparsePattern>| {
            let tape = Tape::new();
            let th = tape.var(theta.clone());
            let cfg = NewtonConfig {
                jacobian,
                ..NewtonConfig::default()
            };
            let y0 = tape.constant(Tensor::zeros(&[n]));
            let y = newton_solve(poisson_residual(a.clone()), y0, &[th], &cfg).unwrap();
            let first = tape.gradients(&[y], Some(std::slice::from_ref(&w)), &[th]);
            let seed = tape.constant(w.clone());
            let recorded = tape.grad_with_seeds(&[y], &[seed], &[th])[0].value();
            (y.value(), first[0].clone(), recorded)
        };
        let (ys, gs, rs) = run(Some(p));
        let (yd, gd, _) = run(None);
        close(ys.data(), y_true.data(), 1e-9)?;
        close(ys.data(), yd.data(), 1e-10)?;
        close(gs.data(), gd.data(), 1e-10)?;
        close(rs.data(), gs.data(), 1e-12)?;
        // θ̄ = J⁻ᵀ w with J = A + diag(3y²) (∂F/∂θ = −I).
        let jt: Vec<f64> = (0..n * n)
            .map(|k| {
                a.data()[(k % n) * n + k / n]
                    + if k % (n + 1) == 0 {
                        3.0 * y_true.data()[k / n].powi(2)
                    } else {
                        0.0
                    }
            })
            .collect();
        let tape = Tape::new();
        let lam = dense_solve(
            tape.constant(Tensor::from_vec(jt, &[n, n])),
            tape.constant(w.clone()),
            Factorization::Lu,
        )
        .unwrap()
        .value();
        close(gs.data(), lam.data(), 1e-8)
    });
}

#[test]
fn sparse_jacobian_newton_gradients_first_and_second_order() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 32);
        let g = r.random_range(1..=3);
        let (a, p) = nonlinear_poisson(g);
        let theta = Tensor::rand_uniform(&[g * g], -3.0, 3.0, r.random());
        check_both(
            move |tape, v| {
                let cfg = NewtonConfig {
                    jacobian: Some(p.clone()),
                    ..NewtonConfig::default()
                };
                let y0 = tape.constant(Tensor::zeros(&[g * g]));
                newton_solve(poisson_residual(a.clone()), y0, v, &cfg).unwrap()
            },
            &[theta],
        )
    });
}

#[test]
fn a_jacobian_outside_the_pattern_is_an_error() {
    let (a, _) = nonlinear_poisson(3);
    let diagonal = SparsePattern::new(
        9,
        &(0..9).map(|i| (i, i)).collect::<Vec<_>>(),
        Factorization::Lu,
    )
    .unwrap();
    let tape = Tape::new();
    let th = tape.var(Tensor::ones(&[9]));
    let cfg = NewtonConfig {
        jacobian: Some(diagonal),
        ..NewtonConfig::default()
    };
    let y0 = tape.constant(Tensor::zeros(&[9]));
    let e = newton_solve(poisson_residual(a), y0, &[th], &cfg).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { op, .. } if op == "newton_solve"),
        "{e}"
    );
}
