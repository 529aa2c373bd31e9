//! Experiment 3 (per-element (E, ν) laws of an elastic plate), reduced.

#[allow(dead_code)]
#[path = "../../examples/physgnn_elasticity.rs"]
mod example;

use example::{
    gap_mass, latent, loss, mean_std, train, upper_mass, w1_params, Config, Generator, Kind, Law,
    Plate, Validation,
};
use physgrad::nn::ParamStore;
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn plate_response_is_symmetric_and_scales_as_one_over_e() {
    let plate = Plate::new().unwrap();
    let u1 = plate.observe_plain(&[1.0; 8], &[0.3; 8]).unwrap();
    let u2 = plate.observe_plain(&[2.0; 8], &[0.3; 8]).unwrap();
    let (a, b) = (u1.data(), u2.data());
    assert_eq!(a.len(), 24);
    for (x, y) in a.iter().zip(b) {
        assert!((x - 2.0 * y).abs() < 1e-12, "{x} {y}");
    }
    // Free dofs: nodes (i, j), i = 1..4, j = 0..2, in increasing global order (x, y per node).
    // The load and the clamp are symmetric about y = 0.1: uₓ even, u_y odd.
    let at = |i: usize, j: usize, c: usize| a[2 * (j * 4 + i - 1) + c];
    for i in 1..=4 {
        assert!((at(i, 0, 0) - at(i, 2, 0)).abs() < 1e-12);
        assert!((at(i, 0, 1) + at(i, 2, 1)).abs() < 1e-12);
        assert!(at(i, 1, 1).abs() < 1e-12);
        assert!(at(i, 1, 0) > 0.0);
    }
    // A bar without the clamp's lateral restraint would stretch by σL/E = 0.3 · 0.4 = 0.12;
    // the clamp stiffens it a little.
    let tip = at(4, 1, 0);
    assert!(tip < 0.12 && tip > 0.1, "{tip}");
}

#[test]
fn true_laws_have_their_moments() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 40_000;
    let expect = [
        (Law::A, (1.5, 0.25), (0.2550, 0.1275)),
        (Law::B, (1.5, 0.4), (0.2, 0.02)),
        (Law::C, (1.7, 0.3), (0.05, 0.05)),
    ];
    for (law, (me, mn), (se, sn)) in expect {
        let (e, nu) = law.sample(n, &mut rng);
        let (a, b) = (mean_std(&e), mean_std(&nu));
        let ok = |x: f64, y: f64| (x - y).abs() < 0.01 * y.max(0.1) + 3.0 * y / (n as f64).sqrt();
        assert!(
            ok(a.0, me) && ok(b.0, mn) && ok(a.1, se) && ok(b.1, sn),
            "{law:?} {a:?} {b:?}"
        );
    }
    // Law (a): two modes with nothing between them.
    let (e, _) = Law::A.sample(n, &mut rng);
    assert!((upper_mass(&e) - 0.5).abs() < 0.01 && gap_mass(&e) < 0.005);
}

#[test]
fn loss_gradient_through_plan_and_fem_solve_checks_out() {
    let plate = Plate::new().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let y = plate.true_batch(Law::B, 3, &mut rng).unwrap();
    let (e, nu) = Law::A.sample(24, &mut rng);
    let e = Tensor::from_vec(e, &[3, 8]);
    let nu = Tensor::from_vec(nu, &[3, 8]);
    let f = hr(|tape: &_, v: &[_]| {
        let u = plate.observe(v[0], v[1]).unwrap();
        loss(u, tape.constant(y.clone())).unwrap()
    });
    let cfg = GradCheck {
        eps: 1e-6,
        ..GradCheck::default()
    };
    check_grad(f, &[e.clone(), nu.clone()], &cfg).unwrap();
    check_grad2(f, &[e, nu], &cfg).unwrap();
}

#[test]
fn gaussian_baseline_stays_admissible() {
    let mut store = ParamStore::new(0);
    let gen = Generator::new(&mut store, Kind::Gaussian, &[]);
    let z = latent(5000, 2, &mut ChaCha8Rng::seed_from_u64(1));
    let (e, nu) = gen.sample(&store, z);
    assert!(e.iter().all(|&v| v >= 0.05));
    assert!(nu.iter().all(|&v| (-0.95..=0.495).contains(&v)));
    // The clamp is active for ν ≈ 0.25 + 0.25 z above z ≈ 0.98: about 16 % of the draws.
    let top = nu.iter().filter(|&&v| v == 0.495).count() as f64 / 5000.0;
    assert!((top - 0.16).abs() < 0.03, "{top}");
}

/// Per-element `(E, ν)` samples.
type Samples = (Vec<f64>, Vec<f64>);

/// A short training run on law (a), the untrained generator's samples and true samples.
fn reduced(kind: Kind) -> (example::Run, Samples, Samples) {
    let cfg = Config {
        batch: 32,
        iterations: 500,
        lr: 1e-3,
        val_batches: 8,
        val_every: 250,
        eval_samples: 800,
        verbose: false,
        ..Config::default()
    };
    let plate = Plate::new().unwrap();
    let val = Validation::new(&plate, Law::A, &cfg).unwrap();
    // The untrained generator, built as `train` builds it.
    let mut store = ParamStore::new(cfg.seed);
    let gen = Generator::new(&mut store, kind, &cfg.hidden);
    let d = match kind {
        Kind::PhysGnn(d) => d,
        Kind::Gaussian => 2,
    };
    let before = gen.sample(&store, latent(800, d, &mut ChaCha8Rng::seed_from_u64(9)));
    let run = train(&cfg, &plate, Law::A, kind, &val).unwrap();
    let truth = Law::A.sample(800, &mut ChaCha8Rng::seed_from_u64(11));
    (run, before, truth)
}

#[test]
fn physgnn_lowers_the_validation_loss_and_moves_toward_the_two_modes() {
    let (run, before, truth) = reduced(Kind::PhysGnn(20));
    let (v0, v1) = (run.validation[0].1, run.validation.last().unwrap().1);
    let (w0, w1) = (
        w1_params(&before, &truth, 800).unwrap(),
        w1_params(&run.learned, &truth, 800).unwrap(),
    );
    eprintln!("validation {v0:.4} -> {v1:.4}; W1 (E, nu) {w0:.4} -> {w1:.4}");
    assert!(v1 < 0.9 * v0, "validation {v0} -> {v1}");
    assert!(w1 < 0.7 * w0, "W1 {w0} -> {w1}");
    // The learned E spreads over both modes.
    let up = upper_mass(&run.learned.0);
    assert!(up > 0.25 && up < 0.75, "{up}");
}

#[test]
fn gaussian_baseline_lowers_the_validation_loss() {
    let (run, before, truth) = reduced(Kind::Gaussian);
    let (v0, v1) = (run.validation[0].1, run.validation.last().unwrap().1);
    let w0 = w1_params(&before, &truth, 800).unwrap();
    let w1 = w1_params(&run.learned, &truth, 800).unwrap();
    eprintln!("validation {v0:.4} -> {v1:.4}; W1 (E, nu) {w0:.4} -> {w1:.4}");
    assert!(
        v1 < v0 && w1 < w0,
        "validation {v0} -> {v1}, W1 {w0} -> {w1}"
    );
}
