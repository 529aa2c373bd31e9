//! InvNet experiment 1 (issue 10): a data-free conditional generator of Burgers space–time
//! fields, trained only on the PDE residual and the initial-condition invariance, both stated
//! once with `pde!` and evaluated on the generator's 64 × 64 output grids.
//!
//! ```text
//! U_t + U U_x − ν U_xx = 0,  x ∈ [0, 1], t ∈ [0, 0.2],   U(x, 0) = ½(1 − cos 2πcx),
//! ```
//!
//! on the grid `xᵢ = i/64`, `tⱼ = 0.2 j/64` (`i, j < 64`), with Sobel first derivatives, the
//! smoothed Laplacian `[1 2 1]/4 ⊗ [1 −2 1]/h²` for `U_xx` (`GridScheme::SobelSmoothed`) and
//! replicate padding (zero-gradient ends). The generator is an MLP from the conditioning
//! features — `c̃ = (c − 4.5)/1.5` and, for the viscous generator, `ν̃ = ln(ν/ν_mid)/ln(ν_hi/ν_mid)`
//! — to the 4,096 grid values. Training draws a batch of `(c, ν)` (`c ~ U[3, 6]`, `ν`
//! log-uniform on `[0.001, 0.05]`, so that each decade of ν gets the same share of steps and the
//! shock-dominated small viscosities are not starved) and alternates one Adam step on the
//! residual term with one (a separate Adam) on the initial-condition term. The inviscid
//! generator is the same statement with ν = 0 given and `c̃` its only input.
//!
//! Why an MLP to 4,096 values: per step it costs two small matrix products for the whole batch
//! (the stencils are cheaper still), so thousands of alternating steps fit in the
//! budget, and its last layer spans a basis of whole space–time fields that the conditioning
//! mixes smoothly. It was the best of three MLP variants at equal cost (docs/results.md); a
//! transposed-convolution generator was not tried.
//!
//! Evaluation: the relative L2 error `‖U − U_ref‖/‖U_ref‖` on the 64 × 64 grid against the
//! explicit Rusanov solver (`physics::burgers`, zero-gradient ends, `fine_cells` cells, sampled
//! at the grid points) for ν ∈ {0.002, 0.006, 0.02, 0.03} × c ∈ {2 (extrapolation), 4, 5.5, 6}
//! and the inviscid case; the same solver at the generator's resolution (64 cells) against the
//! fine one bounds what a 64-point discretisation reaches. The same `pde!` statement is also
//! trained as a PINN on a neural field (one `(c, ν)` at a time, forward jets) for comparison.
//!
//! Run: `cargo run --release --example invnet_burgers` (writes `out/invnet_burgers/`);
//! `--quick` (or `INVNET_QUICK=1`) is a short smoke run; `--iterations N`, `--seed S`,
//! `--batch B` and `--pinn-iterations N` override. The test suite runs a reduced configuration
//! (`tests/papers/invnet_burgers.rs`).

use physgrad::nn::{Mlp, MlpConfig, Module, ParamStore, Progress};
use physgrad::optim::{Adam, AdamConfig, Optimizer, Schedule};
use physgrad::pde::grid::Boundary;
use physgrad::problem::{Grid, GridScheme, Problem};
use physgrad::report::Output;
use physgrad::{Result, Tape, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Grid points along x (spacing 1/64).
pub const NX: usize = 64;
/// Grid points along t (spacing 0.2/64).
pub const NT: usize = 64;
/// The final time of the domain.
pub const T_END: f64 = 0.2;
/// The training range of the initial-condition frequency c.
pub const C_RANGE: (f64, f64) = (3.0, 6.0);
/// The training range of the viscosity ν (sampled log-uniformly).
pub const NU_RANGE: (f64, f64) = (0.001, 0.05);

/// Settings of one run; [`Config::default`] is the full run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Alternating iterations (each one residual step and one initial-condition step).
    pub iterations: usize,
    /// `(c, ν)` draws per step. Default 8.
    pub batch: usize,
    /// Hidden widths of the generator MLP. Default `[64, 256]`.
    pub hidden: Vec<usize>,
    /// Adam learning rate at the start (both optimisers). Default 1e-3.
    pub lr: f64,
    /// Final learning rate of the cosine schedule. Default 2e-5.
    pub lr_final: f64,
    /// Cells of the fine reference solution (a multiple of 64). Default 1024.
    pub fine_cells: usize,
    /// Iterations between points of the error curve.
    pub curve_every: usize,
    /// PINN iterations per `(c, ν)` case (0 skips the PINN).
    pub pinn_iterations: usize,
    /// PINN interior collocation points per step. Default 512.
    pub pinn_points: usize,
    /// Seed of initialisation and sampling.
    pub seed: u64,
    /// Print progress.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            iterations: 3_000,
            batch: 8,
            hidden: vec![64, 256],
            lr: 1e-3,
            lr_final: 2e-5,
            fine_cells: 1024,
            curve_every: 500,
            pinn_iterations: 1500,
            pinn_points: 512,
            seed: 0,
            verbose: true,
        }
    }
}

