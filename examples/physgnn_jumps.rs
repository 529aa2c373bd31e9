//! PhysGNN experiment 4: learn the jump law of a compound Poisson process from its end values.
//!
//! ```text
//! X_T = Σ_{i ≤ N} Yᵢ + μ T + σ B_T,   N ~ Poisson(λT),   λ = 10,  T = 1,  Yᵢ ∈ ℝ² i.i.d.,
//! ```
//!
//! observed only through 10,000 values of `X_T` (default `μ = 0`, `σ = 0`; `--diffusion`
//! sets `μ = (0.5, −0.5)`, `σ = 0.3`, both known to the model). True jump laws ([`JumpLaw`]):
//! (i) `Y = r(cos θ, sin θ)`, `r ~ U[1.5, 1.8]`, `θ ~ U[0.25π, 0.45π]`;
//! (ii) `N((0, 1), 0.2·[[2, 1], [1, 2]])`; (iii) `N((1.5, 2), 0.2 I)`.
//!
//! **PhysGNN**: every jump slot of every path gets its own latent `z ~ N(0, I₂₀)`, mapped by a
//! shared 4×20 tanh MLP to `Y` (as in the authors' code: `z` is `[batch · slots, 20]`). A
//! path has `K = 30` slots and sums the first `N` of them (`P(N > 30) ≈ 7·10⁻⁸` at λT = 10; the
//! data use the exact `N`). Each Adam step (lr 2e-3, β₁ = 0.5) lowers the exact transport cost
//! (Euclidean ground cost) between 64 generated and 64 observed `X_T`, through the plan, the
//! sum and the network; 1,000 iterations. The counts `N`, the Brownian increments and the
//! latents are the known noise ω, drawn afresh every step.
//!
//! Reported: the exact W₁ (Euclidean ground cost) between 1,000 learned and 1,000 true jumps
//! `Y` (and the floor: two true samples), and the same for `X_T`, at several iterations; SVG
//! panels of the learned `Y` and `X_T` densities at those iterations beside the truth.
//!
//! Run: `cargo run --release --example physgnn_jumps` (all three laws, 1,000 iterations; writes
//! `out/physgnn_jumps/`). `--quick` runs 200 iterations; `--diffusion` adds drift and
//! diffusion; `--seed S`. Reduced configuration: `tests/papers/jumps.rs`.

use physgrad::nn::{Bound, Mlp, MlpConfig, Module, ParamStore, Progress};
use physgrad::optim::{Adam, AdamConfig, Optimizer, Schedule};
use physgrad::ot::{wasserstein_points, Ground, Method, Weights};
use physgrad::report::Output;
use physgrad::{Result, Tape, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use std::f64::consts::PI;
use std::time::Instant;

/// The three true jump laws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JumpLaw {
    /// (i) `r(cos θ, sin θ)`, `r ~ U[1.5, 1.8]`, `θ ~ U[0.25π, 0.45π]`.
    Arc,
    /// (ii) `N((0, 1), 0.2·[[2, 1], [1, 2]])`.
    Correlated,
    /// (iii) `N((1.5, 2), 0.2 I)`.
    Isotropic,
}

impl JumpLaw {
    /// All three.
    pub const ALL: [JumpLaw; 3] = [JumpLaw::Arc, JumpLaw::Correlated, JumpLaw::Isotropic];

    /// `"i"`, `"ii"`, `"iii"`.
    pub fn name(self) -> &'static str {
        match self {
            JumpLaw::Arc => "i",
            JumpLaw::Correlated => "ii",
            JumpLaw::Isotropic => "iii",
        }
    }

    /// One jump.
    pub fn draw(self, rng: &mut ChaCha8Rng) -> [f64; 2] {
        match self {
            JumpLaw::Arc => {
                let r = rng.random_range(1.5..1.8);
                let t = rng.random_range(0.25 * PI..0.45 * PI);
                [r * t.cos(), r * t.sin()]
            }
            JumpLaw::Correlated => {
                // 0.2·[[2, 1], [1, 2]] = L Lᵀ with L = [[√0.4, 0], [√0.1, √0.3]].
                let (a, b): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
                [
                    0.4f64.sqrt() * a,
                    1.0 + 0.1f64.sqrt() * a + 0.3f64.sqrt() * b,
                ]
            }
            JumpLaw::Isotropic => {
                let (a, b): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
                [1.5 + 0.2f64.sqrt() * a, 2.0 + 0.2f64.sqrt() * b]
            }
        }
    }

    /// `n` jumps as `[n, 2]`.
    pub fn jumps(self, n: usize, rng: &mut ChaCha8Rng) -> Tensor {
        let v = (0..n).flat_map(|_| self.draw(rng)).collect();
        Tensor::from_vec(v, &[n, 2])
    }
}

