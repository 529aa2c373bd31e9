//! Stochastic integrators recorded on the tape: Euler–Maruyama for Itô SDEs with diagonal noise,
//! and its extension to jump diffusions with compound-Poisson jumps whose sizes are `Var`s.
//!
//! For `dX = μ(X, t) dt + σ(X, t) dB` (σ acts elementwise: diagonal noise) the Euler–Maruyama
//! step is `X_{n+1} = X_n + μ(X_n, t_n) h + σ(X_n, t_n) ΔB_n` with `ΔB_n ~ N(0, h I)`. Brownian
//! increments come from a seeded ChaCha8 generator ([`brownian_increments`]) or are given, so
//! paths at different step sizes can share one Brownian motion. Drift and diffusion are ordinary
//! `Var` closures; gradients flow through every step to `X₀` and to captured parameters
//! (pathwise derivatives).

use super::ode::TimeGrid;
use crate::autodiff::Var;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

/// A stochastic scheme with its strong order (pathwise, `E|X_T − X_T^h| = O(h^γ)`) and weak order
/// (in distribution, `|E φ(X_T) − E φ(X_T^h)| = O(h^β)` for smooth `φ`).
pub trait SdeScheme {
    /// The strong order `γ`.
    fn strong_order(&self) -> f64;
    /// The weak order `β`.
    fn weak_order(&self) -> f64;
}

/// `steps` Brownian increments `ΔB_n ~ N(0, |h| I)` of the given shape, from a seeded generator.
///
/// # Panics
/// If `h` is not finite.
pub fn brownian_increments(shape: &[usize], steps: usize, h: f64, seed: u64) -> Vec<Tensor> {
    assert!(h.is_finite(), "brownian_increments: step {h} is not finite");
    let scale = h.abs().sqrt();
    let all = Tensor::randn(&[steps.max(1), shape.iter().product()], seed);
    (0..steps)
        .map(|n| {
            let row = &all.data()[n * all.shape()[1]..(n + 1) * all.shape()[1]];
            Tensor::from_vec(row.iter().map(|z| z * scale).collect(), shape)
        })
        .collect()
}

/// Euler–Maruyama for `dX = μ(X, t) dt + σ(X, t) dB`: strong order ½, weak order 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EulerMaruyama {
    /// The time grid.
    pub grid: TimeGrid,
    /// Seed of the Brownian increments.
    pub seed: u64,
}

impl Default for EulerMaruyama {
    /// `t ∈ [0, 1]` in 100 steps, seed 0.
    fn default() -> Self {
        EulerMaruyama {
            grid: TimeGrid::default(),
            seed: 0,
        }
    }
}

impl SdeScheme for EulerMaruyama {
    fn strong_order(&self) -> f64 {
        0.5
    }
    fn weak_order(&self) -> f64 {
        1.0
    }
}

