//! Experiment 1's command line and the timing of one training iteration.

use super::{physgnn_step, solutions, true_params, Config, Generator};
use physgrad::nn::ParamStore;
use physgrad::optim::{Adam, AdamConfig};
use physgrad::ot::Ground;
use physgrad::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Mean seconds per PhysGNN iteration (the training loop's body) over `iters` iterations,
/// once per repetition after 50 warm-up iterations: the physgrad side of
/// `benches/peers/physgnn_peers.py`.
pub fn time_iterations(cfg: &Config, iters: usize, reps: usize) -> Result<Vec<f64>> {
    let data = solutions(&true_params(cfg.alpha, cfg.observations, cfg.seed + 1))?;
    let mut store = ParamStore::new(cfg.seed);
    let gen = Generator::new(&mut store, "gen", cfg.latent, &cfg.hidden);
    let mut opt = Adam::new(AdamConfig {
        lr: cfg.lr,
        beta1: cfg.beta1,
        ..AdamConfig::default()
    });
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    for _ in 0..50 {
        physgnn_step(&mut store, &mut opt, &gen, (&data, None), cfg, &mut rng)?;
    }
    let mut per = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        for _ in 0..iters {
            physgnn_step(&mut store, &mut opt, &gen, (&data, None), cfg, &mut rng)?;
        }
        per.push(t.elapsed().as_secs_f64() / iters as f64);
    }
    Ok(per)
}

/// The settings from the command line and `PHYSGNN_QUICK`.
pub fn parse_args() -> Config {
    let mut cfg = Config::default();
    let mut args = std::env::args().skip(1);
    if std::env::var("PHYSGNN_QUICK").is_ok_and(|v| v != "0") {
        cfg.iterations = 500;
        cfg.eval_samples = 1000;
    }
    while let Some(a) = args.next() {
        let mut value = |name: &str| -> usize {
            let v = args
                .next()
                .unwrap_or_else(|| panic!("{name} needs a value"));
            v.parse()
                .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
        };
        match a.as_str() {
            "--quick" => {
                cfg.iterations = 500;
                cfg.eval_samples = 1000;
            }
            "--iterations" => cfg.iterations = value("--iterations"),
            "--seed" => cfg.seed = value("--seed") as u64,
            "--batch" => cfg.batch = value("--batch"),
            "--whiten" => cfg.whiten = value("--whiten"),
            "--ground" => {
                cfg.ground = match args.next().as_deref() {
                    Some("l2") => Ground::L2,
                    Some("sql2") => Ground::SqL2,
                    Some("l1") => Ground::L1,
                    v => panic!("--ground: l2, sql2 or l1, got {v:?}"),
                }
            }
            "--cosine" => {
                let v = args.next().expect("--cosine needs the final rate");
                cfg.final_lr = Some(
                    v.parse()
                        .unwrap_or_else(|_| panic!("--cosine: not a number: {v}")),
                );
            }
            "--clip" => {
                let v = args.next().expect("--clip needs a value");
                cfg.clip_norm = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--clip: not a number: {v}"));
            }
            other => panic!(
                "unknown argument {other} (use --quick, --iterations N, --seed S, --batch B, \
                 --clip C, --cosine FINAL_LR, --ground l2|sql2|l1, --whiten K)"
            ),
        }
    }
    cfg
}
