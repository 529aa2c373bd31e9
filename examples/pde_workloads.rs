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

use std::time::Instant;

#[path = "../benches/pde_fp_workloads.rs"]
mod pde_fp_workloads;
use pde_fp_workloads::{networks_from, read_f64, step};
use physgrad::Tensor;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        args.len() >= 5,
        "usage: WEIGHTS.bin POINTS.bin D REPS METHOD…"
    );
    let d: usize = args[2].parse().expect("D");
    let reps: usize = args[3].parse().expect("REPS");
    let (store, vnet, mnet) = networks_from(&args[0], d);
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
