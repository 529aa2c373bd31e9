//! The six PINN sampling losses as `pde!` statements.
//!
//! Every loss learns the log-density path (except ODE-anneal, which fixes it)
//!
//! ```text
//! v(x, t) = t (log q(x) − log z) + (1 − t) log p₀(x) + t (1 − t) w(x, t),   T = 1,
//! ∂ₜv     = log q − log z − log p₀ + (1 − 2t) w + t(1 − t) ∂ₜw,
//! ∇v      = t ∇log q − (1 − t) x + t(1 − t) ∇w,      Δv = t Δlog q − (1 − t) d + t(1 − t) Δw,
//! ```
//!
//! with `p₀ = N(0, I)`, so `v(·, 0) = log p₀` and `v(·, 1) = log q − log z` hold by
//! construction; `log z` is one trainable scalar (a `given` parameter). The statements read
//! `log q`, `G₀ = t∇log q − (1 − t)x` and `L₀ = tΔlog q − (1 − t)d` from closed-form user
//! functions of the target ([`Analytic`]) and differentiate only the networks. The residuals
//! (each `mean(r²)` over `τ ~ U[0, 1]`, `ξ ~ U(K)`):
//!
//! * **ODE** (continuity, σ = 0): `∂ₜv = −div μ − ∇v·μ`.
//! * **SDE** (Fokker–Planck, σ = √2, so σσᵀ/2 = I): `∂ₜv = −div μ − ∇v·μ + |∇v|² + Δv`.
//! * **ODE-anneal**: `w ≡ 0` and `log z` replaced by a small network `c(t)`:
//!   `v = t(log q − c(t)) + (1 − t) log p₀`, continuity residual.
//! * **SDE-diffusion**: `μ = σ̄²∇v − f` with the VP drift `f = −σ̄²x/2` (σ = σ̄ I constant), so
//!   no drift network: `∂ₜv = −½σ̄²(Δv + |∇v|² + x·∇v + d)`.
//! * **OT**: continuity with `μ = ∇Φ` plus `λ·(∂ₜΦ + ½|∇Φ|²)` (the HJB of optimal transport).
//! * **SB**: Fokker–Planck (σ = √2) with `μ = ∇Φ` plus `λ·(∂ₜΦ + ½|∇Φ|² + ΔΦ)`.

use physgrad::problem::Problem;
use physgrad::sampling::Target;
use physgrad::{Tensor, Var};
use std::cell::RefCell;
use std::sync::Arc;

/// Which loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Continuity equation, drift network μ.
    Ode,
    /// Fokker–Planck with σ = √2, drift network μ.
    Sde,
    /// Continuity on the fixed annealing path, μ and a normaliser network c(t).
    Anneal,
    /// Fokker–Planck with the drift given by v (reverse VP diffusion).
    SdeDiffusion,
    /// Continuity with μ = ∇Φ plus the OT HJB.
    Ot,
    /// Fokker–Planck with μ = ∇Φ plus the SB HJB.
    Sb,
}

