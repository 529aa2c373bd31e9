//! Euler–Maruyama strong and weak orders on geometric Brownian motion against the closed form
//! (coupled paths, fixed seeds, statistical bounds), jump-diffusion moments and pathwise
//! gradients against closed forms, gradient checks through the steps, errors.

use super::common::measured_order;
use physgrad::physics::ode::TimeGrid;
use physgrad::physics::sde::{brownian_increments, EulerMaruyama, JumpDiffusion, SdeScheme};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Error, Tape, Tensor};

const PATHS: usize = 3000;
const FINE: usize = 256;
const T: f64 = 1.0;

/// EM for GBM `dX = a X dt + b X dB`, `X₀ = 1`, with `steps` steps driven by the fine
/// increments summed in blocks; returns `(X^h_T, X_T exact on the same path)`.
fn gbm_pair(a: f64, b: f64, steps: usize, fine: &[Tensor]) -> (Tensor, Tensor) {
    let block = FINE / steps;
    let coarse: Vec<Tensor> = fine
        .chunks(block)
        .map(|c| {
            c.iter()
                .skip(1)
                .fold(c[0].clone(), |s, d| s.zip_with(d, |p, q| p + q))
        })
        .collect();
    let w = coarse
        .iter()
        .skip(1)
        .fold(coarse[0].clone(), |s, d| s.zip_with(d, |p, q| p + q));
    let exact = w.map(|w| ((a - 0.5 * b * b) * T + b * w).exp());
    let tape = Tape::new();
    let em = EulerMaruyama {
        grid: TimeGrid {
            t0: 0.0,
            t1: T,
            steps,
        },
        seed: 0,
    };
    let x0 = tape.constant(Tensor::ones(&[PATHS]));
    let x = em
        .solve_with_increments(|x, _| x * a, |x, _| x * b, x0, &coarse)
        .unwrap();
    (x.value(), exact)
}

#[test]
fn euler_maruyama_strong_order_half_on_gbm() {
    let fine = brownian_increments(&[PATHS], FINE, T / FINE as f64, 11);
    let levels = [4, 8, 16, 32, 64];
    let hs: Vec<f64> = levels.iter().map(|&n| T / n as f64).collect();
    let errs: Vec<f64> = levels
        .iter()
        .map(|&n| {
            let (x, exact) = gbm_pair(0.5, 0.8, n, &fine);
            x.zip_with(&exact, |p, q| (p - q).abs()).sum_all() / PATHS as f64
        })
        .collect();
    let p = measured_order(&hs, &errs);
    let scheme = EulerMaruyama::default();
    assert!(
        (p - scheme.strong_order()).abs() < 0.15,
        "strong order {p}, errors {errs:?}"
    );
}

#[test]
fn euler_maruyama_weak_order_one_on_gbm() {
    // E X^h_T = (1 + a h)^N exactly; the error against E X_T = e^{aT} is estimated with the
    // exact solution on the same path as a control variate (variance O(h)/PATHS).
    let (a, b) = (1.5, 0.5);
    let fine = brownian_increments(&[PATHS], FINE, T / FINE as f64, 12);
    let levels = [8, 16, 32, 64, 128];
    let mut hs = Vec::new();
    let mut errs = Vec::new();
    for &n in &levels {
        let (x, exact) = gbm_pair(a, b, n, &fine);
        let d = x.zip_with(&exact, |p, q| p - q);
        let mean = d.sum_all() / PATHS as f64;
        let var = d.map(|v| (v - mean).powi(2)).sum_all() / (PATHS - 1) as f64;
        let se = (var / PATHS as f64).sqrt();
        let h = T / n as f64;
        let truth = (1.0 + a * h).powi(n as i32) - (a * T).exp();
        assert!(
            (mean - truth).abs() < 4.0 * se,
            "N={n}: {mean} vs {truth} ± {se}"
        );
        hs.push(h);
        errs.push(mean.abs());
    }
    let p = measured_order(&hs, &errs);
    let scheme = EulerMaruyama::default();
    assert!(
        (p - scheme.weak_order()).abs() < 0.15,
        "weak order {p}, errors {errs:?}"
    );
}

#[test]
fn seeded_paths_are_reproducible() {
    let run = |seed| {
        let tape = Tape::new();
        let em = EulerMaruyama {
            grid: TimeGrid {
                t0: 0.0,
                t1: 1.0,
                steps: 10,
            },
            seed,
        };
        let x0 = tape.constant(Tensor::zeros(&[5]));
        em.solve(|x, _| -x, |x, _| x * 0.0 + 1.0, x0)
            .unwrap()
            .value()
    };
    assert_eq!(run(3).data(), run(3).data());
    assert!(run(3).max_abs_diff(&run(4)) > 1e-3);
}

