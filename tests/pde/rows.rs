//! The fused jet kernels `row_scale` and `sum_prod`: values against broadcast compositions, and
//! first- and second-order finite-difference checks over random shapes and direction ranges.

use crate::support::check_both;
use physgrad::pde::jet::{row_scale, sum_prod};
use physgrad::{Tape, Tensor};
use proptest::prelude::*;

/// A direction range inside `0..m` from two draws.
fn range(m: usize, a: usize, len: usize) -> std::ops::Range<usize> {
    let start = a % m;
    start..(start + 1 + len % (m - start))
}

#[test]
fn fused_kernels_match_compositions_and_gradcheck() {
    let strategy = (
        1usize..4,
        1usize..5,
        1usize..4,
        0usize..8,
        0usize..8,
        0u64..1000,
    );
    super::jets::runner()
        .run(&strategy, |(b, m, n, a, len, seed)| {
            let sel = range(m, a, len);
            let s = Tensor::randn(&[b, n], seed);
            let j = Tensor::randn(&[b, m, n], seed + 1);
            let e = Tensor::randn(&[b, m, n], seed + 2);
            let mut mask = Tensor::zeros(&[1, m, 1]);
            for c in sel.clone() {
                mask.data_mut()[c] = 1.0;
            }
            let tape = Tape::new();
            let (sv, jv, ev) = (
                tape.var(s.clone()),
                tape.var(j.clone()),
                tape.var(e.clone()),
            );
            let mk = tape.constant(mask);
            let want = sv.reshape(&[b, 1, n]) * jv * mk;
            let got = row_scale(sv, jv, sel.clone());
            prop_assert!(got.value().max_abs_diff(&want.value()) < 1e-14);
            let want = (jv * ev * mk).sum_axes(&[1], false);
            let got = sum_prod(jv, ev, sel.clone());
            prop_assert!(got.value().max_abs_diff(&want.value()) < 1e-13);
            let r = sel.clone();
            check_both(
                move |_, v| row_scale(v[0], v[1], r.clone()).square().sum(),
                &[s, j.clone()],
            )?;
            let r = sel.clone();
            check_both(
                move |_, v| sum_prod(v[0], v[1], r.clone()).square().sum(),
                &[j.clone(), e],
            )?;
            // the same operand twice (Σ J², as in the jets' curvature term)
            check_both(
                move |_, v| sum_prod(v[0], v[0], sel.clone()).sin().sum(),
                &[j],
            )?;
            Ok(())
        })
        .unwrap();
}

#[test]
#[should_panic(expected = "jet::row_scale")]
fn row_scale_rejects_mismatched_shapes() {
    let tape = Tape::new();
    let s = tape.constant(Tensor::zeros(&[2, 3]));
    let j = tape.constant(Tensor::zeros(&[2, 4, 2]));
    let _ = row_scale(s, j, 0..4);
}

/// `row_scale` on a part of the directions reuses pooled buffers without zero-filling them, so
/// it must zero the other directions itself: run it right after a NaN-filled buffer of its
/// length went back to the pool.
#[test]
fn row_scale_zeroes_unselected_directions_of_a_reused_buffer() {
    let (b, m, n) = (3, 7, 64); // 1344 elements: pooled
    let tape = Tape::new();
    let s = tape.var(Tensor::randn(&[b, n], 5));
    let j = tape.var(Tensor::randn(&[b, m, n], 6));
    drop(Tensor::from_vec(vec![f64::NAN; b * m * n], &[b, m, n]));
    let y = row_scale(s, j, 2..5).value();
    let (sv, jv) = (s.value(), j.value());
    for r in 0..b {
        for c in 0..m {
            for k in 0..n {
                let got = y.data()[(r * m + c) * n + k];
                let want = if (2..5).contains(&c) {
                    sv.data()[r * n + k] * jv.data()[(r * m + c) * n + k]
                } else {
                    0.0
                };
                assert_eq!(got.to_bits(), want.to_bits(), "row {r}, direction {c}, {k}");
            }
        }
    }
}
