//! Experiment 2 (2-D Poisson against MCMC), reduced.

#[allow(dead_code)]
#[path = "../../examples/physgnn_poisson2d.rs"]
mod example;

use example::{
    folded_moments, log_kde, mean_std, run_mcmc, train_physgnn, true_kappa, w1, Config, Generator,
    Model,
};
use physgrad::nn::ParamStore;
use physgrad::ot::{pairwise_cost, wasserstein, Ground, Method, Weights};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::f64::consts::PI;

fn small() -> Config {
    Config {
        m: 4,
        observations: 300,
        iterations: 200,
        mcmc_steps: 3000,
        burn_in: 500,
        eval_samples: 2000,
        batch: 16,
        final_lr: None,
        verbose: false,
        ..Config::default()
    }
}

#[test]
fn observation_converges_to_the_analytic_solution_and_scales_as_one_over_kappa() {
    // Constant κ: u = −sin(πx) sin(πy)/κ exactly; the 5-point scheme is second order.
    let exact = -(0.8 * PI).sin().powi(2);
    let mut errs = Vec::new();
    for m in [4, 9, 19] {
        let u = Model::new(m)
            .unwrap()
            .observe_plain(&[1.0, 2.0, 0.5])
            .unwrap();
        errs.push((u[0] - exact).abs());
        assert!((u[1] - u[0] / 2.0).abs() < 1e-12 && (u[2] - 2.0 * u[0]).abs() < 1e-12);
    }
    let orders: Vec<f64> = errs.windows(2).map(|e| (e[0] / e[1]).log2()).collect();
    // h = 0.2, 0.1, 0.05: each halving should divide the error by ≈ 4.
    assert!(
        orders.iter().all(|&p| (p - 2.0).abs() < 0.1),
        "{errs:?} {orders:?}"
    );
}

#[test]
#[should_panic(expected = "is not a node")]
fn observation_point_must_be_a_node() {
    let _ = Model::new(10);
}

#[test]
fn folded_normal_moments_match_monte_carlo() {
    let (m, s) = folded_moments((1.0, 0.3));
    assert!(
        (m - 1.000_06).abs() < 1e-5 && (s - 0.299_8).abs() < 1e-4,
        "{m} {s}"
    );
    // A law that folds a lot: μ = 0.2, σ = 1.
    let (m, s) = folded_moments((0.2, 1.0));
    let (em, es) = mean_std(&true_kappa((0.2, 1.0), 200_000, 4));
    assert!(
        (m - em).abs() < 0.01 && (s - es).abs() < 0.01,
        "{m} {em} {s} {es}"
    );
}

#[test]
fn log_kde_matches_the_direct_sum() {
    let data = [0.1, -0.3, 0.25, 0.7];
    for (u, b) in [(0.0, 0.1), (0.3, 0.01), (5.0, 0.5)] {
        let direct: f64 = data
            .iter()
            .map(|y: &f64| (-(u - y).powi(2) / (2.0 * b * b)).exp() / (b * (2.0 * PI).sqrt()))
            .sum::<f64>()
            / data.len() as f64;
        assert!((log_kde(u, &data, b) - direct.ln()).abs() < 1e-12);
    }
    // Far in the tail the direct sum underflows; the stable form stays finite.
    assert!(log_kde(10.0, &data, 0.01).is_finite());
}

#[test]
fn loss_gradient_through_plan_and_sparse_solve_checks_out() {
    let model = Model::new(4).unwrap();
    let y = Tensor::from_vec(model.observe_plain(&[0.9, 1.3, 0.7, 1.1]).unwrap(), &[4, 1]);
    let kappa = Tensor::from_vec(vec![1.2, 0.8, 0.95, 1.5], &[4, 1]);
    let f = hr(|tape: &_, v: &[_]| {
        let u = model.observe(v[0]).unwrap();
        let c = pairwise_cost(u, tape.constant(y.clone()), Ground::L2);
        wasserstein(c, Weights::Uniform, Weights::Uniform, &Method::default()).unwrap()
    });
    let cfg = GradCheck::default();
    assert!(check_grad(f, std::slice::from_ref(&kappa), &cfg).is_ok());
    assert!(check_grad2(f, &[kappa], &cfg).is_ok());
}

