//! Matrix-product speed on the shapes of the networks' layers against the core's FMA peak.
//!
//! A 64-channel layer's products are `[M, 64]·[64, 64]` (forward, and the input gradient with
//! the weight transposed) and `[M, 64]ᵀ·[M, 64]` (the weight gradient), with `M` = points ×
//! jet directions. This prints their speed through `tensor::kernels::matmul` (faer) with hot
//! caches, and the peak of one core measured by 24 independent chains of fused multiply-adds,
//! in GFLOP/s. Run on one thread: `RAYON_NUM_THREADS=1 cargo run --release --example gemm_shapes`.

use physgrad::tensor::kernels;
use physgrad::Tensor;
use std::hint::black_box;
use std::time::Instant;

/// Multiply-adds per second of 24 independent chains of 8-lane FMAs (AVX-512), in GFLOP/s.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_peak_avx512(iters: usize) -> f64 {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_set1_pd(0.0); 24];
    let a = _mm512_set1_pd(1.000_000_1);
    let b = _mm512_set1_pd(0.999_999_9);
    let start = Instant::now();
    for _ in 0..iters {
        for r in acc.iter_mut() {
            *r = _mm512_fmadd_pd(*r, a, b);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let sum = acc
        .iter()
        .fold(_mm512_set1_pd(0.0), |s, &r| _mm512_add_pd(s, r));
    black_box(_mm512_reduce_add_pd(sum));
    (iters * 24 * 8 * 2) as f64 / seconds / 1e9
}

/// Best of five timings of `reps` calls, seconds per call.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps {
                f();
            }
            start.elapsed().as_secs_f64() / reps as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (checked just above).
        let peak = unsafe { fma_peak_avx512(20_000_000) };
        println!("FMA peak of one core (AVX-512): {peak:.1} GFLOP/s");
    }
    let w = Tensor::randn(&[64, 64], 1);
    for m in [512usize, 1600, 3200] {
        let x = Tensor::randn(&[m, 64], 2);
        let flop = 2.0 * (m * 64 * 64) as f64;
        let rate = |ta, tb, b: &Tensor| {
            flop / time(200, || {
                black_box(kernels::matmul(&x, b, ta, tb));
            }) / 1e9
        };
        println!(
            "M = {m:5}: [M,64]·[64,64] {:6.1}  [M,64]·[64,64]ᵀ {:6.1}  [M,64]ᵀ·[M,64] {:6.1} GFLOP/s",
            rate(false, false, &w),
            rate(false, true, &w),
            rate(true, false, &x)
        );
    }
}
