//! The networks of one run, the training step on a loss, and the sampling velocity field
//! (the learned ODE, or the probability-flow ODE of the SDE losses).

use super::losses::{problem, LossKind, LossParams};
use physgrad::nn::{Bound, FourierMlp, Mlp, MlpConfig, ParamId, ParamStore};
use physgrad::optim::{Adam, AdamConfig, Optimizer, Schedule};
use physgrad::pde::{jet, Request, SecondOrder};
use physgrad::problem::{Method, NeuralField, Problem};
use physgrad::sampling::Target;
use physgrad::{Result, Tensor, Var};
use std::sync::Arc;

/// Network sizes (the Fourier-MLP: 64 channels, 4 GELU-Linear blocks, zero last layer).
#[derive(Clone, Copy, Debug)]
pub struct NetConfig {
    /// Hidden channels (and time frequencies). Default 64.
    pub channels: usize,
    /// GELU-Linear blocks after the sum of the embeddings. Default 4.
    pub blocks: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            channels: 64,
            blocks: 4,
        }
    }
}

/// The trainable parts of one loss.
pub struct Nets {
    /// `w(x, t)` (all but anneal).
    pub w: Option<FourierMlp>,
    /// The drift μ (ODE, SDE, anneal).
    pub mu: Option<FourierMlp>,
    /// The potential Φ (OT, SB).
    pub phi: Option<FourierMlp>,
    /// `c(t)`, anneal's normaliser network: a tanh MLP `(x, t) → 32 → 32 → 1` whose input
    /// weights on `x` are held at zero ([`Nets::project`]), so it is a function of `t` alone.
    pub c: Option<Mlp>,
    /// `log z` (all but anneal).
    pub logz: Option<ParamId>,
    /// How the loss differentiates `w`: nested reverse mode when it needs only `∂ₜw` and `∇ₓw`
    /// (ODE: one gradient sweep instead of a jet carrying `d + 1` directions; at d = 50 the
    /// training step took 0.63× the time), forward jets when it also needs `Δₓw`.
    pub w_method: Method,
}

impl Nets {
    /// Builds the networks of `kind` for dimension `d` in `store`.
    pub fn new(store: &mut ParamStore, kind: LossKind, d: usize, nc: NetConfig) -> Nets {
        let f = |store: &mut ParamStore, name: &str, out: usize| {
            FourierMlp::new(store, name, d, nc.channels, nc.blocks, out, true)
        };
        Nets {
            w: kind.learns_w().then(|| f(store, "w", 1)),
            mu: kind.has_mu().then(|| f(store, "mu", d)),
            phi: kind.has_phi().then(|| f(store, "phi", 1)),
            c: (kind == LossKind::Anneal).then(|| {
                let c = MlpConfig::new(&[d + 1, 32, 32, 1])
                    .zero_last(true)
                    .build(store, "c");
                zero_x_rows(store, &c, d);
                c
            }),
            w_method: if kind == LossKind::Ode {
                Method::Nested
            } else {
                Method::Jet
            },
            logz: kind.learns_w().then(|| {
                store.add(
                    "logz",
                    &[1],
                    physgrad::nn::Init::Zeros,
                    physgrad::nn::Fans::dense(1, 1),
                )
            }),
        }
    }

    /// Restores the constraints after an optimiser step (`c` independent of `x`).
    pub fn project(&self, store: &mut ParamStore, d: usize) {
        if let Some(c) = &self.c {
            zero_x_rows(store, c, d);
        }
    }

