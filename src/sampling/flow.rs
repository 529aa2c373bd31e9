//! Transport of prior samples by a learned velocity field together with their log-density:
//! `dx/dt = u(x, t)`, `d/dt log p = −div u`, integrated by the 3/8-rule RK4
//! ([`integrate_log_density`]) one step per tape, in chunks of rows, so memory stays bounded
//! however many steps and samples are used (no gradient flows through the sampler).

use crate::autodiff::{Tape, Var};
use crate::error::{Error, Result};
use crate::nn::{Bound, ParamStore};
use crate::physics::ode::{integrate_log_density_unchecked, Divergence, RungeKutta, TimeGrid};
use crate::tensor::Tensor;
use std::cell::RefCell;

/// Settings of [`transport`].
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// The time interval and number of steps (default `t ∈ [0, 1]`, 200 steps).
    pub grid: TimeGrid,
    /// The Runge–Kutta scheme (default the 3/8 rule).
    pub method: RungeKutta,
    /// Rows integrated on one tape at a time (default 1 024).
    pub chunk: usize,
    /// Threads the chunks are spread over (default 1). The rows are independent, so the result
    /// does not depend on it.
    pub threads: usize,
    /// What happens to a row whose state or log-density leaves the finite range (default
    /// [`OnDivergence::Error`]).
    pub on_divergence: OnDivergence,
}

/// What [`transport`] does when a row's state or log-density leaves the finite range — a
/// learned velocity that grows faster than linearly (the probability-flow drift `μ − ∇v`
/// carries the target's score, cubic for a double well) can carry a sample to infinity in
/// finite time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDivergence {
    /// Fail with [`Error::NonFinite`], naming the row and the time.
    Error,
    /// Stop integrating that row and return it as NaN (state and `Δ`); the others go on.
    Mark,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            grid: TimeGrid {
                t0: 0.0,
                t1: 1.0,
                steps: 200,
            },
            method: RungeKutta::ThreeEighths,
            chunk: 1024,
            threads: 1,
            on_divergence: OnDivergence::Error,
        }
    }
}

/// `n` samples of `N(0, I_d)` (seeded) and their log-densities
/// `log p₀(x) = −|x|²/2 − (d/2) log 2π`.
pub fn standard_normal(n: usize, d: usize, seed: u64) -> (Tensor, Vec<f64>) {
    let x = Tensor::randn(&[n, d], seed);
    let lp = x
        .data()
        .chunks(d.max(1))
        .map(|r| {
            -0.5 * r.iter().map(|v| v * v).sum::<f64>()
                - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
        })
        .collect();
    (x, lp)
}

/// Moves the rows of `x0` `[N, d]` along `dx/dt = u(x, t)` and returns the final states and
/// `Δ = −∫ div u(x(t), t) dt` per row, so `log p_T(x_T) = log p₀(x₀) + Δ`.
///
/// `field(p, x, t)` returns `(u [B, d], div u [B])` with the parameters of `store` bound as `p`
/// on the step's tape (one call per Runge–Kutta stage: jets give both in one pass). Chunks of
/// `cfg.chunk` rows run on `cfg.threads` threads.
///
/// # Errors
/// As [`integrate_log_density`](crate::physics::ode::integrate_log_density) (bad grid), and
/// [`Error::NonFinite`] for a row that leaves the finite range under [`OnDivergence::Error`].
pub fn transport<F>(
    store: &ParamStore,
    x0: &Tensor,
    cfg: &FlowConfig,
    field: F,
) -> Result<(Tensor, Vec<f64>)>
where
    F: for<'t> Fn(&Bound<'t>, Var<'t>, f64) -> (Var<'t>, Var<'t>) + Sync,
{
    let (n, d) = (x0.shape()[0], x0.shape()[1]);
    let chunk = cfg.chunk.max(1);
    let starts: Vec<usize> = (0..n).step_by(chunk).collect();
    let one = |start: usize| {
        let end = (start + chunk).min(n);
        transport_chunk(
            store,
            crate::tensor::kernels::slice(x0, 0, start, end),
            start,
            cfg,
            &field,
        )
    };
    // Chunks are dealt round-robin to the threads and collected in order.
    let results =
        crate::parallel::ordered_map("sampling::transport", starts.len(), cfg.threads, |i| {
            one(starts[i])
        });
    let mut xs = Vec::with_capacity(n * d);
    let mut deltas = Vec::with_capacity(n);
    for r in results {
        let (x, delta) = r?;
        xs.extend_from_slice(x.data());
        deltas.extend(delta);
    }
    Ok((Tensor::from_vec(xs, &[n, d]), deltas))
}

