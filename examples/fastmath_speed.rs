//! Elementwise kernel speed: vectorised exp/tanh against libm, in ns per element.
//! Run: `cargo run --release --example fastmath_speed`.
use physgrad::tensor::fastmath;
use std::time::Instant;
fn main() {
    for &n in &[1280usize, 262144] {
        let x: Vec<f64> = (0..n).map(|i| -3.0 + 6.0 * (i as f64) / n as f64).collect();
        let mut out = vec![0.0; n];
        let reps = 20_000_000 / n;
        let time = |name: &str, f: &mut dyn FnMut()| {
            for _ in 0..reps / 10 {
                f();
            }
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            println!(
                "{name} n={n}: {:.2} ns/elt",
                t.elapsed().as_secs_f64() * 1e9 / (reps * n) as f64
            );
        };
        time("fast exp ", &mut || {
            fastmath::exp_into(&x, &mut out);
            std::hint::black_box(&out);
        });
        time("libm exp ", &mut || {
            for (o, &v) in out.iter_mut().zip(&x) {
                *o = v.exp();
            }
            std::hint::black_box(&out);
        });
        time("fast tanh", &mut || {
            fastmath::tanh_into(&x, &mut out);
            std::hint::black_box(&out);
        });
        time("libm tanh", &mut || {
            for (o, &v) in out.iter_mut().zip(&x) {
                *o = v.tanh();
            }
            std::hint::black_box(&out);
        });
    }
}