/// Settings; [`Config::default`] is the paper's setting.
#[derive(Clone, Debug)]
pub struct Config {
    /// Jump intensity λ (default 10) and horizon T (default 1).
    pub lambda: f64,
    /// The horizon T.
    pub horizon: f64,
    /// Drift μ (default 0).
    pub drift: [f64; 2],
    /// Diffusion coefficient σ (default 0).
    pub sigma: f64,
    /// Jump slots per generated path (default 30).
    pub slots: usize,
    /// Observed values of `X_T` (default 10,000).
    pub observations: usize,
    /// Paths per step (default 64).
    pub batch: usize,
    /// Latent dimension (default 20).
    pub latent: usize,
    /// Hidden widths (default `[20; 4]`).
    pub hidden: Vec<usize>,
    /// Adam learning rate (default 2e-3) and β₁ (default 0.5).
    pub lr: f64,
    /// Adam's β₁.
    pub beta1: f64,
    /// The rate decays by a cosine from `lr` to this over the iterations. Default `None`: a
    /// constant rate, the paper's setting.
    pub final_lr: Option<f64>,
    /// Adam steps (default 1,000).
    pub iterations: usize,
    /// Iterations at which the learned laws are recorded (0 = untrained).
    pub snapshots: Vec<usize>,
    /// Samples for the recorded laws and the W₁ (default 1,000).
    pub eval_samples: usize,
    /// Seed.
    pub seed: u64,
    /// Print progress.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            lambda: 10.0,
            horizon: 1.0,
            drift: [0.0, 0.0],
            sigma: 0.0,
            slots: 30,
            observations: 10_000,
            batch: 64,
            latent: 20,
            hidden: vec![20; 4],
            lr: 2e-3,
            beta1: 0.5,
            final_lr: None,
            iterations: 1000,
            snapshots: vec![0, 50, 200, 500, 1000],
            eval_samples: 1000,
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

/// The known noise of `n` paths: jump counts, Brownian end values `B_T` `[n, 2]`.
pub struct Noise {
    /// `Nᵢ`.
    pub counts: Vec<usize>,
    /// `B_T` of each path.
    pub brownian: Tensor,
}

impl Noise {
    /// Draws the noise of `n` paths.
    pub fn draw(cfg: &Config, n: usize, rng: &mut ChaCha8Rng) -> Noise {
        let poisson = Poisson::new(cfg.lambda * cfg.horizon).expect("λT > 0");
        let counts = (0..n).map(|_| poisson.sample(rng) as usize).collect();
        let b = (0..2 * n)
            .map(|_| cfg.horizon.sqrt() * Distribution::<f64>::sample(&StandardNormal, rng))
            .collect::<Vec<f64>>();
        Noise {
            counts,
            brownian: Tensor::from_vec(b, &[n, 2]),
        }
    }
}

/// `n` true values of `X_T` `[n, 2]` (exact jump counts, no slot cap).
pub fn true_paths(cfg: &Config, law: JumpLaw, n: usize, rng: &mut ChaCha8Rng) -> Tensor {
    let noise = Noise::draw(cfg, n, rng);
    let mut x = Vec::with_capacity(2 * n);
    for (i, &k) in noise.counts.iter().enumerate() {
        let mut s = [0.0; 2];
        for _ in 0..k {
            let y = law.draw(rng);
            s[0] += y[0];
            s[1] += y[1];
        }
        for (c, sc) in s.iter().enumerate() {
            let b = noise.brownian.data()[2 * i + c];
            x.push(sc + cfg.drift[c] * cfg.horizon + cfg.sigma * b);
        }
    }
    Tensor::from_vec(x, &[n, 2])
}

/// The generator of jumps.
pub struct Generator {
    net: Mlp,
    latent: usize,
}

impl Generator {
    /// The MLP `[latent, hidden…, 2]` in `store`.
    pub fn new(store: &mut ParamStore, latent: usize, hidden: &[usize]) -> Generator {
        let mut w = vec![latent];
        w.extend_from_slice(hidden);
        w.push(2);
        Generator {
            net: MlpConfig::new(&w).build(store, "gen"),
            latent,
        }
    }

    /// `rows` latent rows.
    pub fn latent(&self, rows: usize, rng: &mut ChaCha8Rng) -> Tensor {
        let z = (0..rows * self.latent)
            .map(|_| StandardNormal.sample(rng))
            .collect();
        Tensor::from_vec(z, &[rows, self.latent])
    }

