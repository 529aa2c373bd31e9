//! Criterion benches of the physics models, each forward plus first-order gradients with
//! respect to the parameters: PhysGNN's 1-D Poisson batch, 2-D Poisson with a face field, and
//! Q4 elasticity with per-element (E, ν); and one Cahn–Hilliard microstructure (64 × 64, the
//! default 300 steps), alone and as a pair (two images in one complex field).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use physgrad::physics::cahn_hilliard::{simulate, simulate_batch, CahnHilliardConfig};
use physgrad::physics::fem::{Edge, Q4Elasticity, RectMesh};
use physgrad::physics::poisson::{poisson_1d, Poisson2d};
use physgrad::{Tape, Tensor};

/// `B = 64` samples of `n = 100` nodes (`h = 1/101`, `a` on the 101 midpoints).
fn poisson_1d_batch(c: &mut Criterion) {
    let (b, n) = (64, 100);
    let a = Tensor::rand_uniform(&[b, n + 1], 0.5, 2.0, 1);
    let f = Tensor::randn(&[b, n], 2);
    c.bench_function("physics/poisson_1d_b64_n100_fwd_grad", |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let av = tape.var(a.clone());
            let u = poisson_1d(av, tape.constant(f.clone()), (0.0, 0.0)).unwrap();
            black_box(u.square().sum().backward().wrt(av).data()[0])
        })
    });
}

fn poisson_2d(c: &mut Criterion) {
    let m = 63;
    let p = Poisson2d::new(m).unwrap();
    let kx = Tensor::rand_uniform(&[m, m + 1], 0.5, 2.0, 3);
    let ky = Tensor::rand_uniform(&[m + 1, m], 0.5, 2.0, 4);
    let f = Tensor::ones(&[m, m]);
    c.bench_function("physics/poisson_2d_m63_fwd_grad", |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let (x, y) = (tape.var(kx.clone()), tape.var(ky.clone()));
            let u = p.solve(x, y, tape.constant(f.clone()), None).unwrap();
            black_box(u.sum().backward().wrt(x).data()[0])
        })
    });
}

fn q4(c: &mut Criterion) {
    let mesh = RectMesh::new(32, 32, 1.0, 1.0).unwrap();
    let fixed: Vec<usize> = mesh
        .edge_nodes(Edge::Left)
        .iter()
        .flat_map(|&k| [2 * k, 2 * k + 1])
        .collect();
    let model = Q4Elasticity::new(mesh.clone(), &fixed).unwrap();
    let nel = mesh.elements();
    let e = Tensor::rand_uniform(&[nel], 0.5, 2.0, 5);
    let nu = Tensor::rand_uniform(&[nel], 0.2, 0.4, 6);
    let load = mesh.edge_traction(Edge::Right, |_, _| [0.0, -1.0]);
    c.bench_function("physics/q4_32x32_fwd_grad", |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let (ev, nv) = (tape.var(e.clone()), tape.var(nu.clone()));
            let u = model.solve(ev, nv, tape.constant(load.clone())).unwrap();
            black_box(u.sum().backward().wrt(ev).data()[0])
        })
    });
}

fn cahn_hilliard(c: &mut Criterion) {
    let cfg = CahnHilliardConfig::default();
    c.bench_function("physics/cahn_hilliard_64x64_300steps", |bench| {
        bench.iter(|| black_box(simulate(&cfg).unwrap().data()[0]))
    });
    // Two images in the real and imaginary parts: one rayon task, so this is the cost of a pair
    // on one thread.
    c.bench_function("physics/cahn_hilliard_64x64_300steps_pair", |bench| {
        bench.iter(|| black_box(simulate_batch(&cfg, 2).unwrap().data()[0]))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = poisson_1d_batch, poisson_2d, q4, cahn_hilliard
}
criterion_main!(benches);
