//! Criterion benches of optimal transport: the exact solve (uniform weights, Gaussian clouds,
//! L1 cost, d = 2 and 10), log-domain Sinkhorn, the 1-D closed form, and the Wasserstein loss
//! with its gradient on the tape. The side-by-side comparison with POT is
//! `benches/peers/ot_peers.py`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use physgrad::ot::{
    network_simplex, pairwise_cost_tensor, sinkhorn_log, uniform_weights, wasserstein_1d,
    wasserstein_points, Ground, Method, NetworkSimplexConfig, SinkhornConfig, Weights,
};
use physgrad::{Tape, Tensor};

fn clouds(n: usize, d: usize) -> Tensor {
    let x = Tensor::randn(&[n, d], n as u64);
    let y = Tensor::randn(&[n, d], 7 + n as u64).map(|v| v + 0.5);
    pairwise_cost_tensor(&x, &y, Ground::L1)
}

fn exact(c: &mut Criterion) {
    let mut g = c.benchmark_group("network_simplex_l1");
    g.sample_size(10);
    for d in [2, 10] {
        for n in [64, 256, 1024] {
            let cost = clouds(n, d);
            let u = uniform_weights(n);
            let cfg = NetworkSimplexConfig::default();
            g.bench_with_input(BenchmarkId::new(format!("d{d}"), n), &n, |b, _| {
                b.iter(|| black_box(network_simplex(&u, &u, &cost, &cfg).unwrap().cost))
            });
        }
    }
}

fn sinkhorn(c: &mut Criterion) {
    let mut g = c.benchmark_group("sinkhorn_log_l1");
    g.sample_size(10);
    for n in [64, 256] {
        let cost = clouds(n, 2);
        let u = uniform_weights(n);
        let cfg = SinkhornConfig {
            epsilon: 0.1,
            tol: 1e-6,
            ..SinkhornConfig::default()
        };
        g.bench_with_input(BenchmarkId::new("d2", n), &n, |b, _| {
            b.iter(|| black_box(sinkhorn_log(&u, &u, &cost, &cfg).unwrap().cost))
        });
    }
}

fn line_and_tape(c: &mut Criterion) {
    let x = Tensor::randn(&[10_000], 1);
    let y = Tensor::randn(&[10_000], 2);
    let u = uniform_weights(10_000);
    c.bench_function("wasserstein_1d_10000", |b| {
        b.iter(|| {
            black_box(
                wasserstein_1d(x.data(), &u, y.data(), &u, 2.0)
                    .unwrap()
                    .cost,
            )
        })
    });
    let (xs, ys) = (Tensor::randn(&[256, 3], 3), Tensor::randn(&[256, 3], 4));
    c.bench_function("wasserstein_points_sql2_256_grad", |b| {
        b.iter(|| {
            let tape = Tape::new();
            let (x, y) = (tape.var(xs.clone()), tape.var(ys.clone()));
            let w = wasserstein_points(
                x,
                y,
                Ground::SqL2,
                Weights::Uniform,
                Weights::Uniform,
                &Method::default(),
            )
            .unwrap();
            black_box(w.backward().wrt(x))
        })
    });
}

criterion_group!(benches, exact, sinkhorn, line_and_tape);
criterion_main!(benches);