impl EulerMaruyama {
    /// Simulates one path per entry of `x0` with seeded increments; returns `X(t1)`.
    ///
    /// `drift` and `diffusion` take `(X, t)` and return `Var`s of `X`'s shape (or broadcastable
    /// to it).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad grid, [`Error::NonFinite`] if the final state is not
    /// finite.
    pub fn solve<'t, M, S>(&self, drift: M, diffusion: S, x0: Var<'t>) -> Result<Var<'t>>
    where
        M: Fn(Var<'t>, f64) -> Var<'t>,
        S: Fn(Var<'t>, f64) -> Var<'t>,
    {
        self.grid.validate("euler_maruyama")?;
        let db = brownian_increments(&x0.shape(), self.grid.steps, self.grid.dt(), self.seed);
        self.solve_with_increments(drift, diffusion, x0, &db)
    }

    /// As [`solve`](Self::solve) with given increments `ΔB_n` (one tensor of `X`'s shape per
    /// step; their number must equal `grid.steps`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad grid or a wrong number of increments,
    /// [`Error::NonFinite`] if the final state is not finite.
    ///
    /// # Panics
    /// If an increment does not have the state's shape.
    pub fn solve_with_increments<'t, M, S>(
        &self,
        drift: M,
        diffusion: S,
        x0: Var<'t>,
        increments: &[Tensor],
    ) -> Result<Var<'t>>
    where
        M: Fn(Var<'t>, f64) -> Var<'t>,
        S: Fn(Var<'t>, f64) -> Var<'t>,
    {
        let grid = &self.grid;
        grid.validate("euler_maruyama")?;
        check_increments("euler_maruyama", grid, increments)?;
        let tape = x0.tape();
        let h = grid.dt();
        let mut x = x0;
        for (n, db) in increments.iter().enumerate() {
            assert_eq!(
                db.shape(),
                x0.shape().as_slice(),
                "euler_maruyama: increment {n} shape vs state shape"
            );
            let t = grid.t0 + n as f64 * h;
            x = x + drift(x, t) * h + diffusion(x, t) * tape.constant(db.clone());
        }
        x.check_finite("euler_maruyama: final state")
    }
}

fn check_increments(op: &str, grid: &TimeGrid, increments: &[Tensor]) -> Result<()> {
    if increments.len() != grid.steps {
        return Err(Error::InvalidInput {
            op: op.into(),
            detail: format!("{} increments for {} steps", increments.len(), grid.steps),
        });
    }
    Ok(())
}

/// Euler–Maruyama for the jump diffusion `dX = μ(X, t) dt + σ(X, t) dB + dJ`, where
/// `J_t = Σ_{i ≤ N_t} Yᵢ` is a compound Poisson process of rate `λ` per entry of `X`.
///
/// The step is `X_{n+1} = X_n + μ h + σ ΔB_n + Σ_{jumps in step n} Yᵢ` with per-entry counts
/// `N_n ~ Poisson(λ h)`. The jump sizes are a `Var` of shape `[M]` (`M` the total number of
/// jumps, drawn first) produced by a user generator, so gradients flow into its parameters.
/// Jumps are consumed in order: step by step, then entry by entry in row-major order. The
/// jump part is exact for any step (the counts are exact Poisson draws), so the scheme keeps
/// Euler–Maruyama's orders.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JumpDiffusion {
    /// The time grid.
    pub grid: TimeGrid,
    /// Jump rate `λ ≥ 0` per unit time and per entry of the state.
    pub rate: f64,
    /// Seed of the Brownian increments and the Poisson counts.
    pub seed: u64,
}

impl Default for JumpDiffusion {
    /// `t ∈ [0, 1]` in 100 steps, rate 1, seed 0.
    fn default() -> Self {
        JumpDiffusion {
            grid: TimeGrid::default(),
            rate: 1.0,
            seed: 0,
        }
    }
}

impl SdeScheme for JumpDiffusion {
    fn strong_order(&self) -> f64 {
        0.5
    }
    fn weak_order(&self) -> f64 {
        1.0
    }
}

impl JumpDiffusion {
    /// Poisson counts `N_n` per step and entry (`steps × len` values, row-major).
    fn counts(&self, len: usize) -> Result<Vec<Vec<usize>>> {
        let mean = self.rate * self.grid.dt().abs();
        if !(self.rate >= 0.0 && mean.is_finite()) {
            return Err(Error::InvalidInput {
                op: "jump_diffusion".into(),
                detail: format!("jump rate must be finite and ≥ 0, got {}", self.rate),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x6a75_6d70);
        let pois = (mean > 0.0).then(|| Poisson::new(mean).expect("positive finite mean"));
        Ok((0..self.grid.steps)
            .map(|_| {
                (0..len)
                    .map(|_| pois.as_ref().map_or(0, |p| p.sample(&mut rng) as usize))
                    .collect()
            })
            .collect())
    }

    /// Simulates `X(t1)`. `jump_sizes(m)` is called once with the total number of jumps `m` and
    /// must return a `Var` of shape `[m]` (e.g. `a + b · z` with `z` standard normal, for
    /// trainable `a`, `b`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad grid or rate, [`Error::NonFinite`] if the final state is
    /// not finite.
    ///
    /// # Panics
    /// If `jump_sizes` returns a `Var` of the wrong shape.
    pub fn solve<'t, M, S, J>(
        &self,
        drift: M,
        diffusion: S,
        jump_sizes: J,
        x0: Var<'t>,
    ) -> Result<Var<'t>>
    where
        M: Fn(Var<'t>, f64) -> Var<'t>,
        S: Fn(Var<'t>, f64) -> Var<'t>,
        J: FnOnce(usize) -> Var<'t>,
    {
        self.grid.validate("jump_diffusion")?;
        let shape = x0.shape().to_vec();
        let len = x0.len();
        let counts = self.counts(len)?;
        let total: usize = counts.iter().flatten().sum();
        let sizes = jump_sizes(total);
        assert_eq!(
            sizes.shape().as_slice(),
            &[total],
            "jump_diffusion: jump sizes must have shape [{total}]"
        );
        let tape = x0.tape();
        let h = self.grid.dt();
        let db = brownian_increments(&shape, self.grid.steps, h, self.seed);
        let mut x = x0;
        let mut next = 0;
        for (n, step_counts) in counts.iter().enumerate() {
            let t = self.grid.t0 + n as f64 * h;
            let mut x_new = x + drift(x, t) * h + diffusion(x, t) * tape.constant(db[n].clone());
            let m: usize = step_counts.iter().sum();
            if m > 0 {
                let targets: Vec<usize> = step_counts
                    .iter()
                    .enumerate()
                    .flat_map(|(e, &c)| std::iter::repeat_n(e, c))
                    .collect();
                let jumps = sizes
                    .slice(0, next..next + m)
                    .scatter_add(0, &targets, len)
                    .reshape(&shape);
                x_new = x_new + jumps;
                next += m;
            }
            x = x_new;
        }
        x.check_finite("jump_diffusion: final state")
    }
}
