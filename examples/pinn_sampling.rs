//! PINN-based sampling (issue 11): learn a log-density path `v(x, t)` from `N(0, I)` at `t = 0`
//! to `q/Z` at `t = 1` — and a drift that carries it — by penalising the residual of the
//! log-density PDE at collocation points, with no samples of the target; then sample by
//! integrating the learned ODE (the probability-flow ODE for the SDE losses) with the 3/8-rule
//! RK4 (200 steps) jointly with the log-density, and score the importance weights `w = q/p`.
//!
//! Losses (`examples/pinn_sampling/losses.rs`, each one `pde!` statement): `ode` (continuity),
//! `sde` (Fokker–Planck, σ = √2), `anneal` (fixed annealing path, learned normaliser `c(t)`),
//! `sde-diffusion` (drift `σ̄²∇v + σ̄²x/2`), `ot` (μ = ∇Φ + HJB), `sb` (σ = √2, μ = ∇Φ + HJB).
//! Networks: the Fourier-MLP (`physgrad::nn::FourierMlp`, 64 channels, 4 blocks, zero
//! last layer). Targets (`physgrad::sampling::Target`): `gmm` (d = 2), `mw5` (d = 5, δ = 4),
//! `mw50` (d = 50, δ = 2), references by quadrature and exact samples by inverse CDF.
//!
//! Run: `cargo run --release --example pinn_sampling -- --target gmm --loss ode --steps 3000`.
//! Options: `--target gmm|mw5|mw50`, `--loss ode|sde|anneal|sde-diffusion|ot|sb|all`,
//! `--steps N` (default 2 000), `--batch B` (collocation points per step, default 512),
//! `--lr R` (default 1e-3, cosine to a tenth), `--samples N` (flow samples for the scores,
//! default 10 000), `--sinkhorn N` (default 2 000), `--max-seconds S` (a training
//! budget: the cosine schedule runs on wall-clock time when that is further along than the
//! steps, and training stops when S seconds are spent; the table reports the steps reached), `--seed S`, `--quick`
//! (200 steps, batch 128, 1 000 samples, 500 for Sinkhorn), `--threads N` (data-parallel
//! training step over N row shards, with the trajectory refresh and the sampler's chunks on the
//! same N threads; default: the available cores up to 8; results agree with one thread up to
//! rounding), `--shard-points P` (at most P collocation points per tape, the tapes beyond the
//! threads run one after the other so that a tape's intermediates stay in cache; 0 is one tape
//! per thread; default `model::shard_points`, 32–256 by dimension and loss), `--trajectories
//! F` (share of each batch collocated along the learned flow, refreshed every `--traj-every
//! N` steps from `--traj-particles P` particles; see `model::Trajectories`), `--relative K` (ODE loss: weigh residuals by
//! `1/(1 + |log q − log p₀|/K)`), `--box S` (scale the target's collocation box by S),
//! `--flow-steps N` (RK4 steps of the sampler, default 200), `--logz-init
//! auto|zero|prior|prior:N|VALUE` (where `log z` starts: `prior` is the importance-sampling
//! estimate from N prior samples, 10⁵ by default; `auto`, the default, is that estimate when
//! positive and 0 otherwise; see `model::LogzInit`), `--init CKPT` (start from the weights of
//! an earlier run; with `--steps 0` only sample), `--out DIR` (default `out/pinn_sampling`;
//! separate directories keep concurrent or successive runs' files apart). Writes to it:
//! `summary.{txt,md,csv}`, per run `<target>_<loss>_loss.csv`, `_samples.csv` (samples and
//! log-weights), `_weights.ckpt` (the trained weights, for `--init`) and `_plot.svg`. The test
//! suite runs a reduced configuration
//! (`tests/papers/pinn_sampling.rs`).
//!
//! `--time-step TARGET LOSS WEIGHTS.bin POINTS.bin REPS [SHARD_POINTS]` times one training
//! step (loss, weight gradient, Adam step) on given weights and points and prints a JSON line
//! (`examples/pinn_sampling/timing.rs`, driven by `benches/peers/pinn_peers.py`).

