//! InvNet experiment 2: generators of two-phase microstructures with statistical invariances.
//!
//! Targets are binary 64 × 64 images of the Cahn–Hilliard simulator
//! (`physics::cahn_hilliard::microstructures`, mean concentration `m = −0.3`, so the phase
//! `c > 0` fills ≈ 35 %). Their statistics are the volume fraction `p₁ = ⟨φ⟩` and the radially
//! averaged periodic two-point correlation `p₂(r)`, `r = 0..=16`
//! (`physics::statistics::radial_two_point_correlation`); the targets `p₁*`, `p₂*` are their
//! means over the training images. For a generated (soft, sigmoid) image `G(z)` the invariance
//! loss is, averaged over the batch,
//!
//! ```text
//! L_inv = λ₁ (p₁(G(z)) − p₁*)² + λ₂ Σ_r (p₂(G(z))(r) − p₂*(r))².
//! ```
//!
//! Because `p₂(0) = ⟨φ²⟩` equals `p₁` only for a binary image, matching both also pushes the
//! pixels toward 0 and 1.
//!
//! * **(a) data-free**: the transposed-convolution generator (`invnet/wgan_gp.rs`) trained on
//!   `L_inv` alone (Adam 1e-3).
//! * **(b) WGAN-GP + invariance**: critic steps with gradient penalty 10, 5 per generator step,
//!   Adam 1e-4 with `β = (0, 0.9)` for both players, then 5 generator steps on `L_inv` (Adam 1e-4,
//!   same betas) after each generator step, on the simulated training images.
//!
//! Reported for 1,000 generated images of each and the simulated evaluation images: the
//! distribution of `p₁` (of the soft output and of the image thresholded at ½), the mean `p₂`
//! curves, and the time per generated image against the simulator's time per image.
//!
//! Run: `cargo run --release --example invnet_microstructures` (writes
//! `out/invnet_microstructures/`). `--quick` is the small configuration; `--iterations-a N`,
//! `--iterations-b N`, `--seed S` override. The defaults were sized for a ≈ 10 minute run on the
//! shared 2-core machine (it took 12 minutes at load average 14–17) (WGAN-GP iterations are far fewer than the paper's; see
//! `docs/results.md`). The test suite runs a reduced configuration
//! (`tests/papers/invnet_microstructures.rs`).

// Shared with the other InvNet example; both are compiled into the test binary.
#[allow(clippy::duplicate_mod)]
#[path = "invnet/wgan_gp.rs"]
mod wgan_gp;

#[path = "invnet/micro_report.rs"]
mod report;

