//! Measures the alternative to the composed convolutions: a fused transposed-convolution
//! forward (one GEMM on channels-last rows, then a direct col2im loop that writes NCHW and crops,
//! with no index array, permute of the output, or slice), against `nn::conv_transpose2d` (the
//! composition), on the four layers of the 64×64 generator of `benches/nn_workloads.rs`, batch 16.
//! Checks that both agree, prints the time of each and their ratio.
//!
//! Run: `cargo run --release --example conv_fused_probe`.

use physgrad::nn::{conv_transpose2d, ConvGeometry};
use physgrad::tensor::kernels;
use physgrad::{Tape, Tensor};
use std::time::Instant;

/// Fused forward: one GEMM (channels-last rows) and a col2im loop that writes NCHW and crops.
fn fused(x: &Tensor, w: &Tensor, s: usize, p: usize) -> Tensor {
    let (n, c, h, wd) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let (o, k) = (w.shape()[1], w.shape()[2]);
    let xl = kernels::permute(&x.reshape(&[n, c, h * wd]), &[0, 2, 1]).reshape(&[n * h * wd, c]);
    let wl = kernels::permute(w, &[0, 2, 3, 1]).reshape(&[c, k * k * o]);
    let cols = kernels::matmul(&xl, &wl, false, false);
    let (oh, ow) = ((h - 1) * s + k - 2 * p, (wd - 1) * s + k - 2 * p);
    let mut out = vec![0.0; n * o * oh * ow];
    let cd = cols.data();
    for ni in 0..n {
        for i in 0..h {
            for j in 0..wd {
                let row = &cd[((ni * h + i) * wd + j) * k * k * o..][..k * k * o];
                for u in 0..k {
                    let y = (s * i + u) as isize - p as isize;
                    if y < 0 || y >= oh as isize {
                        continue;
                    }
                    for v in 0..k {
                        let xx = (s * j + v) as isize - p as isize;
                        if xx < 0 || xx >= ow as isize {
                            continue;
                        }
                        let base = (u * k + v) * o;
                        for co in 0..o {
                            out[((ni * o + co) * oh + y as usize) * ow + xx as usize] +=
                                row[base + co];
                        }
                    }
                }
            }
        }
    }
    Tensor::from_vec(out, &[n, o, oh, ow])
}

fn main() {
    let g = ConvGeometry {
        stride: 2,
        padding: 1,
        output_padding: 0,
    };
    let layers = [(64, 32, 4), (32, 16, 8), (16, 8, 16), (8, 1, 32)];
    let (mut tc, mut tf) = (0.0, 0.0);
    for &(ci, co, hw) in &layers {
        let x = Tensor::randn(&[16, ci, hw, hw], 1);
        let w = Tensor::randn(&[ci, co, 4, 4], 2);
        let reps = 200;
        let tape = Tape::new();
        let a =
            conv_transpose2d(tape.constant(x.clone()), tape.constant(w.clone()), None, g).value();
        let b = fused(&x, &w, 2, 1);
        assert!(a.max_abs_diff(&b) < 1e-10);
        let t = Instant::now();
        for _ in 0..reps {
            let tape = Tape::new();
            std::hint::black_box(
                conv_transpose2d(tape.constant(x.clone()), tape.constant(w.clone()), None, g)
                    .value(),
            );
        }
        let c = t.elapsed().as_secs_f64() / reps as f64 * 1e3;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(fused(&x, &w, 2, 1));
        }
        let f = t.elapsed().as_secs_f64() / reps as f64 * 1e3;
        println!("{ci}->{co} {hw}px: composition {c:.3} ms, fused {f:.3} ms");
        tc += c;
        tf += f;
    }
    println!(
        "total: composition {tc:.3} ms, fused {tf:.3} ms, ratio {:.2}",
        tf / tc
    );
}
