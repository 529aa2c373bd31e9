//! The Burgers reference solver against Cole's exact solution for `u₀ = sin πx` (Cole–Hopf
//! transform, Fourier series with numerically integrated coefficients), Dirichlet and periodic,
//! with a measured convergence order; the stability check.

use super::common::measured_order;
use physgrad::physics::burgers::{Burgers, BurgersBoundary};
use physgrad::{Error, Tensor};
use std::f64::consts::PI;

/// Cole's solution of `u_t + u u_x = ν u_xx` on `[0, 1]`, `u(0) = u(1) = 0`, `u₀ = sin πx`:
/// `u = 2πν Σ n aₙ e^{−n²π²νt} sin nπx / (a₀ + Σ aₙ e^{−n²π²νt} cos nπx)` with `aₙ` the cosine
/// coefficients of `exp(−(1 − cos πx)/(2πν))` (trapezoid rule, spectrally accurate here).
/// Odd and 2-periodic in `x`, so it also solves the periodic problem on `[0, 2)`.
struct Cole {
    nu: f64,
    a: Vec<f64>,
}

impl Cole {
    fn new(nu: f64, terms: usize) -> Cole {
        let m = 2000;
        let phi0 = |x: f64| (-(1.0 - (PI * x).cos()) / (2.0 * PI * nu)).exp();
        let a = (0..terms)
            .map(|k| {
                let s: f64 = (0..=m)
                    .map(|j| {
                        let x = j as f64 / m as f64;
                        let w = if j == 0 || j == m { 0.5 } else { 1.0 };
                        w * phi0(x) * (k as f64 * PI * x).cos()
                    })
                    .sum::<f64>()
                    / m as f64;
                if k == 0 {
                    s
                } else {
                    2.0 * s
                }
            })
            .collect();
        Cole { nu, a }
    }

    fn u(&self, x: f64, t: f64) -> f64 {
        let (mut num, mut den) = (0.0, self.a[0]);
        for (k, ak) in self.a.iter().enumerate().skip(1) {
            let kk = k as f64;
            let e = ak * (-kk * kk * PI * PI * self.nu * t).exp();
            num += kk * e * (kk * PI * x).sin();
            den += e * (kk * PI * x).cos();
        }
        2.0 * PI * self.nu * num / den
    }
}

const NU: f64 = 0.05;
const T: f64 = 0.4;

fn dirichlet_error(cole: &Cole, n: usize) -> f64 {
    let xs: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    let u0 = Tensor::from_vec(xs.iter().map(|x| (PI * x).sin()).collect(), &[n]);
    let solver = Burgers {
        nu: NU,
        boundary: BurgersBoundary::Dirichlet {
            left: 0.0,
            right: 0.0,
        },
        ..Burgers::default()
    };
    let u = solver.solve(&u0, T).unwrap();
    xs.iter()
        .zip(u.data())
        .map(|(x, v)| (v - cole.u(*x, T)).abs())
        .fold(0.0, f64::max)
}

#[test]
fn cole_series_is_exact_at_time_zero() {
    let cole = Cole::new(NU, 60);
    for i in 0..=10 {
        let x = i as f64 / 10.0;
        assert!((cole.u(x, 0.0) - (PI * x).sin()).abs() < 1e-9, "x = {x}");
    }
}

#[test]
fn dirichlet_converges_to_cole_hopf_at_first_order() {
    let cole = Cole::new(NU, 60);
    let ns = [41, 81, 161];
    let hs: Vec<f64> = ns.iter().map(|&n| 1.0 / (n - 1) as f64).collect();
    let errs: Vec<f64> = ns.iter().map(|&n| dirichlet_error(&cole, n)).collect();
    let p = measured_order(&hs, &errs);
    assert!((0.8..1.3).contains(&p), "order {p}, errors {errs:?}");
    assert!(errs[2] < 2e-2, "{errs:?}");
}