impl LossKind {
    /// All six, in the issue's order.
    pub const ALL: [LossKind; 6] = [
        LossKind::Ode,
        LossKind::Sde,
        LossKind::Anneal,
        LossKind::SdeDiffusion,
        LossKind::Ot,
        LossKind::Sb,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Ode => "ode",
            LossKind::Sde => "sde",
            LossKind::Anneal => "anneal",
            LossKind::SdeDiffusion => "sde-diffusion",
            LossKind::Ot => "ot",
            LossKind::Sb => "sb",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<LossKind> {
        LossKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Whether the loss learns `w` and `log z` (all but anneal).
    pub fn learns_w(self) -> bool {
        self != LossKind::Anneal
    }

    /// Whether it has a drift network μ.
    pub fn has_mu(self) -> bool {
        matches!(self, LossKind::Ode | LossKind::Sde | LossKind::Anneal)
    }

    /// Whether it has a potential network Φ.
    pub fn has_phi(self) -> bool {
        matches!(self, LossKind::Ot | LossKind::Sb)
    }
}

/// Settings the statements read.
#[derive(Clone, Copy, Debug)]
pub struct LossParams {
    /// λ, the weight of the HJB residual (OT, SB). Default 0.1.
    pub hjb_weight: f64,
    /// σ̄² of SDE-diffusion. Default 10 (the reverse VP path starts from the target pushed
    /// through `e^{−σ̄²/2} ≈ 0.007` of contraction, close to N(0, I)).
    pub vp_beta: f64,
    /// ODE loss only: weigh each point's residual by `1 / (1 + |log q − log p₀| / κ)` with
    /// this κ (`None`: unweighted). The endpoints' log-ratio is the scale of `∂ₜv`; on the
    /// Many-Well box it runs from ≈ 15 where the mass is to ≈ 1.3·10³ at the corners, so the
    /// unweighted mean is decided where no sample goes. The weight does not move the solution
    /// (a zero residual is zero under any weight), only which points the optimiser serves first.
    pub relative: Option<f64>,
}

impl Default for LossParams {
    fn default() -> Self {
        LossParams {
            hjb_weight: 0.1,
            vp_beta: 10.0,
            relative: None,
        }
    }
}

/// The closed-form parts of `v` as `pde!` user functions: `lq(x) = log q`,
/// `g0(x, t) = t∇log q − (1 − t)x`, `l0(x, t) = tΔlog q − (1 − t)d`. They read only the values
/// of their (constant) inputs, so they are recorded as constants.
pub struct Analytic {
    target: Arc<Target>,
}

/// The derivatives of [`Target::log_q_derivs`] at the rows of `x`.
type Derivs = (Tensor, Tensor, Tensor);

thread_local! {
    /// The last point set each thread asked [`derivs`] about, its target and the answer.
    static LAST: RefCell<Option<(Arc<Target>, Tensor, Derivs)>> = const { RefCell::new(None) };
}

/// `target.log_q_derivs(x)`, computed once per point set and thread: a statement's `lq`, `g0`,
/// `l0` and `rw` all ask at the same collocation points, one after the other. The cache holds
/// the target itself, so a pointer match cannot be a later target at a reused address.
fn derivs(target: &Arc<Target>, x: &Tensor) -> Derivs {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((t, xs, d)) = last.as_ref() {
            if Arc::ptr_eq(t, target) && xs.shape() == x.shape() && xs.data() == x.data() {
                return d.clone();
            }
        }
        let d = target.log_q_derivs(x);
        *last = Some((target.clone(), x.clone(), d.clone()));
        d
    })
}

/// `t` `[B]` and `x` `[B, d]` values, with `t` as a column.
fn values(x: Var<'_>, t: Var<'_>) -> (Tensor, Vec<f64>) {
    (x.value(), t.value().data().to_vec())
}

impl Analytic {
    /// Wraps a target.
    pub fn new(target: Arc<Target>) -> Analytic {
        Analytic { target }
    }