    /// Jumps `[R, 2]` for latents `[R, d]`.
    pub fn jumps<'t>(&self, p: &Bound<'t>, z: Var<'t>) -> Var<'t> {
        self.net.forward(p, z)
    }

    /// `X_T` `[n, 2]` of `n = noise.counts.len()` paths, latents `z` `[n · slots, d]`:
    /// `Σₖ 1[k < Nᵢ] Y_{ik} + μT + σB_T`.
    ///
    /// # Panics
    /// If a count exceeds the slots.
    pub fn paths<'t>(&self, cfg: &Config, p: &Bound<'t>, z: Var<'t>, noise: &Noise) -> Var<'t> {
        let (n, k) = (noise.counts.len(), cfg.slots);
        let mask: Vec<f64> = noise
            .counts
            .iter()
            .flat_map(|&c| (0..k).map(move |j| if j < c.min(k) { 1.0 } else { 0.0 }))
            .collect();
        let tape = z.tape();
        let y = self.jumps(p, z).reshape(&[n, k, 2]);
        let mask = tape.constant(Tensor::from_vec(mask, &[n, k, 1]));
        let shift = Tensor::from_vec(
            noise
                .brownian
                .data()
                .chunks(2)
                .flat_map(|b| [0, 1].map(|c| cfg.drift[c] * cfg.horizon + cfg.sigma * b[c]))
                .collect(),
            &[n, 2],
        );
        (y * mask).sum_axes(&[1], false) + tape.constant(shift)
    }
}

/// Exact transport cost (Euclidean ground cost) between two point clouds `[n, 2]`.
pub fn w1<'t>(x: Var<'t>, y: Var<'t>) -> Result<Var<'t>> {
    wasserstein_points(
        x,
        y,
        Ground::L2,
        Weights::Uniform,
        Weights::Uniform,
        &Method::default(),
    )?
    .check_finite("loss")
}

/// [`w1`] on plain tensors.
pub fn w1_plain(x: &Tensor, y: &Tensor) -> Result<f64> {
    let tape = Tape::new();
    Ok(w1(tape.constant(x.clone()), tape.constant(y.clone()))?.item())
}

/// The learned laws at one iteration.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The iteration.
    pub iteration: usize,
    /// Learned jumps `[eval_samples, 2]`.
    pub jumps: Tensor,
    /// Learned `X_T` `[eval_samples, 2]`.
    pub paths: Tensor,
    /// W₁ of the jumps to the true jumps.
    pub w1_jumps: f64,
    /// W₁ of `X_T` to true `X_T`.
    pub w1_paths: f64,
}