    /// The loss on the points `pts` of `pb` with the weights bound as `p`.
    pub fn loss<'t>(
        &self,
        pb: &Problem,
        tape: &'t physgrad::Tape,
        p: &Bound<'t>,
        pts: &physgrad::problem::Collocation,
    ) -> Result<physgrad::problem::Loss<'t>> {
        let mut fields: Vec<(physgrad::problem::FieldId, NeuralField<'_>)> = vec![];
        if let Some(w) = &self.w {
            fields.push((
                pb.field_id("w"),
                NeuralField::Fourier(w, self.w_method.clone()),
            ));
        }
        if let Some(mu) = &self.mu {
            fields.push((pb.field_id("mu"), NeuralField::Fourier(mu, Method::Jet)));
        }
        if let Some(phi) = &self.phi {
            fields.push((pb.field_id("phi"), NeuralField::Fourier(phi, Method::Jet)));
        }
        if let Some(c) = &self.c {
            fields.push((pb.field_id("c"), NeuralField::Mlp(c, Method::Jet)));
        }
        let given: Vec<(physgrad::problem::ParamId, Var<'t>)> = self
            .logz
            .map(|id| vec![(pb.param_id("logz"), p.var(id))])
            .unwrap_or_default();
        pb.loss_neural(tape, p, &fields, &given, pts)
    }

    /// The sampling velocity alone (no divergence): the drift network's forward pass for ODE
    /// and anneal, [`Nets::velocity`]'s first part otherwise. Used to move the collocation
    /// particles of [`Trajectories`].
    pub fn drift<'t>(
        &self,
        kind: LossKind,
        target: &Target,
        lp: &LossParams,
        p: &Bound<'t>,
        x: Var<'t>,
        t: f64,
    ) -> Var<'t> {
        match (kind, &self.mu) {
            (LossKind::Ode | LossKind::Anneal, Some(mu)) => {
                // One time row: the time branch (sin/cos of 64 frequencies, two layers) is
                // evaluated once and broadcast over the batch rather than once per row.
                let tc = x.tape().constant(Tensor::full(&[1, 1], t));
                mu.forward_xt(p, x, tc)
            }
            _ => self.velocity(kind, target, lp, p, x, t).0,
        }
    }

    /// [`Nets::drift`] as a plain function of values: each call evaluates it on a fresh tape
    /// with the weights of `store`, nothing recorded for gradients.
    pub fn drift_fn<'a>(
        &'a self,
        kind: LossKind,
        target: &'a Target,
        lp: &'a LossParams,
        store: &'a ParamStore,
    ) -> impl Fn(&Tensor, f64) -> Tensor + Sync + 'a {
        move |x, t| {
            let tape = physgrad::Tape::new();
            let p = store.bind(&tape);
            self.drift(kind, target, lp, &p, tape.constant(x.clone()), t)
                .value()
        }
    }

    /// The sampling velocity `u` `[B, d]` and `div u` `[B]` at `x`, time `t`:
    /// ODE/anneal `μ`; SDE `μ − ∇v`; SDE-diffusion `½σ̄²(∇v + x)`; OT `∇Φ`; SB `∇Φ − ∇v`
    /// (probability-flow drifts `μ − ½σσᵀ∇v`).
    pub fn velocity<'t>(
        &self,
        kind: LossKind,
        target: &Target,
        lp: &LossParams,
        p: &Bound<'t>,
        x: Var<'t>,
        t: f64,
    ) -> (Var<'t>, Var<'t>) {
        let tape = x.tape();
        let (b, d) = (x.shape()[0], x.shape()[1]);
        let xt = Var::concat(&[x, tape.constant(Tensor::full(&[b, 1], t))], 1);
        let lap_req = Request {
            gradient: true,
            second: Some(SecondOrder::Laplacian((0..d).collect())),
        };
        // ∇v and Δv from the closed-form part and the jets of w.
        let score = |w: &FourierMlp| {
            let (_, g, l) = target.log_q_derivs(&x.value());
            let s = t * (1.0 - t);
            let g0 = tape.constant(g) * t - x * (1.0 - t);
            let l0 = tape.constant(l) * t - (1.0 - t) * d as f64;
            let jw = jet::fourier_scalar(w, p, xt, &lap_req);
            let gw = jw.gradient.expect("gradient").slice(1, 0..d);
            (g0 + gw * s, l0 + jw.second.expect("laplacian") * s)
        };
        let potential = |phi: &FourierMlp| {
            let j = jet::fourier_scalar(phi, p, xt, &lap_req);
            (
                j.gradient.expect("gradient").slice(1, 0..d),
                j.second.expect("laplacian"),
            )
        };
        let drift = || {
            let mu = self.mu.as_ref().expect("drift network");
            jet::fourier_divergence(mu, p, xt, &(0..d).collect::<Vec<_>>())
        };
        match kind {
            LossKind::Ode | LossKind::Anneal => drift(),
            LossKind::Sde => {
                let (mu, div) = drift();
                let (gv, lv) = score(self.w.as_ref().expect("w"));
                (mu - gv, div - lv)
            }
            LossKind::SdeDiffusion => {
                let (gv, lv) = score(self.w.as_ref().expect("w"));
                let h = 0.5 * lp.vp_beta;
                ((gv + x) * h, (lv + d as f64) * h)
            }
            LossKind::Ot => potential(self.phi.as_ref().expect("phi")),
            LossKind::Sb => {
                let (gp, lpot) = potential(self.phi.as_ref().expect("phi"));
                let (gv, lv) = score(self.w.as_ref().expect("w"));
                (gp - gv, lpot - lv)
            }
        }
    }
}

