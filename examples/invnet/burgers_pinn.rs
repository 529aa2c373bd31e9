//! Experiment 1's PINN comparison: the same `pde!` statement trained on a neural field
//! `u(x, t, c, ν)` (an MLP, exact input derivatives by forward jets) for one `(c, ν)` at a time
//! — the `c` and `ν` input columns of every collocation point are set to the case — with the
//! same alternating scheme (one Adam step on the residual, one on the initial condition).

use super::{problem, rel_l2, Config, NT, NX, T_END};
use physgrad::nn::{Mlp, MlpConfig, Module, ParamStore};
use physgrad::optim::{Adam, AdamConfig, Optimizer, Schedule};
use physgrad::problem::{Collocation, Method, NeuralField, Problem};
use physgrad::{Result, Tape, Tensor};
use std::time::Instant;

/// One trained PINN.
pub struct PinnRun {
    /// The case.
    pub c: f64,
    /// The case's viscosity.
    pub nu: f64,
    /// Relative L2 error on the 64 × 64 grid against the reference.
    pub error: f64,
    /// Training wall-clock seconds.
    pub seconds: f64,
    /// `(iteration, residual term, initial-condition term)`.
    pub losses: Vec<(usize, f64, f64)>,
}

/// Collocation points for the case: uniform `(x, t)`, the `c` and `ν` columns fixed.
fn points(pb: &Problem, n: usize, c: f64, nu: f64, seed: u64) -> Collocation {
    let mut pts = pb.sample(n, n / 4, seed);
    let fix = |t: &mut Tensor| {
        for row in t.data_mut().chunks_mut(4) {
            row[2] = c;
            row[3] = nu;
        }
    };
    fix(&mut pts.interior);
    pts.regions.iter_mut().for_each(fix);
    pts
}

/// The network's values at the 64 × 64 grid points (row-major, x outer).
fn on_grid(net: &Mlp, store: &ParamStore, c: f64, nu: f64) -> Vec<f64> {
    let mut x = Vec::with_capacity(NX * NT * 4);
    for i in 0..NX {
        for j in 0..NT {
            x.extend([i as f64 / NX as f64, T_END * j as f64 / NT as f64, c, nu]);
        }
    }
    let tape = Tape::new();
    let p = store.bind(&tape);
    let u = net.forward(&p, tape.constant(Tensor::from_vec(x, &[NX * NT, 4])));
    u.value().data().to_vec()
}

/// Trains a `[4, 32, 32, 32, 1]` tanh MLP on the case `(c, ν)` for `cfg.pinn_iterations`
/// alternating iterations (fresh points each iteration) and evaluates it against `reference`.
pub fn train_pinn(cfg: &Config, c: f64, nu: f64, reference: &[f64]) -> Result<PinnRun> {
    let pb = problem();
    let mut store = ParamStore::new(cfg.seed + 7);
    let net = MlpConfig::new(&[pb.input_dim(), 32, 32, 32, 1]).build(&mut store, "u");
    let adam = || {
        Adam::new(AdamConfig {
            lr: cfg.lr,
            ..AdamConfig::default()
        })
    };
    let (mut opt_r, mut opt_ic) = (adam(), adam());
    let schedule = Schedule::Cosine {
        period: cfg.pinn_iterations.max(1),
        min_lr: cfg.lr_final,
    };
    let start = Instant::now();
    let mut losses = Vec::with_capacity(cfg.pinn_iterations);
    for it in 0..cfg.pinn_iterations {
        let pts = points(
            &pb,
            cfg.pinn_points,
            c,
            nu,
            cfg.seed * 1_000_003 + it as u64,
        );
        let mut vals = [0.0; 2];
        for (term, opt) in [&mut opt_r, &mut opt_ic].into_iter().enumerate() {
            opt.set_lr(schedule.lr(cfg.lr, it));
            vals[term] = store.step(opt, |tape, p| {
                let fields = [(pb.field_id("u"), NeuralField::Mlp(&net, Method::Jet))];
                match pb.loss_neural(tape, p, &fields, &[], &pts) {
                    Ok(loss) => loss.terms[term].value,
                    Err(_) => tape.constant(Tensor::scalar(f64::NAN)),
                }
            })?;
        }
        losses.push((it, vals[0], vals[1]));
    }
    let seconds = start.elapsed().as_secs_f64();
    let error = rel_l2(&on_grid(&net, &store, c, nu), reference);
    Ok(PinnRun {
        c,
        nu,
        error,
        seconds,
        losses,
    })
}
