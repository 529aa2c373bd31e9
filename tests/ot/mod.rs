//! Optimal transport: the exact solver against brute force and an independent assignment
//! solver, the closed form on the line, metric properties, degenerate inputs, the certificate,
//! errors, Sinkhorn's limit, and gradient checks of the tape ops.

// Index loops read more like the formulas in these tests.
#![allow(clippy::needless_range_loop)]
mod errors;
mod exact;
mod gradients;
mod properties;
mod sinkhorn;
mod whitening;

use physgrad::ot::{
    network_simplex, pairwise_cost_tensor, Ground, NetworkSimplexConfig, Transport,
};
use physgrad::Tensor;

pub(crate) fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32)
}

/// An exact solve by the network simplex alone (the assignment shortcut off); the solver
/// verifies its certificate before returning.
pub(crate) fn solve(a: &[f64], b: &[f64], c: &Tensor) -> Transport {
    let cfg = NetworkSimplexConfig {
        assignment_max_n: 0,
        ..NetworkSimplexConfig::default()
    };
    network_simplex(a, b, c, &cfg).expect("network simplex")
}

/// Both exact paths on a uniform n×n problem: the simplex and the assignment solver.
pub(crate) fn solve_both(a: &[f64], b: &[f64], c: &Tensor) -> [Transport; 2] {
    let cfg = NetworkSimplexConfig {
        assignment_max_n: usize::MAX,
        ..NetworkSimplexConfig::default()
    };
    let jv = network_simplex(a, b, c, &cfg).expect("assignment");
    // An assignment solution has exactly n unit-mass entries, never a split row.
    assert_eq!(jv.plan.len(), a.len());
    [solve(a, b, c), jv]
}

/// Gaussian point clouds `n×d`, `m×d` and their cost matrix.
pub(crate) fn clouds(
    n: usize,
    m: usize,
    d: usize,
    ground: Ground,
    seed: u64,
) -> (Tensor, Tensor, Tensor) {
    let x = Tensor::randn(&[n, d], seed);
    let y = Tensor::randn(&[m, d], seed ^ 0x9e37);
    let c = pairwise_cost_tensor(&x, &y, ground);
    (x, y, c)
}

/// Random positive weights summing to one.
pub(crate) fn weights(n: usize, seed: u64) -> Vec<f64> {
    let w = Tensor::rand_uniform(&[n], 0.1, 1.0, seed);
    let s = w.sum_all();
    w.data().iter().map(|x| x / s).collect()
}

pub(crate) fn close(x: f64, y: f64, tol: f64) -> bool {
    (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs()))
}
