//! Times implicit solves on the 2-D 5-point Poisson matrix (N×N grid, Dirichlet boundary,
//! `A = 4I − neighbours`, `n = N²`) and prints one JSON line per measurement, in the format
//! `benches/peers/linalg.py` reads alongside SciPy:
//! `{"lib": "physgrad", "workload": "poisson_cholesky_256", "fwd_us": …, "bwd_us": …, …}`.
//!
//! One sample is a fresh tape: `u = sparse_solve(pattern, values, b)` (the forward: numeric
//! factorisation + solve) then `⟨w, u⟩.backward()` (the adjoint: one transposed solve with the
//! stored factorisation + the values gradient). The pattern (ordering, symbolic analysis) is
//! built once per grid, as in training; its cost is reported separately (`analyse_us`).
//!
//! Run: `cargo run --release --example linalg_workloads [-- --quick] [-- --sizes 64,256]`.

use physgrad::linalg::{sparse_solve, Factorization, SparsePattern};
use physgrad::{Tape, Tensor};
use std::time::Instant;

/// The 5-point Laplacian on an `N × N` grid: `(row, col)` pairs and values, row by row.
pub fn poisson_2d(grid: usize) -> (usize, Vec<(usize, usize)>, Vec<f64>) {
    let n = grid * grid;
    let mut entries = Vec::with_capacity(5 * n);
    let mut values = Vec::with_capacity(5 * n);
    for i in 0..grid {
        for j in 0..grid {
            let k = i * grid + j;
            let mut push = |c: usize, v: f64| {
                entries.push((k, c));
                values.push(v);
            };
            if i > 0 {
                push(k - grid, -1.0);
            }
            if j > 0 {
                push(k - 1, -1.0);
            }
            push(k, 4.0);
            if j + 1 < grid {
                push(k + 1, -1.0);
            }
            if i + 1 < grid {
                push(k + grid, -1.0);
            }
        }
    }
    (n, entries, values)
}

/// Medians (µs) of the forward and of the backward over `samples` fresh tapes.
pub fn time_solve(pattern: &SparsePattern, values: &Tensor, samples: usize) -> (f64, f64) {
    let n = pattern.n();
    let b = Tensor::ones(&[n]);
    let w = Tensor::randn(&[n], 1);
    let mut fwd = Vec::new();
    let mut bwd = Vec::new();
    for s in 0..samples + 1 {
        let tape = Tape::new();
        let v = tape.var(values.clone());
        let rhs = tape.var(b.clone());
        let t0 = Instant::now();
        let u = sparse_solve(pattern, v, rhs).expect("Poisson is SPD");
        let t1 = Instant::now();
        let g = tape.gradients(&[u], Some(std::slice::from_ref(&w)), &[v, rhs]);
        let t2 = Instant::now();
        if s == 0 {
            check_residual(pattern, values, &u.value(), &b);
        }
        std::hint::black_box(g);
        if s > 0 {
            // sample 0 warms up caches and allocations
            fwd.push((t1 - t0).as_secs_f64() * 1e6);
            bwd.push((t2 - t1).as_secs_f64() * 1e6);
        }
    }
    (median(fwd), median(bwd))
}

/// Asserts `‖A u − b‖∞ ≤ 1e-10 ‖b‖∞` (the example checks what it times).
fn check_residual(pattern: &SparsePattern, values: &Tensor, u: &Tensor, b: &Tensor) {
    let mut r = b.data().iter().map(|x| -x).collect::<Vec<f64>>();
    for ((&i, &j), &a) in pattern.rows().iter().zip(pattern.cols()).zip(values.data()) {
        r[i] += a * u.data()[j];
    }
    let worst = r.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(worst <= 1e-10, "Poisson residual {worst:e}");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let sizes: Vec<usize> = args
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|s| {
            s.split(',')
                .map(|x| x.parse().expect("--sizes 64,256"))
                .collect()
        })
        .unwrap_or_else(|| vec![64, 256, 512]);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let version = env!("CARGO_PKG_VERSION");
    for &grid in &sizes {
        let (n, entries, values) = poisson_2d(grid);
        let values = Tensor::from_vec(values, &[entries.len()]);
        for (name, fact) in [
            ("cholesky", Factorization::Cholesky),
            ("lu", Factorization::Lu),
        ] {
            let t = Instant::now();
            let pattern = SparsePattern::new(n, &entries, fact).expect("valid pattern");
            let analyse = t.elapsed().as_secs_f64() * 1e6;
            let samples = match (quick, grid) {
                (true, _) => 3,
                (false, g) if g >= 512 => 7,
                _ => 21,
            };
            let (fwd, bwd) = time_solve(&pattern, &values, samples);
            println!(
                "{{\"lib\": \"physgrad\", \"workload\": \"poisson_{name}_{grid}\", \"fwd_us\": {fwd:.1}, \"bwd_us\": {bwd:.1}, \"analyse_us\": {analyse:.1}, \"samples\": {samples}, \"threads\": {threads}, \"version\": \"{version}\"}}"
            );
        }
    }
}
