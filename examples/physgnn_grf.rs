//! PhysGNN experiment 5: estimate the mean of a Gaussian random field of Young's modulus from
//! ten observations of one displacement, with no network.
//!
//! Plane stress on `[0, 1] × [0, 0.5]` (10 × 5 Q4 elements), left edge clamped, traction
//! `(1, 0)` on the right edge, `ν = 0.3`. Per element `E = E₀ + g(xₑ)` with `g` a zero-mean
//! Gaussian random field at the element centres, covariance `σ² exp(−‖x − x′‖²/ρ)`
//! ([`GaussianRandomField`], `σ = 0.1`). Data: 10 observations of `uₓ` at the upper-right corner,
//! each from an independent field, with the true `E₀ = 1`.
//!
//! The model draws `M = 100` fields `g_k = L ξ_k` once (fixed latents `ξ_k`), so
//!
//! ```text
//! J(E₀) = W( { uₓ(E₀ + g_k) / ū }_k ,  { y_j / ū }_j ),     ū = mean_j y_j,
//! ```
//!
//! is a deterministic function of `E₀` (ground cost `|·|`, uniform weights; `ū` only makes the
//! cost dimensionless so that one ε means the same for every ρ). It is minimised by
//! [`Lbfgs`] from `E₀ = 2` with the library's projected box constraint `E₀ ≥ E_min`, where
//! `E_min = 0.05 − minₖₑ gₖ(xₑ)` keeps every model field positive (the solver requires
//! `E > 0`); `E₀ ≤ 10`. Stopping: projected gradient `≤ 1e-8` or a relative decrease `≤ 1e-12`
//! (scipy's L-BFGS-B stops on both); otherwise, or if the line search fails, the run is
//! counted as *not converged* (its last point is still reported).
//!
//! Compared: the exact transport (network simplex) and Sinkhorn at `ε ∈ {0.1, 0.01, 0.001}`
//! (entropic objective, relative to the dimensionless cost), over ρ ∈ {0.01, 0.1, 1, 10} and
//! several repetitions (fresh data and fresh fixed latents each).
//!
//! Run: `cargo run --release --example physgnn_grf` (5 repetitions; writes
//! `out/physgnn_grf/`). `--quick` runs 3 repetitions; `--reps K` sets the number.
//! Reduced configuration: `tests/papers/grf.rs`.

use physgrad::nn::CsvLog;
use physgrad::optim::{Lbfgs, LbfgsConfig};
use physgrad::ot::{wasserstein_points, Ground, Method, SinkhornConfig, Weights};
use physgrad::physics::fem::{Edge, Q4Elasticity, RectMesh};
use physgrad::physics::random_field::{GaussianRandomField, GrfConfig};
use physgrad::report::{panels, Output, Plot, Table};
use physgrad::{Error, Result, Tape, Tensor};
use std::time::Instant;

/// Settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Elements along x (default 10) and y (default 5) on `[0, 1] × [0, 0.5]`.
    pub nx: usize,
    /// Elements along y.
    pub ny: usize,
    /// True mean `E₀` (default 1).
    pub e0: f64,
    /// Field standard deviation σ (default 0.1).
    pub sigma: f64,
    /// Poisson's ratio (default 0.3).
    pub nu: f64,
    /// Number of observations (default 10).
    pub observations: usize,
    /// Fixed model fields `M` (default 100).
    pub model_samples: usize,
    /// Starting `E₀` of L-BFGS (default 2).
    pub start: f64,
    /// L-BFGS iteration cap (default 100).
    pub max_iter: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nx: 10,
            ny: 5,
            e0: 1.0,
            sigma: 0.1,
            nu: 0.3,
            observations: 10,
            model_samples: 100,
            start: 2.0,
            max_iter: 100,
        }
    }
}

/// The plate with its GRF for one ρ.
pub struct Plate {
    fem: Q4Elasticity,
    load: Tensor,
    dof: usize,
    field: GaussianRandomField,
    nu: f64,
}