#[path = "pinn_sampling/losses.rs"]
pub mod losses;
#[path = "pinn_sampling/model.rs"]
pub mod model;
#[path = "pinn_sampling/report.rs"]
pub mod report;
#[path = "pinn_sampling/timing.rs"]
pub mod timing;

use losses::{LossKind, LossParams};
use model::{train, NetConfig, TrainConfig, Trained};
use physgrad::nn::Progress;
use physgrad::sampling::{
    evaluate, log_weights, standard_normal, transport, FlowConfig, MetricsConfig, OnDivergence,
    SampleMetrics, Target,
};
use physgrad::{Result, Tensor};
use std::sync::Arc;
use std::time::Instant;

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Training settings.
    pub train: TrainConfig,
    /// Network sizes.
    pub nets: NetConfig,
    /// Loss constants (HJB weight, σ̄²).
    pub loss: LossParams,
    /// Flow samples for the scores.
    pub samples: usize,
    /// Samples compared by Sinkhorn.
    pub sinkhorn: usize,
    /// RK4 steps of the sampler (default 200).
    pub flow_steps: usize,
    /// Print progress.
    pub verbose: bool,
    /// Where the loss history and the weights are written as soon as training ends (before
    /// sampling, so a sampler failure loses no training); `None` writes nothing.
    pub save_to: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            train: TrainConfig {
                steps: 2000,
                batch: 512,
                lr: 1e-3,
                seed: 0,
                max_seconds: None,
                trajectories: None,
                threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
                shard_points: None,
                logz_init: model::LogzInit::Auto(model::LogzInit::SAMPLES),
                init: None,
            },
            nets: NetConfig::default(),
            loss: LossParams::default(),
            samples: 10_000,
            sinkhorn: 2000,
            flow_steps: 200,
            verbose: true,
            save_to: None,
        }
    }
}

/// The outcome of one (target, loss) run.
pub struct RunResult {
    /// Target name.
    pub target: String,
    /// The loss.
    pub kind: LossKind,
    /// The trained model.
    pub trained: Trained,
    /// Training wall-clock seconds.
    pub train_seconds: f64,
    /// Sampling + scoring wall-clock seconds.
    pub sample_seconds: f64,
    /// Final samples `[N, d]`.
    pub x: Tensor,
    /// Their log-weights `log q − log p`.
    pub log_w: Vec<f64>,
    /// The scores.
    pub metrics: SampleMetrics,
}

/// Integrates the learned flow from `n` prior samples (seeded) with the steps, chunks and
/// threads of `flow`; returns samples and `log p`.
pub fn sample_flow(
    trained: &Trained,
    kind: LossKind,
    target: &Target,
    lp: &LossParams,
    n: usize,
    seed: u64,
    flow: &FlowConfig,
) -> Result<(Tensor, Vec<f64>)> {
    let (x0, lp0) = standard_normal(n, target.dim(), seed);
    let nets = &trained.nets;
    let (x, delta) = transport(&trained.store, &x0, flow, |p, x, t| {
        nets.velocity(kind, target, lp, p, x, t)
    })?;
    Ok((x, lp0.iter().zip(&delta).map(|(a, b)| a + b).collect()))
}

