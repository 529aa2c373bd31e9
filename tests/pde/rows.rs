//! The fused jet kernels (`row_scale`, `sum_prod` and the ops for a tangent shared by every row
//! and for the last layer's entries): values against broadcast compositions, and first- and
//! second-order finite-difference checks over random shapes and direction ranges.

use crate::support::check_both;
use physgrad::pde::jet::{
    col_weighted_sum, outer_shared, row_dot, row_scale, row_scale_shared, sum_prod,
    sum_prod_shared, weighted_row_sum,
};
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

/// The shared-tangent ops (`row_scale_shared`, `sum_prod_shared`, `weighted_row_sum`) and the
/// entry ops (`row_dot`, `outer_shared`, `col_weighted_sum`): each against its broadcast
/// composition, and each through the finite-difference checker at first and second order (the
/// second order runs through the VJPs, which are the other ops of the family).
#[test]
fn shared_and_entry_kernels_match_compositions_and_gradcheck() {
    let strategy = (1usize..4, 1usize..5, 1usize..4, 0u64..1000);
    super::jets::runner()
        .run(&strategy, |(b, m, n, seed)| {
            let s = Tensor::randn(&[b, n], seed);
            let f = Tensor::randn(&[m, n], seed + 1);
            let a = Tensor::randn(&[b, m, n], seed + 2);
            let g = Tensor::randn(&[b, m], seed + 3);
            let tape = Tape::new();
            let (sv, fv, av, gv) = (
                tape.var(s.clone()),
                tape.var(f.clone()),
                tape.var(a.clone()),
                tape.var(g.clone()),
            );
            let close = |x: physgrad::Var<'_>, y: physgrad::Var<'_>| {
                x.value().max_abs_diff(&y.value()) < 1e-13
            };
            let s3 = sv.reshape(&[b, 1, n]);
            let g3 = gv.reshape(&[b, m, 1]);
            prop_assert!(close(row_scale_shared(sv, fv), s3 * fv));
            prop_assert!(close(
                sum_prod_shared(av, fv),
                (av * fv).sum_axes(&[1], false)
            ));
            prop_assert!(close(
                weighted_row_sum(av, sv),
                (av * s3).sum_axes(&[0], false)
            ));
            prop_assert!(close(row_dot(av, fv), (av * fv).sum_axes(&[2], false)));
            prop_assert!(close(outer_shared(gv, fv), g3 * fv));
            prop_assert!(close(
                col_weighted_sum(gv, av),
                (g3 * av).sum_axes(&[0], false)
            ));
            // A smooth scalar of each, so the second order sees every VJP of the family.
            check_both(
                |_, v| row_scale_shared(v[0], v[1]).sin().sum(),
                &[s.clone(), f.clone()],
            )?;
            check_both(
                |_, v| sum_prod_shared(v[0], v[1]).sin().sum(),
                &[a.clone(), f.clone()],
            )?;
            check_both(
                |_, v| weighted_row_sum(v[0], v[1]).sin().sum(),
                &[a.clone(), s],
            )?;
            check_both(
                |_, v| row_dot(v[0], v[1]).sin().sum(),
                &[a.clone(), f.clone()],
            )?;
            check_both(|_, v| outer_shared(v[0], v[1]).sin().sum(), &[g.clone(), f])?;
            check_both(|_, v| col_weighted_sum(v[0], v[1]).sin().sum(), &[g, a])?;
            Ok(())
        })
        .unwrap();
}

#[test]
#[should_panic(expected = "jet::row_dot")]
fn row_dot_rejects_mismatched_shapes() {
    let tape = Tape::new();
    let j = tape.var(Tensor::zeros(&[2, 3, 4]));
    let w = tape.var(Tensor::zeros(&[3, 5]));
    let _ = row_dot(j, w);
}

/// With no directions (`m = 0`) or no features, every op gives zeros of its output shape
/// (its loops step through blocks of `m·n` values, which must not be empty).
#[test]
fn kernels_take_empty_operands() {
    for (b, m, n) in [(2, 0, 3), (2, 3, 0), (0, 3, 2)] {
        let tape = Tape::new();
        let s = tape.var(Tensor::randn(&[b, n], 1));
        let f = tape.var(Tensor::randn(&[m, n], 2));
        let a = tape.var(Tensor::randn(&[b, m, n], 3));
        let g = tape.var(Tensor::randn(&[b, m], 4));
        let zero = |v: physgrad::Var<'_>, shape: &[usize]| {
            assert_eq!(v.shape().as_slice(), shape, "{b}, {m}, {n}");
            assert!(v.value().data().iter().all(|&x| x == 0.0), "{b}, {m}, {n}");
        };
        zero(row_scale(s, a, 0..m), &[b, m, n]);
        zero(sum_prod(a, a, 0..m), &[b, n]);
        zero(row_scale_shared(s, f), &[b, m, n]);
        zero(sum_prod_shared(a, f), &[b, n]);
        zero(weighted_row_sum(a, s), &[m, n]);
        zero(row_dot(a, f), &[b, m]);
        zero(outer_shared(g, f), &[b, m, n]);
        zero(col_weighted_sum(g, a), &[m, n]);
    }
}