/// Zeroes the rows `0..d` (the `x` inputs) of the first weight matrix of `net`.
fn zero_x_rows(store: &mut ParamStore, net: &Mlp, d: usize) {
    let w = store.get_mut(net.layers[0].weight);
    let out = w.shape()[1];
    w.data_mut()[..d * out].iter_mut().for_each(|v| *v = 0.0);
}

/// Training settings.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Adam steps.
    pub steps: usize,
    /// Collocation points per step.
    pub batch: usize,
    /// Adam's base rate (default 1e-3), cosine-annealed to a tenth over the run.
    pub lr: f64,
    /// Seed of the weights and of the collocation points.
    pub seed: u64,
    /// Training budget in wall-clock seconds. With it, the cosine schedule runs on whichever
    /// is further along, steps or time (the rate at fraction `max(k/steps, elapsed/budget)`),
    /// and training stops at the first step that starts past the budget: the schedule ends
    /// with the budget whatever the machine's speed (the steps reached then vary from run to
    /// run).
    pub max_seconds: Option<f64>,
    /// Collocation along the learned flow (`None`: the box only).
    pub trajectories: Option<Trajectories>,
    /// Threads of the data-parallel step (see [`train_step`]); 1 runs on the calling thread.
    pub threads: usize,
    /// At most this many collocation points per tape (`Some(0)`: one tape per thread; default
    /// `None`, [`shard_points`]).
    pub shard_points: Option<usize>,
    /// The starting value of `log z` (all losses but anneal).
    pub logz_init: LogzInit,
    /// A weights checkpoint (written by an earlier run, `<target>_<loss>_weights.ckpt`) to
    /// start from instead of the initialisation; with `steps = 0` the run only samples.
    pub init: Option<std::path::PathBuf>,
}

/// Where `log z` starts.
///
/// `log z` enters the residual only through `∂ₜv`, so Adam moves it by about one learning rate
/// per step: 1e-3 per step, cosine-annealed to a tenth, is at most ≈ 18 nats in 32,000 steps.
/// Many-Well d = 50 has `log Z = 42.8` (its 45 Gaussian dimensions alone give 41.4), out of
/// reach from zero within the budget; and while `log z` is far off, the PDE has no
/// solution with a normalised density, so the drift is trained towards the wrong thing (from
/// zero, 30 minutes ended at Δlog Z = −39.9; from the prior estimate, 5 minutes reach −0.69).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LogzInit {
    /// `log z = 0`.
    Zero,
    /// The given value.
    Value(f64),
    /// The importance-sampling estimate `log mean q(X)/p₀(X)` over this many prior samples
    /// `X ~ N(0, I)` (seeded; no target samples). Accurate when the prior covers the target's
    /// mass (Many-Well d = 50, 10⁵ samples: −0.02 and −0.10 nats off for seeds 0 and 1); low when it reaches the modes
    /// only in its tails (Many-Well d = 5, `log Z = −0.54`: −3.9 and −2.6 for seeds 0 and 1).
    Prior(usize),
    /// The default: [`LogzInit::Prior`] when that estimate is positive, else 0. The estimate is
    /// biased low (Jensen), and by Markov's inequality it exceeds `log Z` by `a` nats with
    /// probability at most `e^{−a}`: a positive estimate says that `log Z` is at least about
    /// that large: a start there is unlikely to be far above the truth. Below zero it says
    /// little (the low cases above), and the start stays at 0. For the GMM and Many-Well
    /// d = 5 (seeds 0 and 1) this is 0, as before the option existed; for Many-Well d = 50 it
    /// is the estimate.
    Auto(usize),
}

