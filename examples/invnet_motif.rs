//! InvNet experiment 3: planting a "+" motif in generated handwritten digits.
//!
//! Data: the 1,797 UCI 8 × 8 digits shipped in `data/digits/` (CC BY 4.0, read with
//! `physgrad::data::read_idx`, scaled to `[0, 1]`); any IDX file of the same layout (e.g. MNIST
//! after `gunzip`) can be given with `--images PATH`. The motif `M = 1` on the "+" `Ω` (row 3
//! and column 3, each from 1 to 5: 9 pixels). The generator is trained with WGAN-GP (gradient
//! penalty 10, 5 critic steps, Adam 1e-4, `β = (0, 0.9)`) and, after each generator step, 5
//! steps on the invariance loss
//!
//! ```text
//! L_inv = E ‖P_Ω(G(z)) − M‖²   (Adam 1e-4, β = (0, 0.9)),
//! ```
//!
//! once with the **plain critic** `D(x)` and once with the **complement critic** `D(P_c x)` that
//! sees only the pixels off the motif. The data never show the motif, so the plain critic
//! penalises it (it is the easiest way to tell generated images from real ones), while the
//! complement critic cannot see it — the linear analysis of experiment 4
//! (`examples/invnet_linear_game.rs`) predicts exactly this difference.
//!
//! Reported for both: the motif error (root mean square over motif pixels of 500 fixed latent
//! draws) and the critic's loss (its estimate `E D(x) − E D(G(z))` and the penalty) per
//! iteration, and at the end the exact 2-Wasserstein distance (network simplex) between 500
//! generated and 500 real images on the pixels off the motif, against the same distance between
//! two halves of the real data.
//!
//! Run: `cargo run --release --example invnet_motif` (defaults: 1,500 iterations per critic,
//! batch 64, seed 0; writes `out/invnet_motif/`). `--quick` runs 300; `--iterations N`,
//! `--seed S`, `--images PATH`, `--lr`, `--batch`, `--hidden W` (two layers of width `W`) and
//! `--invariance-steps K` override, `--out DIR` writes elsewhere. The test suite runs a reduced configuration
//! (`tests/papers/invnet_motif.rs`).

// Shared with the other InvNet example; both are compiled into the test binary.
#[allow(clippy::duplicate_mod)]
#[path = "invnet/wgan_gp.rs"]
#[allow(dead_code)]
mod wgan_gp;

#[path = "invnet/motif_report.rs"]
mod report;

use physgrad::data::read_idx;
use physgrad::nn::{Activation, Bound, Mlp, MlpConfig, Module, ParamStore, Progress};
use physgrad::ot::{
    network_simplex, pairwise_cost_tensor, uniform_weights, Ground, NetworkSimplexConfig,
};
use physgrad::report::Output;
use physgrad::{Result, Tape, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::time::Instant;

/// Settings of one run; [`Config::default`] is the full run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The IDX image file (default: the shipped digits).
    pub images: PathBuf,
    /// Generator iterations per critic variant. Default 1,500.
    pub iterations: usize,
    /// Batch size. Default 64.
    pub batch: usize,
    /// Latent dimension. Default 16.
    pub latent: usize,
    /// Hidden widths of generator and critic. Default `[128, 128]`.
    pub hidden: Vec<usize>,
    /// Critic steps per generator step (5), penalty weight (10), Adam lr (1e-4).
    pub critic_steps: usize,
    /// Gradient-penalty weight γ.
    pub gp_weight: f64,
    /// Learning rate of every Adam (`β = (0, 0.9)`).
    pub lr: f64,
    /// Invariance steps after each generator step. Default 5.
    pub invariance_steps: usize,
    /// Iterations between motif-error points. Default 50.
    pub curve_every: usize,
    /// Samples for the motif error and the final distances. Default 500.
    pub eval_samples: usize,
    /// Output folder. Default `out/invnet_motif`.
    pub out: PathBuf,
    /// Seed.
    pub seed: u64,
    /// Progress display.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            images: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("data/digits/optdigits-images-idx3-ubyte"),
            iterations: 1500,
            batch: 64,
            latent: 16,
            hidden: vec![128, 128],
            critic_steps: 5,
            gp_weight: 10.0,
            lr: 1e-4,
            invariance_steps: 5,
            curve_every: 50,
            eval_samples: 500,
            out: PathBuf::from("out/invnet_motif"),
            seed: 0,
            verbose: true,
        }
    }
}