/// Trains `kind` on `target`, samples and scores.
pub fn run(target: &Arc<Target>, kind: LossKind, cfg: &Config) -> Result<RunResult> {
    let start = Instant::now();
    let mut progress = Progress::new(cfg.train.steps).quiet(!cfg.verbose);
    let tc = &cfg.train;
    if let Some(b) = tc.max_seconds {
        progress = progress.budget(std::time::Duration::from_secs_f64(b));
    }
    // A line every tenth of the steps, or of the budget when there is one.
    let every = (tc.steps / 10).max(1);
    let tick = tc.max_seconds.map(|b| b / 10.0);
    let mut next_tick = 0.0;
    let verbose = cfg.verbose;
    let trained = train(kind, target, cfg.loss, cfg.nets, tc, |step, loss| {
        progress.update(step, loss);
        let now = start.elapsed().as_secs_f64();
        let due = match tick {
            Some(dt) if now >= next_tick => {
                next_tick = now + dt;
                true
            }
            Some(_) => false,
            None => step % every == 0,
        };
        if verbose && (due || step + 1 == tc.steps) {
            println!(
                "  step {:5}/{}  loss {loss:.4e}  {:.0} s",
                step + 1,
                tc.steps,
                start.elapsed().as_secs_f64()
            );
        }
    })?;
    progress.finish();
    let train_seconds = start.elapsed().as_secs_f64();
    if verbose {
        let last = trained.losses.last().copied().unwrap_or(f64::NAN);
        let logz = trained.nets.logz.map_or(String::new(), |id| {
            format!(
                ", log z {:.4} (from {:.4})",
                trained.store.get(id).data()[0],
                trained.logz_start.unwrap_or(0.0)
            )
        });
        println!(
            "  trained {} steps in {train_seconds:.0} s, final loss {last:.4e}{logz}",
            trained.losses.len()
        );
    }
    if let Some(dir) = &cfg.save_to {
        report::write_training(
            &physgrad::report::Output::new(dir)?,
            &target.name,
            kind,
            &trained,
        )?;
    }
    let t1 = Instant::now();
    // Chunks of 256 rows: smaller tapes are freed and refilled with fewer page faults. A
    // sample that the flow carries to infinity (the probability-flow drift of the SDE losses
    // holds the target's score, cubic on Many-Well) is kept as NaN and counted, not fatal.
    let mut flow = FlowConfig {
        chunk: 256,
        threads: cfg.train.threads,
        on_divergence: OnDivergence::Mark,
        ..FlowConfig::default()
    };
    flow.grid.steps = cfg.flow_steps;
    let (x, log_p) = sample_flow(&trained, kind, target, &cfg.loss, cfg.samples, 1, &flow)?;
    if cfg.verbose {
        println!("  flow: {:.1} s", t1.elapsed().as_secs_f64());
    }
    let reference = target.reference(4000)?;
    let exact = target.sample(cfg.sinkhorn.max(1), 200_000, 2);
    let mcfg = MetricsConfig {
        sinkhorn_samples: cfg.sinkhorn,
        ..MetricsConfig::default()
    };
    let metrics = evaluate(target, &reference, &x, &log_p, &exact, &mcfg)?;
    let log_w = log_weights(target, &x, &log_p);
    if cfg.verbose {
        println!("  flow + scores: {:.1} s", t1.elapsed().as_secs_f64());
    }
    Ok(RunResult {
        target: target.name.clone(),
        kind,
        trained,
        train_seconds,
        sample_seconds: t1.elapsed().as_secs_f64(),
        x,
        log_w,
        metrics,
    })
}

/// The `Trajectories` that the `--traj-*` options set, created at the first of them.
fn trajectories(cfg: &mut Config) -> &mut model::Trajectories {
    cfg.train.trajectories.get_or_insert_with(Default::default)
}

/// What the command line asks for.
struct Cli {
    targets: Vec<String>,
    losses: Vec<LossKind>,
    cfg: Config,
    box_scale: f64,
    /// Output directory (`--out DIR`, default `out/pinn_sampling`).
    out: String,
}