impl Plate {
    /// Builds the mesh, constraints, load and the field's factor for `rho`.
    ///
    /// # Errors
    /// From the mesh, the constraints or the field's factorisation.
    pub fn new(cfg: &Config, rho: f64) -> Result<Plate> {
        let mesh = RectMesh::new(cfg.nx, cfg.ny, 1.0, 0.5)?;
        let (a, b) = mesh.element_size();
        let centres: Vec<f64> = (0..mesh.elements())
            .flat_map(|e| {
                let (i, j) = (e % cfg.nx, e / cfg.nx);
                [(i as f64 + 0.5) * a, (j as f64 + 0.5) * b]
            })
            .collect();
        let centres = Tensor::from_vec(centres, &[mesh.elements(), 2]);
        let field =
            GaussianRandomField::new(&centres, cfg.sigma * cfg.sigma, rho, &GrfConfig::default())?;
        let fixed: Vec<usize> = mesh
            .edge_nodes(Edge::Left)
            .iter()
            .flat_map(|&n| [2 * n, 2 * n + 1])
            .collect();
        let load = mesh.edge_traction(Edge::Right, |_, _| [1.0, 0.0]);
        let dof = 2 * mesh.node(cfg.nx, cfg.ny);
        Ok(Plate {
            fem: Q4Elasticity::new(mesh, &fixed)?,
            load,
            dof,
            field,
            nu: cfg.nu,
        })
    }

    /// `count` field samples `[count, elements]` (seeded).
    pub fn fields(&self, count: usize, seed: u64) -> Tensor {
        self.field.sample(count, seed)
    }

    /// `uₓ` at the corner `[B, 1]` for `E = e0 + fields`, `e0` a `[1]` `Var`.
    pub fn observe<'t>(&self, e0: physgrad::Var<'t>, fields: &Tensor) -> Result<physgrad::Var<'t>> {
        let tape = e0.tape();
        let (b, ne) = (fields.shape()[0], fields.shape()[1]);
        let e = e0.reshape(&[1, 1]).broadcast_to(&[b, ne]) + tape.constant(fields.clone());
        let nu = tape.constant(Tensor::full(&[b, ne], self.nu));
        let dofs = self.load.len();
        let load = tape
            .constant(self.load.reshape(&[1, dofs]))
            .broadcast_to(&[b, dofs]);
        Ok(self.fem.solve_batch(e, nu, load)?.gather(1, &[self.dof]))
    }

    /// [`Self::observe`] on a plain `e0`.
    pub fn observe_plain(&self, e0: f64, fields: &Tensor) -> Result<Vec<f64>> {
        let tape = Tape::new();
        Ok(self
            .observe(tape.constant(Tensor::from_vec(vec![e0], &[1])), fields)?
            .value()
            .data()
            .to_vec())
    }
}

/// How the transport cost is computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Solver {
    /// The exact network simplex.
    Exact,
    /// Sinkhorn with this ε (on the dimensionless cost).
    Sinkhorn(f64),
}

impl Solver {
    /// A label.
    pub fn label(self) -> String {
        match self {
            Solver::Exact => "exact".into(),
            Solver::Sinkhorn(e) => format!("Sinkhorn eps={e}"),
        }
    }

    fn method(self) -> Method {
        match self {
            Solver::Exact => Method::default(),
            Solver::Sinkhorn(epsilon) => Method::Sinkhorn(SinkhornConfig {
                epsilon,
                ..SinkhornConfig::default()
            }),
        }
    }
}

/// One estimation problem: the plate, the fixed model fields and the scaled observations.
pub struct Problem {
    /// The plate.
    pub plate: Plate,
    /// The fixed model fields `[M, elements]`.
    pub fields: Tensor,
    /// Observations divided by their mean, `[n, 1]`.
    pub data: Tensor,
    /// The mean observation `ū`.
    pub scale: f64,
    /// The smallest admissible `E₀`.
    pub lower: f64,
}

impl Problem {
    /// Data from the true `E₀` and fresh fields; fixed model fields; repetition `rep` seeds both.
    ///
    /// # Errors
    /// From the plate or the solver.
    pub fn new(cfg: &Config, rho: f64, rep: u64) -> Result<Problem> {
        let plate = Plate::new(cfg, rho)?;
        let obs = plate.observe_plain(cfg.e0, &plate.fields(cfg.observations, 1000 + rep))?;
        let scale = obs.iter().sum::<f64>() / obs.len() as f64;
        let data = Tensor::from_vec(obs.iter().map(|y| y / scale).collect(), &[obs.len(), 1]);
        let fields = plate.fields(cfg.model_samples, 2000 + rep);
        let lower = 0.05 - fields.data().iter().cloned().fold(f64::INFINITY, f64::min);
        Ok(Problem {
            plate,
            fields,
            data,
            scale,
            lower,
        })
    }

