//! Explicit Runge–Kutta integrators recorded on the tape, and the 3/8-rule integrator that carries
//! the log-density along a trajectory (continuous normalising flows).
//!
//! The right-hand side `f(x, t)` is ordinary [`Var`] code, so every stage is recorded and
//! gradients flow from the final state back to the initial state and to any parameter the closure
//! captures (discretise-then-optimise: the gradient is the exact derivative of the discrete map).
//!
//! For a state `x` of shape `[batch, dim]` moved by `dx/dt = μ(x, t)` the density of the
//! pushed-forward samples obeys `d/dt log p(x(t), t) = −div μ(x(t), t)`; integrating it beside the
//! state gives `log p_T(x_T) = log p_0(x_0) + Δ` with `Δ = −∫ div μ dt`.

use crate::autodiff::{Tape, Var};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A time-stepping scheme that declares its convergence order.
pub trait Integrator {
    /// The global order `p`: the error at a fixed final time behaves like `C hᵖ` for small steps
    /// `h` (for stochastic schemes see [`SdeScheme`](super::sde::SdeScheme)).
    fn order(&self) -> f64;
}

/// An explicit four-stage Runge–Kutta method of order 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RungeKutta {
    /// Classical RK4: `c = (0, ½, ½, 1)`, weights `(1, 2, 2, 1)/6`.
    Classical,
    /// Kutta's 3/8 rule: `c = (0, ⅓, ⅔, 1)`, stages `k₂ = f(x + h k₁/3)`,
    /// `k₃ = f(x + h(−k₁/3 + k₂))`, `k₄ = f(x + h(k₁ − k₂ + k₃))`, weights `(1, 3, 3, 1)/8`.
    ThreeEighths,
}

impl Integrator for RungeKutta {
    fn order(&self) -> f64 {
        4.0
    }
}