#[test]
fn periodic_matches_the_odd_extension() {
    let cole = Cole::new(NU, 60);
    let n = 240;
    let xs: Vec<f64> = (0..n).map(|i| 2.0 * i as f64 / n as f64).collect();
    let u0 = Tensor::from_vec(xs.iter().map(|x| (PI * x).sin()).collect(), &[n]);
    let solver = Burgers {
        nu: NU,
        length: 2.0,
        ..Burgers::default()
    };
    let u = solver.solve(&u0, T).unwrap();
    let err = xs
        .iter()
        .zip(u.data())
        .map(|(x, v)| (v - cole.u(*x, T)).abs())
        .fold(0.0, f64::max);
    assert!(err < 2e-2, "{err}");
    // Conservation: the periodic finite-volume scheme keeps Σu to round-off.
    assert!(u.sum_all().abs() < 1e-11);
}

#[test]
fn fixed_step_is_checked_against_the_stability_bound() {
    let n = 101;
    let u0 = Tensor::from_vec(
        (0..n)
            .map(|i| (2.0 * PI * i as f64 / n as f64).sin())
            .collect(),
        &[n],
    );
    let dx = 1.0 / n as f64;
    let ok = Burgers {
        nu: 0.01,
        dt: Some(0.3 * dx),
        ..Burgers::default()
    };
    assert!(ok.solve(&u0, 0.1).is_ok());
    let too_big = Burgers {
        nu: 0.01,
        dt: Some(1.5 * dx),
        ..Burgers::default()
    };
    assert!(matches!(
        too_big.solve(&u0, 0.1),
        Err(Error::InvalidInput { .. })
    ));
    let bad_ic = Tensor::from_vec(vec![0.0, f64::NAN, 1.0], &[3]);
    assert!(matches!(
        Burgers::default().solve(&bad_ic, 0.1),
        Err(Error::NonFinite { .. })
    ));
}

/// Zero-gradient ends: a constant state stays put; over one fixed step the total `Σu·Δx`
/// changes by exactly the outflow `Δt (u₀² − uₙ₋₁²)/2` (diffusion telescopes to zero with
/// replicated ghosts); a bump far from both ends evolves exactly as on the periodic grid.
#[test]
fn neumann_ends_conserve_up_to_the_boundary_fluxes() {
    let n = 41;
    let s = Burgers {
        nu: 0.01,
        boundary: BurgersBoundary::Neumann,
        dt: Some(1e-3),
        ..Burgers::default()
    };
    let flat = s
        .solve(&Tensor::from_vec(vec![0.7; n], &[n]), 0.05)
        .unwrap();
    assert!(flat.data().iter().all(|v| (v - 0.7).abs() < 1e-14));
    let dx = s.dx(n);
    assert!((dx - 1.0 / 40.0).abs() < 1e-15);
    let u0: Vec<f64> = (0..n)
        .map(|i| 0.3 + 0.5 * (i as f64 * dx * 5.0).sin())
        .collect();
    let u1 = s.solve(&Tensor::from_vec(u0.clone(), &[n]), 1e-3).unwrap();
    let mass = |u: &[f64]| u.iter().sum::<f64>() * dx;
    let want = mass(&u0) + 1e-3 * (u0[0] * u0[0] - u0[n - 1] * u0[n - 1]) / 2.0;
    assert!(
        (mass(u1.data()) - want).abs() < 1e-14,
        "{} vs {want}",
        mass(u1.data())
    );
    // A compact bump in the middle: identical to periodic cells while it stays inside.
    let bump: Vec<f64> = (0..n)
        .map(|i| {
            let x = i as f64 * dx;
            if (x - 0.5).abs() < 0.1 {
                (1.0 + (10.0 * PI * (x - 0.5)).cos()) / 2.0
            } else {
                0.0
            }
        })
        .collect();
    let per = Burgers {
        boundary: BurgersBoundary::Periodic,
        length: dx * n as f64,
        ..s
    };
    let a = s
        .solve(&Tensor::from_vec(bump.clone(), &[n]), 0.02)
        .unwrap();
    let b = per.solve(&Tensor::from_vec(bump, &[n]), 0.02).unwrap();
    for (x, y) in a.data().iter().zip(b.data()) {
        assert!((x - y).abs() < 1e-15);
    }
}