/// The "+" on an `s × s` image: row `c` and column `c` (`c = ⌊(s − 1)/2⌋`), from `c − 2` to
/// `c + 2` (clipped): `1` on `Ω`.
pub fn plus(s: usize) -> Tensor {
    let c = (s - 1) / 2;
    let near = |k: usize| k + 2 >= c && k <= c + 2;
    let v = (0..s * s)
        .map(|p| {
            let (i, j) = (p / s, p % s);
            f64::from(u8::from((i == c && near(j)) || (j == c && near(i))))
        })
        .collect();
    Tensor::from_vec(v, &[s, s])
}

/// Images `[M, S, S]` from an IDX file, scaled to `[0, 1]` by their maximum.
///
/// # Errors
/// As [`read_idx`]; `InvalidInput` unless the file is `[M, S, S]` with a positive maximum.
pub fn load_images(path: &std::path::Path) -> Result<Tensor> {
    let t = read_idx(path)?;
    let max = t.data().iter().copied().fold(0.0, f64::max);
    if t.ndim() != 3 || t.shape()[1] != t.shape()[2] || max <= 0.0 {
        return Err(physgrad::Error::InvalidInput {
            op: "invnet_motif".into(),
            detail: format!(
                "need square images [M, S, S] with a positive maximum, got {:?}",
                t.shape()
            ),
        });
    }
    Ok(t.map(|v| v / max))
}

/// An MLP on flattened images: `[B, L] → [B, S, S]` with a sigmoid (generator) or
/// `[B, S, S] → [B]` (critic).
#[derive(Clone, Debug)]
pub struct FlatMlp {
    net: Mlp,
    side: usize,
    generator: bool,
}

impl FlatMlp {
    /// The generator `[latent, hidden…, S²]` (ReLU) under `gen.`.
    pub fn generator(store: &mut ParamStore, latent: usize, hidden: &[usize], side: usize) -> Self {
        let mut w = vec![latent];
        w.extend_from_slice(hidden);
        w.push(side * side);
        let net = MlpConfig::new(&w)
            .activation(Activation::Relu)
            .build(store, "gen");
        FlatMlp {
            net,
            side,
            generator: true,
        }
    }

    /// The critic `[S², hidden…, 1]` (leaky ReLU 0.2) under `critic.`.
    pub fn critic(store: &mut ParamStore, hidden: &[usize], side: usize) -> Self {
        let mut w = vec![side * side];
        w.extend_from_slice(hidden);
        w.push(1);
        let net = MlpConfig::new(&w)
            .activation(Activation::LeakyRelu(0.2))
            .build(store, "critic");
        FlatMlp {
            net,
            side,
            generator: false,
        }
    }
}

impl Module for FlatMlp {
    fn forward<'t>(&self, p: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        let b = x.shape()[0];
        let s = self.side;
        if self.generator {
            self.net.forward(p, x).sigmoid().reshape(&[b, s, s])
        } else {
            self.net.forward(p, x.reshape(&[b, s * s])).reshape(&[b])
        }
    }
}

/// `L_inv = mean_b Σ_Ω (G(z) − M)²` of generated images `x [B, S, S]`.
pub fn motif_loss<'t>(x: Var<'t>, omega: &Tensor) -> Var<'t> {
    let m = x.tape().constant(omega.clone());
    let b = x.shape()[0] as f64;
    ((x - m) * m).square().sum() / b
}

