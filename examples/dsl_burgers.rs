//! One `pde!` statement of viscous Burgers, conditioned on the viscosity ν, evaluated on a
//! **neural field** (an MLP with forward jets) and on a **grid field** (a trainable image per ν,
//! central differences); each is trained a little with Adam while the named loss terms are printed.
//!
//! `cargo run --release --example dsl_burgers`

use physgrad::nn::{MlpConfig, ParamStore};
use physgrad::optim::{Adam, AdamConfig};
use physgrad::problem::{Grid, Method, NeuralField, Problem};
use physgrad::Tensor;

fn burgers() -> Problem {
    physgrad::pde! {
        name: "burgers";
        coords { x in [0.0, 1.0], t in [0.0, 0.2] }
        params { nu in [0.01, 0.05] }
        fields { u: scalar }
        residual momentum: d(u, t) + u * d(u, x) = nu * d(u, x, x);
        initial ic (weight = 10.0) at t = lo: u = sin(2.0 * PI * x);
        periodic wrap (weight = 1.0) in x: u;
    }
}

/// Runs `steps` optimiser steps (`step` returns the total loss and the named terms), printing
/// the terms every 300 steps; returns the first and last total.
fn fit(steps: usize, mut step: impl FnMut(usize) -> (f64, Vec<(String, f64)>)) -> (f64, f64) {
    let (mut first, mut last) = (f64::NAN, f64::NAN);
    for i in 0..steps {
        let (total, values) = step(i);
        if i == 0 {
            first = total;
        }
        last = total;
        if i % 300 == 0 || i + 1 == steps {
            let terms: Vec<String> = values.iter().map(|(n, v)| format!("{n} {v:.3e}")).collect();
            println!("  step {i:4}: {}", terms.join("  "));
        }
    }
    (first, last)
}

/// An MLP `u(x, t, ν)` trained on resampled collocation points; returns (first, last) total.
fn neural(pb: &Problem, steps: usize) -> (f64, f64) {
    let mut store = ParamStore::new(1);
    let net = MlpConfig::new(&[pb.input_dim(), 24, 24, 1]).build(&mut store, "u");
    let mut opt = Adam::new(AdamConfig {
        lr: 3e-3,
        ..AdamConfig::default()
    });
    fit(steps, |step| {
        let pts = pb.sample(128, 32, step as u64);
        let mut values = vec![];
        let total = store
            .step(&mut opt, |tape, p| {
                let fields = [(pb.field_id("u"), NeuralField::Mlp(&net, Method::Jet))];
                let loss = pb
                    .loss_neural(tape, p, &fields, &[], &pts)
                    .expect("finite loss");
                values = loss.values();
                loss.total
            })
            .expect("finite loss");
        (total, values)
    })
}

/// Two images `u[ν, x, t]` on a 33 × 17 grid, one per viscosity, trained directly.
fn grid(pb: &Problem, steps: usize) -> (f64, f64) {
    let (nx, nt) = (33, 17);
    let mut store = ParamStore::new(2);
    let image = store.add_tensor("u", Tensor::zeros(&[2, nx, nt]));
    let nus = Tensor::from_vec(vec![0.01, 0.05], &[2]);
    let mut g = Grid::new(vec![1.0 / (nx - 1) as f64, 0.2 / (nt - 1) as f64]);
    g.batch = true;
    let mut opt = Adam::new(AdamConfig {
        lr: 3e-2,
        ..AdamConfig::default()
    });
    fit(steps, |_| {
        let mut values = vec![];
        let total = store
            .step(&mut opt, |tape, p| {
                let given = [(pb.param_id("nu"), tape.constant(nus.clone()))];
                let loss = pb
                    .loss_grid(tape, &[(pb.field_id("u"), p.var(image))], &g, &given)
                    .expect("finite loss");
                values = loss.values();
                loss.total
            })
            .expect("finite loss");
        (total, values)
    })
}

fn main() {
    let pb = burgers();
    print!("{}", pb.describe());
    println!("neural field (MLP, forward jets):");
    let (a, b) = neural(&pb, 1500);
    println!("grid field (2 × 33 × 17, central differences):");
    let (c, d) = grid(&pb, 1500);
    println!("total loss: neural {a:.3e} -> {b:.3e}, grid {c:.3e} -> {d:.3e}");
    assert!(
        b < 0.5 * a && d < 0.5 * c,
        "training should reduce both losses"
    );
}
