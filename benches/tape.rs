//! Criterion benches of the hot paths: per-node tape overhead, MLP loss and gradient, kernels.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use physgrad::{Tape, Tensor};

#[path = "workloads.rs"]
mod workloads;

fn tape_overhead(c: &mut Criterion) {
    let x = Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4], &[4]);
    let mut tape = Tape::new();
    c.bench_function("op_chain_100_fwd_bwd", |b| {
        b.iter(|| black_box(workloads::op_chain(&mut tape, &x)))
    });
}

fn mlp(c: &mut Criterion) {
    let mut tape = Tape::new();
    let small = workloads::mlp_small();
    c.bench_function("mlp_small_fwd", |b| {
        b.iter(|| black_box(small.forward(&mut tape)))
    });
    c.bench_function("mlp_small_grad", |b| {
        b.iter(|| black_box(small.gradient(&mut tape)))
    });
    let large = workloads::mlp_large();
    let mut g = c.benchmark_group("large");
    g.sample_size(20);
    g.bench_function("mlp_large_fwd", |b| {
        b.iter(|| black_box(large.forward(&mut tape)))
    });
    g.bench_function("mlp_large_grad", |b| {
        b.iter(|| black_box(large.gradient(&mut tape)))
    });
    g.finish();
}

fn kernels(c: &mut Criterion) {
    let x = Tensor::rand_uniform(&[4096, 64], -3.0, 3.0, 1);
    c.bench_function("tanh_262144", |b| {
        b.iter(|| black_box(physgrad::tensor::kernels::tanh(&x)))
    });
    c.bench_function("exp_262144", |b| {
        b.iter(|| black_box(physgrad::tensor::kernels::exp(&x)))
    });
    c.bench_function("libm_tanh_262144", |b| {
        b.iter(|| black_box(x.map(f64::tanh)))
    });
    let a = Tensor::randn(&[64, 20], 1);
    let w = Tensor::randn(&[20, 20], 2);
    c.bench_function("matmul_64x20x20", |b| {
        b.iter(|| black_box(physgrad::tensor::kernels::matmul(&a, &w, false, false)))
    });
    let a = Tensor::randn(&[4096, 64], 1);
    let w = Tensor::randn(&[64, 64], 2);
    c.bench_function("matmul_4096x64x64", |b| {
        b.iter(|| black_box(physgrad::tensor::kernels::matmul(&a, &w, false, false)))
    });
}

criterion_group!(benches, tape_overhead, mlp, kernels);
criterion_main!(benches);
