//! Volume fraction and two-point correlation: known patterns (stripes, checkerboard, constant),
//! brute force on random images, gradient checks at first and second order over random shapes.

use physgrad::physics::statistics::{two_point_correlation, volume_fraction};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Tape, Tensor};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn image(h: usize, w: usize, f: impl Fn(usize, usize) -> f64) -> Tensor {
    Tensor::from_vec((0..h * w).map(|k| f(k / w, k % w)).collect(), &[h, w])
}

fn s2(img: &Tensor, axis: usize, max_r: usize) -> Vec<f64> {
    let tape = Tape::new();
    two_point_correlation(tape.constant(img.clone()), axis, max_r)
        .value()
        .into_vec()
}

#[test]
fn stripes_checkerboard_and_constant() {
    // Horizontal stripes of period 2 (rows alternate 1, 0): along axis 0 S₂ = ½, 0, ½, …;
    // along axis 1 S₂ = ½ everywhere.
    let stripes = image(6, 8, |i, _| ((i + 1) % 2) as f64);
    assert_eq!(s2(&stripes, 0, 4), vec![0.5, 0.0, 0.5, 0.0, 0.5]);
    assert_eq!(s2(&stripes, 1, 5), vec![0.5; 6]);
    let checker = image(6, 6, |i, j| ((i + j + 1) % 2) as f64);
    for axis in 0..2 {
        assert_eq!(s2(&checker, axis, 5), vec![0.5, 0.0, 0.5, 0.0, 0.5, 0.0]);
    }
    let constant = Tensor::full(&[5, 7], 0.3);
    assert!(s2(&constant, 1, 6).iter().all(|v| (v - 0.09).abs() < 1e-15));
    let tape = Tape::new();
    assert_eq!(volume_fraction(tape.constant(stripes)).item(), 0.5);
    // Stripes of period 3 with one phase row: p₁ = ⅓, S₂(0) = ⅓, S₂(1) = S₂(2) = 0.
    let thin = image(6, 4, |i, _| f64::from(u8::from(i % 3 == 0)));
    let got = s2(&thin, 0, 3);
    let want = [1.0 / 3.0, 0.0, 0.0, 1.0 / 3.0];
    assert!(
        got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-15),
        "{got:?}"
    );
}

#[test]
fn matches_brute_force_on_random_images() {
    let img = Tensor::rand_uniform(&[5, 7], 0.0, 1.0, 3);
    for axis in 0..2 {
        let n = img.shape()[axis];
        let got = s2(&img, axis, n - 1);
        for r in 0..n {
            let mut s = 0.0;
            for i in 0..5 {
                for j in 0..7 {
                    let (k, l) = if axis == 0 {
                        ((i + r) % 5, j)
                    } else {
                        (i, (j + r) % 7)
                    };
                    s += img.at(&[i, j]) * img.at(&[k, l]);
                }
            }
            assert!((got[r] - s / 35.0).abs() < 1e-14, "axis {axis} r {r}");
        }
    }
}

#[test]
fn gradients_first_and_second_order_over_random_shapes() {
    let cases = crate::support::cases().min(16);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (2usize..6, 2usize..6, 0usize..2, any::<u64>());
    runner
        .run(&strategy, |(h, w, axis, seed)| {
            let img = Tensor::rand_uniform(&[h, w], 0.0, 1.0, seed);
            let max_r = [h, w][axis] - 1;
            let f =
                hr(move |_t, v| two_point_correlation(v[0], axis, max_r) + volume_fraction(v[0]));
            check_grad(f, std::slice::from_ref(&img), &GradCheck::default())
                .map_err(|e| TestCaseError::fail(format!("first order: {e}")))?;
            check_grad2(f, &[img], &GradCheck::default())
                .map_err(|e| TestCaseError::fail(format!("second order: {e}")))?;
            Ok(())
        })
        .unwrap();
}

#[test]
#[should_panic(expected = "two_point_correlation: max_r = 4")]
fn too_long_a_lag_panics_naming_the_op() {
    let tape = Tape::new();
    two_point_correlation(tape.constant(Tensor::zeros(&[4, 4])), 0, 4);
}
