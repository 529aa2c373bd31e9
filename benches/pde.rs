//! Criterion benches of `pde`: one step of the Fokker–Planck residual loss plus its weight
//! gradient (`benches/pde_fp_workloads.rs`; 4×64 tanh MLPs for `v` and `μ`, batch 1024) by
//! forward jets and by nested reverse mode, at d = 2, 10 and 50 (jets only at 50).
//!
//! `cargo bench --bench pde`

use criterion::{criterion_group, criterion_main, Criterion};
use physgrad::Tensor;
use std::hint::black_box;

#[path = "pde_fp_workloads.rs"]
mod pde_fp_workloads;

fn fokker_planck(c: &mut Criterion) {
    for d in [2usize, 10, 50] {
        let (store, vnet, mnet) = pde_fp_workloads::networks(d, 7);
        let pts = Tensor::randn(&[1024, d + 1], 8);
        let mut g = c.benchmark_group(format!("fp_loss_grad_d{d}"));
        g.sample_size(10);
        g.bench_function("jet", |b| {
            b.iter(|| black_box(pde_fp_workloads::step(&store, &vnet, &mnet, &pts, true)))
        });
        if d <= 10 {
            g.bench_function("nested", |b| {
                b.iter(|| black_box(pde_fp_workloads::step(&store, &vnet, &mnet, &pts, false)))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, fokker_planck);
criterion_main!(benches);
