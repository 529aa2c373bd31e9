//! Physics operators on the derivatives computed by any of the three methods ([`super::neural`],
//! [`super::jet`], [`super::hutchinson`]): they only combine tape values, so the method is chosen
//! by whoever fills in the [`Derivatives`](super::Derivatives).
//!
//! Shapes: `∇ₓv` `[B, d]`, drift `μ` `[B, d]`, `div μ`, `tr(σσᵀ∇²v)` and results `[B]`; `σ` is a
//! constant `[d, k]`. For fields on `(x, t)` use [`time_sigma`] for the diffusion request and
//! [`split_time`] to separate `∇ₓv` from `∂ₜv`.

use crate::autodiff::Var;
use crate::tensor::Tensor;

/// The Fokker–Planck operator on a log-density `v = log p` of `dX = μ dt + σ dW`:
/// `P_FP(v) = −div μ − ∇v·μ + ½‖σᵀ∇v‖² + ½ tr(σσᵀ∇²v)`, so that `∂ₜv = P_FP(v)`.
/// `sigma = None` (with `trace = None`) is the continuity operator.
///
/// # Panics
/// If exactly one of `sigma` and `trace` is given, or the shapes do not match.
#[track_caller]
pub fn fokker_planck<'t>(
    grad_v: Var<'t>,
    mu: Var<'t>,
    div_mu: Var<'t>,
    sigma: Option<&Tensor>,
    trace: Option<Var<'t>>,
) -> Var<'t> {
    let (gs, ms) = (grad_v.shape(), mu.shape());
    assert!(
        gs.len() == 2 && gs.as_slice() == ms.as_slice(),
        "fokker_planck: ∇v {:?} and μ {:?} must both be [B, d]",
        gs.as_slice(),
        ms.as_slice()
    );
    let b = gs[0];
    let transport = -div_mu.reshape(&[b]) - (grad_v * mu).sum_axes(&[1], false);
    match (sigma, trace) {
        (None, None) => transport,
        (Some(s), Some(tr)) => {
            assert!(
                s.ndim() == 2 && s.shape()[0] == gs[1],
                "fokker_planck: σ must be [d = {}, k], got {:?}",
                gs[1],
                s.shape()
            );
            let st = grad_v.matmul(grad_v.tape().constant(s.clone())); // (σᵀ∇v)ᵀ per row
            transport + 0.5 * st.square().sum_axes(&[1], false) + 0.5 * tr.reshape(&[b])
        }
        _ => panic!("fokker_planck: give both σ and tr(σσᵀ∇²v), or neither"),
    }
}

/// The continuity operator `−div μ − ∇v·μ` (Fokker–Planck with `σ = 0`).
#[track_caller]
pub fn continuity<'t>(grad_v: Var<'t>, mu: Var<'t>, div_mu: Var<'t>) -> Var<'t> {
    fokker_planck(grad_v, mu, div_mu, None, None)
}

/// The Hamilton–Jacobi–Bellman operator `−½‖∇Φ‖² − ½ tr(σσᵀ∇²Φ)` `[B]`.
#[track_caller]
pub fn hjb<'t>(grad_phi: Var<'t>, trace: Var<'t>) -> Var<'t> {
    let b = grad_phi.shape()[0];
    -0.5 * grad_phi.square().sum_axes(&[1], false) - 0.5 * trace.reshape(&[b])
}

/// The log-density parametrisation
/// `v = (t/T)(log q − log z) + (1 − t/T) log p_prior + (t/T)(1 − t/T) w`, which equals the prior
/// at `t = 0` and the normalised target `q/z` at `t = T` whatever the network `w`. All inputs
/// broadcast against `t` `[B]` (`log z` is typically a learned scalar).
#[track_caller]
pub fn log_density<'t>(
    t: Var<'t>,
    horizon: f64,
    log_q: Var<'t>,
    log_z: Var<'t>,
    log_prior: Var<'t>,
    w: Var<'t>,
) -> Var<'t> {
    assert!(
        horizon > 0.0 && horizon.is_finite(),
        "log_density: the horizon T must be positive, got {horizon}"
    );
    let s = t * (1.0 / horizon);
    s * (log_q - log_z) + (1.0 - s) * log_prior + s * (1.0 - s) * w
}

/// `σ` `[d, k]` extended by a zero row to `[d + 1, k]`, for a field on `(x, t)`.
pub fn time_sigma(sigma: &Tensor) -> Tensor {
    let (d, k) = (sigma.shape()[0], sigma.shape()[1]);
    let mut data = sigma.data().to_vec();
    data.extend(std::iter::repeat_n(0.0, k));
    Tensor::from_vec(data, &[d + 1, k])
}

/// Splits a gradient on `(x, t)` `[B, d + 1]` into `∇ₓv` `[B, d]` and `∂ₜv` `[B]`.
#[track_caller]
pub fn split_time(grad: Var<'_>) -> (Var<'_>, Var<'_>) {
    let s = grad.shape();
    assert!(
        s.len() == 2 && s[1] >= 2,
        "split_time: need [B, d + 1], got {:?}",
        s.as_slice()
    );
    let (b, d) = (s[0], s[1] - 1);
    (grad.slice(1, 0..d), grad.slice(1, d..d + 1).reshape(&[b]))
}
