//! Parameter store behaviour, seeded initialisation, fitting a smooth function, and the
//! training utilities (progress line, CSV log, best-checkpoint tracking).

use physgrad::nn::{
    BestTracker, Checkpoint, CsvLog, Fans, Init, Linear, MlpConfig, Module, ParamStore, Progress,
};
use physgrad::optim::{Adam, AdamConfig, Optimizer, Schedule};
use physgrad::{Tape, Tensor};
use std::time::Duration;

#[test]
fn seeded_initialisation_is_reproducible_and_name_dependent() {
    let build = |seed| {
        let mut s = ParamStore::new(seed);
        MlpConfig::new(&[4, 8, 1]).build(&mut s, "gen");
        s
    };
    let (a, b, c) = (build(1), build(1), build(2));
    for (x, y) in a.values().iter().zip(b.values()) {
        assert_eq!(x.data(), y.data());
    }
    assert_ne!(a.values()[0].data(), c.values()[0].data());
    // A parameter's value depends on its name, not on what was created before it.
    let mut d = ParamStore::new(1);
    d.add("other", &[3], Init::GLOROT, Fans::dense(3, 3));
    MlpConfig::new(&[4, 8, 1]).build(&mut d, "gen");
    assert_eq!(
        d.get(d.id("gen.layer0.weight").unwrap()).data(),
        a.values()[0].data()
    );
    let bound = (6.0f64 / 12.0).sqrt();
    assert!(a.values()[0].data().iter().all(|v| v.abs() < bound));
    // Pinned values: ChaCha8, the uniform/normal samplers and the seed mixing are
    // platform-independent, so these bits must be the same everywhere (they change only if the
    // initialisation scheme or the rand crates' sampling algorithms change).
    let seed = physgrad::nn::param_seed(1, "gen.layer0.weight");
    assert_eq!(seed, 3753107273089610537);
    let t = Init::GLOROT.sample(&[4], Fans::dense(4, 8), seed);
    let want = [
        0.1458379317330457,
        0.3708943712439222,
        -0.3551460497644887,
        -0.460176481947157,
    ];
    assert_eq!(t.data(), &want);
    let he = Init::HE.sample(&[3], Fans::dense(4, 8), 7);
    assert_eq!(
        he.data(),
        &[-0.5482707519200272, -0.9782268794587035, 0.6291221088631556]
    );
    assert_ne!(
        physgrad::nn::param_seed(1, "a"),
        physgrad::nn::param_seed(1, "b")
    );
}

#[test]
fn initialisers_have_the_documented_statistics() {
    let n = 200_000;
    let fans = Fans::dense(50, 150);
    let stats = |t: Tensor| {
        let m = t.sum_all() / n as f64;
        let v = t.data().iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        (
            m,
            v.sqrt(),
            t.data().iter().fold(0.0f64, |a, x| a.max(x.abs())),
        )
    };
    let (m, sd, max) = stats(Init::GLOROT.sample(&[n], fans, 1));
    let a = (6.0f64 / 200.0).sqrt();
    assert!(m.abs() < 1e-3 && (sd - a / 3f64.sqrt()).abs() < 1e-3 && max <= a);
    let (_, sd, _) = stats(Init::GlorotNormal { gain: 2.0 }.sample(&[n], fans, 2));
    assert!((sd - 2.0 * (2.0f64 / 200.0).sqrt()).abs() < 2e-3);
    let (_, sd, _) = stats(Init::HE.sample(&[n], fans, 3));
    assert!((sd - (2.0f64 / 50.0).sqrt()).abs() < 2e-3);
    let (_, sd, max) = stats(Init::HeUniform { gain: 1.0 }.sample(&[n], fans, 4));
    assert!((sd - (1.0f64 / 50.0).sqrt()).abs() < 1e-3 && max <= (3.0f64 / 50.0).sqrt());
    assert!(Init::Zeros
        .sample(&[3], fans, 0)
        .data()
        .iter()
        .all(|&v| v == 0.0));
    assert_eq!(
        Init::Constant(0.5).sample(&[2], fans, 0).data(),
        &[0.5, 0.5]
    );
}

