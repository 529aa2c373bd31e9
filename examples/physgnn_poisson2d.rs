//! PhysGNN experiment 2: learn the law of a constant conductivity κ of a 2-D Poisson problem
//! from a single point observation, against random-walk Metropolis–Hastings.
//!
//! ```text
//! ∇·(κ∇u) = 2π² sin(πx) sin(πy) on (0, 1)²,  u = 0 on the boundary,  κ = |v|,  v ~ N(1, 0.3²),
//! ```
//!
//! observed only through `u(0.8, 0.8)` ([`Poisson2d`], 5-point scheme, `m × m` interior nodes,
//! default `m = 19`, `h = 0.05`, so that `(0.8, 0.8)` is node `(15, 15)`). The data are 1,000
//! observations from independent draws of κ.
//!
//! * **PhysGNN**: `κ = |g(z; w)|`, `z ~ N(0, I₁₀)`, a 3×20 tanh MLP; each Adam step (lr 1e-3)
//!   lowers the exact transport cost between B generated and B observed values of `u(0.8, 0.8)`
//!   (ground cost `|·|`), through the plan, the adjoint sparse Cholesky solve and the network;
//!   the paper uses B = 16 and 600 iterations (the defaults differ, see below).
//! * **MCMC**: random-walk Metropolis–Hastings on κ (flat prior on κ > 0, proposal N(0, 0.03²),
//!   20,000 steps, the first 4,000 discarded) whose likelihood is the Gaussian kernel density
//!   estimate (bandwidth 0.01) of the observations at the simulated `u(0.8, 0.8)`. The forward
//!   model is the same solver, called on constants (nothing is differentiated).
//!
//! Reported per seed and averaged: mean and standard deviation of κ from each method against
//! the truth (`|v|`: mean 1.00006, std 0.29982; `v`: 1.0, 0.3) and the W₁ (closed form on the
//! line) of each method's samples to 10,000 fresh true draws.
//!
//! Run: `cargo run --release --example physgnn_poisson2d` (defaults above, seeds 0–4; writes
//! `out/physgnn_poisson2d/`). `--quick` (or `PHYSGNN_QUICK=1`) runs one seed with 5,000 MCMC
//! steps; `--seeds K` sets the number of seeds, `--batch B` the batch size, `--iterations N`,
//! `--observations M`, `--init-scale S` (the output layer's initial weight factor), `--lr R`
//! and `--cosine FINAL_LR` the rest. The defaults depart from the paper's setting (batch 16,
//! 600 iterations, constant rate): batch 512, 1,200 iterations, cosine decay to 1e-5, 10,000
//! observations and output weights × 0.1. Those are what meet the issue's target; the paper's
//! setting is `--batch 16 --iterations 600 --cosine 1e-3 --observations 1000 --init-scale 1`
//! (see `docs/results.md`). The test suite runs a reduced configuration
//! (`tests/papers/poisson2d.rs`).

use physgrad::nn::{Mlp, MlpConfig, Module, ParamStore, Progress};
use physgrad::optim::{clip_grad_norm, Adam, AdamConfig, Optimizer, Schedule};
use physgrad::ot::{
    pairwise_cost, uniform_weights, wasserstein, wasserstein_1d, Ground, Method, Weights,
};
use physgrad::physics::poisson::Poisson2d;
use physgrad::report::Output;
use physgrad::{Result, Tape, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, StandardNormal};
use std::f64::consts::PI;
use std::time::Instant;