/// One chunk of rows through all steps, one tape per step. The stage's `(u, div u)` is computed
/// once: the velocity closure stores the divergence keyed by the state's tape id and time, and the
/// divergence closure takes it (recomputing if the key does not match). Rows that leave the finite
/// range are dropped from later steps (under [`OnDivergence::Mark`]) and come back as NaN.
fn transport_chunk<F>(
    store: &ParamStore,
    x: Tensor,
    offset: usize,
    cfg: &FlowConfig,
    field: &F,
) -> Result<(Tensor, Vec<f64>)>
where
    F: for<'t> Fn(&Bound<'t>, Var<'t>, f64) -> (Var<'t>, Var<'t>),
{
    let h = cfg.grid.dt();
    let (n, d) = (x.shape()[0], x.shape()[1]);
    let mut state = x.data().to_vec();
    let mut delta = vec![0.0; n];
    let finite = |state: &[f64], delta: &[f64], r: usize| {
        delta[r].is_finite() && state[r * d..(r + 1) * d].iter().all(|v| v.is_finite())
    };
    // The rows still integrated, in order; a row leaves when it stops being finite (a
    // non-finite starting row leaves at once). The last pass only checks the final states.
    let mut live: Vec<usize> = (0..n).collect();
    let mut t = cfg.grid.t0;
    for k in 0..=cfg.grid.steps {
        let lost: Vec<usize> = live
            .iter()
            .copied()
            .filter(|&r| !finite(&state, &delta, r))
            .collect();
        if !lost.is_empty() {
            diverged(cfg, offset, &lost, t, &mut state, &mut delta, d)?;
            live.retain(|r| !lost.contains(r));
        }
        if k == cfg.grid.steps || live.is_empty() {
            break;
        }
        let rows: Vec<f64> = live
            .iter()
            .flat_map(|&r| state[r * d..(r + 1) * d].iter().copied())
            .collect();
        let tape = Tape::new();
        let p = store.bind(&tape);
        let grid = TimeGrid {
            t0: t,
            t1: cfg.grid.t0 + (k + 1) as f64 * h,
            steps: 1,
        };
        let cache: RefCell<Option<(usize, u64, Var<'_>)>> = RefCell::new(None);
        let div = Divergence::Given(Box::new(|x: Var<'_>, t: f64| {
            match cache.borrow_mut().take() {
                Some((id, tb, dv)) if id == x.id() && tb == t.to_bits() => dv,
                _ => field(&p, x, t).1,
            }
        }));
        let flow = integrate_log_density_unchecked(
            cfg.method,
            |x, t| {
                let (u, dv) = field(&p, x, t);
                *cache.borrow_mut() = Some((x.id(), t.to_bits(), dv));
                u
            },
            &div,
            tape.constant(Tensor::from_vec(rows, &[live.len(), d])),
            &grid,
        )?;
        let (xs, dl) = (flow.x.value(), flow.delta_log_p.value());
        for (i, &r) in live.iter().enumerate() {
            state[r * d..(r + 1) * d].copy_from_slice(&xs.data()[i * d..(i + 1) * d]);
            delta[r] += dl.data()[i];
        }
        t = grid.t1;
    }
    Ok((Tensor::from_vec(state, &[n, d]), delta))
}

/// Rows `lost` of the chunk starting at row `offset` left the finite range by time `t`: an
/// error under [`OnDivergence::Error`], else their state and `Δ` become NaN.
fn diverged(
    cfg: &FlowConfig,
    offset: usize,
    lost: &[usize],
    t: f64,
    state: &mut [f64],
    delta: &mut [f64],
    d: usize,
) -> Result<()> {
    if cfg.on_divergence == OnDivergence::Error {
        return Err(Error::NonFinite {
            op: "sampling::transport".into(),
            what: format!(
                "the state or log-density of sample {} at t = {t} (and of {} more: the velocity \
                 carries them out of the finite range; OnDivergence::Mark keeps the others)",
                offset + lost[0],
                lost.len() - 1
            ),
        });
    }
    for &q in lost {
        state[q * d..(q + 1) * d].fill(f64::NAN);
        delta[q] = f64::NAN;
    }
    Ok(())
}