impl LogzInit {
    /// Prior samples of `prior` and `auto` (10⁵).
    pub const SAMPLES: usize = 100_000;

    /// Parses `auto`, `zero`, `prior`, `prior:N` or a number.
    pub fn parse(s: &str) -> Option<LogzInit> {
        let count = |n: &str| n.parse().ok().filter(|&n: &usize| n > 0);
        match s {
            "auto" => Some(LogzInit::Auto(Self::SAMPLES)),
            "zero" => Some(LogzInit::Zero),
            "prior" => Some(LogzInit::Prior(Self::SAMPLES)),
            _ => match s.strip_prefix("prior:") {
                Some(n) => count(n).map(LogzInit::Prior),
                None => s
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .map(LogzInit::Value),
            },
        }
    }

    /// The starting value for `target` (`seed` seeds the prior samples).
    pub fn value(self, target: &Target, seed: u64) -> f64 {
        match self {
            LogzInit::Zero => 0.0,
            LogzInit::Value(v) => v,
            LogzInit::Auto(n) => LogzInit::Prior(n).value(target, seed).max(0.0),
            LogzInit::Prior(n) => {
                // Blocks of 10⁴ rows keep the memory flat at any n.
                let d = target.dim();
                let mut lw = Vec::with_capacity(n);
                let mut k = 0;
                while k < n {
                    let m = (n - k).min(10_000);
                    let (x, lp0) = physgrad::sampling::standard_normal(m, d, seed ^ (k as u64 + 1));
                    lw.extend(target.log_q(&x).iter().zip(&lp0).map(|(q, p)| q - p));
                    k += m;
                }
                physgrad::sampling::log_sum_exp(&lw) - (n as f64).ln()
            }
        }
    }
}

/// Collocation along the current flow: every `every` steps, `particles` prior samples are moved
/// by the learned sampling velocity (detached, Heun's method with `steps` steps) and their
/// states kept; a `fraction` of each batch is then drawn at uniform times on those paths (linear
/// interpolation between stored states), the rest uniformly on the box.
///
/// Why it matters: if the residual vanishes along the flow's own trajectories, `v − log p_flow`
/// is constant along each of them and zero at `t = 0`, so at `t = 1` the flow's density is
/// `q/z` wherever it puts mass — importance weights all equal. Box points far from the mass
/// (where `log q` reaches −10³ on Many-Well) carry most of the squared residual but none of the
/// samples; the box part keeps every mode in view and pins `log z`.
#[derive(Clone, Copy, Debug)]
pub struct Trajectories {
    /// Share of each batch taken along trajectories, in `[0, 1]`.
    pub fraction: f64,
    /// Particles per refresh.
    pub particles: usize,
    /// Heun steps per refresh.
    pub steps: usize,
    /// Training steps between refreshes.
    pub every: usize,
}

impl Default for Trajectories {
    fn default() -> Self {
        Trajectories {
            fraction: 0.5,
            particles: 1024,
            steps: 20,
            every: 100,
        }
    }
}

