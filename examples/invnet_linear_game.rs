//! InvNet experiment 4: the training dynamics of the linear invariance game.
//!
//! **The game.** Images are vectors `x ∈ ℝᵈ` (a `side × side` grid), the data have mean `μ`,
//! the motif `M` lives on a coordinate set `Ω` (a "+" through the centre), `P_Ω` keeps the
//! coordinates in `Ω` and `P_c = I − P_Ω` the others. The generator is a shift of the noise,
//! `G(z) = θ + z` with `E z = 0`; the critic is linear, `D(x) = ⟨ψ, C x⟩`, where `C = P_c` for the
//! critic that sees only the complement of the motif (InvNet's construction) and `C = I` for the
//! plain critic. With the Wasserstein objective and the invariance penalty (weight `λ`), and
//! expectations taken exactly (the noise enters only through `E z = 0` and the constant
//! `E‖P_Ω z‖²`),
//!
//! ```text
//! generator:  min_θ  L_G = −E D(G(z)) + λ E‖P_Ω G(z) − M‖² = −⟨Cψ, θ⟩ + λ‖P_Ω θ − M‖² + const
//! critic:     min_ψ  L_D = E D(G(z)) − E D(x)               =  ⟨Cψ, θ − μ⟩
//! ```
//!
//! The game's vector field is `F(θ, ψ) = (∇_θ L_G, ∇_ψ L_D) = (−Cψ + 2λ P_Ω(θ − M), C(θ − μ))`.
//!
//! **Equilibrium, complement critic (`C = P_c`).** `F = 0` gives `P_c(θ − μ) = 0` from the
//! critic and, splitting the generator's equation, `P_Ω: 2λ(θ_Ω − M) = 0` and `P_c: ψ_c = 0`.
//! So `θ* = M on Ω, μ elsewhere` — the generator plants the motif and matches the data mean off
//! it — and the critic is switched off on `Ωᶜ`, `ψ*_c = 0` (`ψ_Ω` never enters the game and
//! keeps its initial value). The distance to equilibrium is `‖θ − θ*‖² + ‖P_c ψ‖²`.
//!
//! **Equilibrium, plain critic (`C = I`).** Now the critic's equation forces `θ = μ`
//! everywhere, and the generator's gives `ψ*_Ω = 2λ(μ_Ω − M)`, `ψ*_c = 0`: the critic holds the
//! generator at the data mean on `Ω` and the motif is **not** planted (motif error `‖μ_Ω − M‖`).
//! This is why InvNet hides `Ω` from the critic.
//!
//! **Dynamics.** On each coordinate of `Ωᶜ` the field is the bilinear rotation
//! `(θ − μ, ψ) ↦ (−ψ, θ − μ)`. Simultaneous gradient descent `w ← w − ηF(w)` multiplies its
//! distance to equilibrium by exactly `√(1 + η²)` per step: it **diverges** for every `η > 0`.
//! Extra-gradient `w ← w − ηF(w − ηF(w))` multiplies it by `√(1 − η² + η⁴) < 1` (for `η < 1`):
//! it **converges**. On `Ω` both contract at the rate `|1 − 2ηλ|` (for the complement critic),
//! so the slowest factor decides.
//!
//! Run: `cargo run --release --example invnet_linear_game` (defaults: 7 × 7, λ = 1, η = 0.2,
//! 1,000 steps, seed 0; writes `out/invnet_linear_game/`: `distance.csv`, `distance.svg` (log-y),
//! `summary.csv`, `summary.md`). `--quick` runs 300 steps; `--steps N`, `--lr η`, `--seed S`
//! override. The test suite asserts divergence, convergence and the equilibria
//! (`tests/papers/invnet_linear_game.rs`).