#[test]
fn physgnn_lowers_the_loss_and_learns_the_conductivity_law() {
    // Start away from the truth (κ around 2) so that the test can see the law move.
    let cfg = Config {
        init_bias: 2.0,
        iterations: 400,
        ..small()
    };
    let model = Model::new(cfg.m).unwrap();
    let data = model
        .observe_plain(&true_kappa(cfg.law, cfg.observations, 1))
        .unwrap();
    let run = train_physgnn(&cfg, &model, &data).unwrap();
    let n = run.losses.len();
    let first: f64 = run.losses[..20].iter().sum::<f64>() / 20.0;
    let last: f64 = run.losses[n - 50..].iter().sum::<f64>() / 50.0;
    let truth = folded_moments(cfg.law);
    let (m0, s0) = (run.moments[0].1, run.moments[0].2);
    let (m1, s1) = mean_std(&run.samples);
    let err = |m: f64, s: f64| (m - truth.0).abs() + (s - truth.1).abs();
    eprintln!("loss {first:.4} -> {last:.4}; moments ({m0:.3}, {s0:.3}) -> ({m1:.3}, {s1:.3})");
    assert!(last < first, "loss {first} -> {last}");
    assert!(err(m1, s1) < err(m0, s0), "({m0}, {s0}) -> ({m1}, {s1})");
    let w = w1(&run.samples, &true_kappa(cfg.law, cfg.eval_samples, 2)).unwrap();
    eprintln!("W1 to the truth {w:.4}");
    assert!(w < 0.15, "W1 {w}");
}

#[test]
fn mcmc_samples_the_kde_posterior() {
    let cfg = small();
    let model = Model::new(cfg.m).unwrap();
    let data = model
        .observe_plain(&true_kappa(cfg.law, cfg.observations, 1))
        .unwrap();
    let run = run_mcmc(&cfg, &model, &data).unwrap();
    assert_eq!(run.chain.len(), cfg.mcmc_steps);
    assert_eq!(run.samples.len(), cfg.mcmc_steps - cfg.burn_in);
    assert!(
        run.acceptance > 0.5 && run.acceptance < 1.0,
        "{}",
        run.acceptance
    );
    let (m, s) = mean_std(&run.samples);
    eprintln!(
        "mcmc mean {m:.3} std {s:.3} acceptance {:.3}",
        run.acceptance
    );
    // The chain explores the bulk of the law (a loose check: 2,500 correlated steps).
    assert!((m - 1.0).abs() < 0.3 && s > 0.05 && s < 0.6, "{m} {s}");
}

#[test]
fn output_scale_narrows_the_initial_law_around_the_bias() {
    // κ = |b + s·(W h)|: scaling the output weights by s scales the spread of the initial law
    // by s (away from 0, where |·| folds), and leaves it centred at the bias.
    let stats = |scale: f64| {
        let mut store = ParamStore::new(7);
        let gen = Generator::new(&mut store, 10, &[20, 20, 20], 1.0, scale);
        let z = gen.latent(4000, &mut ChaCha8Rng::seed_from_u64(8));
        mean_std(&gen.sample(&store, z))
    };
    let ((m_wide, s_wide), (m_narrow, s_narrow)) = (stats(1.0), stats(0.1));
    eprintln!("scale 1: ({m_wide:.3}, {s_wide:.3}); scale 0.1: ({m_narrow:.3}, {s_narrow:.3})");
    assert!((m_narrow - 1.0).abs() < 0.05, "mean {m_narrow}");
    assert!(s_wide > 0.2, "std at the Glorot scale {s_wide}");
    let ratio = s_narrow / s_wide;
    assert!(ratio > 0.05 && ratio < 0.15, "std ratio {ratio}");
}