/// The stored states of one refresh of [`Trajectories`]: `states[k]` `[P, d]` at `t = k / K`.
pub struct Paths {
    /// The particles' states at the `K + 1` grid times.
    pub states: Vec<Tensor>,
    /// The particles whose states stay finite and within twice the collocation box at every
    /// grid time; [`Paths::draw`] uses only these. An early SDE-type drift (`μ − ∇v`, with the
    /// cubic `t∇log q` of Many-Well) can throw particles out, and explicit steps then overflow.
    pub kept: Vec<usize>,
}

impl Paths {
    /// Moves `cfg.particles` prior samples (seeded) through the flow of the velocity
    /// `speed(x, t)` (e.g. [`Nets::drift_fn`]), in `threads` blocks of particles run side by side (the states do
    /// not depend on `threads`).
    pub fn integrate(
        speed: impl Fn(&Tensor, f64) -> Tensor + Sync,
        target: &Target,
        cfg: &Trajectories,
        seed: u64,
        threads: usize,
    ) -> Paths {
        let d = target.dim();
        let k = cfg.steps.max(1);
        let h = 1.0 / k as f64;
        let n = cfg.particles.max(1);
        let x0 = Tensor::randn(&[n, d], seed);
        // Heun steps for one block of particles, on its own tape per evaluation.
        let run = |mut x: Tensor| -> Vec<Tensor> {
            let mut states = vec![x.clone()];
            for i in 0..k {
                let t = i as f64 * h;
                let u0 = speed(&x, t);
                let mut x1 = x.clone();
                x1.data_mut()
                    .iter_mut()
                    .zip(u0.data())
                    .for_each(|(a, u)| *a += h * u);
                let u1 = speed(&x1, t + h);
                x.data_mut()
                    .iter_mut()
                    .zip(u0.data().iter().zip(u1.data()))
                    .for_each(|(a, (u, v))| *a += 0.5 * h * (u + v));
                states.push(x.clone());
            }
            states
        };
        // The particles are independent: blocks of rows go to `threads` scoped threads and
        // their states are stacked back in order.
        let blocks = threads.clamp(1, n);
        let rows = n.div_ceil(blocks);
        let chunks: Vec<&[f64]> = x0.data().chunks(rows * d).collect();
        let parts =
            physgrad::parallel::ordered_map("Paths::integrate", chunks.len(), blocks, |i| {
                let c = chunks[i];
                run(Tensor::from_vec(c.to_vec(), &[c.len() / d, d]))
            });
        let states: Vec<Tensor> = (0..=k)
            .map(|j| {
                let data: Vec<f64> = parts.iter().flat_map(|p| p[j].data().to_vec()).collect();
                Tensor::from_vec(data, &[n, d])
            })
            .collect();
        let kept = (0..cfg.particles.max(1))
            .filter(|&i| {
                states.iter().all(|s| {
                    s.data()[i * d..(i + 1) * d]
                        .iter()
                        .zip(&target.collocation)
                        .all(|(v, (lo, hi))| v.is_finite() && *v >= 2.0 * lo && *v <= 2.0 * hi)
                })
            })
            .collect();
        Paths { states, kept }
    }

    /// `n` rows `[x, t]` (flattened) at uniform times on uniformly chosen kept paths; fewer
    /// (none) when no path was kept — the caller leaves box points in their place.
    pub fn draw(&self, n: usize, rng: &mut impl rand::Rng) -> Vec<f64> {
        let k = self.states.len() - 1;
        let d = self.states[0].shape()[1];
        if self.kept.is_empty() {
            return vec![];
        }
        let mut rows = Vec::with_capacity(n * (d + 1));
        for _ in 0..n {
            let i = self.kept[rng.random_range(0..self.kept.len())];
            let t: f64 = rng.random_range(0.0..=1.0);
            let s = (t * k as f64).min(k as f64 - 1e-12);
            let (j, f) = (s.floor() as usize, s - s.floor());
            let (a, b) = (
                &self.states[j].data()[i * d..(i + 1) * d],
                &self.states[j + 1].data()[i * d..(i + 1) * d],
            );
            rows.extend(a.iter().zip(b).map(|(a, b)| (1.0 - f) * a + f * b));
            rows.push(t);
        }
        rows
    }
}