/// Root mean square of `P_Ω x − M` over the motif pixels of the images `x [n, S, S]`.
pub fn motif_rms(x: &Tensor, omega: &Tensor) -> f64 {
    let (n, ss) = (x.shape()[0], omega.len());
    let om = omega.data();
    let mut s = 0.0;
    for (k, v) in x.data().iter().enumerate() {
        let m = om[k % ss];
        s += m * (v - 1.0).powi(2);
    }
    (s / (n as f64 * om.iter().sum::<f64>())).sqrt()
}

/// Exact 2-Wasserstein distance (network simplex, uniform weights) between two image sets on
/// the pixels where `view` is 1.
pub fn w2_off_motif(a: &Tensor, b: &Tensor, view: &Tensor) -> Result<f64> {
    let flat = |x: &Tensor| {
        let n = x.shape()[0];
        let v = x.zip_with(
            &view.reshape(&[1, view.shape()[0], view.shape()[1]]),
            |p, m| p * m,
        );
        v.reshape(&[n, view.len()])
    };
    let c = pairwise_cost_tensor(&flat(a), &flat(b), Ground::SqL2);
    let (wa, wb) = (uniform_weights(a.shape()[0]), uniform_weights(b.shape()[0]));
    Ok(
        network_simplex(&wa, &wb, &c, &NetworkSimplexConfig::default())?
            .cost
            .sqrt(),
    )
}

/// One variant's record.
#[derive(Clone, Debug)]
pub struct Run {
    /// `"plain critic"` or `"complement critic"`.
    pub name: &'static str,
    /// Per iteration: `(critic estimate E D(x) − E D(G(z)), penalty γ·GP, L_inv)`.
    pub losses: Vec<(f64, f64, f64)>,
    /// `(iteration, motif RMS error)` on the fixed evaluation latents, iteration 0 included.
    pub motif: Vec<(usize, f64)>,
    /// `eval_samples` generated images after training.
    pub images: Tensor,
    /// Exact W₂ to the real images off the motif.
    pub w2: f64,
    /// Seconds.
    pub seconds: f64,
}

/// Trains one variant: `complement = true` hides `Ω` from the critic.
pub fn train(cfg: &Config, data: &Tensor, complement: bool) -> Result<Run> {
    let start = Instant::now();
    let side = data.shape()[1];
    let omega = plus(side);
    let view = omega.map(|m| 1.0 - m);
    let seen = complement.then_some(&view);
    let mut store = ParamStore::new(cfg.seed);
    let gen = FlatMlp::generator(&mut store, cfg.latent, &cfg.hidden, side);
    let critic = FlatMlp::critic(&mut store, &cfg.hidden, side);
    let adam = || wgan_gp::wgan_adam(cfg.lr);
    let (mut opt_d, mut opt_g, mut opt_i) = (adam(), adam(), adam());
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed + 5);
    let eval_z = wgan_gp::latent(
        cfg.eval_samples,
        cfg.latent,
        &mut ChaCha8Rng::seed_from_u64(cfg.seed + 6),
    );
    let sample = |store: &ParamStore| {
        let tape = Tape::new();
        gen.forward(&store.bind(&tape), tape.constant(eval_z.clone()))
            .value()
    };
    let name = if complement {
        "complement critic"
    } else {
        "plain critic"
    };
    let mut run = Run {
        name,
        losses: Vec::with_capacity(cfg.iterations),
        motif: vec![(0, motif_rms(&sample(&store), &omega))],
        images: Tensor::zeros(&[0]),
        w2: f64::NAN,
        seconds: 0.0,
    };
    let mut progress = Progress::new(cfg.iterations).quiet(!cfg.verbose);
    let (b, dim) = (cfg.batch, cfg.latent);
    for it in 0..cfg.iterations {
        let mut crit = (0.0, 0.0);
        for _ in 0..cfg.critic_steps {
            let z = wgan_gp::latent(b, dim, &mut rng);
            let real = wgan_gp::data_batch(data, b, &mut rng);
            let (d, g) = (&mut opt_d, cfg.gp_weight);
            crit = wgan_gp::critic_step(&mut store, d, &gen, &critic, z, real, g, seen, &mut rng)?;
        }
        let z = wgan_gp::latent(b, dim, &mut rng);
        wgan_gp::generator_step(&mut store, &mut opt_g, &gen, &critic, z, seen)?;
        let mut l = 0.0;
        for _ in 0..cfg.invariance_steps {
            let z = wgan_gp::latent(b, dim, &mut rng);
            l = wgan_gp::invariance_step(&mut store, &mut opt_i, &gen, z, |x| {
                motif_loss(x, &omega)
            })?;
        }
        run.losses.push((crit.0, crit.1, l));
        progress.update(it, crit.0);
        if (it + 1) % cfg.curve_every == 0 || it + 1 == cfg.iterations {
            run.motif.push((it + 1, motif_rms(&sample(&store), &omega)));
        }
    }
    progress.finish();
    run.seconds = start.elapsed().as_secs_f64();
    run.images = sample(&store);
    let real = wgan_gp::data_batch(
        data,
        cfg.eval_samples,
        &mut ChaCha8Rng::seed_from_u64(cfg.seed + 7),
    );
    run.w2 = w2_off_motif(&run.images, &real, &view)?;
    Ok(run)
}

