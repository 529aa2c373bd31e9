//! Times the benchmark workloads (see `benches/workloads.rs`) and prints one JSON line per
//! workload, in the format `benches/peers/compare.py` reads alongside PyTorch and JAX:
//! `{"lib": "physgrad", "workload": …, "median_us": …, "samples": …, "threads": …, "version": …}`.
//!
//! Also one Adam training step of each MLP and a 64×64 transposed-convolution generator
//! (`benches/nn_workloads.rs`).
//!
//! Run: `cargo run --release --example peer_workloads [-- --quick]`.

use physgrad::{Tape, Tensor};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "../benches/workloads.rs"]
mod workloads;

#[path = "../benches/nn_workloads.rs"]
mod nn_workloads;

/// Median time per call in µs: blocks of calls sized to ~`block` each, at least `min_samples`
/// blocks and at least `min_total` in all, after a warm-up.
fn median_us(mut f: impl FnMut(), quick: bool) -> (f64, usize) {
    let (min_samples, min_total) = if quick {
        (5, Duration::from_millis(100))
    } else {
        (20, Duration::from_millis(500))
    };
    let warm = Instant::now();
    let mut calls = 0u32;
    while warm.elapsed() < Duration::from_millis(if quick { 20 } else { 100 }) || calls < 3 {
        f();
        calls += 1;
    }
    let per_call = warm.elapsed().as_secs_f64() / calls as f64;
    let block = ((0.01 / per_call).ceil() as u32).max(1);
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < min_samples || start.elapsed() < min_total {
        let t = Instant::now();
        for _ in 0..block {
            f();
        }
        samples.push(t.elapsed().as_secs_f64() * 1e6 / block as f64);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    (samples[samples.len() / 2], samples.len())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let version = env!("CARGO_PKG_VERSION");
    let report = |name: &str, (us, n): (f64, usize)| {
        println!(
            "{{\"lib\": \"physgrad\", \"workload\": \"{name}\", \"median_us\": {us:.3}, \"samples\": {n}, \"threads\": {threads}, \"version\": \"{version}\"}}"
        );
    };
    let mut tape = Tape::new();
    let small = workloads::mlp_small();
    report(
        "mlp_small_fwd",
        median_us(
            || {
                black_box(small.forward(&mut tape));
            },
            quick,
        ),
    );
    report(
        "mlp_small_grad",
        median_us(
            || {
                black_box(small.gradient(&mut tape));
            },
            quick,
        ),
    );
    let large = workloads::mlp_large();
    report(
        "mlp_large_fwd",
        median_us(
            || {
                black_box(large.forward(&mut tape));
            },
            quick,
        ),
    );
    report(
        "mlp_large_grad",
        median_us(
            || {
                black_box(large.gradient(&mut tape));
            },
            quick,
        ),
    );
    let x = Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4], &[4]);
    let (us, n) = median_us(
        || {
            black_box(workloads::op_chain(&mut tape, &x));
        },
        quick,
    );
    report("tape_overhead", (us / workloads::CHAIN_OPS as f64, n));
    let mut small = nn_workloads::adam_small();
    report(
        "mlp_small_adam",
        median_us(
            || {
                black_box(small.step());
            },
            quick,
        ),
    );
    let mut large = nn_workloads::adam_large();
    report(
        "mlp_large_adam",
        median_us(
            || {
                black_box(large.step());
            },
            quick,
        ),
    );
    let gen = nn_workloads::Generator64::new(16);
    report(
        "gen64_fwd",
        median_us(
            || {
                black_box(gen.forward());
            },
            quick,
        ),
    );
    report(
        "gen64_grad",
        median_us(
            || {
                black_box(gen.gradient());
            },
            quick,
        ),
    );
}
