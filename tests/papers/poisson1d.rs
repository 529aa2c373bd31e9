//! Experiment 1 (1-D Poisson, law of (μ, σ)), reduced.

#[allow(dead_code)]
#[path = "../../examples/physgnn_poisson1d.rs"]
mod example;

use example::{
    coefficient, moments, observe, solutions, train_physgnn, train_wgan, true_params, w1, Config, N,
};
use physgrad::ot::{pairwise_cost, wasserstein, Ground, Method, Weights};
use physgrad::testing::{check_grad, hr, GradCheck};
use physgrad::{Tape, Tensor};

fn small() -> Config {
    Config {
        iterations: 300,
        observations: 500,
        eval_samples: 300,
        curve_samples: 300,
        curve_every: 100,
        batch: 32,
        final_lr: None,
        verbose: false,
        ..Config::default()
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn coefficient_matches_the_formula_at_the_midpoints() {
    let tape = Tape::new();
    let theta = tape.constant(Tensor::from_vec(vec![0.3, 0.1, 0.7, 0.25], &[2, 2]));
    let a = coefficient(theta).value();
    assert_eq!(a.shape(), &[2, N + 1]);
    for (row, (mu, s)) in [(0.3, 0.1), (0.7, 0.25)].into_iter().enumerate() {
        for i in [0, 17, 50, N] {
            let x = (i as f64 + 0.5) / (N + 1) as f64;
            let want = 1.0 - 0.9 * (-(x - mu) * (x - mu) / (2.0 * s * s)).exp();
            assert!((a.at(&[row, i]) - want).abs() < 1e-14);
        }
    }
}

#[test]
fn observation_is_the_poisson_solution() {
    // σ tiny: a = 1 at every midpoint (the dip is far narrower than a cell), so u is the
    // a = 1 solution x(1 − x)/2, which the scheme reproduces exactly.
    let u = solutions(&[[0.5, 1e-4]]).unwrap();
    let h = 1.0 / (N + 1) as f64;
    for i in [0, 20, 80, N - 1] {
        let x = (i + 1) as f64 * h;
        assert!(
            (u.at(&[0, i]) - x * (1.0 - x) / 2.0).abs() < 1e-12,
            "node {i}"
        );
    }
    // A dip in a raises u (less conductive material); centred at ½ it keeps u symmetric.
    let dip = solutions(&[[0.5, 0.1]]).unwrap();
    assert!(dip.at(&[0, 49]) > u.at(&[0, 49]) * 1.05);
    for i in 0..N {
        assert!((dip.at(&[0, i]) - dip.at(&[0, N - 1 - i])).abs() < 1e-12);
    }
}

#[test]
fn loss_gradient_through_plan_solver_and_coefficient_checks_out() {
    let y = solutions(&true_params([1.0, 2.0, 3.0], 6, 9)).unwrap();
    let theta = Tensor::from_vec(
        vec![0.2, 0.3, 0.5, 0.2, 0.35, 0.15, 0.6, 0.4, 0.1, 0.2, 0.8, 0.3],
        &[6, 2],
    );
    let report = check_grad(
        hr(|tape, v| {
            let u = observe(v[0]).unwrap();
            let c = pairwise_cost(u, tape.constant(y.clone()), Ground::L2);
            wasserstein(c, Weights::Uniform, Weights::Uniform, &Method::default()).unwrap()
        }),
        &[theta],
        &GradCheck::default(),
    );
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn physgnn_lowers_the_loss_and_approaches_the_true_law() {
    let cfg = small();
    let data = solutions(&true_params(cfg.alpha, cfg.observations, 1)).unwrap();
    let probe = true_params(cfg.alpha, cfg.curve_samples, 3);
    let run = train_physgnn(&cfg, &data, &probe).unwrap();
    let (first, last) = (
        mean(&run.losses[..30]),
        mean(&run.losses[run.losses.len() - 100..]),
    );
    let (w_start, w_end) = (run.curve[0].1, run.curve.last().unwrap().1);
    eprintln!("physgnn loss {first:.4} -> {last:.4}, W1 {w_start:.4} -> {w_end:.4}");
    assert!(last < first, "loss {first} -> {last}");
    assert!(
        w_end < 0.8 * w_start,
        "W1 to the truth {w_start} -> {w_end}"
    );
    let truth = true_params(cfg.alpha, cfg.eval_samples, 2);
    let [mu, sigma] = moments(&run.samples);
    let [tmu, tsigma] = moments(&truth);
    eprintln!(
        "mu {mu:?} vs {tmu:?}; sigma {sigma:?} vs {tsigma:?}; W1 {}",
        w1(&run.samples, &truth).unwrap()
    );
}

#[test]
fn wgan_baseline_runs_and_keeps_the_critic_clipped() {
    let cfg = Config {
        iterations: 40,
        ..small()
    };
    let data = solutions(&true_params(cfg.alpha, cfg.observations, 1)).unwrap();
    let probe = true_params(cfg.alpha, cfg.curve_samples, 3);
    let run = train_wgan(&cfg, &data, &probe).unwrap();
    assert_eq!(run.losses.len(), 40);
    assert!(run.losses.iter().all(|l| l.is_finite()));
    // With weights in [−0.01, 0.01] the critic is tiny on solutions of size ~0.1.
    assert!(run.losses.iter().all(|l| l.abs() < 1e-3));
    assert_eq!(run.samples.len(), cfg.eval_samples);
}