use physgrad::nn::{Grads, ParamId, ParamStore, Progress};
use physgrad::optim::{ExtraGradient, ExtraGradientConfig, Optimizer, Sgd, SgdConfig};
use physgrad::report::{Output, Plot, Table};
use physgrad::{Result, Tape, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Settings of one run; [`Config::default`] is the documented default.
#[derive(Clone, Debug)]
pub struct Config {
    /// Image side (`d = side²`, odd so the "+" has a centre). Default 7.
    pub side: usize,
    /// Invariance weight `λ`. Default 1.
    pub lambda: f64,
    /// Step size `η` of both methods. Default 0.2.
    pub lr: f64,
    /// Steps. Default 1,000.
    pub steps: usize,
    /// Seed of `μ` and of the initial `(θ, ψ)`.
    pub seed: u64,
    /// Progress display.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            side: 7,
            lambda: 1.0,
            lr: 0.2,
            steps: 1000,
            seed: 0,
            verbose: true,
        }
    }
}

/// Which critic plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Critic {
    /// `D(x) = ⟨ψ, x⟩`.
    Plain,
    /// `D(x) = ⟨ψ, P_c x⟩`: the motif coordinates are hidden.
    Complement,
}

/// Which optimiser plays both players.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Simultaneous gradient descent `w ← w − ηF(w)` (`optim::Sgd`).
    Simultaneous,
    /// Extra-gradient (`optim::ExtraGradient`).
    ExtraGradient,
}

/// The game's data: the mean `μ`, the motif mask (1 on `Ω`) and the motif `M` (zero off `Ω`).
#[derive(Clone, Debug)]
pub struct Game {
    /// The data mean `μ ∈ ℝᵈ`.
    pub mu: Vec<f64>,
    /// `1` on `Ω`, `0` elsewhere.
    pub omega: Vec<f64>,
    /// The motif values on `Ω` (`1`), zero elsewhere.
    pub motif: Vec<f64>,
    /// `λ`.
    pub lambda: f64,
    /// The critic.
    pub critic: Critic,
}

/// The "+" mask on a `side × side` grid: the centre row and column.
pub fn plus_mask(side: usize) -> Vec<f64> {
    let c = side / 2;
    (0..side * side)
        .map(|k| f64::from(u8::from(k / side == c || k % side == c)))
        .collect()
}

impl Game {
    /// `μ ~ U(0, 0.5)ᵈ` from `seed`, the "+" motif of value 1.
    pub fn new(cfg: &Config, critic: Critic) -> Game {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let d = cfg.side * cfg.side;
        let omega = plus_mask(cfg.side);
        Game {
            mu: (0..d).map(|_| rng.random_range(0.0..0.5)).collect(),
            motif: omega.clone(),
            omega,
            lambda: cfg.lambda,
            critic,
        }
    }

    /// The predicted equilibrium `(θ*, ψ*)` (see the module docs; for the complement critic
    /// `ψ*_Ω` is free and reported as 0).
    pub fn equilibrium(&self) -> (Vec<f64>, Vec<f64>) {
        let d = self.mu.len();
        match self.critic {
            Critic::Complement => {
                let theta = (0..d)
                    .map(|k| {
                        if self.omega[k] > 0.5 {
                            self.motif[k]
                        } else {
                            self.mu[k]
                        }
                    })
                    .collect();
                (theta, vec![0.0; d])
            }
            Critic::Plain => {
                let psi = (0..d)
                    .map(|k| 2.0 * self.lambda * self.omega[k] * (self.mu[k] - self.motif[k]))
                    .collect();
                (self.mu.clone(), psi)
            }
        }
    }

    /// `C v` (the critic's view).
    fn view(&self, v: &[f64]) -> Vec<f64> {
        match self.critic {
            Critic::Plain => v.to_vec(),
            Critic::Complement => v
                .iter()
                .zip(&self.omega)
                .map(|(x, m)| x * (1.0 - m))
                .collect(),
        }
    }

    /// The distance `√(‖θ − θ*‖² + ‖C(ψ − ψ*)‖²)` to the equilibrium.
    pub fn distance(&self, theta: &[f64], psi: &[f64]) -> f64 {
        let (t0, p0) = self.equilibrium();
        let dp: Vec<f64> = psi.iter().zip(&p0).map(|(a, b)| a - b).collect();
        let dt: f64 = theta.iter().zip(&t0).map(|(a, b)| (a - b).powi(2)).sum();
        (dt + self.view(&dp).iter().map(|v| v * v).sum::<f64>()).sqrt()
    }