#[test]
fn jump_diffusion_moments_and_pathwise_gradients_match_closed_forms() {
    // X_T = x0 + aT + bW_T + Σ_{i ≤ N_T} Yᵢ, Yᵢ = m + s Zᵢ, N_T ~ Poisson(λT):
    // E X_T = x0 + aT + λT m, Var X_T = b²T + λT (m² + s²).
    let (x0v, a, b, lam, m, s, t1) = (0.5, 0.3, 0.4, 2.0, 0.7, 0.5, 1.5);
    let n = 20_000;
    let jd = JumpDiffusion {
        grid: TimeGrid {
            t0: 0.0,
            t1,
            steps: 12,
        },
        rate: lam,
        seed: 21,
    };
    let tape = Tape::new();
    let mv = tape.var(Tensor::scalar(m));
    let sv = tape.var(Tensor::scalar(s));
    let x0 = tape.constant(Tensor::full(&[n], x0v));
    let mut jumps = 0;
    let x = jd
        .solve(
            |x, _| x * 0.0 + a,
            |x, _| x * 0.0 + b,
            |k| {
                jumps = k;
                mv + sv * tape.constant(Tensor::randn(&[k], 22))
            },
            x0,
        )
        .unwrap();
    let xs = x.value();
    let mean = xs.sum_all() / n as f64;
    let var = xs.map(|v| (v - mean).powi(2)).sum_all() / (n - 1) as f64;
    let m4 = xs.map(|v| (v - mean).powi(4)).sum_all() / n as f64;
    let (mean_true, var_true) = (
        x0v + a * t1 + lam * t1 * m,
        b * b * t1 + lam * t1 * (m * m + s * s),
    );
    assert!(
        (mean - mean_true).abs() < 4.0 * (var / n as f64).sqrt(),
        "{mean} vs {mean_true}"
    );
    let se_var = ((m4 - var * var) / n as f64).sqrt();
    assert!(
        (var - var_true).abs() < 4.0 * se_var,
        "{var} vs {var_true} ± {se_var}"
    );
    // d mean / dm = (number of jumps)/n exactly, which estimates λT.
    let g = x.mean().backward();
    let dm = g.wrt(mv).item();
    assert!((dm - jumps as f64 / n as f64).abs() < 1e-12);
    let se_count = (lam * t1 / n as f64).sqrt();
    assert!(
        (dm - lam * t1).abs() < 4.0 * se_count,
        "{dm} vs {}",
        lam * t1
    );
}

#[test]
fn jump_diffusion_scheme_declares_orders_and_rejects_bad_rate() {
    let jd = JumpDiffusion {
        rate: -1.0,
        ..JumpDiffusion::default()
    };
    assert_eq!((jd.strong_order(), jd.weak_order()), (0.5, 1.0));
    let tape = Tape::new();
    let x0 = tape.constant(Tensor::zeros(&[2]));
    let r = jd.solve(
        |x, _| x,
        |x, _| x,
        |k| tape.constant(Tensor::zeros(&[k])),
        x0,
    );
    assert!(matches!(r, Err(Error::InvalidInput { .. })));
}

#[test]
fn wrong_increment_count_is_a_typed_error() {
    let tape = Tape::new();
    let em = EulerMaruyama {
        grid: TimeGrid {
            t0: 0.0,
            t1: 1.0,
            steps: 4,
        },
        seed: 0,
    };
    let x0 = tape.constant(Tensor::zeros(&[2]));
    let db = brownian_increments(&[2], 3, 0.25, 0);
    let r = em.solve_with_increments(|x, _| x, |x, _| x, x0, &db);
    assert!(matches!(r, Err(Error::InvalidInput { .. })));
}

#[test]
fn gradients_through_euler_maruyama_steps() {
    // OU-type drift θ(μ − x) and multiplicative noise σ·x, 4 steps, parameters as inputs.
    let f = hr(|_tape, v| {
        let (x0, theta, mu, sigma) = (v[0], v[1], v[2], v[3]);
        let em = EulerMaruyama {
            grid: TimeGrid {
                t0: 0.0,
                t1: 0.4,
                steps: 4,
            },
            seed: 5,
        };
        em.solve(|x, _| theta * (mu - x), |x, _| sigma * x.sin(), x0)
            .unwrap()
    });
    let inputs = [
        Tensor::randn(&[3], 1),
        Tensor::scalar(0.8),
        Tensor::scalar(0.2),
        Tensor::scalar(0.5),
    ];
    check_grad(f, &inputs, &GradCheck::default()).unwrap();
    check_grad2(f, &inputs, &GradCheck::default()).unwrap();
}

#[test]
fn gradients_through_jump_sizes() {
    let f = hr(|tape, v| {
        let (x0, m, s, sigma) = (v[0], v[1], v[2], v[3]);
        let jd = JumpDiffusion {
            grid: TimeGrid {
                t0: 0.0,
                t1: 1.0,
                steps: 5,
            },
            rate: 3.0,
            seed: 8,
        };
        jd.solve(
            |x, _| -x,
            |x, _| sigma * x.tanh(),
            |k| m + s * tape.constant(Tensor::randn(&[k], 9)),
            x0,
        )
        .unwrap()
    });
    let inputs = [
        Tensor::randn(&[4], 2),
        Tensor::scalar(0.3),
        Tensor::scalar(0.6),
        Tensor::scalar(0.4),
    ];
    check_grad(f, &inputs, &GradCheck::default()).unwrap();
    check_grad2(f, &inputs, &GradCheck::default()).unwrap();
}