/// The problem, stated once: residual on the whole grid, initial condition on the first time
/// column; `c` and `ν` are per-element conditioning inputs.
pub fn problem() -> Problem {
    physgrad::pde! {
        name: "invnet_burgers";
        coords { x in [0.0, 1.0], t in [0.0, 0.2] }
        params { c in [3.0, 6.0], nu in [0.001, 0.05] }
        fields { u: scalar }
        residual momentum: d(u, t) + u * d(u, x) = nu * d(u, x, x);
        initial ic at t = lo: u = 0.5 * (1.0 - cos(2.0 * PI * c * x));
    }
}

/// The generator's grid: spacings 1/64 and 0.2/64, replicate padding, Sobel + smoothed
/// Laplacian, a leading batch axis.
pub fn grid() -> Grid {
    Grid {
        spacing: vec![1.0 / NX as f64, T_END / NT as f64],
        boundary: Boundary::Replicate,
        scheme: GridScheme::SobelSmoothed,
        batch: true,
    }
}

/// `½(1 − cos 2πcx)` at the grid points.
pub fn initial(c: f64) -> Vec<f64> {
    (0..NX)
        .map(|i| 0.5 * (1.0 - (2.0 * std::f64::consts::PI * c * i as f64 / NX as f64).cos()))
        .collect()
}

/// The conditional generator: `(c̃[, ν̃]) ↦ U [B, 64, 64]` (axes x, t).
#[derive(Clone, Debug)]
pub struct Generator {
    net: Mlp,
    /// Whether ν is an input (the viscous generator) or fixed at 0 (inviscid).
    pub viscous: bool,
}

impl Generator {
    /// The MLP `[1 or 2, hidden…, 4096]` (tanh) under `prefix` in `store`.
    pub fn new(store: &mut ParamStore, prefix: &str, hidden: &[usize], viscous: bool) -> Self {
        let mut widths = vec![1 + usize::from(viscous)];
        widths.extend_from_slice(hidden);
        widths.push(NX * NT);
        Generator {
            net: MlpConfig::new(&widths).build(store, prefix),
            viscous,
        }
    }

    /// The input features `[B, 1 or 2]`: `c̃ = (c − 4.5)/1.5`, `ν̃ = ln(ν/ν_mid)/ln(ν_hi/ν_mid)`
    /// with `ν_mid = √(ν_lo ν_hi)` (both in `[−1, 1]` on the training ranges).
    pub fn features(&self, cs: &[f64], nus: &[f64]) -> Tensor {
        let (mid, half) = ((C_RANGE.0 + C_RANGE.1) / 2.0, (C_RANGE.1 - C_RANGE.0) / 2.0);
        let nu_mid = (NU_RANGE.0 * NU_RANGE.1).sqrt();
        let nu_half = (NU_RANGE.1 / nu_mid).ln();
        let mut f = Vec::new();
        for (k, &c) in cs.iter().enumerate() {
            f.push((c - mid) / half);
            if self.viscous {
                f.push((nus[k] / nu_mid).ln() / nu_half);
            }
        }
        Tensor::from_vec(f, &[cs.len(), 1 + usize::from(self.viscous)])
    }

