//! Criterion benches of the implicit solves: sparse Poisson forward and forward + adjoint
//! (Cholesky and LU), a batch of solves on one pattern, tridiagonal and dense solves.
//! The SciPy comparison is `benches/peers/linalg.py`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use physgrad::linalg::{
    dense_solve, sparse_solve, tridiagonal_solve, Factorization, SparsePattern,
};
use physgrad::{Tape, Tensor};

#[allow(dead_code)]
#[path = "../examples/linalg_workloads.rs"]
mod workloads;

/// One forward solve on a fresh tape; with `backward`, also ⟨w, u⟩'s first-order gradients.
fn solve_once(p: &SparsePattern, values: &Tensor, b: &Tensor, backward: bool) -> f64 {
    let tape = Tape::new();
    let v = tape.var(values.clone());
    let rhs = tape.var(b.clone());
    let u = sparse_solve(p, v, rhs).unwrap();
    if backward {
        let g = tape.gradients(&[u], None, &[v, rhs]);
        g[1].data()[0]
    } else {
        u.value().data()[0]
    }
}

fn poisson(c: &mut Criterion) {
    let mut g = c.benchmark_group("poisson");
    g.sample_size(10);
    for grid in [64, 256] {
        let (n, entries, values) = workloads::poisson_2d(grid);
        let values = Tensor::from_vec(values, &[entries.len()]);
        let b = Tensor::ones(&[n]);
        for (name, fact) in [
            ("cholesky", Factorization::Cholesky),
            ("lu", Factorization::Lu),
        ] {
            let p = SparsePattern::new(n, &entries, fact).unwrap();
            g.bench_function(format!("{name}_{grid}_fwd"), |bench| {
                bench.iter(|| black_box(solve_once(&p, &values, &b, false)))
            });
            g.bench_function(format!("{name}_{grid}_fwd_adj"), |bench| {
                bench.iter(|| black_box(solve_once(&p, &values, &b, true)))
            });
        }
        g.bench_function(format!("analyse_cholesky_{grid}"), |bench| {
            bench.iter(|| black_box(SparsePattern::new(n, &entries, Factorization::Cholesky)))
        });
    }
    g.finish();
}

/// 16 Poisson systems (32×32 grid) with different values on one pattern: one batched op
/// (rayon across the batch) against 16 separate solves.
fn batched(c: &mut Criterion) {
    let (n, entries, values) = workloads::poisson_2d(32);
    let batch = 16;
    let p = SparsePattern::new(n, &entries, Factorization::Cholesky).unwrap();
    let all: Vec<f64> = (0..batch)
        .flat_map(|e| values.iter().map(move |v| v * (1.0 + 0.01 * e as f64)))
        .collect();
    let all = Tensor::from_vec(all, &[batch, entries.len()]);
    let b = Tensor::ones(&[batch, n]);
    let mut g = c.benchmark_group("batch16_poisson32");
    g.bench_function("batched_fwd_adj", |bench| {
        bench.iter(|| black_box(solve_once(&p, &all, &b, true)))
    });
    let single = Tensor::from_vec(values, &[entries.len()]);
    let b1 = Tensor::ones(&[n]);
    g.bench_function("sequential_fwd_adj", |bench| {
        bench.iter(|| {
            for _ in 0..batch {
                black_box(solve_once(&p, &single, &b1, true));
            }
        })
    });
    g.finish();
}

fn banded_and_dense(c: &mut Criterion) {
    let (batch, n) = (64, 1024);
    let lo = Tensor::full(&[batch, n - 1], -1.0);
    let di = Tensor::full(&[batch, n], 2.5);
    let b = Tensor::ones(&[batch, n]);
    c.bench_function("tridiagonal_64x1024_fwd_adj", |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let (l, d, u, r) = (
                tape.var(lo.clone()),
                tape.var(di.clone()),
                tape.var(lo.clone()),
                tape.var(b.clone()),
            );
            let x = tridiagonal_solve(l, d, u, r).unwrap();
            black_box(tape.gradients(&[x], None, &[l, d, u, r]))
        })
    });
    let a = Tensor::rand_uniform(&[64, 64], -1.0, 1.0, 3).zip_with(
        &Tensor::from_vec(
            (0..4096)
                .map(|k| if k % 65 == 0 { 65.0 } else { 0.0 })
                .collect(),
            &[64, 64],
        ),
        |x, y| x + y,
    );
    let rhs = Tensor::ones(&[64]);
    c.bench_function("dense_lu_64_fwd_adj", |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let (av, bv) = (tape.var(a.clone()), tape.var(rhs.clone()));
            let x = dense_solve(av, bv, Factorization::Lu).unwrap();
            black_box(tape.gradients(&[x], None, &[av, bv]))
        })
    });
}

criterion_group!(benches, poisson, batched, banded_and_dense);
criterion_main!(benches);