use physgrad::nn::{ParamStore, Progress};
use physgrad::optim::{Adam, AdamConfig};
use physgrad::physics::cahn_hilliard::{microstructures, CahnHilliardConfig};
use physgrad::physics::statistics::radial_two_point_correlation;
use physgrad::report::Output;
use physgrad::{Result, Tape, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
pub use wgan_gp::{ConvCritic, ConvGenerator};

/// Settings of one run; [`Config::default`] is the full run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The simulator (64 × 64, `m = −0.3`, otherwise its defaults).
    pub ch: CahnHilliardConfig,
    /// Simulated training images (WGAN data and the targets `p₁*`, `p₂*`). Default 256.
    pub train_images: usize,
    /// Simulated evaluation images (fresh seeds). Default 200.
    pub eval_sim_images: usize,
    /// Generated evaluation images per method. Default 1,000.
    pub eval_images: usize,
    /// Largest radius `R` of `p₂`. Default 16.
    pub max_r: usize,
    /// Latent dimension. Default 32.
    pub latent: usize,
    /// Generator channels `[C₀, …]` (start side `64 / 2^k`). Default `[32, 16, 8]`.
    pub gen_channels: Vec<usize>,
    /// Critic channels after each halving. Default `[8, 16, 32]`.
    pub critic_channels: Vec<usize>,
    /// Batch size. Default 16.
    pub batch: usize,
    /// `λ₁`, `λ₂`. Default 1, 1.
    pub lambda: (f64, f64),
    /// (a): iterations (default 800) and Adam learning rate (default 1e-3).
    pub iterations_a: usize,
    /// (a)'s learning rate.
    pub lr_a: f64,
    /// (b): generator iterations. Default 120.
    pub iterations_b: usize,
    /// (b): critic steps per generator step (5), gradient-penalty weight (10), Adam lr (1e-4),
    /// invariance steps per generator step (5).
    pub critic_steps: usize,
    /// Gradient-penalty weight γ.
    pub gp_weight: f64,
    /// (b)'s learning rate (both players and the invariance steps).
    pub lr_b: f64,
    /// Invariance steps after each generator step.
    pub invariance_steps: usize,
    /// Seed of everything.
    pub seed: u64,
    /// Progress display and per-phase lines.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ch: CahnHilliardConfig {
                mean: -0.3,
                ..CahnHilliardConfig::default()
            },
            train_images: 256,
            eval_sim_images: 200,
            eval_images: 1000,
            max_r: 16,
            latent: 32,
            gen_channels: vec![32, 16, 8],
            critic_channels: vec![8, 16, 32],
            batch: 16,
            lambda: (1.0, 1.0),
            iterations_a: 800,
            lr_a: 1e-3,
            iterations_b: 120,
            critic_steps: 5,
            gp_weight: 10.0,
            lr_b: 1e-4,
            invariance_steps: 5,
            seed: 0,
            verbose: true,
        }
    }
}

impl Config {
    /// The `--quick` configuration (and the basis of the test's).
    pub fn quick() -> Config {
        Config {
            train_images: 64,
            eval_sim_images: 32,
            eval_images: 200,
            iterations_a: 150,
            iterations_b: 20,
            ..Config::default()
        }
    }
}

/// Per-image statistics: `p₁ [B]` and `p₂ [B, R + 1]` of images `[B, S, S]`.
pub fn statistics<'t>(x: Var<'t>, max_r: usize) -> (Var<'t>, Var<'t>) {
    (
        x.mean_axes(&[1, 2], false),
        radial_two_point_correlation(x, max_r),
    )
}

/// The targets: `p₁*` and `p₂*` (means over the images).
#[derive(Clone, Debug)]
pub struct Targets {
    /// `p₁*`.
    pub p1: f64,
    /// `p₂*(r)`, `r = 0..=R`.
    pub p2: Vec<f64>,
}

/// `(p₁ per image, p₂ per image)` of plain images.
pub fn image_stats(images: &Tensor, max_r: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let tape = Tape::new();
    let (p1, p2) = statistics(tape.constant(images.clone()), max_r);
    let rows = p2
        .value()
        .data()
        .chunks(max_r + 1)
        .map(<[f64]>::to_vec)
        .collect();
    (p1.value().into_vec(), rows)
}

impl Targets {
    /// The means of the statistics of `images`.
    pub fn of(images: &Tensor, max_r: usize) -> Targets {
        let (p1, p2) = image_stats(images, max_r);
        Targets {
            p1: mean(&p1),
            p2: mean_curve(&p2),
        }
    }

    /// `L_inv` of a batch of generated images (see the module docs).
    pub fn loss<'t>(&self, x: Var<'t>, max_r: usize, lambda: (f64, f64)) -> Var<'t> {
        let tape = x.tape();
        let (p1, p2) = statistics(x, max_r);
        let e1 = p1 - self.p1;
        let t2 = tape.constant(Tensor::from_vec(self.p2.clone(), &[1, max_r + 1]));
        let e2 = (p2 - t2).square().sum_axes(&[1], false);
        (lambda.0 * e1.square() + lambda.1 * e2).mean()
    }
}

/// The mean of a slice.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The pointwise mean of curves.
pub fn mean_curve(c: &[Vec<f64>]) -> Vec<f64> {
    (0..c[0].len())
        .map(|r| c.iter().map(|row| row[r]).sum::<f64>() / c.len() as f64)
        .collect()
}