    /// `J(E₀)` and `dJ/dE₀`.
    ///
    /// # Errors
    /// From the solve or the transport solver (e.g. Sinkhorn's `NotConverged`).
    pub fn loss(&self, e0: f64, solver: Solver) -> Result<(f64, f64)> {
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(vec![e0], &[1]));
        let u = self.plate.observe(x, &self.fields)? * (1.0 / self.scale);
        let w = wasserstein_points(
            u,
            tape.constant(self.data.clone()),
            Ground::L1,
            Weights::Uniform,
            Weights::Uniform,
            &solver.method(),
        )?;
        let g = w.backward().wrt(x).data()[0];
        Ok((w.item(), g))
    }
}

/// The outcome of one estimation.
#[derive(Clone, Debug)]
pub struct Estimate {
    /// ρ.
    pub rho: f64,
    /// The solver.
    pub solver: Solver,
    /// The repetition.
    pub rep: u64,
    /// The estimate (the last accepted point; `NaN` if the solver failed at the start).
    pub e0: f64,
    /// L-BFGS met its tolerance.
    pub converged: bool,
    /// The transport solver itself failed (e.g. Sinkhorn hit its iteration cap).
    pub solver_failed: bool,
    /// Function evaluations.
    pub evaluations: usize,
}

/// Minimises `J` by projected L-BFGS.
pub fn estimate(cfg: &Config, problem: &Problem, rho: f64, rep: u64, solver: Solver) -> Estimate {
    let mut lbfgs = Lbfgs::new(LbfgsConfig {
        max_iter: cfg.max_iter,
        gtol: 1e-8,
        ftol: 1e-12,
        lower: Some(vec![problem.lower]),
        upper: Some(vec![10.0]),
        ..LbfgsConfig::default()
    });
    let mut x = [cfg.start];
    let mut evaluations = 0;
    let mut solver_failed = false;
    let result = lbfgs.minimize(&mut x, |v| {
        evaluations += 1;
        let r = problem.loss(v[0], solver);
        if r.is_err() {
            solver_failed = true;
        }
        r.map(|(f, g)| (f, vec![g]))
    });
    let converged = result.is_ok();
    let e0 = match result {
        Err(Error::NotConverged { .. }) | Ok(_) => x[0],
        Err(_) => f64::NAN,
    };
    Estimate {
        rho,
        solver,
        rep,
        e0,
        converged,
        solver_failed,
        evaluations,
    }
}

/// Every ρ, solver and repetition.
///
/// # Errors
/// From building the problems.
pub fn sweep(cfg: &Config, rhos: &[f64], solvers: &[Solver], reps: usize) -> Result<Vec<Estimate>> {
    let mut out = Vec::new();
    for &rho in rhos {
        for rep in 0..reps as u64 {
            let problem = Problem::new(cfg, rho, rep)?;
            for &s in solvers {
                out.push(estimate(cfg, &problem, rho, rep, s));
            }
        }
        println!("  rho {rho}: done ({} estimates)", reps * solvers.len());
    }
    Ok(out)
}

/// Mean and population standard deviation (of the finite entries).
pub fn mean_std(s: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = s.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt(),
    )
}

/// One row per (ρ, solver): mean and std of the estimates, mean absolute error to the true
/// `E₀`, repetitions, L-BFGS runs not converged, runs where the transport solver failed, and
/// the mean number of function evaluations.
pub fn summary_table(est: &[Estimate], e0: f64) -> Table {
    let mut t = Table::new(&[
        "rho",
        "solver",
        "reps",
        "mean E0",
        "std E0",
        "mean abs err",
        "not converged",
        "solver failed",
        "evals",
    ]);
    let mut keys: Vec<(f64, Solver)> = Vec::new();
    for e in est {
        if !keys.contains(&(e.rho, e.solver)) {
            keys.push((e.rho, e.solver));
        }
    }
    for (rho, s) in keys {
        let g: Vec<&Estimate> = est
            .iter()
            .filter(|e| e.rho == rho && e.solver == s)
            .collect();
        let v: Vec<f64> = g.iter().map(|e| e.e0).collect();
        let (m, sd) = mean_std(&v);
        let err = mean_std(&v.iter().map(|x| (x - e0).abs()).collect::<Vec<_>>()).0;
        let evals = g.iter().map(|e| e.evaluations).sum::<usize>() as f64 / g.len() as f64;
        t.row(&[
            rho.to_string(),
            s.label(),
            g.len().to_string(),
            format!("{m:.4}"),
            format!("{sd:.4}"),
            format!("{err:.4}"),
            g.iter().filter(|e| !e.converged).count().to_string(),
            g.iter().filter(|e| e.solver_failed).count().to_string(),
            format!("{evals:.1}"),
        ]);
    }
    t
}

