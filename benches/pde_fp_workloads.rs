//! The Fokker–Planck residual workload of issue 6 (item 5), timed by `benches/pde.rs`
//! (criterion) and by `examples/pde_workloads.rs` against PyTorch and JAX
//! (`benches/peers/pde_peers.py` mirrors it): `v: (x, t) ↦ ℝ` and `μ: (x, t) ↦ ℝᵈ` MLPs of four
//! hidden tanh layers of width 64, `σ = √2·I` (so `½ tr(σσᵀ∇²v) = Δₓv`), and one step is
//! `mean((∂ₜv − P_FP(v))²)` plus its gradient with respect to every weight.

#![allow(dead_code)]

use physgrad::nn::{Bound, Mlp, MlpConfig, Module, ParamStore};
use physgrad::pde::operators::{fokker_planck, split_time};
use physgrad::pde::{jet, neural, Request};
use physgrad::{Tape, Tensor, Var};

/// Little-endian f64 values from a file.
pub fn read_f64(path: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// The two networks with the weights from `path` (in store order: `v.layer0.weight`, …).
pub fn networks_from(path: &str, d: usize) -> (ParamStore, Mlp, Mlp) {
    let (mut store, vnet, mnet) = networks(d, 0);
    let flat = read_f64(path);
    assert_eq!(flat.len(), store.numel(), "{path}: wrong number of weights");
    let ids: Vec<_> = store.ids().collect();
    store.set_flat(&ids, &flat);
    (store, vnet, mnet)
}

/// The two networks with physgrad's seeded default initialisation (Glorot, zero biases).
pub fn networks(d: usize, seed: u64) -> (ParamStore, Mlp, Mlp) {
    let mut store = ParamStore::new(seed);
    let vnet = MlpConfig::new(&[d + 1, 64, 64, 64, 64, 1]).build(&mut store, "v");
    let mnet = MlpConfig::new(&[d + 1, 64, 64, 64, 64, d]).build(&mut store, "mu");
    (store, vnet, mnet)
}

/// The residual loss by forward jets (`jets = true`) or nested reverse mode.
pub fn fp_loss<'t>(vnet: &Mlp, mnet: &Mlp, p: &Bound<'t>, xt: Var<'t>, jets: bool) -> Var<'t> {
    let d = xt.shape()[1] - 1;
    let coords: Vec<usize> = (0..d).collect();
    let req = Request::laplacian(coords.clone()).with_gradient();
    let (r, mu, div) = if jets {
        let (mu, div) = jet::mlp_divergence(mnet, p, xt, &coords);
        (jet::mlp_scalar(vnet, p, xt, &req), mu, div)
    } else {
        let mu = mnet.forward(p, xt);
        let div = neural::divergence(xt, mu, &coords);
        (neural::scalar(xt, |x| vnet.forward(p, x), &req), mu, div)
    };
    let (gx, dt) = split_time(r.gradient.expect("requested"));
    let mut sigma = Tensor::zeros(&[d, d]);
    for i in 0..d {
        sigma.data_mut()[i * d + i] = std::f64::consts::SQRT_2;
    }
    let trace = 2.0 * r.second.expect("requested"); // tr(σσᵀ∇²v) = 2Δₓv
    (dt - fokker_planck(gx, mu, div, Some(&sigma), Some(trace)))
        .square()
        .mean()
}

/// One training step's work: the loss and the gradient with respect to every weight.
pub fn step(store: &ParamStore, vnet: &Mlp, mnet: &Mlp, pts: &Tensor, jets: bool) -> (f64, f64) {
    let tape = Tape::new();
    let p = store.bind(&tape);
    let xt = if jets {
        tape.constant(pts.clone())
    } else {
        tape.var(pts.clone())
    };
    let loss = fp_loss(vnet, mnet, &p, xt, jets);
    let grads = p.gradients(loss);
    let sq = store
        .ids()
        .map(|id| {
            grads
                .get(id)
                .map_or(0.0, |g| g.data().iter().map(|v| v * v).sum())
        })
        .sum();
    (loss.item(), sq)
}
