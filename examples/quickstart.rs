//! Quickstart: fit a tanh network u(x) to sin(2πx) on [0, 1] using both the values and the
//! derivative u′(x) (Sobolev training). The derivative with respect to the *input* is a gradient
//! recorded on the tape (`Tape::grad`), and the loss built from it is differentiated again with
//! respect to the weights — a gradient of a gradient, as every PINN residual needs.
//!
//! Run: `cargo run --release --example quickstart` (about a second). Prints a table, checks the
//! model's gradients at first and second order with `physgrad::testing`, and writes
//! `out/quickstart/loss.csv` and `out/quickstart/fit.svg`. The test suite runs a shortened
//! version (`tests/core/examples.rs`).

use physgrad::testing::{check_grad, check_grad2, hr, GradCheck, GradCheckReport};
use physgrad::{Tape, Tensor, Var};
use std::f64::consts::PI;
use std::fmt::Write as _;
use std::time::Instant;

const WIDTHS: [usize; 4] = [1, 32, 32, 1];
const STEPS: usize = 3000;
const POINTS: usize = 64;

/// u(x) for a batch of points `x` (shape `[n, 1]`), parameters `[W₁, b₁, W₂, b₂, W₃, b₃]`.
fn network<'t>(x: Var<'t>, params: &[Var<'t>]) -> Var<'t> {
    let mut h = x;
    for (l, wb) in params.chunks(2).enumerate() {
        h = h.matmul(wb[0]) + wb[1];
        if l + 1 < params.len() / 2 {
            h = h.tanh();
        }
    }
    h
}

/// Sobolev loss: mean (u − sin 2πx)² + mean (u′ − 2π cos 2πx)² / (2π)².
fn loss<'t>(tape: &'t Tape, x: &Tensor, params: &[Var<'t>]) -> (Var<'t>, Var<'t>, Var<'t>) {
    let xv = tape.var(x.clone());
    let u = network(xv, params);
    let du = tape.grad(&[u], &[xv])[0];
    let target = tape.constant(x.map(|v| (2.0 * PI * v).sin()));
    let dtarget = tape.constant(x.map(|v| 2.0 * PI * (2.0 * PI * v).cos()));
    let value_err = u.mse(target);
    let slope_err = du.mse(dtarget) / (4.0 * PI * PI);
    (value_err + slope_err, value_err, slope_err)
}

fn init() -> Vec<Tensor> {
    let mut params = Vec::new();
    for (i, w) in WIDTHS.windows(2).enumerate() {
        let scale = (1.0 / w[0] as f64).sqrt() * if i == 0 { 4.0 } else { 1.0 };
        params.push(Tensor::randn(&[w[0], w[1]], 10 + i as u64).map(|v| v * scale));
        params.push(Tensor::zeros(&[w[1]]));
    }
    params
}

/// Adam with the usual defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-8), kept inline here.
struct Adam {
    lr: f64,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    t: i32,
}

impl Adam {
    fn step(&mut self, params: &mut [Tensor], grads: &[Tensor]) {
        self.t += 1;
        let (b1, b2) = (0.9f64, 0.999f64);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for i in 0..params.len() {
            let g = grads[i].data();
            let (m, v) = (self.m[i].data_mut(), self.v[i].data_mut());
            let p = params[i].data_mut();
            for k in 0..p.len() {
                m[k] = b1 * m[k] + (1.0 - b1) * g[k];
                v[k] = b2 * v[k] + (1.0 - b2) * g[k] * g[k];
                p[k] -= self.lr * (m[k] / c1) / ((v[k] / c2).sqrt() + 1e-8);
            }
        }
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same folder, then a rename.
fn write_atomic(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

/// A minimal SVG line plot of several named series over common x values.
fn svg_plot(title: &str, x: &[f64], series: &[(&str, &[f64], &str)]) -> String {
    let (w, h, pad) = (640.0, 400.0, 50.0);
    let (x0, x1) = (x[0], x[x.len() - 1]);
    let all = series.iter().flat_map(|s| s.1.iter().copied());
    let (y0, y1) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let px = |v: f64| pad + (v - x0) / (x1 - x0) * (w - 2.0 * pad);
    let py = |v: f64| h - pad - (v - y0) / (y1 - y0) * (h - 2.0 * pad);
    let mut s = format!("<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='13'>\n<rect width='100%' height='100%' fill='white'/>\n<text x='{}' y='25' text-anchor='middle'>{title}</text>\n", w / 2.0);
    let _ = writeln!(
        s,
        "<rect x='{pad}' y='{pad}' width='{}' height='{}' fill='none' stroke='#888'/>",
        w - 2.0 * pad,
        h - 2.0 * pad
    );
    let _ = writeln!(s, "<text x='{pad}' y='{}' >{x0:.2}</text><text x='{}' y='{}' text-anchor='end'>{x1:.2}</text>", h - pad + 18.0, w - pad, h - pad + 18.0);
    let _ = writeln!(s, "<text x='{}' y='{}' text-anchor='end'>{y0:.2}</text><text x='{}' y='{}' text-anchor='end'>{y1:.2}</text>", pad - 4.0, h - pad, pad - 4.0, pad + 10.0);
    for (k, (name, ys, colour)) in series.iter().enumerate() {
        let pts: Vec<String> = x
            .iter()
            .zip(ys.iter())
            .map(|(&a, &b)| format!("{:.1},{:.1}", px(a), py(b)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill='none' stroke='{colour}' stroke-width='2' points='{}'/>",
            pts.join(" ")
        );
        let _ = writeln!(
            s,
            "<text x='{}' y='{}' fill='{colour}'>{name}</text>",
            w - pad - 150.0,
            pad + 20.0 + 18.0 * k as f64
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The outcome of [`train`].
pub struct Trained {
    /// The trained parameters `[W₁, b₁, W₂, b₂, W₃, b₃]`.
    pub params: Vec<Tensor>,
    /// Loss before the first step.
    pub first_loss: f64,
    /// Loss at the last step.
    pub last_loss: f64,
    /// `step,loss,value_mse,slope_mse` per step.
    pub csv: String,
}

/// The training points, `[POINTS, 1]` on [0, 1].
pub fn points() -> Tensor {
    Tensor::linspace(0.0, 1.0, POINTS).reshape(&[POINTS, 1])
}

/// Trains for `steps` Adam steps, printing a row every `report_every` steps (0: silent).
pub fn train(steps: usize, report_every: usize) -> Trained {
    let x = points();
    let mut params = init();
    let mut adam = Adam {
        lr: 3e-3,
        m: params.iter().map(|p| Tensor::zeros(p.shape())).collect(),
        v: params.iter().map(|p| Tensor::zeros(p.shape())).collect(),
        t: 0,
    };
    let mut csv = String::from("step,loss,value_mse,slope_mse\n");
    let mut tape = Tape::new();
    let start = Instant::now();
    let (mut first_loss, mut last_loss) = (f64::NAN, f64::NAN);
    if report_every > 0 {
        println!(
            "{:>6} {:>12} {:>12} {:>12} {:>10}",
            "step", "loss", "value mse", "slope mse", "steps/s"
        );
    }
    for step in 0..=steps {
        tape.clear();
        let vars: Vec<Var<'_>> = params.iter().map(|p| tape.var(p.clone())).collect();
        let (l, ve, se) = loss(&tape, &x, &vars);
        let grads = tape.gradients(&[l], None, &vars);
        let row = (l.item(), ve.item(), se.item());
        last_loss = row.0;
        if step == 0 {
            first_loss = row.0;
        }
        let _ = writeln!(csv, "{step},{:.6e},{:.6e},{:.6e}", row.0, row.1, row.2);
        if report_every > 0 && step % report_every == 0 {
            let rate = step as f64 / start.elapsed().as_secs_f64().max(1e-9);
            println!(
                "{step:>6} {:>12.4e} {:>12.4e} {:>12.4e} {rate:>10.0}",
                row.0, row.1, row.2
            );
        }
        adam.step(&mut params, &grads);
    }
    Trained {
        params,
        first_loss,
        last_loss,
        csv,
    }
}

/// Checks the loss gradient with respect to the parameters against finite differences at first
/// and second order (the gradients [`train`] used).
pub fn check(params: &[Tensor]) -> (GradCheckReport, GradCheckReport) {
    let x = points();
    let loss_of_params = hr(|tape, p| loss(tape, &x, p).0);
    let cfg = GradCheck::default();
    let r1 = check_grad(loss_of_params, params, &cfg).expect("first-order gradient check");
    let r2 = check_grad2(loss_of_params, params, &cfg).expect("second-order gradient check");
    (r1, r2)
}

/// Writes `loss.csv` and `fit.svg` (the network, its slope and the truth) into `out`.
pub fn write_outputs(trained: &Trained, out: &std::path::Path) -> std::io::Result<()> {
    let fine = Tensor::linspace(0.0, 1.0, 201).reshape(&[201, 1]);
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = trained
        .params
        .iter()
        .map(|p| tape.constant(p.clone()))
        .collect();
    let xv = tape.var(fine.clone());
    let u = network(xv, &vars);
    let du = tape.grad(&[u], &[xv])[0];
    let xs = fine.data().to_vec();
    let truth: Vec<f64> = xs.iter().map(|v| (2.0 * PI * v).sin()).collect();
    let slope: Vec<f64> = du.value().data().iter().map(|d| d / (2.0 * PI)).collect();
    std::fs::create_dir_all(out)?;
    write_atomic(&out.join("loss.csv"), &trained.csv)?;
    let plot = svg_plot(
        "u(x) learned from values and slopes",
        &xs,
        &[
            ("sin 2πx", &truth, "#999"),
            ("u(x)", u.value().data(), "#1f77b4"),
            ("u′(x)/2π", &slope, "#d62728"),
        ],
    );
    write_atomic(&out.join("fit.svg"), &plot)
}

fn main() -> std::io::Result<()> {
    let start = Instant::now();
    let trained = train(STEPS, 500);
    println!(
        "trained {STEPS} steps in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let (r1, r2) = check(&trained.params);
    println!(
        "gradient check: {} comparisons at first order, {} at second, worst |err|/tol {:.2e} / {:.2e}",
        r1.comparisons, r2.comparisons, r1.worst_ratio, r2.worst_ratio
    );
    let out = std::path::Path::new("out/quickstart");
    write_outputs(&trained, out)?;
    println!(
        "wrote {}/loss.csv and {}/fit.svg",
        out.display(),
        out.display()
    );
    assert!(
        trained.last_loss < trained.first_loss * 1e-2,
        "training should reduce the loss a hundredfold: {} → {}",
        trained.first_loss,
        trained.last_loss
    );
    Ok(())
}
