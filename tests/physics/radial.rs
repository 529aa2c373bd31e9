//! The radially averaged two-point correlation: brute force over displacement rings on random
//! images (single and batched), known patterns, and first- and second-order gradient checks
//! over random shapes.

use physgrad::physics::statistics::radial_two_point_correlation;
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Tape, Tensor};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn radial(img: &Tensor, max_r: usize) -> Vec<f64> {
    let tape = Tape::new();
    radial_two_point_correlation(tape.constant(img.clone()), max_r)
        .value()
        .into_vec()
}

/// Direct sums: for each ring `r`, the mean over displacements `(dy, dx)` with
/// `round(√(dy² + dx²)) = r` of `(1/N) Σ φ(i, j) φ(i + dy, j + dx)` (periodic).
fn brute(img: &[f64], h: usize, w: usize, max_r: usize) -> Vec<f64> {
    let m = |a: isize, n: usize| a.rem_euclid(n as isize) as usize;
    let (mut sum, mut count) = (vec![0.0; max_r + 1], vec![0usize; max_r + 1]);
    let r = max_r as isize;
    for dy in -r..=r {
        for dx in -r..=r {
            let ring = ((dy * dy + dx * dx) as f64).sqrt().round() as usize;
            if ring > max_r {
                continue;
            }
            let mut s = 0.0;
            for i in 0..h {
                for j in 0..w {
                    let (k, l) = (m(i as isize + dy, h), m(j as isize + dx, w));
                    s += img[i * w + j] * img[k * w + l];
                }
            }
            sum[ring] += s / (h * w) as f64;
            count[ring] += 1;
        }
    }
    sum.iter().zip(&count).map(|(s, c)| s / *c as f64).collect()
}

#[test]
fn matches_brute_force_single_and_batched() {
    for (h, w, max_r, seed) in [(7, 9, 3, 1), (12, 12, 5, 2), (5, 11, 2, 3)] {
        let img = Tensor::rand_uniform(&[h, w], 0.0, 1.0, seed);
        let got = radial(&img, max_r);
        let want = brute(img.data(), h, w, max_r);
        for r in 0..=max_r {
            assert!(
                (got[r] - want[r]).abs() < 1e-14,
                "{h}×{w} r {r}: {} vs {}",
                got[r],
                want[r]
            );
        }
    }
    let batch = Tensor::rand_uniform(&[3, 8, 10], 0.0, 1.0, 9);
    let got = radial(&batch, 3);
    assert_eq!(got.len(), 3 * 4);
    for b in 0..3 {
        let want = brute(&batch.data()[b * 80..(b + 1) * 80], 8, 10, 3);
        for r in 0..4 {
            assert!((got[b * 4 + r] - want[r]).abs() < 1e-14, "image {b} r {r}");
        }
    }
}

#[test]
fn known_values_zero_lag_constant_and_axis_rings() {
    let img = Tensor::rand_uniform(&[9, 9], 0.0, 1.0, 5);
    let got = radial(&img, 4);
    // r = 0 is the single displacement 0: ⟨φ²⟩.
    let m2 = img.data().iter().map(|v| v * v).sum::<f64>() / 81.0;
    assert!((got[0] - m2).abs() < 1e-14);
    // Ring 1 holds the 4 axis neighbours and the 4 diagonals (|(1, 1)| = 1.41 rounds to 1),
    // ring 2 the 4 axis displacements of length 2 and the 8 of length √5. Vertical stripes of
    // period 2 correlate (½) exactly when dx is even: ring 1 = 2·½/8, ring 2 = 8·½/12.
    let stripes = Tensor::from_vec((0..64).map(|p| ((p % 8 + 1) % 2) as f64).collect(), &[8, 8]);
    let got = radial(&stripes, 3);
    assert!((got[0] - 0.5).abs() < 1e-15);
    assert!((got[1] - 0.125).abs() < 1e-15, "{got:?}");
    assert!((got[2] - 1.0 / 3.0).abs() < 1e-15, "{got:?}");
    // A constant image c: every ring is c².
    assert!(radial(&Tensor::full(&[6, 6], 0.4), 2)
        .iter()
        .all(|v| (v - 0.16).abs() < 1e-15));
}

#[test]
fn gradients_first_and_second_order_over_random_shapes() {
    let cases = crate::support::cases().min(12);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (1usize..3, 3usize..7, 3usize..7, any::<u64>());
    runner
        .run(&strategy, |(b, h, w, seed)| {
            let img = Tensor::rand_uniform(&[b, h, w], 0.0, 1.0, seed);
            let max_r = (h.min(w) - 1) / 2;
            let f = hr(move |_t, v| radial_two_point_correlation(v[0], max_r));
            check_grad(f, std::slice::from_ref(&img), &GradCheck::default())
                .map_err(|e| TestCaseError::fail(format!("first order: {e}")))?;
            check_grad2(f, &[img], &GradCheck::default())
                .map_err(|e| TestCaseError::fail(format!("second order: {e}")))?;
            Ok(())
        })
        .unwrap();
}

#[test]
#[should_panic(expected = "radial_two_point_correlation: 2·max_r + 1 = 5")]
fn too_large_a_radius_panics_naming_the_op() {
    let tape = Tape::new();
    radial_two_point_correlation(tape.constant(Tensor::zeros(&[4, 6])), 2);
}
