//! Grid stencils: measured convergence orders on smooth fields, exactness on polynomials, and
//! first- and second-order gradient checks.

use physgrad::pde::grid::{diff1, diff2, laplacian, pad, sobel, Accuracy, Boundary};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Tape, Tensor};
use std::f64::consts::PI;

/// `f(x, y) = sin(x) cos(2y)` on the periodic grid `[0, 2π)²` with `n` points per axis
/// (anisotropic spacing: `ny = 2n`), and the max errors of ∂ₓ, ∂ᵧ², Δ.
fn periodic_errors(n: usize, acc: Accuracy) -> [f64; 3] {
    let (nx, ny) = (n, 2 * n);
    let (hx, hy) = (2.0 * PI / nx as f64, 2.0 * PI / ny as f64);
    let grid = |g: &dyn Fn(f64, f64) -> f64| {
        let mut v = Vec::with_capacity(nx * ny);
        for i in 0..nx {
            for j in 0..ny {
                v.push(g(i as f64 * hx, j as f64 * hy));
            }
        }
        Tensor::from_vec(v, &[nx, ny])
    };
    let f = grid(&|x, y| x.sin() * (2.0 * y).cos());
    let tape = Tape::new();
    let fv = tape.constant(f);
    let b = Boundary::Periodic;
    let dx = diff1(fv, 0, hx, acc, b).value();
    let dyy = diff2(fv, 1, hy, acc, b).value();
    let lap = laplacian(fv, &[0, 1], &[hx, hy], acc, b).value();
    [
        dx.max_abs_diff(&grid(&|x, y| x.cos() * (2.0 * y).cos())),
        dyy.max_abs_diff(&grid(&|x, y| -4.0 * x.sin() * (2.0 * y).cos())),
        lap.max_abs_diff(&grid(&|x, y| -5.0 * x.sin() * (2.0 * y).cos())),
    ]
}

#[test]
fn stencils_reach_their_convergence_orders() {
    for (acc, order) in [(Accuracy::Second, 2.0), (Accuracy::Fourth, 4.0)] {
        let (coarse, fine) = (periodic_errors(16, acc), periodic_errors(32, acc));
        for k in 0..3 {
            let measured = (coarse[k] / fine[k]).log2();
            assert!(
                (measured - order).abs() < 0.15,
                "{acc:?} operator {k}: measured order {measured}"
            );
        }
    }
}

/// Quadratics are differentiated exactly in the interior (replicate padding only touches the
/// outer points); Sobel is exact on linear fields in the interior.
#[test]
fn exact_on_low_degree_polynomials_in_the_interior() {
    let (n, h) = (9, 0.3);
    let xs: Vec<f64> = (0..n).map(|i| i as f64 * h).collect();
    let mut f = Vec::new();
    let mut lin = Vec::new();
    for &x in &xs {
        for &y in &xs {
            f.push(x * x + 3.0 * x * y - y);
            lin.push(2.0 * x - 5.0 * y + 1.0);
        }
    }
    let tape = Tape::new();
    let f = tape.constant(Tensor::from_vec(f, &[n, n]));
    let lin = tape.constant(Tensor::from_vec(lin, &[n, n]));
    for acc in [Accuracy::Second, Accuracy::Fourth] {
        let dx = diff1(f, 0, h, acc, Boundary::Replicate).value();
        let dxx = diff2(f, 0, h, acc, Boundary::Replicate).value();
        for i in 2..n - 2 {
            for j in 0..n {
                assert!((dx.at(&[i, j]) - (2.0 * xs[i] + 3.0 * xs[j])).abs() < 1e-11);
                assert!((dxx.at(&[i, j]) - 2.0).abs() < 1e-10);
            }
        }
    }
    let sx = sobel(lin, 0, 1, h, Boundary::Replicate).value();
    let sy = sobel(lin, 1, 0, h, Boundary::Replicate).value();
    for i in 1..n - 1 {
        for j in 1..n - 1 {
            assert!((sx.at(&[i, j]) - 2.0).abs() < 1e-12);
            assert!((sy.at(&[i, j]) + 5.0).abs() < 1e-12);
        }
    }
}

#[test]
fn padding_values() {
    let tape = Tape::new();
    let f = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    assert_eq!(
        pad(f, 0, 2, Boundary::Replicate).value().data(),
        &[1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0]
    );
    assert_eq!(
        pad(f, 0, 2, Boundary::Periodic).value().data(),
        &[2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0]
    );
}

#[test]
fn stencils_pass_first_and_second_order_gradient_checks() {
    let x = Tensor::randn(&[5, 6], 3);
    let cfg = GradCheck::default();
    for b in [Boundary::Replicate, Boundary::Periodic] {
        for acc in [Accuracy::Second, Accuracy::Fourth] {
            // a nonlinear readout so that the second-order check is not trivially zero
            let f = hr(move |_, v| {
                let l = laplacian(v[0], &[0, 1], &[0.5, 0.7], acc, b);
                let d = diff1(v[0], 1, 0.7, acc, b);
                (l * d).sin() + sobel(v[0], 0, 1, 0.5, b).square()
            });
            check_grad(f, std::slice::from_ref(&x), &cfg).unwrap();
            check_grad2(f, std::slice::from_ref(&x), &cfg).unwrap();
        }
    }
}

/// The smoothed Laplacian on a periodic grid, `f = sin(x)·cos(y)`: exactly
/// `sin x · (2cos hₓ − 2)/hₓ² · cos y · (1 + cos h_y)/2` (the `[1 −2 1]` symbol along x times the
/// `[1 2 1]/4` symbol across), which tends to `∂²f/∂x²` at second order; first- and
/// second-order gradient checks on random fields with both paddings.
#[test]
fn smoothed_diff2_matches_its_symbol_and_checks_out() {
    let (nx, ny) = (16, 12);
    let (hx, hy) = (2.0 * PI / nx as f64, 2.0 * PI / ny as f64);
    let mut data = Vec::with_capacity(nx * ny);
    for i in 0..nx {
        for j in 0..ny {
            data.push((i as f64 * hx).sin() * (j as f64 * hy).cos());
        }
    }
    let tape = Tape::new();
    let f = tape.constant(Tensor::from_vec(data, &[nx, ny]));
    let got = physgrad::pde::grid::smoothed_diff2(f, 0, 1, hx, Boundary::Periodic).value();
    let sym = (2.0 * hx.cos() - 2.0) / (hx * hx) * (1.0 + hy.cos()) / 2.0;
    for i in 0..nx {
        for j in 0..ny {
            let want = sym * (i as f64 * hx).sin() * (j as f64 * hy).cos();
            assert!((got.at(&[i, j]) - want).abs() < 1e-12, "({i}, {j})");
        }
    }
    // Same operator with the axes swapped on the transposed field.
    let ft = f.permute(&[1, 0]);
    let gt = physgrad::pde::grid::smoothed_diff2(ft, 1, 0, hx, Boundary::Periodic).value();
    assert!((gt.at(&[3, 5]) - got.at(&[5, 3])).abs() < 1e-12);
    let x = Tensor::randn(&[5, 6], 7);
    let cfg = GradCheck::default();
    for b in [Boundary::Replicate, Boundary::Periodic] {
        let g = hr(move |_, v| {
            let s = physgrad::pde::grid::smoothed_diff2(v[0], 1, 0, 0.6, b);
            (s * v[0]).sin()
        });
        check_grad(g, std::slice::from_ref(&x), &cfg).unwrap();
        check_grad2(g, std::slice::from_ref(&x), &cfg).unwrap();
    }
}