/// One law's run.
#[derive(Clone, Debug)]
pub struct Run {
    /// The law.
    pub law: JumpLaw,
    /// Training loss per iteration.
    pub losses: Vec<f64>,
    /// The recorded learned laws.
    pub snapshots: Vec<Snapshot>,
    /// True jumps and `X_T` (`eval_samples` each) the snapshots are compared with.
    pub truth: (Tensor, Tensor),
    /// W₁ between two independent true samples of jumps and of `X_T` (the sampling floor).
    pub floor: (f64, f64),
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The evaluation set: fixed latents and noise, true samples.
struct Eval {
    z_jumps: Tensor,
    z_paths: Tensor,
    noise: Noise,
    truth: (Tensor, Tensor),
}

fn snapshot(
    cfg: &Config,
    gen: &Generator,
    store: &ParamStore,
    e: &Eval,
    it: usize,
) -> Result<Snapshot> {
    let tape = Tape::new();
    let p = store.bind(&tape);
    let jumps = gen
        .jumps(&p, tape.constant(e.z_jumps.clone()))
        .value()
        .clone();
    let paths = gen
        .paths(cfg, &p, tape.constant(e.z_paths.clone()), &e.noise)
        .value()
        .clone();
    Ok(Snapshot {
        iteration: it,
        w1_jumps: w1_plain(&jumps, &e.truth.0)?,
        w1_paths: w1_plain(&paths, &e.truth.1)?,
        jumps,
        paths,
    })
}

/// Trains the generator on `law`.
pub fn train(cfg: &Config, law: JumpLaw) -> Result<Run> {
    let start = Instant::now();
    let n = cfg.eval_samples;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x1a3b);
    let data = true_paths(cfg, law, cfg.observations, &mut rng);
    let truth = (law.jumps(n, &mut rng), true_paths(cfg, law, n, &mut rng));
    let floor = (
        w1_plain(&truth.0, &law.jumps(n, &mut rng))?,
        w1_plain(&truth.1, &true_paths(cfg, law, n, &mut rng))?,
    );
    let mut store = ParamStore::new(cfg.seed);
    let gen = Generator::new(&mut store, cfg.latent, &cfg.hidden);
    let noise = Noise::draw(cfg, n, &mut rng);
    let eval = Eval {
        z_jumps: gen.latent(n, &mut rng),
        z_paths: gen.latent(n * cfg.slots, &mut rng),
        noise,
        truth,
    };
    let mut opt = Adam::new(AdamConfig {
        lr: cfg.lr,
        beta1: cfg.beta1,
        ..AdamConfig::default()
    });
    let mut snapshots = Vec::new();
    if cfg.snapshots.contains(&0) {
        snapshots.push(snapshot(cfg, &gen, &store, &eval, 0)?);
    }
    let mut losses = Vec::with_capacity(cfg.iterations);
    let mut progress = Progress::new(cfg.iterations).quiet(!cfg.verbose);
    for it in 0..cfg.iterations {
        opt.set_lr(cfg.lr_at(it));
        let noise = Noise::draw(cfg, cfg.batch, &mut rng);
        let z = gen.latent(cfg.batch * cfg.slots, &mut rng);
        let rows: Vec<usize> = (0..cfg.batch)
            .map(|_| rng.random_range(0..cfg.observations))
            .collect();
        let (l, grads) = {
            let tape = Tape::new();
            let p = store.bind(&tape);
            let x = gen.paths(cfg, &p, tape.constant(z), &noise);
            let y = tape.constant(data.clone()).gather(0, &rows);
            let w = w1(x, y)?;
            (w.item(), p.gradients(w))
        };
        opt.step(&mut store, &grads)?;
        losses.push(l);
        progress.update(it, l);
        if cfg.snapshots.contains(&(it + 1)) {
            let s = snapshot(cfg, &gen, &store, &eval, it + 1)?;
            if cfg.verbose {
                println!(
                    "  law ({}) iter {:5}  loss {l:.4}  W1 jumps {:.4}  W1 X_T {:.4}",
                    law.name(),
                    it + 1,
                    s.w1_jumps,
                    s.w1_paths
                );
            }
            snapshots.push(s);
        }
    }
    progress.finish();
    Ok(Run {
        law,
        losses,
        snapshots,
        truth: eval.truth,
        floor,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[path = "physgnn/report_jumps.rs"]
mod report;
pub use report::{summary_table, write_outputs};

fn parse_args() -> Config {
    let mut cfg = Config::default();
    let mut args = std::env::args().skip(1);
    let quick = |cfg: &mut Config| {
        cfg.iterations = 200;
        cfg.snapshots = vec![0, 50, 200];
    };
    if std::env::var("PHYSGNN_QUICK").is_ok_and(|v| v != "0") {
        quick(&mut cfg);
    }
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick(&mut cfg),
            "--diffusion" => {
                cfg.drift = [0.5, -0.5];
                cfg.sigma = 0.3;
            }
            "--seed" => {
                let v = args.next().expect("--seed needs a value");
                cfg.seed = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--seed: not a number: {v}"));
            }
            "--batch" => cfg.batch = number(&mut args, "--batch"),
            "--iterations" => cfg.iterations = number(&mut args, "--iterations"),
            "--lr" => cfg.lr = number(&mut args, "--lr"),
            "--cosine" => {
                cfg.final_lr = Some(number(&mut args, "--cosine"));
            }
            other => panic!(
                "unknown argument {other} (use --quick, --diffusion, --seed S, --batch B, \
                 --iterations N, --lr R, --cosine FINAL_LR)"
            ),
        }
    }
    cfg.snapshots.retain(|&k| k < cfg.iterations);
    cfg.snapshots.push(cfg.iterations);
    cfg
}

/// The next argument parsed as a number, or a panic naming the flag.
fn number<T: std::str::FromStr>(args: &mut impl Iterator<Item = String>, flag: &str) -> T {
    let v = args
        .next()
        .unwrap_or_else(|| panic!("{flag} needs a value"));
    v.parse()
        .unwrap_or_else(|_| panic!("{flag}: not a number: {v}"))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let cfg = parse_args();
    let dir = if cfg.sigma > 0.0 {
        "out/physgnn_jumps_diffusion"
    } else {
        "out/physgnn_jumps"
    };
    let out = Output::new(dir)?;
    let start = Instant::now();
    let runs = JumpLaw::ALL
        .iter()
        .map(|&law| train(&cfg, law))
        .collect::<Result<Vec<_>>>()?;
    let table = summary_table(&runs);
    println!("\n{}", table.to_text());
    write_outputs(&out, &runs, &table)?;
    println!(
        "wrote {} ({:.1} s in all)",
        out.dir().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
