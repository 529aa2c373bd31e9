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
//! Run: `cargo run --release --example pinn_sampling -- --target gmm --loss ode --steps 3000`;
//! `--help` lists the options ([`USAGE`]). Writes to the output directory
//! `summary.{txt,md,csv}` and per run `<target>_<loss>_loss.csv`, `_samples.csv` (samples and
//! log-weights), `_weights.ckpt` (the trained weights, for `--init`) and `_plot.svg`. The test
//! suite runs a reduced configuration (`tests/papers/pinn_sampling.rs`).
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

/// [`evaluate`], except that a run whose every sample diverged is a row that says so (ESS 0,
/// the other scores NaN, `diverged = N`) instead of an error: the loss history and the weights
/// are already written, and the summary should show the run.
///
/// # Errors
/// [`evaluate`]'s, when some sample stayed finite.
pub fn score(
    target: &Target,
    reference: &physgrad::sampling::Reference,
    x: &Tensor,
    log_p: &[f64],
    exact: &Tensor,
    cfg: &MetricsConfig,
) -> Result<SampleMetrics> {
    match evaluate(target, reference, x, log_p, exact, cfg) {
        Err(_) if !x.is_empty() && x.data().iter().all(|v| v.is_nan()) => {
            eprintln!(
                "  every one of the {} samples left the finite range",
                log_p.len()
            );
            Ok(SampleMetrics {
                delta_log_z: f64::NAN,
                delta_log_z_is: f64::NAN,
                ess: 0.0,
                diverged: log_p.len(),
                delta_std: f64::NAN,
                sinkhorn: None,
            })
        }
        other => other,
    }
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
    let metrics = score(target, &reference, &x, &log_p, &exact, &mcfg)?;
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

/// The options, printed by `--help`.
pub const USAGE: &str = "\
usage: pinn_sampling [OPTIONS]
       pinn_sampling --time-step TARGET LOSS WEIGHTS.bin POINTS.bin REPS [SHARD_POINTS]

  --target T[,T..]      gmm | mw5 | mw50 (default gmm)
  --loss L[,L..]        ode | sde | anneal | sde-diffusion | ot | sb | all (default ode)
  --steps N             Adam steps (default 2000)
  --batch B             collocation points per step (default 512)
  --lr R                learning rate, cosine-annealed to a tenth (default 1e-3)
  --max-seconds S       training budget: the cosine schedule follows wall-clock time when
                        that is further along than the steps, and training stops after S s
  --seed S              seed of the weights and the collocation (default 0)
  --threads N           threads of the training step, the trajectory refresh and the
                        sampler (default: the cores, at most 8; same results up to rounding)
  --shard-points P      at most P points per tape, the tapes beyond the threads run one
                        after the other (0: one tape per thread; default 32-256 by loss and d)
  --trajectories F      share of each batch collocated along the learned flow (default: none;
                        0.5 once any --traj-* option is given)
  --traj-every N        refresh those points every N steps (default 100)
  --traj-particles P    from P particles (default 1024)
  --relative K          ODE loss: weigh residuals by 1/(1 + |log q - log p0|/K)
  --box S               scale the target's collocation box by S
  --logz-init I         where log z starts: auto | zero | prior | prior:N | a number
                        (default auto: the prior importance-sampling estimate when positive)
  --init CKPT           start from the weights of an earlier run (with --steps 0: only sample)
  --samples N           flow samples for the scores (default 10000)
  --sinkhorn N          of which N are compared by Sinkhorn (default 2000)
  --flow-steps N        RK4 steps of the sampler (default 200)
  --out DIR             output directory (default out/pinn_sampling)
  --quick               200 steps, batch 128, 1000 samples, 500 for Sinkhorn
  -h, --help            this text
";

/// What the command line asks for.
#[derive(Debug)]
pub struct Cli {
    /// Target names.
    pub targets: Vec<String>,
    /// Losses, in order.
    pub losses: Vec<LossKind>,
    /// The run settings.
    pub cfg: Config,
    /// Scale of the collocation box (`--box`).
    pub box_scale: f64,
    /// Output directory (`--out DIR`, default `out/pinn_sampling`).
    pub out: String,
}

/// Why the command line gives no [`Cli`].
#[derive(Debug, PartialEq)]
pub enum CliError {
    /// `--help` or `-h`: print [`USAGE`].
    Help,
    /// A bad option or value, with the message to print.
    Bad(String),
}

/// Parses `value` for `option`, or says which option wanted what.
fn parsed<T: std::str::FromStr>(
    option: &str,
    value: &str,
    what: &str,
) -> std::result::Result<T, CliError> {
    value
        .parse()
        .map_err(|_| CliError::Bad(format!("{option} takes {what}, got `{value}`")))
}

/// A positive finite number for `option`.
fn positive(option: &str, value: &str) -> std::result::Result<f64, CliError> {
    parsed(option, value, "a positive number").and_then(|x: f64| {
        if x > 0.0 && x.is_finite() {
            Ok(x)
        } else {
            Err(CliError::Bad(format!(
                "{option} takes a positive number, got `{value}`"
            )))
        }
    })
}

/// Reads the options (without the program name); `PINN_QUICK` in the environment acts as
/// `--quick`.
pub fn parse_args(args: &[String]) -> std::result::Result<Cli, CliError> {
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
        let a = a.as_str();
        if a == "--help" || a == "-h" {
            return Err(CliError::Help);
        }
        if a == "--quick" {
            continue;
        }
        let v = it.next().ok_or_else(|| {
            // Last on the line: a misspelt option is unknown, not short of a value.
            if USAGE.split_whitespace().any(|w| w == a) {
                CliError::Bad(format!("{a} needs a value"))
            } else {
                CliError::Bad(format!("unknown option `{a}`"))
            }
        })?;
        let count = |what| parsed::<usize>(a, v, what);
        match a {
            "--target" => {
                targets = v.split(',').map(String::from).collect();
                if let Some(bad) = targets.iter().find(|t| Target::by_name(t).is_err()) {
                    return Err(CliError::Bad(format!(
                        "unknown target `{bad}` (gmm, mw5 or mw50)"
                    )));
                }
            }
            "--loss" if v == "all" => losses = LossKind::ALL.to_vec(),
            "--loss" => {
                losses = v
                    .split(',')
                    .map(|s| {
                        LossKind::parse(s).ok_or_else(|| {
                            let names: Vec<_> = LossKind::ALL.iter().map(|k| k.name()).collect();
                            CliError::Bad(format!(
                                "unknown loss `{s}` ({} or all)",
                                names.join(", ")
                            ))
                        })
                    })
                    .collect::<std::result::Result<_, _>>()?
            }
            "--steps" => cfg.train.steps = count("a number of steps")?,
            "--batch" => cfg.train.batch = count("a number of points")?,
            "--lr" => cfg.train.lr = parsed(a, v, "a learning rate")?,
            "--samples" => cfg.samples = count("a number of samples")?,
            "--sinkhorn" => cfg.sinkhorn = count("a number of samples")?,
            "--max-seconds" => cfg.train.max_seconds = Some(positive(a, v)?),
            "--seed" => cfg.train.seed = parsed(a, v, "an integer seed")?,
            "--threads" => {
                cfg.train.threads = count("a number of threads")?;
                if cfg.train.threads == 0 {
                    return Err(CliError::Bad("--threads takes at least 1".into()));
                }
            }
            "--shard-points" => cfg.train.shard_points = Some(count("a number of points")?),
            "--relative" => cfg.loss.relative = Some(positive(a, v)?),
            "--box" => box_scale = positive(a, v)?,
            "--out" => out = v.clone(),
            "--logz-init" => {
                cfg.train.logz_init = model::LogzInit::parse(v).ok_or_else(|| {
                    CliError::Bad(format!(
                        "--logz-init takes auto, zero, prior, prior:N or a number, got `{v}`"
                    ))
                })?
            }
            "--init" => cfg.train.init = Some(v.into()),
            "--flow-steps" => cfg.flow_steps = count("a number of steps")?,
            "--trajectories" => {
                let f: f64 = parsed(a, v, "a share in [0, 1]")?;
                if !(0.0..=1.0).contains(&f) {
                    return Err(CliError::Bad(format!(
                        "--trajectories takes the share of each batch in [0, 1], got `{v}`"
                    )));
                }
                trajectories(&mut cfg).fraction = f;
            }
            "--traj-every" => trajectories(&mut cfg).every = count("a number of steps")?,
            "--traj-particles" => {
                trajectories(&mut cfg).particles = count("a number of particles")?
            }
            other => return Err(CliError::Bad(format!("unknown option `{other}`"))),
        }
    }
    Ok(Cli {
        targets,
        losses,
        cfg,
        box_scale,
        out,
    })
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
    } = match parse_args(&args) {
        Ok(cli) => cli,
        Err(CliError::Help) => {
            print!("{USAGE}");
            return Ok(());
        }
        Err(CliError::Bad(msg)) => {
            eprintln!("pinn_sampling: {msg}\n(`--help` lists the options)");
            std::process::exit(2);
        }
    };
    let mut cfg = cfg;
    cfg.save_to = Some(out.clone().into());
    let out = physgrad::report::Output::new(&out)?;
    let mut results = vec![];
    let mut failures = vec![];
    for name in &targets {
        let mut target = Target::by_name(name)?;
        if box_scale != 1.0 {
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
