//! Unnormalised 2-D FFTs of square complex arrays through `rustfft`: row transforms, a blocked
//! transpose, row transforms — the result stays in transposed layout (see
//! [`super::cahn_hilliard`], whose symbols are symmetric in the two axes).

use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Forward and inverse length-`N` transforms, shareable across threads.
#[derive(Clone)]
pub(crate) struct Plans {
    n: usize,
    fwd: Arc<dyn Fft<f64>>,
    inv: Arc<dyn Fft<f64>>,
}

impl Plans {
    pub(crate) fn new(n: usize) -> Plans {
        let mut planner = FftPlanner::new();
        Plans {
            n,
            fwd: planner.plan_fft_forward(n),
            inv: planner.plan_fft_inverse(n),
        }
    }

    pub(crate) fn scratch_len(&self) -> usize {
        self.fwd
            .get_inplace_scratch_len()
            .max(self.inv.get_inplace_scratch_len())
    }

    /// Unnormalised 2-D transform of `a` (row-major `N × N`), result in `b` in transposed
    /// layout (`b[kx N + ky]`); `a` is overwritten. The inverse direction maps a transposed
    /// spectrum back to row-major values, again unnormalised (a round trip multiplies by `N²`).
    pub(crate) fn fft2(
        &self,
        inverse: bool,
        a: &mut [Complex64],
        b: &mut [Complex64],
        s: &mut [Complex64],
    ) {
        let fft = if inverse { &self.inv } else { &self.fwd };
        fft.process_with_scratch(a, s);
        transpose(a, b, self.n);
        fft.process_with_scratch(b, s);
    }
}

/// `b = aᵀ` for row-major `n × n`, in 8 × 8 blocks.
fn transpose(a: &[Complex64], b: &mut [Complex64], n: usize) {
    const B: usize = 8;
    for i0 in (0..n).step_by(B) {
        for j0 in (0..n).step_by(B) {
            for i in i0..(i0 + B).min(n) {
                for j in j0..(j0 + B).min(n) {
                    b[j * n + i] = a[i * n + j];
                }
            }
        }
    }
}
