//! The Fokker–Planck log-density equation stated with `pde!`: an Ornstein–Uhlenbeck process
//! `dX = −X dt + √2 dW` in ℝ² started from `N(0, 3I)`. A network `v(x, t)` learns
//! `log p(x, t)` from the residual `∂ₜv = P_FP(v)` (drift `μ = −x`, a closure field) and the
//! initial condition; the exact answer `v = −|x|²/(2a) − log(2πa)`, `a = 1 + 2e^{−2t}`, is
//! printed beside it.
//!
//! `cargo run --release --example dsl_fokker_planck`

use physgrad::nn::{MlpConfig, Module, ParamStore};
use physgrad::optim::{Adam, AdamConfig};
use physgrad::problem::{Method, NeuralField, Problem};
use physgrad::{Tensor, Var};

fn problem(sigma: &Tensor) -> Problem {
    physgrad::pde! {
        name: "ornstein_uhlenbeck";
        coords { x in R^2, t in [0.0, 1.0] }
        fields { v: scalar, mu: vector(2) }
        residual fp: d(v, t) = fokker_planck(v, mu, x, { sigma.clone() });
        initial ic (weight = 10.0) at t = lo: v = -(x[0] * x[0] + x[1] * x[1]) / 6.0 - log(6.0 * PI);
    }
}

/// The OU drift `μ(x) = −x` as a closure field.
fn drift(p: Var<'_>) -> Var<'_> {
    -p.slice(1, 0..2)
}

fn exact(x: &[f64], t: f64) -> f64 {
    let a = 1.0 + 2.0 * (-2.0 * t).exp();
    -(x[0] * x[0] + x[1] * x[1]) / (2.0 * a) - (2.0 * std::f64::consts::PI * a).ln()
}

fn main() {
    let sigma = Tensor::from_vec(vec![2f64.sqrt(), 0.0, 0.0, 2f64.sqrt()], &[2, 2]);
    let mut pb = problem(&sigma);
    pb.sample_box(
        physgrad::problem::CoordId(0),
        vec![(-3.0, 3.0), (-3.0, 3.0)],
    );
    print!("{}", pb.describe());
    let mut store = ParamStore::new(4);
    let net = MlpConfig::new(&[3, 32, 32, 1]).build(&mut store, "v");
    let mut opt = Adam::new(AdamConfig {
        lr: 3e-3,
        ..AdamConfig::default()
    });
    let steps = 1500;
    let (mut first, mut last) = (f64::NAN, f64::NAN);
    for step in 0..steps {
        let pts = pb.sample(128, 64, step as u64);
        let mut values = vec![];
        let total = store
            .step(&mut opt, |tape, p| {
                let fields = [
                    (pb.field_id("v"), NeuralField::Mlp(&net, Method::Jet)),
                    (
                        pb.field_id("mu"),
                        NeuralField::Func(Box::new(drift), Method::Nested),
                    ),
                ];
                let loss = pb
                    .loss_neural(tape, p, &fields, &[], &pts)
                    .expect("finite loss");
                values = loss.values();
                loss.total
            })
            .expect("finite loss");
        if step == 0 {
            first = total;
        }
        last = total;
        if step % 300 == 0 || step + 1 == steps {
            let terms: Vec<String> = values.iter().map(|(n, v)| format!("{n} {v:.3e}")).collect();
            println!("  step {step:4}: {}", terms.join("  "));
        }
    }
    let tape = physgrad::Tape::new();
    let p = store.bind(&tape);
    println!("   x0    x1     t   v (net)   v (exact)");
    for (x, t) in [([0.0, 0.0], 0.0), ([1.0, -0.5], 0.5), ([0.5, 0.5], 1.0)] {
        let input = tape.constant(Tensor::from_vec(vec![x[0], x[1], t], &[1, 3]));
        let v = net.forward(&p, input).value().data()[0];
        println!(
            "{:5.2} {:5.2} {:5.2} {:9.4} {:9.4}",
            x[0],
            x[1],
            t,
            v,
            exact(&x, t)
        );
    }
    println!("total loss {first:.3e} -> {last:.3e}");
    assert!(last < 0.05 * first, "training should reduce the loss");
}