    /// `lq`.
    pub fn log_q(&self) -> impl for<'t> Fn(Var<'t>) -> Var<'t> + Send + Sync + 'static {
        let tg = self.target.clone();
        move |x: Var<'_>| {
            let (v, _, _) = derivs(&tg, &x.value());
            x.tape().constant(v)
        }
    }

    /// `rw`: the residual weight of [`LossParams::relative`] (all ones for `None`).
    pub fn weight(
        &self,
        kappa: Option<f64>,
    ) -> impl for<'t> Fn(Var<'t>) -> Var<'t> + Send + Sync + 'static {
        let tg = self.target.clone();
        move |x: Var<'_>| {
            let xv = x.value();
            let n = xv.shape()[0];
            let Some(k) = kappa else {
                return x.tape().constant(Tensor::full(&[n], 1.0));
            };
            let d = xv.shape()[1];
            let (lq, _, _) = derivs(&tg, &xv);
            let c0 = prior_log_norm(d);
            let w = xv
                .data()
                .chunks(d)
                .zip(lq.data())
                .map(|(r, q)| {
                    let lp0 = -0.5 * r.iter().map(|v| v * v).sum::<f64>() - c0;
                    1.0 / (1.0 + (q - lp0).abs() / k)
                })
                .collect();
            x.tape().constant(Tensor::from_vec(w, &[n]))
        }
    }

    /// `g0`.
    pub fn grad0(&self) -> impl for<'t> Fn(Var<'t>, Var<'t>) -> Var<'t> + Send + Sync + 'static {
        let tg = self.target.clone();
        move |x: Var<'_>, t: Var<'_>| {
            let (xv, tv) = values(x, t);
            let (_, mut g, _) = derivs(&tg, &xv);
            let d = xv.shape()[1];
            for ((gr, xr), s) in g.data_mut().chunks_mut(d).zip(xv.data().chunks(d)).zip(&tv) {
                for (gi, xi) in gr.iter_mut().zip(xr) {
                    *gi = s * *gi - (1.0 - s) * xi;
                }
            }
            x.tape().constant(g)
        }
    }

    /// `l0`.
    pub fn lap0(&self) -> impl for<'t> Fn(Var<'t>, Var<'t>) -> Var<'t> + Send + Sync + 'static {
        let tg = self.target.clone();
        move |x: Var<'_>, t: Var<'_>| {
            let (xv, tv) = values(x, t);
            let (_, _, mut l) = derivs(&tg, &xv);
            let d = xv.shape()[1] as f64;
            for (li, s) in l.data_mut().iter_mut().zip(&tv) {
                *li = s * *li - (1.0 - s) * d;
            }
            x.tape().constant(l)
        }
    }
}

/// `√2 I_d` (σ of the SDE losses).
pub fn root2_identity(d: usize) -> Tensor {
    let mut s = Tensor::zeros(&[d, d]);
    for i in 0..d {
        s.data_mut()[i * d + i] = 2f64.sqrt();
    }
    s
}

/// `(d/2) log 2π`, the normaliser of `p₀`.
pub fn prior_log_norm(d: usize) -> f64 {
    0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
}