/// One trained generator's record.
#[derive(Clone, Debug)]
pub struct MethodRun {
    /// `"(a) invariance only"` or `"(b) WGAN-GP + invariance"`.
    pub name: &'static str,
    /// Per iteration: `L_inv` (the last invariance step's) and, for (b), the critic's estimate of
    /// the Wasserstein distance (NaN for (a)).
    pub losses: Vec<(f64, f64)>,
    /// Training wall-clock seconds.
    pub seconds: f64,
    /// `eval_images` generated images `[n, S, S]`.
    pub images: Tensor,
    /// Seconds per generated image (forward pass, batches of 100).
    pub seconds_per_image: f64,
}

fn finish(
    name: &'static str,
    losses: Vec<(f64, f64)>,
    start: Instant,
    store: &ParamStore,
    gen: &ConvGenerator,
    cfg: &Config,
) -> MethodRun {
    let seconds = start.elapsed().as_secs_f64();
    let t = Instant::now();
    let images = wgan_gp::generate(store, gen, cfg.eval_images, cfg.latent, cfg.seed + 99);
    MethodRun {
        name,
        losses,
        seconds,
        seconds_per_image: t.elapsed().as_secs_f64() / cfg.eval_images as f64,
        images,
    }
}

/// (a): the generator trained on `L_inv` alone.
pub fn train_invariance_only(cfg: &Config, targets: &Targets) -> Result<MethodRun> {
    let start = Instant::now();
    let mut store = ParamStore::new(cfg.seed);
    let gen = ConvGenerator::new(&mut store, cfg.latent, cfg.ch.n, &cfg.gen_channels);
    let mut opt = Adam::new(AdamConfig {
        lr: cfg.lr_a,
        ..AdamConfig::default()
    });
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed + 1);
    let mut progress = Progress::new(cfg.iterations_a).quiet(!cfg.verbose);
    let mut losses = Vec::with_capacity(cfg.iterations_a);
    for it in 0..cfg.iterations_a {
        let z = wgan_gp::latent(cfg.batch, cfg.latent, &mut rng);
        let l = wgan_gp::invariance_step(&mut store, &mut opt, &gen, z, |x| {
            targets.loss(x, cfg.max_r, cfg.lambda)
        })?;
        losses.push((l, f64::NAN));
        progress.update(it, l);
    }
    progress.finish();
    Ok(finish(
        "(a) invariance only",
        losses,
        start,
        &store,
        &gen,
        cfg,
    ))
}

/// (b): WGAN-GP on `data [M, S, S]` with invariance steps after each generator step.
pub fn train_wgan_invariance(cfg: &Config, data: &Tensor, targets: &Targets) -> Result<MethodRun> {
    let start = Instant::now();
    let mut store = ParamStore::new(cfg.seed);
    let gen = ConvGenerator::new(&mut store, cfg.latent, cfg.ch.n, &cfg.gen_channels);
    let critic = ConvCritic::new(&mut store, cfg.ch.n, &cfg.critic_channels);
    let (mut opt_d, mut opt_g, mut opt_i) = (
        wgan_gp::wgan_adam(cfg.lr_b),
        wgan_gp::wgan_adam(cfg.lr_b),
        wgan_gp::wgan_adam(cfg.lr_b),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed + 2);
    let mut progress = Progress::new(cfg.iterations_b).quiet(!cfg.verbose);
    let mut losses = Vec::with_capacity(cfg.iterations_b);
    let (b, dim) = (cfg.batch, cfg.latent);
    for it in 0..cfg.iterations_b {
        let mut w = 0.0;
        for _ in 0..cfg.critic_steps {
            let (z, real) = (
                wgan_gp::latent(b, dim, &mut rng),
                wgan_gp::data_batch(data, b, &mut rng),
            );
            let step = wgan_gp::critic_step(
                &mut store,
                &mut opt_d,
                &gen,
                &critic,
                z,
                real,
                cfg.gp_weight,
                None,
                &mut rng,
            );
            w = step?.0;
        }
        let z = wgan_gp::latent(b, dim, &mut rng);
        wgan_gp::generator_step(&mut store, &mut opt_g, &gen, &critic, z, None)?;
        let mut l = 0.0;
        for _ in 0..cfg.invariance_steps {
            let z = wgan_gp::latent(b, dim, &mut rng);
            l = wgan_gp::invariance_step(&mut store, &mut opt_i, &gen, z, |x| {
                targets.loss(x, cfg.max_r, cfg.lambda)
            })?;
        }
        losses.push((l, w));
        progress.update(it, l);
    }
    progress.finish();
    Ok(finish(
        "(b) WGAN-GP + invariance",
        losses,
        start,
        &store,
        &gen,
        cfg,
    ))
}