/// Settings; [`Config::default`] is the paper's setting.
#[derive(Clone, Debug)]
pub struct Config {
    /// Interior nodes per side (`h = 1/(m + 1)`); `0.8 (m + 1)` must be a whole number. Default 19.
    pub m: usize,
    /// Mean and standard deviation of `v` (κ = |v|). Default (1.0, 0.3).
    pub law: (f64, f64),
    /// Number of observations of `u(0.8, 0.8)`. Default 10,000 (with 1,000 the sample std of the
    /// data alone misses the true 0.3 by ±0.007, most of the 0.01 target).
    pub observations: usize,
    /// PhysGNN iterations. Default 1,200 (the paper: 600).
    pub iterations: usize,
    /// Generated and observed samples per step. Default 512 (the paper: 16, which under-disperses
    /// κ by ≈ 0.05, the minibatch-W bias; 128 by ≈ 0.015, 512 by ≈ 0.004).
    pub batch: usize,
    /// Latent dimension. Default 10.
    pub latent: usize,
    /// Hidden widths. Default `[20, 20, 20]`.
    pub hidden: Vec<usize>,
    /// Adam learning rate. Default 1e-3.
    pub lr: f64,
    /// The rate decays by a cosine from `lr` to this over the iterations. Default 1e-5 (the
    /// paper's constant rate is `None`; it leaves the last iterate noisy).
    pub final_lr: Option<f64>,
    /// Initial bias of the generator's output layer (default 1.0), so that κ starts near 1
    /// rather than near 0: `u ∝ 1/κ`, and draws of κ near 0 give huge observations whose
    /// gradients stall Adam (seen with the zero bias: training stopped at mean κ ≈ 0.5).
    pub init_bias: f64,
    /// The output layer's initial weights are scaled by this factor (default 0.1), so that the
    /// initial κ is a narrow law around `init_bias` that training widens. With the default
    /// Glorot scale the initial κ spreads over (0, 3): draws near 0 get gradients ∝ 1/κ² and
    /// draws far above 1 get almost none (`∂u/∂κ ∝ 1/κ²` there too, but small), so the large-κ
    /// mass freezes (seen at batch 64 and 512 on 1–2 of 5 seeds: std κ stuck near 1.1).
    pub init_scale: f64,
    /// The gradient is rescaled to at most this Euclidean norm before each Adam step (default
    /// 1.0; 0 disables). A generated κ near 0 gives `∂u/∂κ ∝ 1/κ²`; one such gradient inflates
    /// Adam's second moment for ~1/(1 − β₂) = 1,000 steps and freezes training (seen on 3 of 5
    /// seeds without clipping: the learned std stuck near 0.8).
    pub clip_norm: f64,
    /// Metropolis–Hastings steps (default 20,000), of which `burn_in` (default 4,000) are
    /// discarded.
    pub mcmc_steps: usize,
    /// Discarded initial steps.
    pub burn_in: usize,
    /// Standard deviation of the random-walk proposal. Default 0.03.
    pub proposal_std: f64,
    /// Bandwidth of the Gaussian kernel density estimate. Default 0.01.
    pub bandwidth: f64,
    /// Learned samples (and true samples) for the statistics. Default 10,000.
    pub eval_samples: usize,
    /// Seed of data, initialisation, latent draws and the chain.
    pub seed: u64,
    /// Print progress.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            m: 19,
            law: (1.0, 0.3),
            observations: 10_000,
            iterations: 1200,
            batch: 512,
            latent: 10,
            hidden: vec![20, 20, 20],
            lr: 1e-3,
            final_lr: Some(1e-5),
            init_bias: 1.0,
            init_scale: 0.1,
            clip_norm: 1.0,
            mcmc_steps: 20_000,
            burn_in: 4_000,
            proposal_std: 0.03,
            bandwidth: 0.01,
            eval_samples: 10_000,
            seed: 0,
            verbose: true,
        }
    }
}

impl Config {
    /// The learning rate at iteration `it`: a cosine from `lr` to `final_lr` over
    /// `iterations`, or `lr` throughout when `final_lr` is `None`.
    pub fn lr_at(&self, it: usize) -> f64 {
        self.final_lr.map_or(self.lr, |min_lr| {
            Schedule::Cosine {
                period: self.iterations.max(1),
                min_lr,
            }
            .lr(self.lr, it)
        })
    }
}

/// The forward model: the grid, its source and the observed node.
pub struct Model {
    poisson: Poisson2d,
    source: Tensor,
    node: usize,
}

impl Model {
    /// Builds the solver for `m × m` interior nodes.
    ///
    /// # Panics
    /// If `(0.8, 0.8)` is not a grid node.
    pub fn new(m: usize) -> Result<Model> {
        let h = 1.0 / (m + 1) as f64;
        let k = 0.8 / h - 1.0;
        assert!(
            (k - k.round()).abs() < 1e-9,
            "(0.8, 0.8) is not a node for m = {m}"
        );
        let k = k.round() as usize;
        let f = (0..m * m)
            .map(|n| {
                let (x, y) = (((n % m) + 1) as f64 * h, ((n / m) + 1) as f64 * h);
                2.0 * PI * PI * (PI * x).sin() * (PI * y).sin()
            })
            .collect();
        Ok(Model {
            poisson: Poisson2d::new(m)?,
            source: Tensor::from_vec(f, &[m, m]),
            node: k * m + k,
        })
    }