/// One training run; returns the per-step losses.
pub struct Trained {
    /// The weights.
    pub store: ParamStore,
    /// The networks.
    pub nets: Nets,
    /// The problem (for describe / terms).
    pub problem: Problem,
    /// Total loss per step.
    pub losses: Vec<f64>,
    /// The value `log z` started from ([`LogzInit`]; before any `--init` checkpoint).
    pub logz_start: Option<f64>,
}

/// Collocation points per tape in a training step of `kind` in dimension `d` by default (see
/// [`train_step`]): `768/(1 + k)` clamped to `[32, 256]`, with `k` the jet directions per point
/// (`d` for the drift's divergence; the SDE-type losses add `d + 1` for the jet of `w`).
///
/// A step's intermediates are tensors of `points × directions × 64` values, and at batch 512
/// they do not fit in cache: at d = 50 the step was memory-bound. Measured on this project's
/// machine (4 MB of L2 per core; `pinn_sampling --time-step … REPS SHARD_POINTS`, one thread,
/// batch 512), against one tape: d = 2 ODE best at 256 points (−9 %), SDE at 128 (−24 %);
/// d = 5 ODE 256 (−19 %), SDE 128 (−33 %); d = 50 ODE 32 (−34 %), SDE 16–32 (−41 %). This
/// rule picks 256/128, 128/64 and 32/32 for those (ODE/SDE).
pub fn shard_points(kind: LossKind, d: usize) -> usize {
    let directions = match kind {
        LossKind::Ode | LossKind::Anneal | LossKind::Ot => d,
        LossKind::Sde | LossKind::SdeDiffusion | LossKind::Sb => 2 * d + 1,
    };
    (768 / (1 + directions)).clamp(32, 256)
}

/// One training step on the collocation points `pts`: the loss of `pb` with the weights of
/// `store`, its gradient with respect to every trainable weight, one optimiser step, and the
/// projection of [`Nets::project`]. Returns the loss before the step. [`train`] calls this for
/// every step; the `--time-step` mode of the example times it.
///
/// The points are split in contiguous row blocks of at most `shard_points` rows (0: no limit),
/// and in at least `threads` blocks; each block is evaluated on its own tape, the blocks dealt
/// to `threads` threads ([`ParamStore::step_sharded_on`], weights `nₖ/n`): the same loss and
/// gradient as one block, up to rounding. Blocks beyond the thread count run one after the
/// other, which keeps a block's intermediates in cache ([`shard_points`]).
#[allow(clippy::too_many_arguments)]
pub fn train_step(
    pb: &Problem,
    nets: &Nets,
    store: &mut ParamStore,
    opt: &mut dyn Optimizer,
    pts: &physgrad::problem::Collocation,
    d: usize,
    threads: usize,
    shard_points: usize,
) -> Result<f64> {
    let n = pts.interior.shape()[0];
    let by_size = if shard_points == 0 {
        1
    } else {
        n.div_ceil(shard_points)
    };
    let shards = by_size.max(threads).clamp(1, n.max(1));
    // The problem's own error (a non-finite term, named) is kept and returned in place of the
    // step's generic one.
    let failure = std::sync::Mutex::new(None);
    let step = if shards == 1 {
        store.step(opt, |tape, p| {
            total_or_nan(nets.loss(pb, tape, p, pts), tape, &failure)
        })
    } else {
        assert!(
            pts.regions.is_empty(),
            "train_step: sharding splits interior points only"
        );
        let bounds: Vec<(usize, usize)> = (0..shards)
            .map(|k| (k * n / shards, (k + 1) * n / shards))
            .collect();
        let parts: Vec<physgrad::problem::Collocation> = bounds
            .iter()
            .map(|&(a, b)| physgrad::problem::Collocation {
                interior: physgrad::tensor::kernels::slice(&pts.interior, 0, a, b),
                regions: vec![],
            })
            .collect();
        let weights: Vec<f64> = bounds
            .iter()
            .map(|&(a, b)| (b - a) as f64 / n as f64)
            .collect();
        store.step_sharded_on(opt, &weights, threads, |k, tape, p| {
            total_or_nan(nets.loss(pb, tape, p, &parts[k]), tape, &failure)
        })
    };
    if let Some(e) = failure.into_inner().expect("train_step: poisoned") {
        return Err(e);
    }
    let total = step?;
    nets.project(store, d);
    Ok(total)
}