/// Everything one run produces.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The targets (from the training images).
    pub targets: Targets,
    /// Fresh simulated images for the comparison `[M, S, S]`.
    pub simulated: Tensor,
    /// Simulator seconds per image (measured on the evaluation images).
    pub sim_seconds_per_image: f64,
    /// (a) and (b).
    pub runs: Vec<MethodRun>,
}

/// Simulates the data, trains both generators, generates the evaluation images.
pub fn run(cfg: &Config) -> Result<Outcome> {
    let say = |s: String| {
        if cfg.verbose {
            println!("{s}");
        }
    };
    let train_cfg = CahnHilliardConfig {
        seed: cfg.seed,
        ..cfg.ch
    };
    let data = microstructures(&train_cfg, cfg.train_images)?;
    let targets = Targets::of(&data, cfg.max_r);
    say(format!(
        "{} training images, p₁* = {:.4}, p₂*(0..3) = {:.4?}",
        cfg.train_images,
        targets.p1,
        &targets.p2[..4]
    ));
    let eval_cfg = CahnHilliardConfig {
        seed: cfg.seed + 1_000_000,
        ..cfg.ch
    };
    let t = Instant::now();
    let simulated = microstructures(&eval_cfg, cfg.eval_sim_images)?;
    let sim_seconds_per_image = t.elapsed().as_secs_f64() / cfg.eval_sim_images as f64;
    say(format!(
        "simulator: {:.2} ms per image ({} images)",
        1e3 * sim_seconds_per_image,
        cfg.eval_sim_images
    ));
    say(format!(
        "(a) invariance only: {} iterations",
        cfg.iterations_a
    ));
    let a = train_invariance_only(cfg, &targets)?;
    say(format!(
        "(b) WGAN-GP + invariance: {} iterations",
        cfg.iterations_b
    ));
    let b = train_wgan_invariance(cfg, &data, &targets)?;
    Ok(Outcome {
        targets,
        simulated,
        sim_seconds_per_image,
        runs: vec![a, b],
    })
}

/// The settings from the command line.
pub fn parse_args() -> Config {
    let mut cfg = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| -> usize {
            let v = args
                .next()
                .unwrap_or_else(|| panic!("{name} needs a value"));
            v.parse()
                .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
        };
        match a.as_str() {
            "--quick" => cfg = Config::quick(),
            "--iterations-a" => cfg.iterations_a = value("--iterations-a"),
            "--iterations-b" => cfg.iterations_b = value("--iterations-b"),
            "--seed" => cfg.seed = value("--seed") as u64,
            other => panic!("unknown argument {other}"),
        }
    }
    cfg
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let cfg = parse_args();
    let start = Instant::now();
    let out = Output::new("out/invnet_microstructures")?;
    let outcome = run(&cfg)?;
    let table = report::summary_table(&cfg, &outcome);
    println!("\n{}", table.to_text());
    report::write_outputs(&out, &cfg, &outcome, &table)?;
    println!(
        "wrote {} ({:.1} s in all)",
        out.dir().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