    /// `u(0.8, 0.8)` `[B, 1]` for constant conductivities `kappa [B, 1]`.
    pub fn observe<'t>(&self, kappa: Var<'t>) -> Result<Var<'t>> {
        let (b, m) = (kappa.shape()[0], self.poisson.m());
        let tape = kappa.tape();
        let k3 = kappa.reshape(&[b, 1, 1]);
        let kx = k3.broadcast_to(&[b, m, m + 1]);
        let ky = k3.broadcast_to(&[b, m + 1, m]);
        let f = tape
            .constant(self.source.reshape(&[1, m, m]))
            .broadcast_to(&[b, m, m]);
        let u = self.poisson.solve(kx, ky, f, None)?;
        Ok(u.reshape(&[b, m * m]).gather(1, &[self.node]))
    }

    /// `u(0.8, 0.8)` for plain conductivities (no gradient).
    pub fn observe_plain(&self, kappa: &[f64]) -> Result<Vec<f64>> {
        let tape = Tape::new();
        let k = tape.constant(Tensor::from_vec(kappa.to_vec(), &[kappa.len(), 1]));
        Ok(self.observe(k)?.value().into_vec())
    }
}

/// `n` draws of `κ = |v|`, `v ~ N(mean, std²)`.
pub fn true_kappa(law: (f64, f64), n: usize, seed: u64) -> Vec<f64> {
    let normal = Normal::new(law.0, law.1).expect("positive standard deviation");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| normal.sample(&mut rng).abs()).collect()
}

/// Mean and standard deviation of `|v|`, `v ~ N(μ, s²)` (the folded normal):
/// `E|v| = s √(2/π) e^{−μ²/2s²} + μ erf(μ/(s√2))`, `E v² = μ² + s²`.
pub fn folded_moments(law: (f64, f64)) -> (f64, f64) {
    let (mu, s) = law;
    let tape = Tape::new();
    let erf = tape.scalar(mu / (s * 2f64.sqrt())).erf().item();
    let mean = s * (2.0 / PI).sqrt() * (-mu * mu / (2.0 * s * s)).exp() + mu * erf;
    (mean, (mu * mu + s * s - mean * mean).sqrt())
}

/// The generator `κ = |g(z; w)|`, `z ~ N(0, I)`; the output bias starts at `bias`.
pub struct Generator {
    net: Mlp,
    latent: usize,
}

impl Generator {
    /// The MLP `[latent, hidden…, 1]` in `store`, its output layer's weights multiplied by
    /// `scale`.
    pub fn new(
        store: &mut ParamStore,
        latent: usize,
        hidden: &[usize],
        bias: f64,
        scale: f64,
    ) -> Generator {
        let mut w = vec![latent];
        w.extend_from_slice(hidden);
        w.push(1);
        let net = MlpConfig::new(&w).build(store, "gen");
        let last = format!("gen.layer{}", w.len() - 2);
        let b = store.id(&format!("{last}.bias")).expect("last bias");
        store.set(b, Tensor::full(&[1], bias));
        let k = store.id(&format!("{last}.weight")).expect("last weight");
        let scaled = store.get(k).map(|v| v * scale);
        store.set(k, scaled);
        Generator { net, latent }
    }

    /// `n` latent rows.
    pub fn latent(&self, n: usize, rng: &mut ChaCha8Rng) -> Tensor {
        let z = (0..n * self.latent)
            .map(|_| StandardNormal.sample(rng))
            .collect();
        Tensor::from_vec(z, &[n, self.latent])
    }

    /// Plain samples of κ.
    pub fn sample(&self, store: &ParamStore, z: Tensor) -> Vec<f64> {
        let tape = Tape::new();
        let p = store.bind(&tape);
        self.net
            .forward(&p, tape.constant(z))
            .abs()
            .value()
            .into_vec()
    }
}

