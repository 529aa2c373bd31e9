//! physgrad's side of the Fokker–Planck speed comparison (`benches/peers/pde_peers.py`): the
//! residual loss `mean((∂ₜv − P_FP(v))²)` and its gradient with respect to all weights, with
//! `v: (x, t) ↦ ℝ` and `μ: (x, t) ↦ ℝᵈ` MLPs of four hidden tanh layers of width 64 and
//! `σ = √2·I`, so `½ tr(σσᵀ∇²v) = Δₓv` and `½‖σᵀ∇v‖² = ‖∇ₓv‖²`.
//!
//! Run: `cargo run --release --example pde_workloads -- WEIGHTS.bin POINTS.bin D REPS METHOD…`
//! where the files hold little-endian f64: the weights of `v` then `μ`, layer by layer, each
//! `W` `[in, out]` row-major then `b` `[out]`; the points `[B, d + 1]`, time last. `METHOD` is
//! `jet` (forward jets) or `nested` (nested reverse mode). Prints one JSON line per method with
//! the loss value, the squared norm of the weight gradient and the median seconds per step.

use physgrad::nn::{Bound, Mlp, MlpConfig, Module, ParamStore};
use physgrad::pde::operators::{fokker_planck, split_time};
use physgrad::pde::{jet, neural, Request};
use physgrad::{Tape, Tensor, Var};
use std::time::Instant;

fn read_f64(path: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// The two networks with the weights from `path` (in store order: `v.layer0.weight`, …).
fn networks(path: &str, d: usize) -> (ParamStore, Mlp, Mlp) {
    let mut store = ParamStore::new(0);
    let vnet = MlpConfig::new(&[d + 1, 64, 64, 64, 64, 1]).build(&mut store, "v");
    let mnet = MlpConfig::new(&[d + 1, 64, 64, 64, 64, d]).build(&mut store, "mu");
    let flat = read_f64(path);
    assert_eq!(flat.len(), store.numel(), "{path}: wrong number of weights");
    let ids: Vec<_> = store.ids().collect();
    store.set_flat(&ids, &flat);
    (store, vnet, mnet)
}

/// The residual loss by forward jets (`jets = true`) or nested reverse mode.
fn fp_loss<'t>(vnet: &Mlp, mnet: &Mlp, p: &Bound<'t>, xt: Var<'t>, jets: bool) -> Var<'t> {
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
fn step(store: &ParamStore, vnet: &Mlp, mnet: &Mlp, pts: &Tensor, jets: bool) -> (f64, f64) {
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
        .map(|id| grads.get(id).map_or(0.0, |g| g.data().iter().map(|v| v * v).sum()))
        .sum();
    (loss.item(), sq)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(args.len() >= 5, "usage: WEIGHTS.bin POINTS.bin D REPS METHOD…");
    let d: usize = args[2].parse().expect("D");
    let reps: usize = args[3].parse().expect("REPS");
    let (store, vnet, mnet) = networks(&args[0], d);
    let flat = read_f64(&args[1]);
    let b = flat.len() / (d + 1);
    let pts = Tensor::from_vec(flat, &[b, d + 1]);
    for method in &args[4..] {
        let jets = match method.as_str() {
            "jet" => true,
            "nested" => false,
            other => panic!("unknown method {other:?} (jet or nested)"),
        };
        let mut times = Vec::with_capacity(reps);
        let mut last = (0.0, 0.0);
        for _ in 0..reps.max(1) {
            let t = Instant::now();
            last = step(&store, &vnet, &mnet, &pts, jets);
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"lib\": \"physgrad\", \"method\": \"{method}\", \"d\": {d}, \"batch\": {b}, \"threads\": {}, \"seconds\": {:.6e}, \"loss\": {:.17e}, \"grad_sq\": {:.17e}}}",
            rayon::current_num_threads(),
            times[times.len() / 2],
            last.0,
            last.1
        );
    }
}