    /// The fields `[B, 64, 64]` on the tape.
    pub fn forward<'t>(&self, p: &physgrad::nn::Bound<'t>, x: Tensor) -> Var<'t> {
        let tape = p.var(physgrad::nn::ParamId(0)).tape();
        let b = x.shape()[0];
        self.net.forward(p, tape.constant(x)).reshape(&[b, NX, NT])
    }

    /// Plain fields (row-major x then t, 4,096 values each) for the given conditions.
    pub fn sample(&self, store: &ParamStore, cs: &[f64], nus: &[f64]) -> Vec<Vec<f64>> {
        let tape = Tape::new();
        let p = store.bind(&tape);
        let u = self.forward(&p, self.features(cs, nus)).value();
        u.data().chunks(NX * NT).map(<[f64]>::to_vec).collect()
    }
}

/// A `(c, ν)` draw: `c ~ U(C_RANGE)`, `ν` log-uniform on `NU_RANGE` (0 for the inviscid one).
pub fn draw(rng: &mut ChaCha8Rng, n: usize, viscous: bool) -> (Vec<f64>, Vec<f64>) {
    let cs = (0..n)
        .map(|_| rng.random_range(C_RANGE.0..C_RANGE.1))
        .collect();
    let nus = (0..n)
        .map(|_| {
            if viscous {
                (rng.random_range(NU_RANGE.0.ln()..NU_RANGE.1.ln())).exp()
            } else {
                0.0
            }
        })
        .collect();
    (cs, nus)
}

/// One Adam step on term `term` (0: residual, 1: initial condition) of the grid loss for the
/// batch `(cs, nus)`; returns the term's value before the step.
pub fn term_step(
    pb: &Problem,
    gen: &Generator,
    store: &mut ParamStore,
    opt: &mut dyn Optimizer,
    (cs, nus): (&[f64], &[f64]),
    term: usize,
) -> Result<f64> {
    let g = grid();
    let x = gen.features(cs, nus);
    store.step(opt, |tape, p| {
        let u = gen.forward(p, x);
        let given = [
            (
                pb.param_id("c"),
                tape.constant(Tensor::from_vec(cs.to_vec(), &[cs.len()])),
            ),
            (
                pb.param_id("nu"),
                tape.constant(Tensor::from_vec(nus.to_vec(), &[nus.len()])),
            ),
        ];
        match pb.loss_grid(tape, &[(pb.field_id("u"), u)], &g, &given) {
            Ok(loss) => loss.terms[term].value,
            // A non-finite term: hand it to `step`, which reports `NonFinite` and skips it.
            Err(_) => tape.constant(Tensor::scalar(f64::NAN)),
        }
    })
}