/// Writes `summary.{md,csv}`, `estimates.csv` (ρ, solver index, repetition, estimate,
/// converged, solver failed, evaluations), `objective.csv` and `estimates.svg` (estimates
/// against log₁₀ ρ per solver, and `J(E₀)` on a grid for repetition 0 of each ρ).
///
/// # Errors
/// `Io` if a file cannot be written; errors of the objective evaluations.
pub fn write_outputs(
    out: &Output,
    cfg: &Config,
    est: &[Estimate],
    solvers: &[Solver],
    rhos: &[f64],
    table: &Table,
) -> Result<()> {
    out.write("summary.md", &table.to_markdown())?;
    out.write("summary.csv", &table.to_csv())?;
    let mut csv = CsvLog::new(
        out.path("estimates.csv"),
        &[
            "rho",
            "solver",
            "rep",
            "e0",
            "converged",
            "solver_failed",
            "evaluations",
        ],
    );
    for e in est {
        let k = solvers.iter().position(|&s| s == e.solver).unwrap_or(0);
        csv.push(&[
            e.rho,
            k as f64,
            e.rep as f64,
            e.e0,
            e.converged as u8 as f64,
            e.solver_failed as u8 as f64,
            e.evaluations as f64,
        ]);
    }
    csv.flush()?;
    let mut scatter = Plot::new(&format!("estimates of E0 (truth {})", cfg.e0))
        .xlabel("log10 rho")
        .ylabel("estimated E0");
    for (k, &s) in solvers.iter().enumerate() {
        let g: Vec<&Estimate> = est
            .iter()
            .filter(|e| e.solver == s && e.e0.is_finite())
            .collect();
        // Offset the solvers a little along x so the clouds do not overlap.
        let xs: Vec<f64> = g.iter().map(|e| e.rho.log10() + 0.06 * k as f64).collect();
        let ys: Vec<f64> = g.iter().map(|e| e.e0).collect();
        scatter = scatter.points(&s.label(), &xs, &ys);
    }
    let grid: Vec<f64> = (0..=80).map(|i| 0.6 + i as f64 * 0.01).collect();
    let mut obj = CsvLog::new(out.path("objective.csv"), &["rho", "e0", "exact"]);
    let mut curves = Plot::new("exact J(E0), repetition 0")
        .xlabel("E0")
        .ylabel("J")
        .log_y();
    for &rho in rhos {
        let p = Problem::new(cfg, rho, 0)?;
        let mut ys = Vec::new();
        for &g in &grid {
            let j = p.loss(g.max(p.lower), Solver::Exact)?.0;
            obj.push(&[rho, g, j]);
            ys.push(j);
        }
        curves = curves.line(&format!("rho {rho}"), &grid, &ys);
    }
    obj.flush()?;
    out.write("estimates.svg", &panels(&[scatter, curves], 2))?;
    Ok(())
}

/// ρ values of the paper.
pub const RHOS: [f64; 4] = [0.01, 0.1, 1.0, 10.0];

/// The solvers compared.
pub const SOLVERS: [Solver; 4] = [
    Solver::Exact,
    Solver::Sinkhorn(0.1),
    Solver::Sinkhorn(0.01),
    Solver::Sinkhorn(0.001),
];

fn parse_args() -> usize {
    let mut reps = 5;
    if std::env::var("PHYSGNN_QUICK").is_ok_and(|v| v != "0") {
        reps = 3;
    }
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => reps = 3,
            "--reps" => {
                let v = args.next().expect("--reps needs a value");
                reps = v
                    .parse()
                    .unwrap_or_else(|_| panic!("--reps: not a number: {v}"));
            }
            other => panic!("unknown argument {other} (use --quick, --reps K)"),
        }
    }
    reps
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let reps = parse_args();
    let cfg = Config::default();
    let out = Output::new("out/physgnn_grf")?;
    let start = Instant::now();
    let est = sweep(&cfg, &RHOS, &SOLVERS, reps)?;
    let table = summary_table(&est, cfg.e0);
    println!("\n{}", table.to_text());
    write_outputs(&out, &cfg, &est, &SOLVERS, &RHOS, &table)?;
    println!(
        "wrote {} ({:.1} s in all)",
        out.dir().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
