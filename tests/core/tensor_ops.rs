//! Tensor construction, broadcasting and kernels.

use physgrad::Tensor;

#[test]
fn seeded_constructors_are_reproducible() {
    assert_eq!(Tensor::randn(&[3, 4], 42), Tensor::randn(&[3, 4], 42));
    assert_ne!(Tensor::randn(&[3, 4], 42), Tensor::randn(&[3, 4], 43));
    let u = Tensor::rand_uniform(&[1000], -2.0, 3.0, 1);
    assert!(u.data().iter().all(|&v| (-2.0..3.0).contains(&v)));
    let mean = Tensor::randn(&[20000], 5).sum_all() / 20000.0;
    assert!(mean.abs() < 0.03, "sample mean {mean}");
}

#[test]
fn approximate_comparison_and_display() {
    let a = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    let b = Tensor::from_vec(vec![1.0 + 1e-12, 2.0], &[2]);
    assert!(a.approx_eq(&b, 1e-10, 0.0));
    assert!(!a.approx_eq(&b, 1e-14, 0.0));
    assert!(
        !a.approx_eq(&a.reshape(&[1, 2]), 1.0, 1.0),
        "shapes must match"
    );
    assert_eq!(format!("{a:.2}"), "[1.00, 2.00]");
    assert!(a.max_abs_diff(&b) < 2e-12);
}

#[test]
fn zip_with_broadcasts_like_numpy() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3, 1]);
    let b = Tensor::from_vec(vec![10.0, 20.0], &[1, 2]);
    let c = a.zip_with(&b, |x, y| x * y);
    assert_eq!(c.shape(), &[3, 2]);
    assert_eq!(c.data(), &[10.0, 20.0, 20.0, 40.0, 30.0, 60.0]);
}

#[test]
#[should_panic(expected = "Tensor::from_vec: 3 values cannot have shape [2, 2]")]
fn wrong_length_panics() {
    let _ = Tensor::from_vec(vec![1.0; 3], &[2, 2]);
}

#[test]
fn large_matmul_uses_parallel_path_and_matches_naive() {
    let a = Tensor::randn(&[70, 80], 1);
    let b = Tensor::randn(&[80, 60], 2);
    let c = physgrad::tensor::kernels::matmul(&a, &b, false, false);
    let mut worst: f64 = 0.0;
    for i in (0..70).step_by(7) {
        for j in (0..60).step_by(5) {
            let s: f64 = (0..80).map(|k| a.at(&[i, k]) * b.at(&[k, j])).sum();
            worst = worst.max((c.at(&[i, j]) - s).abs());
        }
    }
    assert!(worst < 1e-12, "{worst}");
}