/// `‖a − b‖ / ‖b‖`.
pub fn rel_l2(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// A trained generator with its loss and error curves.
pub struct GenRun {
    /// The parameters.
    pub store: ParamStore,
    /// The generator.
    pub gen: Generator,
    /// `(iteration, residual term, initial-condition term)` at every iteration.
    pub losses: Vec<(usize, f64, f64)>,
    /// `(iteration, mean relative L2 error over the probe cases)`.
    pub curve: Vec<(usize, f64)>,
    /// Training wall-clock seconds (without the error curve).
    pub seconds: f64,
}

/// Mean relative L2 error of `gen` over `probes` (`(c, ν, reference)`).
pub fn probe_error(gen: &Generator, store: &ParamStore, probes: &[(f64, f64, Vec<f64>)]) -> f64 {
    let cs: Vec<f64> = probes.iter().map(|p| p.0).collect();
    let nus: Vec<f64> = probes.iter().map(|p| p.1).collect();
    let u = gen.sample(store, &cs, &nus);
    let total: f64 = u.iter().zip(probes).map(|(a, p)| rel_l2(a, &p.2)).sum();
    total / probes.len() as f64
}

/// Trains one generator (viscous or inviscid) with the alternating scheme.
pub fn train_generator(
    cfg: &Config,
    viscous: bool,
    probes: &[(f64, f64, Vec<f64>)],
) -> Result<GenRun> {
    let pb = problem();
    let mut store = ParamStore::new(cfg.seed);
    let gen = Generator::new(&mut store, "gen", &cfg.hidden, viscous);
    let adam = || {
        Adam::new(AdamConfig {
            lr: cfg.lr,
            ..AdamConfig::default()
        })
    };
    let (mut opt_r, mut opt_ic) = (adam(), adam());
    let schedule = Schedule::Cosine {
        period: cfg.iterations.max(1),
        min_lr: cfg.lr_final,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed + 100);
    let mut run = GenRun {
        store: ParamStore::new(0),
        gen: gen.clone(),
        losses: Vec::with_capacity(cfg.iterations),
        curve: vec![(0, probe_error(&gen, &store, probes))],
        seconds: 0.0,
    };
    let mut progress = Progress::new(cfg.iterations).quiet(!cfg.verbose);
    let (start, mut eval_time) = (Instant::now(), 0.0);
    for it in 0..cfg.iterations {
        let lr = schedule.lr(cfg.lr, it);
        opt_r.set_lr(lr);
        opt_ic.set_lr(lr);
        let (cs, nus) = draw(&mut rng, cfg.batch, viscous);
        let r = term_step(&pb, &gen, &mut store, &mut opt_r, (&cs, &nus), 0)?;
        let ic = term_step(&pb, &gen, &mut store, &mut opt_ic, (&cs, &nus), 1)?;
        run.losses.push((it, r, ic));
        progress.update(it, r + ic);
        if (it + 1) % cfg.curve_every == 0 || it + 1 == cfg.iterations {
            let t = Instant::now();
            let e = probe_error(&gen, &store, probes);
            eval_time += t.elapsed().as_secs_f64();
            run.curve.push((it + 1, e));
            if cfg.verbose {
                progress.finish();
                println!(
                    "  iter {:6}: residual {r:.3e}  ic {ic:.3e}  probe error {e:.4}",
                    it + 1
                );
            }
        }
    }
    progress.finish();
    run.seconds = start.elapsed().as_secs_f64() - eval_time;
    run.store = store;
    Ok(run)
}

#[path = "invnet/burgers_reference.rs"]
mod reference;
pub use reference::{coarse_floor, reference_field, CASES_C, CASES_NU};

#[path = "invnet/burgers_pinn.rs"]
mod pinn;
pub use pinn::{train_pinn, PinnRun};

#[path = "invnet/burgers_report.rs"]
mod report;
pub use report::{evaluate, write_outputs};

/// The settings from the command line and `INVNET_QUICK`.
fn parse_args() -> Config {
    let mut cfg = Config::default();
    let quick = |cfg: &mut Config| {
        cfg.iterations = 600;
        cfg.curve_every = 100;
        cfg.pinn_iterations = 300;
    };
    if std::env::var("INVNET_QUICK").is_ok_and(|v| v != "0") {
        quick(&mut cfg);
    }
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
            "--quick" => quick(&mut cfg),
            "--iterations" => cfg.iterations = value("--iterations"),
            "--seed" => cfg.seed = value("--seed") as u64,
            "--batch" => cfg.batch = value("--batch"),
            "--pinn-iterations" => cfg.pinn_iterations = value("--pinn-iterations"),
            other => panic!(
                "unknown argument {other} (use --quick, --iterations N, --seed S, --batch B, --pinn-iterations N)"
            ),
        }
    }
    cfg
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let cfg = parse_args();
    let out = Output::new("out/invnet_burgers")?;
    let start = Instant::now();
    print!("{}", problem().describe());
    let eval = evaluate(&cfg)?;
    println!("\n{}", eval.table.to_text());
    write_outputs(&out, &eval)?;
    println!(
        "wrote {} ({:.1} s in all)",
        out.dir().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
