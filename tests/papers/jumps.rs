//! Experiment 4 (jump law of a compound Poisson process), reduced.

#[allow(dead_code)]
#[path = "../../examples/physgnn_jumps.rs"]
mod example;

use example::{train, true_paths, w1, w1_plain, Config, Generator, JumpLaw, Noise};
use physgrad::nn::ParamStore;
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Tape, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn moments(x: &Tensor) -> ([f64; 2], [f64; 3]) {
    let n = x.shape()[0] as f64;
    let d = x.data();
    let m = [0, 1].map(|c| d.iter().skip(c).step_by(2).sum::<f64>() / n);
    let cov = |a: usize, b: usize| {
        d.chunks(2)
            .map(|p| (p[a] - m[a]) * (p[b] - m[b]))
            .sum::<f64>()
            / n
    };
    (m, [cov(0, 0), cov(0, 1), cov(1, 1)])
}

#[test]
fn true_paths_have_the_compound_poisson_moments() {
    // E X_T = λT E Y + μT,  Cov X_T = λT E[Y Yᵀ] + σ² T I.
    let cfg = Config {
        drift: [0.5, -0.5],
        sigma: 0.3,
        ..Config::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let n = 60_000;
    for law in JumpLaw::ALL {
        let y = law.jumps(200_000, &mut rng);
        let (my, cy) = moments(&y);
        let second = [
            cy[0] + my[0] * my[0],
            cy[1] + my[0] * my[1],
            cy[2] + my[1] * my[1],
        ];
        let (mx, cx) = moments(&true_paths(&cfg, law, n, &mut rng));
        let lt = cfg.lambda * cfg.horizon;
        for c in 0..2 {
            let want = lt * my[c] + cfg.drift[c];
            assert!(
                (mx[c] - want).abs() < 0.05,
                "{law:?} mean {c}: {} vs {want}",
                mx[c]
            );
        }
        let want = [lt * second[0] + 0.09, lt * second[1], lt * second[2] + 0.09];
        for k in 0..3 {
            assert!(
                (cx[k] - want[k]).abs() < 0.04 * want[k].abs().max(1.0),
                "{law:?} cov {k}: {} vs {}",
                cx[k],
                want[k]
            );
        }
    }
    // Law (ii)'s covariance.
    let (_, c) = moments(&JumpLaw::Correlated.jumps(200_000, &mut rng));
    assert!(
        (c[0] - 0.4).abs() < 0.01 && (c[1] - 0.2).abs() < 0.01 && (c[2] - 0.4).abs() < 0.01,
        "{c:?}"
    );
}

#[test]
fn generated_paths_sum_the_first_n_jumps() {
    let cfg = Config {
        slots: 5,
        drift: [1.0, 2.0],
        sigma: 0.5,
        ..Config::default()
    };
    let mut store = ParamStore::new(3);
    let gen = Generator::new(&mut store, 4, &[6]);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let noise = Noise {
        counts: vec![0, 2, 7],
        brownian: Tensor::from_vec(vec![0.1, -0.2, 0.3, 0.0, 1.0, 1.0], &[3, 2]),
    };
    let z = gen.latent(15, &mut rng);
    let tape = Tape::new();
    let p = store.bind(&tape);
    let y = gen.jumps(&p, tape.constant(z.clone())).value().clone();
    let x = gen
        .paths(&cfg, &p, tape.constant(z), &noise)
        .value()
        .clone();
    for (i, &k) in [0usize, 2, 5].iter().enumerate() {
        for c in 0..2 {
            let s: f64 = (0..k).map(|j| y.data()[2 * (5 * i + j) + c]).sum();
            let want = s + cfg.drift[c] + 0.5 * noise.brownian.data()[2 * i + c];
            assert!((x.data()[2 * i + c] - want).abs() < 1e-12);
        }
    }
}

#[test]
fn loss_gradient_through_plan_and_path_sum_checks_out() {
    let cfg = Config {
        slots: 4,
        ..Config::default()
    };
    let mut store = ParamStore::new(5);
    let gen = Generator::new(&mut store, 3, &[5]);
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let noise = Noise::draw(&cfg, 4, &mut rng);
    let z = gen.latent(16, &mut rng);
    let y = true_paths(&cfg, JumpLaw::Isotropic, 4, &mut rng);
    let f = hr(|tape: &_, v: &[_]| {
        let p = store.bind_vars(v);
        let x = gen.paths(&cfg, &p, tape.constant(z.clone()), &noise);
        w1(x, tape.constant(y.clone())).unwrap()
    });
    let params: Vec<Tensor> = store.values().to_vec();
    let gc = GradCheck::default();
    check_grad(f, &params, &gc).unwrap();
    check_grad2(f, &params, &gc).unwrap();
}

#[test]
fn physgnn_learns_the_jump_law_from_end_values() {
    let cfg = Config {
        iterations: 300,
        snapshots: vec![0, 300],
        observations: 3000,
        batch: 48,
        eval_samples: 400,
        verbose: false,
        ..Config::default()
    };
    let run = train(&cfg, JumpLaw::Isotropic).unwrap();
    let first: f64 = run.losses[..20].iter().sum::<f64>() / 20.0;
    let last: f64 = run.losses[run.losses.len() - 20..].iter().sum::<f64>() / 20.0;
    let (s0, s1) = (&run.snapshots[0], &run.snapshots[1]);
    eprintln!(
        "loss {first:.3} -> {last:.3}; W1 jumps {:.3} -> {:.3} (floor {:.3}); W1 X_T {:.3} -> {:.3}",
        s0.w1_jumps, s1.w1_jumps, run.floor.0, s0.w1_paths, s1.w1_paths
    );
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    assert!(
        s1.w1_jumps < 0.5 * s0.w1_jumps,
        "{} -> {}",
        s0.w1_jumps,
        s1.w1_jumps
    );
    assert!(s1.w1_paths < 0.5 * s0.w1_paths);
    let w = w1_plain(&s1.jumps, &run.truth.0).unwrap();
    assert_eq!(w, s1.w1_jumps);
}