fn parse_args() -> Cli {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = Config::default();
    let (mut targets, mut losses) = (vec!["gmm".to_string()], vec![LossKind::Ode]);
    let quick = args.iter().any(|a| a == "--quick") || std::env::var("PINN_QUICK").is_ok();
    if quick {
        cfg.train.steps = 200;
        cfg.train.batch = 128;
        cfg.samples = 1000;
        cfg.sinkhorn = 500;
    }
    let mut box_scale = 1.0;
    let mut out = "out/pinn_sampling".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| panic!("{a} needs a value"))
        };
        match a.as_str() {
            "--target" => targets = val().split(',').map(String::from).collect(),
            "--loss" => {
                let v = val();
                losses = if v == "all" {
                    LossKind::ALL.to_vec()
                } else {
                    v.split(',')
                        .map(|s| LossKind::parse(s).unwrap_or_else(|| panic!("unknown loss {s}")))
                        .collect()
                }
            }
            "--steps" => cfg.train.steps = val().parse().expect("--steps N"),
            "--batch" => cfg.train.batch = val().parse().expect("--batch B"),
            "--lr" => cfg.train.lr = val().parse().expect("--lr R"),
            "--samples" => cfg.samples = val().parse().expect("--samples N"),
            "--sinkhorn" => cfg.sinkhorn = val().parse().expect("--sinkhorn N"),
            "--max-seconds" => {
                cfg.train.max_seconds = Some(val().parse().expect("--max-seconds S"))
            }
            "--seed" => cfg.train.seed = val().parse().expect("--seed S"),
            "--threads" => cfg.train.threads = val().parse().expect("--threads N"),
            "--shard-points" => {
                cfg.train.shard_points = Some(val().parse().expect("--shard-points N"))
            }
            "--relative" => cfg.loss.relative = Some(val().parse().expect("--relative KAPPA")),
            "--box" => box_scale = val().parse().expect("--box S"),
            "--out" => out = val(),
            "--logz-init" => {
                let v = val();
                cfg.train.logz_init = model::LogzInit::parse(&v).unwrap_or_else(|| {
                    panic!("--logz-init takes auto, zero, prior, prior:N or a number, got {v}")
                })
            }
            "--init" => cfg.train.init = Some(val().into()),
            "--flow-steps" => cfg.flow_steps = val().parse().expect("--flow-steps N"),
            "--trajectories" => {
                let f: f64 = val().parse().expect("--trajectories F");
                assert!(
                    (0.0..=1.0).contains(&f),
                    "--trajectories takes the share of each batch in [0, 1], got {f}"
                );
                trajectories(&mut cfg).fraction = f;
            }
            "--traj-every" => trajectories(&mut cfg).every = val().parse().expect("--traj-every N"),
            "--traj-particles" => {
                trajectories(&mut cfg).particles = val().parse().expect("--traj-particles P")
            }
            "--quick" => {}
            other => panic!("unknown option {other}"),
        }
    }
    Cli {
        targets,
        losses,
        cfg,
        box_scale,
        out,
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--time-step") {
        return timing::time_step(&args[1..]);
    }
    let Cli {
        targets,
        losses,
        cfg,
        box_scale,
        out,
    } = parse_args();
    let mut cfg = cfg;
    cfg.save_to = Some(out.clone().into());
    let out = physgrad::report::Output::new(&out)?;
    let mut results = vec![];
    let mut failures = vec![];
    for name in &targets {
        let mut target = Target::by_name(name)?;
        if box_scale != 1.0 {
            assert!(
                box_scale > 0.0,
                "--box takes a positive scale, got {box_scale}"
            );
            for b in &mut target.collocation {
                *b = (b.0 * box_scale, b.1 * box_scale);
            }
        }
        let target = Arc::new(target);
        for &kind in &losses {
            println!("== {} / {} ==", target.name, kind.name());
            // One failing run (a non-finite loss, say) is reported and the others go on; the
            // first failure is returned after the summary is written.
            let r = match run(&target, kind, &cfg) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{} / {}: failed: {e}", target.name, kind.name());
                    failures.push(e);
                    continue;
                }
            };
            report::write_run(&out, &r)?;
            println!("{}", report::summary(std::slice::from_ref(&r)).to_text());
            results.push(r);
        }
    }
    let table = report::summary(&results);
    println!("{}", table.to_text());
    report::write_summary(&out, &table)?;
    match failures.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
