//! physgrad's side of the optimal-transport comparison with POT (`benches/peers/ot_peers.py`): reads
//! two point clouds written by the Python script, builds the L1 cost matrix, times the exact
//! solve (and optionally log-domain Sinkhorn) and prints one JSON line per measurement.
//!
//! Run: `cargo run --release --example ot_workloads -- X.bin Y.bin D REPS [EPS TOL]`, where the
//! files hold row-major little-endian f64 (`n×D` points each). Without `EPS` only the exact solve
//! is timed; with it, Sinkhorn with that ε and stopping tolerance is timed as well.

use physgrad::ot::{
    network_simplex, pairwise_cost_tensor, sinkhorn_log, uniform_weights, Ground,
    NetworkSimplexConfig, SinkhornConfig,
};
use physgrad::Tensor;
use std::time::Instant;

fn read_points(path: &str, d: usize) -> Tensor {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let data: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let n = data.len() / d;
    Tensor::from_vec(data, &[n, d])
}

/// Median wall time in seconds of `reps` calls, and the last result.
fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], last.expect("at least one call"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(args.len() >= 4, "usage: X.bin Y.bin D REPS [EPS TOL]");
    let d: usize = args[2].parse().expect("D");
    let reps: usize = args[3].parse().expect("REPS");
    let (x, y) = (read_points(&args[0], d), read_points(&args[1], d));
    let (n, m) = (x.shape()[0], y.shape()[0]);
    let c = pairwise_cost_tensor(&x, &y, Ground::L1);
    let (a, b) = (uniform_weights(n), uniform_weights(m));
    let cfg = NetworkSimplexConfig::default();
    let (secs, t) = time(reps, || {
        network_simplex(&a, &b, &c, &cfg).expect("exact solve")
    });
    println!(
        "{{\"lib\": \"physgrad\", \"method\": \"exact\", \"n\": {n}, \"d\": {d}, \"seconds\": {secs:.6e}, \"cost\": {:.17e}, \"iterations\": {}}}",
        t.cost, t.iterations
    );
    if args.len() >= 6 {
        let scfg = SinkhornConfig {
            epsilon: args[4].parse().expect("EPS"),
            tol: args[5].parse().expect("TOL"),
            ..SinkhornConfig::default()
        };
        let (secs, t) = time(reps, || sinkhorn_log(&a, &b, &c, &scfg).expect("sinkhorn"));
        println!(
            "{{\"lib\": \"physgrad\", \"method\": \"sinkhorn\", \"n\": {n}, \"d\": {d}, \"seconds\": {secs:.6e}, \"cost\": {:.17e}, \"iterations\": {}}}",
            t.cost, t.iterations
        );
    }
}
