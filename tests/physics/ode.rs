//! RK4 (classical and 3/8) against the matrix exponential, the log-density of a linear flow
//! against the exact Gaussian push-forward, nested-reverse divergence against a hand-written one,
//! gradient checks through the steps.

use super::common::measured_order;
use physgrad::physics::ode::{
    integrate, integrate_log_density, Divergence, Integrator, RungeKutta, TimeGrid,
};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Error, Tape, Tensor, Var};

const A: [[f64; 2]; 2] = [[-0.5, 1.0], [-1.0, -0.3]];

/// `exp(A t)` by a 40-term Taylor series (‖A t‖ ≤ 2 here, so the tail is below 1e-20).
fn expm(a: [[f64; 2]; 2], t: f64) -> [[f64; 2]; 2] {
    let mut out = [[1.0, 0.0], [0.0, 1.0]];
    let mut term = out;
    for k in 1..40 {
        let mut next = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                next[i][j] = (0..2).map(|l| term[i][l] * a[l][j]).sum::<f64>() * t / k as f64;
            }
        }
        term = next;
        for i in 0..2 {
            for j in 0..2 {
                out[i][j] += term[i][j];
            }
        }
    }
    out
}

fn a_transposed() -> Tensor {
    Tensor::from_vec(vec![A[0][0], A[1][0], A[0][1], A[1][1]], &[2, 2])
}

fn rk_error(method: RungeKutta, steps: usize) -> f64 {
    let tape = Tape::new();
    let x0 = tape.constant(Tensor::from_vec(vec![1.0, 0.5], &[1, 2]));
    let at = tape.constant(a_transposed());
    let grid = TimeGrid {
        t0: 0.0,
        t1: 2.0,
        steps,
    };
    let x = integrate(method, |x, _| x.matmul(at), x0, &grid)
        .unwrap()
        .value();
    let b = expm(A, 2.0);
    let exact = [b[0][0] + 0.5 * b[0][1], b[1][0] + 0.5 * b[1][1]];
    ((x.data()[0] - exact[0]).powi(2) + (x.data()[1] - exact[1]).powi(2)).sqrt()
}

#[test]
fn rk4_measured_order_four_on_linear_ode() {
    for method in [RungeKutta::Classical, RungeKutta::ThreeEighths] {
        let steps = [4, 8, 16, 32];
        let hs: Vec<f64> = steps.iter().map(|&n| 2.0 / n as f64).collect();
        let errs: Vec<f64> = steps.iter().map(|&n| rk_error(method, n)).collect();
        let p = measured_order(&hs, &errs);
        assert!(
            (p - method.order()).abs() < 0.3,
            "{method:?}: order {p}, errors {errs:?}"
        );
        assert!(errs[3] < 1e-6, "{method:?}: {errs:?}");
    }
}

#[test]
fn time_dependent_rhs_integrates_exactly_for_cubics() {
    // dx/dt = 3t² + 1 has x(1) − x(0) = 2; RK4 is exact for cubic quadrature.
    for method in [RungeKutta::Classical, RungeKutta::ThreeEighths] {
        let tape = Tape::new();
        let x0 = tape.constant(Tensor::zeros(&[1]));
        let grid = TimeGrid {
            t0: 0.0,
            t1: 1.0,
            steps: 3,
        };
        let x = integrate(method, |x, t| x * 0.0 + (3.0 * t * t + 1.0), x0, &grid).unwrap();
        assert!((x.item() - 2.0).abs() < 1e-14, "{method:?}: {}", x.item());
    }
}

/// Log-density of `N(0, Σ)` at a 2-vector.
fn gauss_logpdf(s: [[f64; 2]; 2], x: [f64; 2]) -> f64 {
    let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
    let q = (s[1][1] * x[0] * x[0] - 2.0 * s[0][1] * x[0] * x[1] + s[0][0] * x[1] * x[1]) / det;
    -0.5 * q - 0.5 * det.ln() - (2.0 * std::f64::consts::PI).ln()
}

#[test]
fn log_density_of_linear_flow_matches_gaussian_push_forward() {
    let t1 = 1.5;
    let b = expm(A, t1);
    let mut cov = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            cov[i][j] = (0..2).map(|l| b[i][l] * b[j][l]).sum();
        }
    }
    let eye = [[1.0, 0.0], [0.0, 1.0]];
    let grid = TimeGrid {
        t0: 0.0,
        t1,
        steps: 150,
    };
    for reverse in [false, true] {
        let tape = Tape::new();
        let x0 = tape.constant(Tensor::randn(&[6, 2], 3));
        let at = tape.constant(a_transposed());
        let div = if reverse {
            Divergence::Reverse
        } else {
            Divergence::Given(Box::new(|x, _| {
                x.sum_axes(&[1], false) * 0.0 + (A[0][0] + A[1][1])
            }))
        };
        let out = integrate_log_density(
            RungeKutta::ThreeEighths,
            |x, _| x.matmul(at),
            &div,
            x0,
            &grid,
        )
        .unwrap();
        let (xs, x0v, dl) = (out.x.value(), x0.value(), out.delta_log_p.value());
        for r in 0..6 {
            let xt = [xs.at(&[r, 0]), xs.at(&[r, 1])];
            let start = gauss_logpdf(eye, [x0v.at(&[r, 0]), x0v.at(&[r, 1])]);
            let exact = gauss_logpdf(cov, xt);
            let got = start + dl.data()[r];
            assert!(
                (got - exact).abs() < 2e-9,
                "reverse={reverse} row {r}: {got} vs {exact}"
            );
        }
    }
}

