//! Elementwise kernel speed: vectorised exp/tanh/sin-cos against libm, and the tape ops `erf`
//! and `gelu` (whose error function is vectorised), in ns per element.
//! Run: `cargo run --release --example fastmath_speed`.
use physgrad::tensor::{fastmath, Tensor};
use physgrad::Tape;
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
        // Arguments of a Fourier time embedding (frequencies up to 100, t in [0, 1]).
        let wide: Vec<f64> = x.iter().map(|v| 17.0 * v).collect();
        let mut out2 = vec![0.0; n];
        time("fast sin+cos", &mut || {
            fastmath::sin_cos_into(&wide, &mut out, &mut out2);
            std::hint::black_box((&out, &out2));
        });
        time("libm sin+cos", &mut || {
            for ((o, p), &v) in out.iter_mut().zip(out2.iter_mut()).zip(&wide) {
                *o = v.sin();
                *p = v.cos();
            }
            std::hint::black_box((&out, &out2));
        });
        let xt = Tensor::from_vec(x.clone(), &[n]);
        time("Var::erf (with its exp)", &mut || {
            let tape = Tape::new();
            std::hint::black_box(tape.constant(xt.clone()).erf().value());
        });
        time("Var::gelu (φ, Φ, x·Φ)", &mut || {
            let tape = Tape::new();
            std::hint::black_box(tape.constant(xt.clone()).gelu().value());
        });
    }
}