/// Both variants and the data floor (W₂ between two disjoint halves of the real images).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Plain, then complement critic.
    pub runs: Vec<Run>,
    /// W₂ off the motif between two real halves of `eval_samples` images each.
    pub floor: f64,
    /// Motif RMS error of the real images.
    pub data_motif: f64,
}

/// Loads the data and trains both variants.
pub fn run_all(cfg: &Config) -> Result<Outcome> {
    let data = load_images(&cfg.images)?;
    let side = data.shape()[1];
    let view = plus(side).map(|m| 1.0 - m);
    let n = cfg.eval_samples.min(data.shape()[0] / 2);
    let ss = side * side;
    let half = |k: usize| {
        Tensor::from_vec(
            data.data()[k * n * ss..(k + 1) * n * ss].to_vec(),
            &[n, side, side],
        )
    };
    let floor = w2_off_motif(&half(0), &half(1), &view)?;
    let data_motif = motif_rms(&data, &plus(side));
    let mut runs = Vec::new();
    for complement in [false, true] {
        if cfg.verbose {
            println!(
                "{} critic: {} iterations",
                if complement { "complement" } else { "plain" },
                cfg.iterations
            );
        }
        runs.push(train(cfg, &data, complement)?);
    }
    Ok(Outcome {
        runs,
        floor,
        data_motif,
    })
}

/// The settings from the command line.
pub fn parse_args() -> Config {
    let mut cfg = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match a.as_str() {
            "--quick" => cfg.iterations = 300,
            "--iterations" => cfg.iterations = value("--iterations").parse().expect("a number"),
            "--seed" => cfg.seed = value("--seed").parse().expect("a number"),
            "--images" => cfg.images = PathBuf::from(value("--images")),
            "--out" => cfg.out = PathBuf::from(value("--out")),
            "--lr" => cfg.lr = value("--lr").parse().expect("a number"),
            "--batch" => cfg.batch = value("--batch").parse().expect("a number"),
            "--hidden" => cfg.hidden = vec![value("--hidden").parse().expect("a number"); 2],
            "--invariance-steps" => {
                cfg.invariance_steps = value("--invariance-steps").parse().expect("a number")
            }
            other => panic!(
                "unknown argument {other} (use --quick, --iterations, --seed, --images, --out, --lr, \
                 --batch, --hidden, --invariance-steps)"
            ),
        }
    }
    cfg
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let cfg = parse_args();
    let start = Instant::now();
    let out = Output::new(&cfg.out)?;
    let o = run_all(&cfg)?;
    let table = report::summary_table(&o);
    println!("\n{}", table.to_text());
    report::write_outputs(&out, &o, &table)?;
    println!(
        "wrote {} ({:.1} s in all)",
        out.dir().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
