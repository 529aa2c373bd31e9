//! Physics operators: the Fokker–Planck residual of an Ornstein–Uhlenbeck process vanishes at its
//! exact log-density (nested and Hutchinson), closed-form HJB and parametrisation checks, and the
//! jet and nested Fokker–Planck losses agree on networks and differentiate to the weights.

use physgrad::nn::{MlpConfig, Module, ParamStore};
use physgrad::pde::hutchinson::{self, HutchinsonConfig};
use physgrad::pde::operators::{
    continuity, fokker_planck, hjb, log_density, split_time, time_sigma,
};
use physgrad::pde::{jet, neural, Request};
use physgrad::testing::{check_grad, hr, GradCheck};
use physgrad::{Tape, Tensor, Var};

const THETA: f64 = 0.7;
const C: f64 = 0.9;
const S0: f64 = 0.4;

/// `σ = c·(I − 2uuᵀ/‖u‖²)`: a rotated diffusion with `σσᵀ = c²I`.
fn householder_sigma(d: usize) -> Tensor {
    let u = Tensor::randn(&[d], 21);
    let n2 = u.dot(&u);
    let data = (0..d * d)
        .map(|k| {
            let (i, j) = (k / d, k % d);
            C * (f64::from(u8::from(i == j)) - 2.0 * u.data()[i] * u.data()[j] / n2)
        })
        .collect();
    Tensor::from_vec(data, &[d, d])
}

/// The exact log-density of `dX = −θX dt + σ dW`, `X₀ ~ N(m₀, s₀²I)`, `σσᵀ = c²I`:
/// `X_t ~ N(e^{−θt}m₀, s(t)I)`, `s(t) = e^{−2θt}s₀² + (1 − e^{−2θt})c²/(2θ)`.
fn ou_log_density<'t>(xt: Var<'t>, m0: &Tensor) -> Var<'t> {
    let d = xt.shape()[1] - 1;
    let (x, t) = (xt.slice(1, 0..d), xt.slice(1, d..d + 1));
    let decay = (-THETA * t).exp();
    let e2 = decay.square();
    let s = e2 * (S0 * S0) + (1.0 - e2) * (C * C / (2.0 * THETA));
    let m = decay * xt.tape().constant(m0.clone());
    let quad = (x - m).square().sum_axes(&[1], true) / s;
    -0.5 * quad - (0.5 * d as f64) * ((2.0 * std::f64::consts::PI) * s).ln()
}

#[test]
fn fokker_planck_residual_vanishes_for_ornstein_uhlenbeck() {
    for d in [1usize, 3, 6] {
        let m0 = Tensor::randn(&[d], 22);
        let sigma = householder_sigma(d);
        let mut pts = Tensor::randn(&[8, d + 1], 23).into_vec();
        for row in pts.chunks_mut(d + 1) {
            row[d] = row[d].abs() + 0.1; // t > 0
        }
        let pts = Tensor::from_vec(pts, &[8, d + 1]);
        let tape = Tape::new();
        let xt = tape.var(pts);
        let req = Request::diffusion(time_sigma(&sigma)).with_gradient();
        // ∇²v = −I/s is diagonal in any basis, so one Rademacher probe is exact here.
        let cfg = HutchinsonConfig {
            probes: 1,
            ..Default::default()
        };
        let methods = [
            neural::scalar(xt, |x| ou_log_density(x, &m0), &req),
            hutchinson::scalar(xt, |x| ou_log_density(x, &m0), &req, &cfg),
        ];
        for r in methods {
            let (gx, dt) = split_time(r.gradient.unwrap());
            let mu = -THETA * xt.slice(1, 0..d);
            let div_mu = neural::divergence(xt, mu, &(0..d).collect::<Vec<_>>());
            let p = fokker_planck(gx, mu, div_mu, Some(&sigma), r.second);
            let residual = (dt - p).value();
            let scale = 1.0 + dt.value().norm();
            assert!(
                residual.norm() < 1e-10 * scale,
                "d = {d}: residual {:e}",
                residual.norm()
            );
        }
    }
}

fn flow_log_density<'t>(xt: Var<'t>, m0: &Tensor) -> Var<'t> {
    let d = xt.shape()[1] - 1;
    let (x, t) = (xt.slice(1, 0..d), xt.slice(1, d..d + 1));
    let decay = (-THETA * t).exp();
    let s = decay.square() * (S0 * S0);
    let m = decay * xt.tape().constant(m0.clone());
    let quad = (x - m).square().sum_axes(&[1], true) / s;
    -0.5 * quad - (0.5 * d as f64) * ((2.0 * std::f64::consts::PI) * s).ln()
}

/// Deterministic transport `dX = −θX dt`: `X_t ~ N(e^{−θt}m₀, e^{−2θt}s₀²I)` satisfies the
/// continuity equation `∂ₜv = −div μ − ∇v·μ`.
#[test]
fn continuity_residual_vanishes_for_linear_flow() {
    let d = 3;
    let m0 = Tensor::randn(&[d], 24);
    let tape = Tape::new();
    let xt = tape.var(Tensor::rand_uniform(&[5, d + 1], 0.1, 1.5, 25));
    let r = neural::scalar(xt, |x| flow_log_density(x, &m0), &Request::gradient());
    let (gx, dt) = split_time(r.gradient.unwrap());
    let mu = -THETA * xt.slice(1, 0..d);
    let div_mu = tape.constant(Tensor::full(&[5], -THETA * d as f64));
    let residual = (dt - continuity(gx, mu, div_mu)).value();
    assert!(
        residual.norm() < 1e-10 * (1.0 + dt.value().norm()),
        "{:e}",
        residual.norm()
    );
}