    /// The motif error `‖P_Ω θ − M‖`.
    pub fn motif_error(&self, theta: &[f64]) -> f64 {
        let e: f64 = (0..theta.len())
            .map(|k| self.omega[k] * (theta[k] - self.motif[k]).powi(2))
            .sum();
        e.sqrt()
    }

    /// The game's vector field `F = (∇_θ L_G, ∇_ψ L_D)` at the store's `(θ, ψ)`, by reverse mode
    /// on the two losses of the module docs.
    pub fn field(&self, store: &ParamStore, ids: [ParamId; 2]) -> Result<Grads> {
        let d = self.mu.len();
        let t = |v: &[f64]| Tensor::from_vec(v.to_vec(), &[d]);
        let tape = Tape::new();
        let p = store.bind(&tape);
        let (theta, psi) = (p.var(ids[0]), p.var(ids[1]));
        let view = tape.constant(t(&self.view(&vec![1.0; d])));
        let cpsi = psi * view;
        let omega = tape.constant(t(&self.omega));
        let miss = (theta - tape.constant(t(&self.motif))) * omega;
        let lg = -(cpsi * theta).sum() + self.lambda * (miss * miss).sum();
        let ld = (cpsi * (theta - tape.constant(t(&self.mu)))).sum();
        let gt = tape.gradients(&[lg], None, &[theta]);
        let gp = tape.gradients(&[ld], None, &[psi]);
        Ok(Grads {
            ids: ids.to_vec(),
            tensors: vec![gt[0].clone(), gp[0].clone()],
        })
    }
}

/// One trajectory: the distance to equilibrium and the motif error after each step (index 0 is
/// the start), and the final `(θ, ψ)`.
#[derive(Clone, Debug)]
pub struct Trajectory {
    /// The method.
    pub method: Method,
    /// The critic.
    pub critic: Critic,
    /// `‖w_k − w*‖` for `k = 0..=steps` (stops early if it exceeds `1e12`).
    pub distance: Vec<f64>,
    /// `‖P_Ω θ_k − M‖`.
    pub motif_error: Vec<f64>,
    /// Final `θ`.
    pub theta: Vec<f64>,
    /// Final `ψ`.
    pub psi: Vec<f64>,
}

/// Plays the game from the seeded start `θ, ψ ~ U(−1, 1)ᵈ`.
pub fn play(cfg: &Config, critic: Critic, method: Method) -> Result<Trajectory> {
    let game = Game::new(cfg, critic);
    let d = game.mu.len();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed + 1);
    let mut init =
        |_| Tensor::from_vec((0..d).map(|_| rng.random_range(-1.0..1.0)).collect(), &[d]);
    let mut store = ParamStore::new(cfg.seed);
    let ids = [
        store.add_tensor("gen.theta", init(0)),
        store.add_tensor("critic.psi", init(1)),
    ];
    let (mut sgd, mut eg) = (
        Sgd::new(SgdConfig {
            lr: cfg.lr,
            ..SgdConfig::default()
        }),
        ExtraGradient::new(ExtraGradientConfig { lr: cfg.lr }),
    );
    let values = |s: &ParamStore| (s.get(ids[0]).data().to_vec(), s.get(ids[1]).data().to_vec());
    let (t, p) = values(&store);
    let mut traj = Trajectory {
        method,
        critic,
        distance: vec![game.distance(&t, &p)],
        motif_error: vec![game.motif_error(&t)],
        theta: t,
        psi: p,
    };
    let mut progress = Progress::new(cfg.steps).quiet(!cfg.verbose);
    for k in 0..cfg.steps {
        match method {
            Method::Simultaneous => {
                let g = game.field(&store, ids)?;
                sgd.step(&mut store, &g)?;
            }
            Method::ExtraGradient => eg.step(&mut store, |s| game.field(s, ids))?,
        }
        let (t, p) = values(&store);
        let dist = game.distance(&t, &p);
        traj.distance.push(dist);
        traj.motif_error.push(game.motif_error(&t));
        (traj.theta, traj.psi) = (t, p);
        progress.update(k, dist);
        if dist > 1e12 {
            break;
        }
    }
    progress.finish();
    Ok(traj)
}

