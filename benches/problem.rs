//! Criterion bench of the problem builder's overhead: one step (loss + weight gradient) of the
//! Fokker–Planck residual workload of `benches/pde.rs` (4×64 tanh MLPs for `v` and `μ`, batch
//! 1024, σ = √2·I), stated through `physgrad::problem` and written directly against
//! `physgrad::pde`, by forward jets and by nested reverse mode, at d = 2 and 10. Both statements
//! compute the same loss (asserted before timing).
//!
//! `cargo bench --bench problem`

use criterion::{criterion_group, criterion_main, Criterion};
use physgrad::nn::{Mlp, ParamStore};
use physgrad::pde::operators::fokker_planck;
use physgrad::problem::{Collocation, Domain, FieldId, Method, Need, NeuralField, Problem};
use physgrad::{Tape, Tensor};
use std::hint::black_box;

#[path = "pde_fp_workloads.rs"]
mod pde_fp_workloads;

/// The workload as a builder problem: `∂ₜv − P_FP(v) = 0` on `x ∈ ℝᵈ`, `t ∈ [0, 1]`.
fn problem(d: usize) -> (Problem, FieldId, FieldId) {
    let mut pb = Problem::new("fp");
    let x = pb.coord("x", Domain::Real(d));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    let v = pb.scalar_field("v");
    let mu = pb.vector_field("mu", d);
    let mut sigma = Tensor::zeros(&[d, d]);
    for i in 0..d {
        sigma.data_mut()[i * d + i] = std::f64::consts::SQRT_2;
    }
    let n = vec![
        Need::d(v, t),
        Need::Grad { field: v, coord: x },
        Need::Lap { field: v, coord: x },
        Need::Value(mu),
        Need::Div {
            field: mu,
            coord: x,
        },
    ];
    let r = n.clone();
    pb.residual("fp", 1.0, n, move |e| {
        let trace = e.get(&r[2]) * 2.0; // tr(σσᵀ∇²v) = 2Δₓv
        let p = fokker_planck(
            e.get(&r[1]),
            e.get(&r[3]),
            e.get(&r[4]),
            Some(&sigma),
            Some(trace),
        );
        e.get(&r[0]) - p
    });
    (pb, v, mu)
}

fn builder_step(
    pb: &Problem,
    ids: (FieldId, FieldId),
    nets: (&ParamStore, &Mlp, &Mlp),
    pts: &Collocation,
    m: Method,
) -> f64 {
    let (store, vnet, mnet) = nets;
    let tape = Tape::new();
    let p = store.bind(&tape);
    let fields = [
        (ids.0, NeuralField::Mlp(vnet, m.clone())),
        (ids.1, NeuralField::Mlp(mnet, m)),
    ];
    let loss = pb
        .loss_neural(&tape, &p, &fields, &[], pts)
        .expect("finite");
    let grads = p.gradients(loss.total);
    loss.total.item() + grads.norm()
}

fn builder_overhead(c: &mut Criterion) {
    for d in [2usize, 10] {
        let (store, vnet, mnet) = pde_fp_workloads::networks(d, 7);
        let pts = Tensor::randn(&[1024, d + 1], 8);
        let (pb, v, mu) = problem(d);
        let colloc = Collocation {
            interior: pts.clone(),
            regions: vec![],
        };
        let nets = (&store, &vnet, &mnet);
        // Same loss both ways.
        let tape = Tape::new();
        let p = store.bind(&tape);
        let direct =
            pde_fp_workloads::fp_loss(&vnet, &mnet, &p, tape.constant(pts.clone()), true).item();
        let fields = [
            (v, NeuralField::Mlp(&vnet, Method::Jet)),
            (mu, NeuralField::Mlp(&mnet, Method::Jet)),
        ];
        let built = pb
            .loss_neural(&tape, &p, &fields, &[], &colloc)
            .unwrap()
            .total
            .item();
        assert!(
            (direct - built).abs() <= 1e-10 * direct.abs(),
            "{direct} vs {built}"
        );
        let mut g = c.benchmark_group(format!("problem_fp_d{d}"));
        g.sample_size(10);
        g.bench_function("builder_jet", |b| {
            b.iter(|| black_box(builder_step(&pb, (v, mu), nets, &colloc, Method::Jet)))
        });
        g.bench_function("direct_jet", |b| {
            b.iter(|| black_box(pde_fp_workloads::step(&store, &vnet, &mnet, &pts, true)))
        });
        if d <= 2 {
            g.bench_function("builder_nested", |b| {
                b.iter(|| black_box(builder_step(&pb, (v, mu), nets, &colloc, Method::Nested)))
            });
            g.bench_function("direct_nested", |b| {
                b.iter(|| black_box(pde_fp_workloads::step(&store, &vnet, &mnet, &pts, false)))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, builder_overhead);
criterion_main!(benches);