#[test]
fn frozen_and_unselected_parameters_get_no_gradient_and_stay_put() {
    let mut store = ParamStore::new(0);
    let gen = Linear::new(&mut store, "gen.l0", 2, 2);
    let critic = Linear::new(&mut store, "critic.l0", 2, 1);
    assert_eq!(store.select("critic.").len(), 2);
    let x = Tensor::randn(&[4, 2], 0);
    let loss_grads = |store: &ParamStore, only: Option<&str>| {
        let tape = Tape::new();
        let p = match only {
            Some(prefix) => store.bind_only(&tape, prefix),
            None => store.bind(&tape),
        };
        let y = critic.forward(&p, gen.forward(&p, tape.constant(x.clone())).tanh());
        p.gradients(y.sum())
    };
    assert_eq!(loss_grads(&store, None).ids.len(), 4);
    assert_eq!(store.set_frozen("gen.", true), 2);
    let g = loss_grads(&store, None);
    assert_eq!(g.ids, store.select("critic."));
    store.set_frozen("gen.", false);
    let g = loss_grads(&store, Some("gen."));
    assert_eq!(g.ids, store.select("gen."));
    let before = store.clone();
    Adam::new(AdamConfig::default())
        .step(&mut store, &g)
        .unwrap();
    for id in store.select("critic.") {
        assert_eq!(store.get(id).data(), before.get(id).data());
    }
    for id in store.select("gen.l0.weight") {
        assert_ne!(store.get(id).data(), before.get(id).data());
    }
}

#[test]
#[should_panic(expected = "already exists")]
fn duplicate_parameter_names_panic() {
    let mut store = ParamStore::new(0);
    Linear::new(&mut store, "a", 1, 1);
    Linear::new(&mut store, "a", 1, 1);
}

#[test]
fn an_mlp_fits_a_smooth_one_dimensional_function() {
    let mut store = ParamStore::new(7);
    let net = MlpConfig::new(&[1, 32, 32, 1]).build(&mut store, "f");
    let x = Tensor::linspace(-2.0, 2.0, 64).reshape(&[64, 1]);
    let y = x.map(|v| (1.5 * v).sin() * (-0.2 * v * v).exp());
    let base = 1e-2;
    let mut opt = Adam::new(AdamConfig {
        lr: base,
        ..AdamConfig::default()
    });
    let schedule = Schedule::Step {
        step: 1000,
        gamma: 0.3,
    };
    let mut loss = f64::INFINITY;
    for it in 0..2500 {
        opt.set_lr(schedule.lr(base, it));
        let tape = Tape::new();
        let p = store.bind(&tape);
        let l = net
            .forward(&p, tape.constant(x.clone()))
            .mse(tape.constant(y.clone()));
        loss = l.item();
        let g = p.gradients(l);
        opt.step(&mut store, &g).unwrap();
    }
    // Mean square error relative to the target's mean square (≈ 0.2).
    assert!(loss < 1e-4, "final mse {loss}");
    let tape = Tape::new();
    let xt = Tensor::linspace(-1.9, 1.9, 37).reshape(&[37, 1]);
    let yt = xt.map(|v| (1.5 * v).sin() * (-0.2 * v * v).exp());
    let pred = net.forward(&store.bind(&tape), tape.constant(xt)).value();
    assert!(
        pred.max_abs_diff(&yt) < 3e-2,
        "held-out error {}",
        pred.max_abs_diff(&yt)
    );
}