/// A small nonlinear flow `μ(x) = tanh(x Wᵀ + c)` with `div μ = Σᵢ (1 − μᵢ²) Wᵢᵢ`, divergence
/// by hand or by nested reverse mode.
fn tanh_flow<'t>(tape: &'t Tape, w: &Tensor, reverse: bool) -> (Tensor, Tensor) {
    let grid = TimeGrid {
        t0: 0.0,
        t1: 1.0,
        steps: 5,
    };
    let wt = tape.constant(w.clone());
    let c = tape.constant(Tensor::from_vec(vec![0.1, -0.2, 0.3], &[3]));
    let x0 = tape.constant(Tensor::randn(&[4, 3], 9));
    let d = tape.constant(Tensor::from_vec(
        (0..3).map(|i| w.at(&[i, i])).collect(),
        &[3],
    ));
    let div = if reverse {
        Divergence::Reverse
    } else {
        Divergence::Given(Box::new(move |x: Var<'t>, _| {
            let mu = (x.matmul(wt.t()) + c).tanh();
            ((1.0 - mu.square()) * d).sum_axes(&[1], false)
        }))
    };
    let f = |x: Var<'t>, _| (x.matmul(wt.t()) + c).tanh();
    let out = integrate_log_density(RungeKutta::ThreeEighths, f, &div, x0, &grid).unwrap();
    (out.x.value(), out.delta_log_p.value())
}

#[test]
fn nested_reverse_divergence_matches_hand_written() {
    let w = Tensor::from_vec(
        vec![0.3, -0.7, 0.2, 0.5, 0.9, -0.4, 0.1, 0.6, -0.8],
        &[3, 3],
    );
    let (xa, la) = tanh_flow(&Tape::new(), &w, false);
    let (xb, lb) = tanh_flow(&Tape::new(), &w, true);
    assert!(xa.max_abs_diff(&xb) < 1e-14);
    assert!(la.max_abs_diff(&lb) < 1e-12, "{la:?} vs {lb:?}");
    assert!(la.data().iter().all(|v| v.abs() > 1e-3));
}

#[test]
fn gradients_through_rk4_first_and_second_order() {
    let grid = TimeGrid {
        t0: 0.0,
        t1: 0.6,
        steps: 3,
    };
    for method in [RungeKutta::Classical, RungeKutta::ThreeEighths] {
        let f = hr(move |_tape, v| {
            let (x0, w) = (v[0], v[1]);
            integrate(method, |x, t| (x.matmul(w) + t).sin(), x0, &grid).unwrap()
        });
        let inputs = [Tensor::randn(&[2, 3], 1), Tensor::randn(&[3, 3], 2)];
        check_grad(f, &inputs, &GradCheck::default()).unwrap();
        check_grad2(f, &inputs, &GradCheck::default()).unwrap();
    }
}

#[test]
fn gradients_through_log_density_with_nested_divergence() {
    let grid = TimeGrid {
        t0: 0.0,
        t1: 0.5,
        steps: 2,
    };
    let f = hr(move |_tape, v| {
        let (x0, w) = (v[0], v[1]);
        let out = integrate_log_density(
            RungeKutta::ThreeEighths,
            |x, _| x.matmul(w).tanh(),
            &Divergence::Reverse,
            x0,
            &grid,
        )
        .unwrap();
        out.delta_log_p.sum() + out.x.square().sum()
    });
    let inputs = [Tensor::randn(&[2, 2], 4), Tensor::randn(&[2, 2], 5)];
    check_grad(f, &inputs, &GradCheck::default()).unwrap();
    check_grad2(f, &inputs, &GradCheck::default()).unwrap();
}

#[test]
fn bad_grid_is_a_typed_error() {
    let tape = Tape::new();
    let x0 = tape.constant(Tensor::zeros(&[2]));
    let grid = TimeGrid {
        t0: 0.0,
        t1: 1.0,
        steps: 0,
    };
    let r = integrate(RungeKutta::Classical, |x, _| x, x0, &grid);
    assert!(matches!(r, Err(Error::InvalidInput { .. })));
    let grid = TimeGrid {
        t0: 0.0,
        t1: 1.0,
        steps: 4,
    };
    let r = integrate(
        RungeKutta::Classical,
        |x, _| x.exp() * 1e300,
        x0 + 1000.0,
        &grid,
    );
    assert!(matches!(r, Err(Error::NonFinite { .. })));
}