/// PhysGNN's training record.
#[derive(Clone, Debug)]
pub struct PhysGnnRun {
    /// The Wasserstein loss per iteration.
    pub losses: Vec<f64>,
    /// `(iteration, mean κ, std κ)` on 1,000 fixed latent draws, every 20 iterations.
    pub moments: Vec<(usize, f64, f64)>,
    /// `eval_samples` learned κ.
    pub samples: Vec<f64>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Trains the generator on the observations `data` (values of `u(0.8, 0.8)`).
pub fn train_physgnn(cfg: &Config, model: &Model, data: &[f64]) -> Result<PhysGnnRun> {
    let start = Instant::now();
    let mut store = ParamStore::new(cfg.seed);
    let gen = Generator::new(
        &mut store,
        cfg.latent,
        &cfg.hidden,
        cfg.init_bias,
        cfg.init_scale,
    );
    let mut opt = Adam::new(AdamConfig {
        lr: cfg.lr,
        ..AdamConfig::default()
    });
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x51);
    let probe = gen.latent(1000, &mut ChaCha8Rng::seed_from_u64(cfg.seed + 5));
    let mut run = PhysGnnRun {
        losses: Vec::new(),
        moments: vec![moment_point(0, &gen.sample(&store, probe.clone()))],
        samples: Vec::new(),
        seconds: 0.0,
    };
    let mut progress = Progress::new(cfg.iterations).quiet(!cfg.verbose);
    for it in 0..cfg.iterations {
        opt.set_lr(cfg.lr_at(it));
        let z = gen.latent(cfg.batch, &mut rng);
        let y: Vec<f64> = (0..cfg.batch)
            .map(|_| data[rng.random_range(0..data.len())])
            .collect();
        let (loss, mut grads) = {
            let tape = Tape::new();
            let p = store.bind(&tape);
            let kappa = gen.net.forward(&p, tape.constant(z)).abs();
            let u = model.observe(kappa)?;
            let y = tape.constant(Tensor::from_vec(y, &[cfg.batch, 1]));
            let c = pairwise_cost(u, y, Ground::L2);
            let w = wasserstein(c, Weights::Uniform, Weights::Uniform, &Method::default())?
                .check_finite("loss")?;
            (w.item(), p.gradients(w))
        };
        if cfg.clip_norm > 0.0 {
            clip_grad_norm(&mut grads, cfg.clip_norm);
        }
        opt.step(&mut store, &grads)?;
        run.losses.push(loss);
        progress.update(it, loss);
        if (it + 1) % 20 == 0 {
            let point = moment_point(it + 1, &gen.sample(&store, probe.clone()));
            if cfg.verbose && (it + 1) % 100 == 0 {
                println!(
                    "  PhysGNN iter {:4}  loss {loss:.3e}  mean κ {:.4}  std κ {:.4}",
                    it + 1,
                    point.1,
                    point.2
                );
            }
            run.moments.push(point);
        }
    }
    progress.finish();
    let mut erng = ChaCha8Rng::seed_from_u64(cfg.seed + 13);
    run.samples = gen.sample(&store, gen.latent(cfg.eval_samples, &mut erng));
    run.seconds = start.elapsed().as_secs_f64();
    Ok(run)
}

fn moment_point(it: usize, s: &[f64]) -> (usize, f64, f64) {
    let (m, sd) = mean_std(s);
    (it, m, sd)
}