/// `Φ = ½xᵀAx`: `HJB(Φ) = −½‖Ax‖² − ½ tr(σᵀAσ)`.
#[test]
fn hjb_on_a_quadratic() {
    let d = 3;
    let m = Tensor::randn(&[d, d], 26);
    let a = Tensor::from_vec(
        (0..d * d)
            .map(|k| m.data()[k] + m.data()[(k % d) * d + k / d])
            .collect(),
        &[d, d],
    );
    let sigma = Tensor::randn(&[d, 2], 27);
    let xs = Tensor::randn(&[4, d], 28);
    let tape = Tape::new();
    let x = tape.var(xs.clone());
    let ac = tape.constant(a.clone());
    let r = neural::scalar(
        x,
        |x| (0.5 * (x.matmul(x.tape().constant(a.clone())) * x)).sum_axes(&[1], false),
        &Request::diffusion(sigma.clone()).with_gradient(),
    );
    let got = hjb(r.gradient.unwrap(), r.second.unwrap()).value();
    let mut tr = 0.0;
    for c in 0..2 {
        for i in 0..d {
            for j in 0..d {
                tr += sigma.at(&[i, c]) * a.at(&[i, j]) * sigma.at(&[j, c]);
            }
        }
    }
    let ax = x.matmul(ac).value();
    for b in 0..4 {
        let n2: f64 = (0..d).map(|i| ax.at(&[b, i]).powi(2)).sum();
        assert!((got.data()[b] - (-0.5 * n2 - 0.5 * tr)).abs() < 1e-12);
    }
}

#[test]
fn log_density_parametrisation_interpolates() {
    let tape = Tape::new();
    let t = tape.constant(Tensor::from_vec(vec![0.0, 2.0, 0.5], &[3]));
    let lq = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let lz = tape.scalar(0.25);
    let lp = tape.constant(Tensor::from_vec(vec![-1.0, -2.0, -3.0], &[3]));
    let w = tape.constant(Tensor::from_vec(vec![5.0, 6.0, 7.0], &[3]));
    let v = log_density(t, 2.0, lq, lz, lp, w).value();
    // t = 0: prior; t = T: log q − log z; t = T/4: ¼(3 − ¼) + ¾(−3) + (3/16)·7
    let want = [-1.0, 1.75, 0.25 * 2.75 - 2.25 + 3.0 / 16.0 * 7.0];
    for (g, w) in v.data().iter().zip(want) {
        assert!((g - w).abs() < 1e-14, "{g} vs {w}");
    }
}

/// The Fokker–Planck residual loss with v and μ networks on (x, t): jets and nested reverse
/// mode give the same loss and weight gradients; the jet loss passes a gradient check.
fn fp_loss<'t>(
    vnet: &physgrad::nn::Mlp,
    mnet: &physgrad::nn::Mlp,
    p: &physgrad::nn::Bound<'t>,
    xt: Var<'t>,
    sigma: &Tensor,
    jets: bool,
) -> Var<'t> {
    let d = sigma.shape()[0];
    let req = Request::diffusion(time_sigma(sigma)).with_gradient();
    let coords: Vec<usize> = (0..d).collect();
    let (r, mu, div) = if jets {
        let (mu, div) = jet::mlp_divergence(mnet, p, xt, &coords);
        (jet::mlp_scalar(vnet, p, xt, &req), mu, div)
    } else {
        let mu = mnet.forward(p, xt);
        (
            neural::scalar(xt, |x| vnet.forward(p, x), &req),
            mu,
            neural::divergence(xt, mu, &coords),
        )
    };
    let (gx, dt) = split_time(r.gradient.unwrap());
    (dt - fokker_planck(gx, mu, div, Some(sigma), r.second))
        .square()
        .mean()
}

#[test]
fn fokker_planck_loss_jets_match_nested_and_gradcheck() {
    let d = 2;
    let mut store = ParamStore::new(30);
    let vnet = MlpConfig::new(&[d + 1, 6, 6, 1]).build(&mut store, "v");
    let mnet = MlpConfig::new(&[d + 1, 6, d]).build(&mut store, "mu");
    let sigma = Tensor::randn(&[d, 2], 31);
    let xs = Tensor::randn(&[5, d + 1], 32);
    let tape = Tape::new();
    let p = store.bind(&tape);
    let xt = tape.var(xs.clone());
    let lj = fp_loss(&vnet, &mnet, &p, xt, &sigma, true);
    let ln = fp_loss(&vnet, &mnet, &p, xt, &sigma, false);
    assert!((lj.item() - ln.item()).abs() < 1e-10 * (1.0 + ln.item().abs()));
    let (gj, gn) = (p.gradients(lj), p.gradients(ln));
    for id in store.ids() {
        let (a, b) = (gj.get(id).unwrap(), gn.get(id).unwrap());
        assert!(
            a.max_abs_diff(b) < 1e-10 * (1.0 + b.norm()),
            "{}",
            store.name(id)
        );
    }
    let (s, vn, mn, sg) = (store.clone(), vnet.clone(), mnet.clone(), sigma.clone());
    let f = hr(move |tape, w| {
        let p = s.bind_vars(w);
        let xt = tape.constant(xs.clone());
        fp_loss(&vn, &mn, &p, xt, &sg, true)
    });
    check_grad(f, store.values(), &GradCheck::default()).unwrap();
}