#[test]
fn progress_line_shows_iterations_loss_rate_and_eta() {
    let s = Progress::format(50, 200, 0.012345, Duration::from_secs(10));
    assert_eq!(s, "50/200  loss 1.234500e-2  5.0 it/s  ETA 0:30");
    // A budget shortens the ETA when it ends first, and not otherwise.
    let within = |b| Progress::format_within(50, 200, 0.5, Duration::from_secs(10), Some(b));
    assert!(within(Duration::from_secs(22)).ends_with("ETA 0:12"));
    assert!(within(Duration::from_secs(100)).ends_with("ETA 0:30"));
    assert!(within(Duration::from_secs(5)).ends_with("ETA 0:00"));
    // Quiet mode (and a non-terminal stderr under the test harness) prints nothing.
    let mut p = Progress::new(10).quiet(true);
    p.update(0, 1.0);
    p.finish();
}

#[test]
fn csv_log_writes_atomically_and_round_trips_values() {
    let dir = std::env::temp_dir().join(format!("physgrad-nn-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("loss.csv");
    let mut log = CsvLog::new(&path, &["step", "loss"]);
    log.push(&[0.0, 0.1]);
    log.push(&[1.0, 1.0 / 3.0]);
    log.flush().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "step,loss");
    let last: f64 = lines[2].split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(last, 1.0 / 3.0);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn best_tracker_keeps_the_lowest_validation_checkpoint() {
    let dir = std::env::temp_dir().join(format!("physgrad-nn-best-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut store = ParamStore::new(0);
    let id = store.add_tensor("w", Tensor::scalar(0.0));
    let opt = Adam::new(AdamConfig::default());
    let mut best = BestTracker::new(dir.join("best.ckpt"));
    for (step, (w, val)) in [(1.0, 0.5), (2.0, 0.3), (3.0, 0.4), (4.0, 0.35)]
        .into_iter()
        .enumerate()
    {
        store.set(id, Tensor::scalar(w));
        let improved = best.observe(step as u64, val, &store, &opt).unwrap();
        assert_eq!(improved, step <= 1);
    }
    assert_eq!((best.best(), best.best_step()), (0.3, Some(1)));
    let c = Checkpoint::load(best.path()).unwrap();
    assert_eq!(c.get("param:w").unwrap().item(), 2.0);
    assert!(best.observe(9, f64::NAN, &store, &opt).is_err());
}

#[test]
fn store_step_equals_the_explicit_loop_and_refuses_non_finite_losses() {
    let build = || {
        let mut s = ParamStore::new(3);
        let net = MlpConfig::new(&[2, 6, 1]).build(&mut s, "n");
        (s, net)
    };
    let (x, y) = (Tensor::randn(&[8, 2], 0), Tensor::randn(&[8, 1], 1));
    let (mut a, net) = build();
    let (mut b, _) = build();
    let mut oa = Adam::new(AdamConfig::default());
    let mut ob = Adam::new(AdamConfig::default());
    for _ in 0..5 {
        let la = a
            .step(&mut oa, |tape, p| {
                net.forward(p, tape.constant(x.clone()))
                    .mse(tape.constant(y.clone()))
            })
            .unwrap();
        let (lb, g) = {
            let tape = Tape::new();
            let p = b.bind(&tape);
            let l = net
                .forward(&p, tape.constant(x.clone()))
                .mse(tape.constant(y.clone()));
            (l.item(), p.gradients(l))
        };
        ob.step(&mut b, &g).unwrap();
        assert_eq!(la.to_bits(), lb.to_bits());
    }
    for (u, v) in a.values().iter().zip(b.values()) {
        assert_eq!(u.data(), v.data());
    }
    let before = a.clone();
    let err = a.step(&mut oa, |tape, p| {
        net.forward(p, tape.constant(x.clone())).sum() * f64::NAN
    });
    assert!(matches!(err, Err(physgrad::Error::NonFinite { .. })));
    for (u, v) in a.values().iter().zip(before.values()) {
        assert_eq!(u.data(), v.data());
    }
}

/// The data-parallel step on row shards weighted `nₖ/n` matches the one-tape step on the whole
/// batch (mean-squared error is a mean over rows), for uneven shards too; a non-finite shard
/// loss updates nothing.
#[test]
fn sharded_step_matches_the_whole_batch_step() {
    use physgrad::optim::{Sgd, SgdConfig};
    let build = || {
        let mut s = ParamStore::new(4);
        let net = MlpConfig::new(&[3, 7, 2]).build(&mut s, "n");
        (s, net)
    };
    let n = 11;
    let (x, y) = (Tensor::randn(&[n, 3], 5), Tensor::randn(&[n, 2], 6));
    let (mut whole, net) = build();
    let mut ow = Sgd::new(SgdConfig::default());
    let lw = whole
        .step(&mut ow, |tape, p| {
            net.forward(p, tape.constant(x.clone()))
                .mse(tape.constant(y.clone()))
        })
        .unwrap();
    let rows = |t: &Tensor, a: usize, b: usize| {
        let w = t.shape()[1];
        Tensor::from_vec(t.data()[a * w..b * w].to_vec(), &[b - a, w])
    };
    // One thread per shard, and (the last two) more shards than threads: micro-batches.
    for (cuts, threads) in [
        (vec![0, 5, 11], 2),
        (vec![0, 2, 7, 11], 3),
        (vec![0, 2, 7, 11], 1),
        (vec![0, 3, 4, 9, 11], 2),
    ] {
        let (mut sharded, _) = build();
        let mut os = Sgd::new(SgdConfig::default());
        let weights: Vec<f64> = cuts
            .windows(2)
            .map(|c| (c[1] - c[0]) as f64 / n as f64)
            .collect();
        let ls = sharded
            .step_sharded_on(&mut os, &weights, threads, |k, tape, p| {
                let (a, b) = (cuts[k], cuts[k + 1]);
                net.forward(p, tape.constant(rows(&x, a, b)))
                    .mse(tape.constant(rows(&y, a, b)))
            })
            .unwrap();
        assert!((ls - lw).abs() < 1e-13 * lw.abs().max(1.0), "{ls} vs {lw}");
        for (u, v) in sharded.values().iter().zip(whole.values()) {
            for (a, b) in u.data().iter().zip(v.data()) {
                assert!((a - b).abs() < 1e-13, "{a} vs {b}");
            }
        }
        let before = sharded.clone();
        let err = sharded.step_sharded(&mut os, &weights, |k, tape, p| {
            let l = net.forward(p, tape.constant(x.clone())).sum();
            if k == 1 {
                l * f64::NAN
            } else {
                l
            }
        });
        assert!(matches!(err, Err(physgrad::Error::NonFinite { .. })));
        for (u, v) in sharded.values().iter().zip(before.values()) {
            assert_eq!(u.data(), v.data());
        }
    }
}

#[test]
fn grads_add_scaled_is_the_gradient_of_the_combined_loss() {
    let mut store = ParamStore::new(8);
    let net = MlpConfig::new(&[2, 5, 1]).build(&mut store, "n");
    let x = Tensor::randn(&[6, 2], 9);
    let grads = |f: &dyn Fn(physgrad::Var<'_>) -> physgrad::Var<'_>| {
        let tape = Tape::new();
        let p = store.bind(&tape);
        let y = net.forward(&p, tape.constant(x.clone()));
        p.gradients(f(y))
    };
    let mut l = grads(&|y| y.square().sum());
    let m = grads(&|y| y.sin().sum());
    let both = grads(&|y| y.square().sum() + y.sin().sum() * -2.5);
    l.add_scaled(&m, -2.5);
    for (a, b) in l.tensors.iter().zip(&both.tensors) {
        assert!(a.max_abs_diff(b) < 1e-12, "{}", a.max_abs_diff(b));
    }
    // Gradients over other parameters are a programmer error.
    let mut other = ParamStore::new(8);
    MlpConfig::new(&[2, 3, 1]).build(&mut other, "n");
    let tape = Tape::new();
    let q = other.bind(&tape);
    let g = q.gradients(q.var(other.ids().next().unwrap()).sum());
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        l.clone().add_scaled(&g, 1.0)
    }));
    assert!(panic.is_err());
}