/// The statement of `kind` for dimension `$d` (a literal: `R^d` and `vector(d)` need one).
macro_rules! statement {
    ($d:tt, $kind:expr, $target:expr, $lp:expr) => {{
        let an = Analytic::new($target);
        let (lq, g0, l0) = (an.log_q(), an.grad0(), an.lap0());
        let rw = an.weight($lp.relative);
        let c0 = prior_log_norm($d);
        let dd = $d as f64;
        let lp: LossParams = $lp;
        let beta = lp.vp_beta;
        let sigma = root2_identity($d);
        let _ = (&lq, &g0, &l0, &rw, c0, dd, beta, &sigma);
        match $kind {
            LossKind::Ode => physgrad::pde! {
                name: "pinn_ode";
                coords { x in R^$d, t in [0.0, 1.0] }
                params { logz given }
                fields { w: scalar, mu: vector($d) }
                functions { lq, g0, rw }
                residual continuity:
                    rw(x) * (lq(x) - logz + 0.5 * dot(x, x) + { c0 } + (1.0 - 2.0 * t) * w + t * (1.0 - t) * d(w, t))
                    = -rw(x) * (div(mu, x) + dot(g0(x, t) + t * (1.0 - t) * grad(w, x), mu));
            },
            LossKind::Sde => physgrad::pde! {
                name: "pinn_sde";
                coords { x in R^$d, t in [0.0, 1.0] }
                params { logz given }
                fields { w: scalar, mu: vector($d) }
                functions { lq, g0, l0 }
                residual fokker_planck:
                    lq(x) - logz + 0.5 * dot(x, x) + { c0 } + (1.0 - 2.0 * t) * w + t * (1.0 - t) * d(w, t)
                    = -div(mu, x) - dot(g0(x, t) + t * (1.0 - t) * grad(w, x), mu)
                      + dot(g0(x, t) + t * (1.0 - t) * grad(w, x), g0(x, t) + t * (1.0 - t) * grad(w, x))
                      + l0(x, t) + t * (1.0 - t) * lap(w, x);
            },
            LossKind::Anneal => physgrad::pde! {
                name: "pinn_anneal";
                coords { x in R^$d, t in [0.0, 1.0] }
                fields { c: scalar, mu: vector($d) }
                functions { lq, g0 }
                residual continuity:
                    lq(x) - c - t * d(c, t) + 0.5 * dot(x, x) + { c0 }
                    = -div(mu, x) - dot(g0(x, t), mu);
            },
            LossKind::SdeDiffusion => physgrad::pde! {
                name: "pinn_sde_diffusion";
                coords { x in R^$d, t in [0.0, 1.0] }
                params { logz given }
                fields { w: scalar }
                functions { lq, g0, l0 }
                residual fokker_planck:
                    lq(x) - logz + 0.5 * dot(x, x) + { c0 } + (1.0 - 2.0 * t) * w + t * (1.0 - t) * d(w, t)
                    = { -0.5 * beta } * (l0(x, t) + t * (1.0 - t) * lap(w, x)
                      + dot(g0(x, t) + t * (1.0 - t) * grad(w, x), g0(x, t) + t * (1.0 - t) * grad(w, x))
                      + dot(x, g0(x, t) + t * (1.0 - t) * grad(w, x)) + { dd });
            },
            LossKind::Ot => physgrad::pde! {
                name: "pinn_ot";
                coords { x in R^$d, t in [0.0, 1.0] }
                params { logz given }
                fields { w: scalar, phi: scalar }
                functions { lq, g0 }
                residual continuity:
                    lq(x) - logz + 0.5 * dot(x, x) + { c0 } + (1.0 - 2.0 * t) * w + t * (1.0 - t) * d(w, t)
                    = -lap(phi, x) - dot(g0(x, t) + t * (1.0 - t) * grad(w, x), grad(phi, x));
                residual hjb (weight = { lp.hjb_weight }):
                    d(phi, t) = -0.5 * dot(grad(phi, x), grad(phi, x));
            },
            LossKind::Sb => physgrad::pde! {
                name: "pinn_sb";
                coords { x in R^$d, t in [0.0, 1.0] }
                params { logz given }
                fields { w: scalar, phi: scalar }
                functions { lq, g0, l0 }
                residual fokker_planck:
                    lq(x) - logz + 0.5 * dot(x, x) + { c0 } + (1.0 - 2.0 * t) * w + t * (1.0 - t) * d(w, t)
                    = -lap(phi, x) - dot(g0(x, t) + t * (1.0 - t) * grad(w, x), grad(phi, x))
                      + dot(g0(x, t) + t * (1.0 - t) * grad(w, x), g0(x, t) + t * (1.0 - t) * grad(w, x))
                      + l0(x, t) + t * (1.0 - t) * lap(w, x);
                residual hjb (weight = { lp.hjb_weight }):
                    d(phi, t) = hjb(phi, x, { sigma.clone() });
            },
        }
    }};
}

/// The problem of `kind` on `target` (dimensions 2, 5 and 50 are instantiated), with the
/// collocation box of the target on `x`.
///
/// # Panics
/// For another dimension.
pub fn problem(kind: LossKind, target: &Arc<Target>, lp: LossParams) -> Problem {
    let t = target.clone();
    let mut pb = match target.dim() {
        2 => statement!(2, kind, t, lp),
        3 => statement!(3, kind, t, lp),
        5 => statement!(5, kind, t, lp),
        50 => statement!(50, kind, t, lp),
        d => panic!("pinn_sampling: no statement instantiated for d = {d} (2, 3, 5, 50)"),
    };
    pb.sample_box(pb.coord_id("x"), target.collocation.clone());
    pb
}