/// Mean and (population) standard deviation.
pub fn mean_std(s: &[f64]) -> (f64, f64) {
    let n = s.len() as f64;
    let m = s.iter().sum::<f64>() / n;
    (
        m,
        (s.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt(),
    )
}

/// The Metropolis–Hastings chain.
#[derive(Clone, Debug)]
pub struct McmcRun {
    /// Every state of the chain, burn-in included.
    pub chain: Vec<f64>,
    /// The retained states (after burn-in).
    pub samples: Vec<f64>,
    /// Fraction of accepted proposals.
    pub acceptance: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// `log p̂(u) = log (1/(N b √(2π)) Σᵢ exp(−(u − yᵢ)²/(2b²)))`, computed stably.
pub fn log_kde(u: f64, data: &[f64], b: f64) -> f64 {
    let e: Vec<f64> = data
        .iter()
        .map(|y| -(u - y).powi(2) / (2.0 * b * b))
        .collect();
    let top = e.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = e.iter().map(|v| (v - top).exp()).sum();
    top + s.ln() - (data.len() as f64 * b * (2.0 * PI).sqrt()).ln()
}

/// Random-walk Metropolis–Hastings on κ with the KDE likelihood and a flat prior on κ > 0,
/// started from `κ₀ = u₁ / mean(data)` (`u₁` the observation at κ = 1; exact for constant κ).
pub fn run_mcmc(cfg: &Config, model: &Model, data: &[f64]) -> Result<McmcRun> {
    let start = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xc0de);
    let step = Normal::new(0.0, cfg.proposal_std).expect("positive proposal std");
    let u1 = model.observe_plain(&[1.0])?[0];
    let mut kappa = u1 / (data.iter().sum::<f64>() / data.len() as f64);
    let loglik =
        |k: f64| -> Result<f64> { Ok(log_kde(model.observe_plain(&[k])?[0], data, cfg.bandwidth)) };
    let mut current = loglik(kappa)?;
    let (mut chain, mut accepted) = (Vec::with_capacity(cfg.mcmc_steps), 0usize);
    for s in 0..cfg.mcmc_steps {
        let proposal = kappa + step.sample(&mut rng);
        if proposal > 0.0 {
            let cand = loglik(proposal)?;
            if rng.random::<f64>().ln() < cand - current {
                (kappa, current) = (proposal, cand);
                accepted += 1;
            }
        }
        chain.push(kappa);
        if cfg.verbose && (s + 1) % 4000 == 0 {
            println!(
                "  MCMC    step {:6}  κ {kappa:.4}  acceptance {:.3}",
                s + 1,
                accepted as f64 / (s + 1) as f64
            );
        }
    }
    Ok(McmcRun {
        samples: chain[cfg.burn_in.min(chain.len())..].to_vec(),
        acceptance: accepted as f64 / cfg.mcmc_steps.max(1) as f64,
        chain,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// W₁ between two samples on the line (exact closed form, uniform weights).
pub fn w1(x: &[f64], y: &[f64]) -> Result<f64> {
    Ok(wasserstein_1d(
        x,
        &uniform_weights(x.len()),
        y,
        &uniform_weights(y.len()),
        1.0,
    )?
    .cost)
}

/// One seed: data, both methods, and the true evaluation sample.
#[derive(Clone, Debug)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Fresh true κ for the statistics.
    pub truth: Vec<f64>,
    /// The sampling floor: W₁ between `truth` and another `eval_samples` true draws.
    pub floor: f64,
    /// PhysGNN.
    pub physgnn: PhysGnnRun,
    /// Metropolis–Hastings.
    pub mcmc: McmcRun,
}

/// Runs both methods for `cfg.seed`.
pub fn run_seed(cfg: &Config) -> Result<SeedResult> {
    let model = Model::new(cfg.m)?;
    let data = model.observe_plain(&true_kappa(cfg.law, cfg.observations, cfg.seed + 1))?;
    let truth = true_kappa(cfg.law, cfg.eval_samples, cfg.seed + 2);
    let floor = w1(&truth, &true_kappa(cfg.law, cfg.eval_samples, cfg.seed + 3))?;
    let physgnn = train_physgnn(cfg, &model, &data)?;
    let mcmc = run_mcmc(cfg, &model, &data)?;
    Ok(SeedResult {
        seed: cfg.seed,
        truth,
        floor,
        physgnn,
        mcmc,
    })
}

#[path = "physgnn/report2d.rs"]
mod report;
pub use report::{summary_table, write_outputs};

fn parse_args() -> (Config, usize) {
    let mut cfg = Config::default();
    let mut seeds = 5;
    let quick = |cfg: &mut Config, seeds: &mut usize| {
        cfg.mcmc_steps = 5000;
        cfg.burn_in = 1000;
        *seeds = 1;
    };
    if std::env::var("PHYSGNN_QUICK").is_ok_and(|v| v != "0") {
        quick(&mut cfg, &mut seeds);
    }
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick(&mut cfg, &mut seeds),
            "--batch" => {
                let v = args.next().expect("--batch needs a value");
                cfg.batch = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--batch: not a number: {v}"));
            }
            "--iterations" => {
                let v = args.next().expect("--iterations needs a value");
                cfg.iterations = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--iterations: not a number: {v}"));
            }
            "--observations" => {
                let v = args.next().expect("--observations needs a value");
                cfg.observations = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--observations: not a number: {v}"));
            }
            "--init-scale" => {
                let v = args.next().expect("--init-scale needs a value");
                cfg.init_scale = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--init-scale: not a number: {v}"));
            }
            "--lr" => {
                let v = args.next().expect("--lr needs a value");
                cfg.lr = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--lr: not a number: {v}"));
            }
            "--cosine" => {
                let v = args.next().expect("--cosine needs the final rate");
                cfg.final_lr = Some(
                    v.parse()
                        .unwrap_or_else(|_| panic!("--cosine: not a number: {v}")),
                );
            }
            "--seeds" => {
                let v = args.next().expect("--seeds needs a value");
                seeds = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--seeds: not a number: {v}"));
            }
            other => panic!(
                "unknown argument {other} (use --quick, --seeds K, --batch B, --iterations N, \
                 --observations M, --init-scale S, --lr R, --cosine FINAL_LR)"
            ),
        }
    }
    (cfg, seeds)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (cfg, seeds) = parse_args();
    let out = Output::new("out/physgnn_poisson2d")?;
    let start = Instant::now();
    let mut results = Vec::new();
    for seed in 0..seeds as u64 {
        println!("seed {seed}");
        results.push(run_seed(&Config {
            seed,
            ..cfg.clone()
        })?);
    }
    let table = summary_table(&results, cfg.law);
    println!("\n{}", table.to_text());
    write_outputs(&out, &results, cfg.law, &table)?;
    println!(
        "wrote {} ({:.1} s in all)",
        out.dir().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
