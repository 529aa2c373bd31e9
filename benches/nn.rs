//! Criterion benches of the `nn` layer: one Adam training step of the two benchmark MLPs, and a
//! 64×64 transposed-convolution generator (forward; forward + gradient).
//!
//! `cargo bench --bench nn`

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

#[path = "nn_workloads.rs"]
mod nn_workloads;

fn adam_steps(c: &mut Criterion) {
    let mut small = nn_workloads::adam_small();
    c.bench_function("adam_step/mlp_small", |b| {
        b.iter(|| black_box(small.step()))
    });
    let mut large = nn_workloads::adam_large();
    let mut g = c.benchmark_group("adam_step_large");
    g.sample_size(20);
    g.bench_function("mlp_large", |b| b.iter(|| black_box(large.step())));
    g.finish();
}

fn generator(c: &mut Criterion) {
    let gen = nn_workloads::Generator64::new(16);
    let mut g = c.benchmark_group("generator64");
    g.sample_size(10);
    g.bench_function("forward", |b| b.iter(|| black_box(gen.forward())));
    g.bench_function("gradient", |b| b.iter(|| black_box(gen.gradient())));
    g.finish();
}

criterion_group!(benches, adam_steps, generator);
criterion_main!(benches);