/// The four runs: {simultaneous, extra-gradient} × {complement, plain critic}.
pub fn run_all(cfg: &Config) -> Result<Vec<Trajectory>> {
    let mut out = Vec::new();
    for critic in [Critic::Complement, Critic::Plain] {
        for method in [Method::Simultaneous, Method::ExtraGradient] {
            out.push(play(cfg, critic, method)?);
        }
    }
    Ok(out)
}

fn label(t: &Trajectory) -> String {
    let m = match t.method {
        Method::Simultaneous => "simultaneous GD",
        Method::ExtraGradient => "extra-gradient",
    };
    let c = match t.critic {
        Critic::Complement => "critic on Ωᶜ",
        Critic::Plain => "plain critic",
    };
    format!("{m}, {c}")
}

/// The summary: start and final distance, the per-step factor predicted on `Ωᶜ` and the one
/// measured over the last 10 % of the steps, the final motif error.
pub fn summary_table(cfg: &Config, runs: &[Trajectory]) -> Table {
    let mut table = Table::new(&[
        "run",
        "steps",
        "distance start",
        "distance end",
        "factor/step (theory Ωᶜ)",
        "factor/step (measured)",
        "motif error end",
    ]);
    let eta = cfg.lr;
    for t in runs {
        let n = t.distance.len() - 1;
        let k0 = n - (n / 10).max(1);
        let measured = (t.distance[n] / t.distance[k0]).powf(1.0 / (n - k0) as f64);
        let theory = match t.method {
            Method::Simultaneous => (1.0 + eta * eta).sqrt(),
            Method::ExtraGradient => (1.0 - eta * eta + eta.powi(4)).sqrt(),
        };
        table.row(&[
            label(t),
            n.to_string(),
            format!("{:.3e}", t.distance[0]),
            format!("{:.3e}", t.distance[n]),
            format!("{theory:.6}"),
            format!("{measured:.6}"),
            format!("{:.3e}", t.motif_error[n]),
        ]);
    }
    table
}

/// Writes `distance.csv`, `distance.svg` (log-y) and the summary.
pub fn write_outputs(out: &Output, runs: &[Trajectory], table: &Table) -> Result<()> {
    let mut csv = String::from("run,step,distance,motif_error\n");
    let mut plot = Plot::new("Linear InvNet game: distance to the predicted equilibrium")
        .xlabel("step")
        .ylabel("‖w − w*‖")
        .log_y();
    for t in runs {
        let name = label(t);
        for (k, (d, m)) in t.distance.iter().zip(&t.motif_error).enumerate() {
            csv.push_str(&format!("{name},{k},{d:?},{m:?}\n"));
        }
        let xs: Vec<f64> = (0..t.distance.len()).map(|k| k as f64).collect();
        plot = plot.line(&name, &xs, &t.distance);
    }
    out.write("distance.csv", &csv)?;
    out.write("distance.svg", &plot.to_svg())?;
    out.write("summary.csv", &table.to_csv())?;
    out.write("summary.md", &table.to_markdown())?;
    Ok(())
}

/// The settings from the command line.
pub fn parse_args() -> Config {
    let mut cfg = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| -> String {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match a.as_str() {
            "--quick" => cfg.steps = 300,
            "--steps" => cfg.steps = value("--steps").parse().expect("--steps: a number"),
            "--lr" => cfg.lr = value("--lr").parse().expect("--lr: a number"),
            "--seed" => cfg.seed = value("--seed").parse().expect("--seed: a number"),
            other => panic!("unknown argument {other} (use --quick, --steps, --lr, --seed)"),
        }
    }
    cfg
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let cfg = parse_args();
    let start = Instant::now();
    let out = Output::new("out/invnet_linear_game")?;
    println!(
        "linear game: {}×{} image, λ = {}, η = {}, {} steps",
        cfg.side, cfg.side, cfg.lambda, cfg.lr, cfg.steps
    );
    let runs = run_all(&cfg)?;
    let table = summary_table(&cfg, &runs);
    println!("\n{}", table.to_text());
    write_outputs(&out, &runs, &table)?;
    println!(
        "wrote {} ({:.2} s)",
        out.dir().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
