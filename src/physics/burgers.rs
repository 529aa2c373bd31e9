//! Explicit reference solver for viscous Burgers `u_t + (u²/2)_x = ν u_xx` on plain tensors.
//!
//! Finite volumes on a uniform grid: the convective flux at each face is Rusanov's (local
//! Lax–Friedrichs) `F = ½(u_L²/2 + u_R²/2) − ½ max(|u_L|, |u_R|)(u_R − u_L)`, diffusion the
//! central `ν (u_{i+1} − 2u_i + u_{i−1})/Δx²`, forward Euler in time. The scheme is first order
//! in space (Rusanov's numerical viscosity is `O(Δx)`) and in time, and it is stable (monotone,
//! maximum principle) under `max|u| Δt/Δx + 2ν Δt/Δx² ≤ 1`, which is checked every step.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Boundary conditions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BurgersBoundary {
    /// `u(x + L) = u(x)`: `n` cells at `xᵢ = i L/n`.
    Periodic,
    /// Fixed values at both ends: `n` nodes at `xᵢ = i L/(n − 1)`, the end nodes held at `left`
    /// and `right`.
    Dirichlet {
        /// `u(0, t)`.
        left: f64,
        /// `u(L, t)`.
        right: f64,
    },
    /// Zero-gradient (outflow) ends: `n` nodes at `xᵢ = i L/(n − 1)`; the value beyond each end
    /// repeats the end value (ghost `u₋₁ = u₀`, `uₙ = uₙ₋₁`), so the diffusive flux through an
    /// end is zero and the convective flux is `u_end²/2` — the replicate padding of grid
    /// stencils.
    Neumann,
}

/// The solver's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Burgers {
    /// Viscosity `ν ≥ 0`.
    pub nu: f64,
    /// Domain length `L > 0` (the domain is `[0, L]`).
    pub length: f64,
    /// Boundary conditions.
    pub boundary: BurgersBoundary,
    /// Step selection: `Some(Δt)` uses that step (the last one shortened to land on the final
    /// time) and fails if it violates the stability bound; `None` picks
    /// `Δt = safety / (max|u|/Δx + 2ν/Δx²)` afresh each step.
    pub dt: Option<f64>,
    /// Safety factor `∈ (0, 1]` of the automatic step.
    pub safety: f64,
}

impl Default for Burgers {
    /// `ν = 0.01`, `L = 1`, periodic, automatic steps with safety 0.45.
    fn default() -> Self {
        Burgers {
            nu: 0.01,
            length: 1.0,
            boundary: BurgersBoundary::Periodic,
            dt: None,
            safety: 0.45,
        }
    }
}

impl Burgers {
    /// The grid spacing for `n` values.
    pub fn dx(&self, n: usize) -> f64 {
        match self.boundary {
            BurgersBoundary::Periodic => self.length / n as f64,
            BurgersBoundary::Dirichlet { .. } | BurgersBoundary::Neumann => {
                self.length / (n - 1) as f64
            }
        }
    }

    /// The stability number `max|u| Δt/Δx + 2ν Δt/Δx²` (must be ≤ 1).
    pub fn stability_number(&self, u: &[f64], dx: f64, dt: f64) -> f64 {
        let umax = u.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        umax * dt / dx + 2.0 * self.nu * dt / (dx * dx)
    }

    fn validate(&self, u0: &Tensor, t_final: f64) -> Result<()> {
        let bad = |detail: String| {
            Err(Error::InvalidInput {
                op: "burgers".into(),
                detail,
            })
        };
        let min_n = match self.boundary {
            BurgersBoundary::Periodic => 2,
            BurgersBoundary::Dirichlet { .. } => 3,
            BurgersBoundary::Neumann => 2,
        };
        if u0.ndim() != 1 || u0.len() < min_n {
            return bad(format!(
                "u0 must be 1-D with ≥ {min_n} values, got {:?}",
                u0.shape()
            ));
        }
        if !(self.nu >= 0.0 && self.nu.is_finite() && self.length > 0.0 && t_final >= 0.0) {
            return bad(format!(
                "need ν ≥ 0, L > 0, t ≥ 0 (ν = {}, L = {}, t = {t_final})",
                self.nu, self.length
            ));
        }
        if !(self.safety > 0.0 && self.safety <= 1.0) || self.dt.is_some_and(|d| d <= 0.0) {
            return bad(format!(
                "safety {} / dt {:?} out of range",
                self.safety, self.dt
            ));
        }
        if u0.has_non_finite() {
            return Err(Error::NonFinite {
                op: "burgers".into(),
                what: "initial condition".into(),
            });
        }
        Ok(())
    }

    /// Advances the grid values `u0` to time `t_final`; returns `u(·, t_final)`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for bad settings or a fixed step that violates the stability
    /// bound (the detail gives the stability number); [`Error::NonFinite`] for a non-finite
    /// initial condition.
    pub fn solve(&self, u0: &Tensor, t_final: f64) -> Result<Tensor> {
        self.validate(u0, t_final)?;
        let n = u0.len();
        let dx = self.dx(n);
        let mut u = u0.data().to_vec();
        if let BurgersBoundary::Dirichlet { left, right } = self.boundary {
            u[0] = left;
            u[n - 1] = right;
        }
        let mut next = u.clone();
        let mut t = 0.0;
        while t < t_final {
            let remaining = t_final - t;
            let dt = match self.dt {
                Some(dt) => {
                    let s = self.stability_number(&u, dx, dt);
                    if s > 1.0 {
                        return Err(Error::InvalidInput {
                            op: "burgers".into(),
                            detail: format!(
                                "Δt = {dt} violates max|u|Δt/Δx + 2νΔt/Δx² ≤ 1 (it is {s:.3})"
                            ),
                        });
                    }
                    dt.min(remaining)
                }
                None => {
                    let rate = self.stability_number(&u, dx, 1.0);
                    if rate == 0.0 {
                        remaining
                    } else {
                        (self.safety / rate).min(remaining)
                    }
                }
            };
            self.step(&u, &mut next, dx, dt);
            std::mem::swap(&mut u, &mut next);
            t = if dt == remaining { t_final } else { t + dt };
        }
        Ok(Tensor::from_vec(u, &[n]))
    }

    /// One forward-Euler step from `u` into `out`.
    fn step(&self, u: &[f64], out: &mut [f64], dx: f64, dt: f64) {
        let n = u.len();
        let flux = |l: f64, r: f64| 0.25 * (l * l + r * r) - 0.5 * l.abs().max(r.abs()) * (r - l);
        let periodic = matches!(self.boundary, BurgersBoundary::Periodic);
        let neumann = matches!(self.boundary, BurgersBoundary::Neumann);
        let (lo, hi) = if periodic || neumann {
            (0, n)
        } else {
            (1, n - 1)
        };
        for i in lo..hi {
            let (im, ip) = if periodic {
                ((i + n - 1) % n, (i + 1) % n)
            } else {
                (i.saturating_sub(1), (i + 1).min(n - 1))
            };
            let conv = flux(u[i], u[ip]) - flux(u[im], u[i]);
            let diff = u[ip] - 2.0 * u[i] + u[im];
            out[i] = u[i] - dt / dx * conv + self.nu * dt / (dx * dx) * diff;
        }
        if !periodic && !neumann {
            out[0] = u[0];
            out[n - 1] = u[n - 1];
        }
    }
}