/// The loss's total, or NaN after recording the error (so the step refuses to update).
fn total_or_nan<'t>(
    loss: Result<physgrad::problem::Loss<'t>>,
    tape: &'t physgrad::Tape,
    failure: &std::sync::Mutex<Option<physgrad::Error>>,
) -> Var<'t> {
    match loss {
        Ok(l) => l.total,
        Err(e) => {
            failure
                .lock()
                .expect("train_step: poisoned")
                .get_or_insert(e);
            tape.constant(Tensor::full(&[1], f64::NAN))
        }
    }
}

/// Trains `kind` on `target`; `on_step(step, loss)` is called after every step.
pub fn train(
    kind: LossKind,
    target: &Arc<Target>,
    lp: LossParams,
    nc: NetConfig,
    cfg: &TrainConfig,
    mut on_step: impl FnMut(usize, f64),
) -> Result<Trained> {
    let pb = problem(kind, target, lp);
    let mut store = ParamStore::new(cfg.seed);
    let nets = Nets::new(&mut store, kind, target.dim(), nc);
    let logz_start = nets.logz.map(|id| {
        let v = cfg.logz_init.value(target, cfg.seed ^ 0x5eed);
        store.set(id, Tensor::from_vec(vec![v], &[1]));
        v
    });
    if let Some(path) = &cfg.init {
        physgrad::nn::Checkpoint::load(path)?.load_params(&mut store)?;
    }
    let mut opt = Adam::new(AdamConfig {
        lr: cfg.lr,
        ..AdamConfig::default()
    });
    // The schedule's fraction done, resolved to a millionth.
    const PERIOD: usize = 1_000_000;
    let schedule = Schedule::Cosine {
        period: PERIOD,
        min_lr: 0.1 * cfg.lr,
    };
    let mut losses = Vec::with_capacity(cfg.steps);
    let start = std::time::Instant::now();
    let mut paths: Option<Paths> = None;
    for step in 0..cfg.steps {
        let mut done = step as f64 / cfg.steps as f64;
        if let Some(budget) = cfg.max_seconds {
            let spent = start.elapsed().as_secs_f64() / budget;
            if spent >= 1.0 {
                break;
            }
            done = done.max(spent);
        }
        opt.set_lr(schedule.lr(cfg.lr, (done * PERIOD as f64) as usize));
        let seed = cfg.seed.wrapping_mul(1_000_003) + step as u64;
        let mut pts = pb.sample(cfg.batch, 0, seed);
        if let Some(tr) = cfg.trajectories.filter(|tr| tr.fraction > 0.0) {
            if step % tr.every.max(1) == 0 {
                paths = Some(Paths::integrate(
                    nets.drift_fn(kind, target, &lp, &store),
                    target,
                    &tr,
                    seed ^ 0x9e37,
                    cfg.threads,
                ));
            }
            let n = ((tr.fraction.min(1.0) * cfg.batch as f64).round() as usize).min(cfg.batch);
            let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
            let rows = paths.as_ref().expect("paths").draw(n, &mut rng);
            pts.interior.data_mut()[..rows.len()].copy_from_slice(&rows);
        }
        let total = train_step(
            &pb,
            &nets,
            &mut store,
            &mut opt,
            &pts,
            target.dim(),
            cfg.threads,
            cfg.shard_points
                .unwrap_or_else(|| shard_points(kind, target.dim())),
        )?;
        losses.push(total);
        on_step(step, total);
    }
    Ok(Trained {
        store,
        nets,
        problem: pb,
        losses,
        logz_start,
    })
}