impl RungeKutta {
    /// Stage times `c`, the strictly lower Butcher matrix `a` (row `i` has `i` entries) and the
    /// weights `b`.
    fn tableau(self) -> ([f64; 4], [&'static [f64]; 4], [f64; 4]) {
        match self {
            RungeKutta::Classical => (
                [0.0, 0.5, 0.5, 1.0],
                [&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
                [1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
            ),
            RungeKutta::ThreeEighths => (
                [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0],
                [&[], &[1.0 / 3.0], &[-1.0 / 3.0, 1.0], &[1.0, -1.0, 1.0]],
                [0.125, 0.375, 0.375, 0.125],
            ),
        }
    }

    /// One step of size `h` from `(t, x)` for a system whose state is a list of `Var`s.
    fn step<'t, F>(self, f: &F, x: &[Var<'t>], t: f64, h: f64) -> Vec<Var<'t>>
    where
        F: Fn(&[Var<'t>], f64) -> Vec<Var<'t>>,
    {
        let (c, a, b) = self.tableau();
        let mut ks: Vec<Vec<Var<'t>>> = Vec::with_capacity(4);
        for i in 0..4 {
            let stage: Vec<Var<'t>> = (0..x.len())
                .map(|j| {
                    a[i].iter()
                        .zip(&ks)
                        .filter(|(aij, _)| **aij != 0.0)
                        .fold(x[j], |acc, (aij, k)| acc + k[j] * (h * aij))
                })
                .collect();
            ks.push(f(&stage, t + c[i] * h));
        }
        (0..x.len())
            .map(|j| {
                b.iter()
                    .zip(&ks)
                    .fold(x[j], |acc, (bi, k)| acc + k[j] * (h * bi))
            })
            .collect()
    }
}

/// The time grid of a fixed-step integration: `steps` equal steps from `t0` to `t1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeGrid {
    /// Initial time.
    pub t0: f64,
    /// Final time (may be below `t0`: integration backwards in time).
    pub t1: f64,
    /// Number of steps, at least 1.
    pub steps: usize,
}

impl Default for TimeGrid {
    /// `t ∈ [0, 1]` in 100 steps.
    fn default() -> Self {
        TimeGrid {
            t0: 0.0,
            t1: 1.0,
            steps: 100,
        }
    }
}

impl TimeGrid {
    /// The step `h = (t1 − t0)/steps`.
    pub fn dt(&self) -> f64 {
        (self.t1 - self.t0) / self.steps as f64
    }

    /// Checks that the grid is usable.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `steps == 0` or a time is not finite.
    pub fn validate(&self, op: &str) -> Result<()> {
        if self.steps == 0 || !self.t0.is_finite() || !self.t1.is_finite() {
            return Err(Error::InvalidInput {
                op: op.into(),
                detail: format!(
                    "time grid needs finite times and steps ≥ 1 (t0 = {}, t1 = {}, steps = {})",
                    self.t0, self.t1, self.steps
                ),
            });
        }
        Ok(())
    }
}

/// Integrates `dx/dt = f(x, t)` from `x(t0) = x0` with the fixed-step method `method`, recording
/// every stage on the tape; returns `x(t1)`.
///
/// `f` must return a `Var` of the state's shape.
///
/// # Errors
/// [`Error::InvalidInput`] for a bad grid, [`Error::NonFinite`] if the final state is not finite.
pub fn integrate<'t, F>(method: RungeKutta, f: F, x0: Var<'t>, grid: &TimeGrid) -> Result<Var<'t>>
where
    F: Fn(Var<'t>, f64) -> Var<'t>,
{
    grid.validate("integrate")?;
    let sys = |x: &[Var<'t>], t: f64| vec![f(x[0], t)];
    let h = grid.dt();
    let mut x = vec![x0];
    for n in 0..grid.steps {
        x = method.step(&sys, &x, grid.t0 + n as f64 * h, h);
    }
    x[0].check_finite("integrate: final state")
}

/// How the divergence `div μ = Σᵢ ∂μᵢ/∂xᵢ` of the velocity field is obtained.
pub enum Divergence<'a, 't> {
    /// Supplied by the user: `div(x, t)` returns a `Var` of shape `[batch]`.
    Given(Box<dyn Fn(Var<'t>, f64) -> Var<'t> + 'a>),
    /// Computed by nested reverse mode, one recorded gradient per state dimension (exact, costs
    /// `dim` reverse sweeps per stage). Requires `μ` to act row by row on the batch.
    Reverse,
}

/// The result of [`integrate_log_density`].
#[derive(Clone, Copy, Debug)]
pub struct FlowResult<'t> {
    /// The final state `x(t1)`, shape `[batch, dim]`.
    pub x: Var<'t>,
    /// `Δ = −∫ div μ(x(t), t) dt` per sample, shape `[batch]`: `log p_{t1}(x(t1)) =
    /// log p_{t0}(x(t0)) + Δ`.
    pub delta_log_p: Var<'t>,
}

/// `(μ, div μ)` at `x` (shape `[batch, dim]`), the divergence by nested reverse mode: for each
/// dimension `i` the recorded gradient of `⟨eᵢ, μ⟩` with respect to `x`, column `i`, summed.
fn reverse_divergence<'t, F>(f: &F, x: Var<'t>, t: f64) -> (Var<'t>, Var<'t>)
where
    F: Fn(Var<'t>, f64) -> Var<'t>,
{
    let tape: &'t Tape = x.tape();
    let shape = x.shape().to_vec();
    let (batch, dim) = (shape[0], shape[1]);
    // A zero leaf makes the state differentiable even when it descends from constants only,
    // while keeping it connected to x0 and to the parameters.
    let z = x + tape.var(Tensor::zeros(&shape));
    let mu = f(z, t);
    let mut div: Option<Var<'t>> = None;
    for i in 0..dim {
        let mut seed = Tensor::zeros(&shape);
        for r in 0..batch {
            seed.data_mut()[r * dim + i] = 1.0;
        }
        let g = tape.grad_with_seeds(&[mu], &[tape.constant(seed)], &[z])[0];
        let col = g.slice(1, i..i + 1);
        div = Some(match div {
            Some(d) => d + col,
            None => col,
        });
    }
    (mu, div.expect("dim ≥ 1").reshape(&[batch]))
}

/// Integrates `dx/dt = f(x, t)` together with `d/dt log p = −div f` using `method` (the
/// 3/8 rule, [`RungeKutta::ThreeEighths`], is the usual choice), returning the final state and
/// the change of log-density of every sample.
///
/// # Panics
/// If `x0` is not of rank 2 `[batch, dim]`.
///
/// # Errors
/// [`Error::InvalidInput`] for a bad grid, [`Error::NonFinite`] if a result is not finite.
pub fn integrate_log_density<'t, F>(
    method: RungeKutta,
    f: F,
    divergence: &Divergence<'_, 't>,
    x0: Var<'t>,
    grid: &TimeGrid,
) -> Result<FlowResult<'t>>
where
    F: Fn(Var<'t>, f64) -> Var<'t>,
{
    let flow = integrate_log_density_unchecked(method, f, divergence, x0, grid)?;
    Ok(FlowResult {
        x: flow.x.check_finite("integrate_log_density: final state")?,
        delta_log_p: flow
            .delta_log_p
            .check_finite("integrate_log_density: log-density")?,
    })
}

/// [`integrate_log_density`] without the final finiteness check: rows whose state or
/// log-density left the finite range come back non-finite (the flow is row by row when `f`
/// and the divergence are, so the other rows are unaffected), for a caller that handles them
/// row by row.
///
/// # Errors
/// [`Error::InvalidInput`] for a bad grid.
pub(crate) fn integrate_log_density_unchecked<'t, F>(
    method: RungeKutta,
    f: F,
    divergence: &Divergence<'_, 't>,
    x0: Var<'t>,
    grid: &TimeGrid,
) -> Result<FlowResult<'t>>
where
    F: Fn(Var<'t>, f64) -> Var<'t>,
{
    let shape = x0.shape().to_vec();
    assert!(
        shape.len() == 2,
        "integrate_log_density: state must be [batch, dim], got {shape:?}"
    );
    grid.validate("integrate_log_density")?;
    let sys = |s: &[Var<'t>], t: f64| {
        let (mu, div) = match divergence {
            Divergence::Given(d) => (f(s[0], t), d(s[0], t)),
            Divergence::Reverse => reverse_divergence(&f, s[0], t),
        };
        vec![mu, -div]
    };
    let h = grid.dt();
    let mut state = vec![x0, x0.tape().constant(Tensor::zeros(&[shape[0]]))];
    for n in 0..grid.steps {
        state = method.step(&sys, &state, grid.t0 + n as f64 * h, h);
    }
    Ok(FlowResult {
        x: state[0],
        delta_log_p: state[1],
    })
}
