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

/// Naive reference for `op(a)·op(b)` on rank-2 tensors, checked on every `step`-th entry.
fn check_product(a: &Tensor, b: &Tensor, ta: bool, tb: bool, step: usize) {
    let c = physgrad::tensor::kernels::matmul(a, b, ta, tb);
    let get =
        |t: &Tensor, i: usize, j: usize, tr: bool| if tr { t.at(&[j, i]) } else { t.at(&[i, j]) };
    let k = if ta { a.shape()[0] } else { a.shape()[1] };
    let (m, n) = (c.shape()[0], c.shape()[1]);
    let mut worst: f64 = 0.0;
    for i in (0..m).step_by(step) {
        for j in (0..n).step_by(step) {
            let s: f64 = (0..k).map(|p| get(a, i, p, ta) * get(b, p, j, tb)).sum();
            worst = worst.max((c.at(&[i, j]) - s).abs() / (1.0 + s.abs()));
        }
    }
    assert!(worst < 1e-12, "{ta} {tb}: {worst}");
}

#[test]
fn split_products_match_naive_for_every_transpose_combination() {
    // Tall products (split across rows of C) and long inner dimensions (split across k).
    let tall_a = Tensor::randn(&[600, 50], 3);
    let tall_b = Tensor::randn(&[50, 40], 4);
    check_product(&tall_a, &tall_b, false, false, 7);
    check_product(
        &Tensor::randn(&[50, 600], 5),
        &Tensor::randn(&[40, 50], 6),
        true,
        true,
        7,
    );
    let long_a = Tensor::randn(&[3000, 40], 7);
    let long_b = Tensor::randn(&[3000, 30], 8);
    check_product(&long_a, &long_b, true, false, 3);
    check_product(
        &Tensor::randn(&[40, 3000], 9),
        &Tensor::randn(&[30, 3000], 10),
        false,
        true,
        3,
    );
}

#[test]
fn large_broadcasts_split_across_threads_match_index_arithmetic() {
    // Above the parallel threshold: rows broadcast, columns broadcast, and a rank-3 mix.
    for (sa, sb) in [
        (vec![700, 130], vec![130]),
        (vec![700, 130], vec![700, 1]),
        (vec![9, 70, 130], vec![70, 1]),
    ] {
        let a = Tensor::randn(&sa, 1);
        let b = Tensor::randn(&sb, 2);
        let c = a.zip_with(&b, |x, y| x * 2.0 - y);
        let full = physgrad::tensor::broadcast_shapes(&sa, &sb).unwrap();
        assert_eq!(c.shape(), full.as_slice());
        let strides = physgrad::tensor::strides_of(&full);
        for (flat, &v) in c.data().iter().enumerate() {
            let idx: Vec<usize> = strides
                .iter()
                .zip(full.iter())
                .map(|(s, n)| flat / s % n)
                .collect();
            let pick = |t: &Tensor| {
                let lead = idx.len() - t.ndim();
                let i: Vec<usize> = t
                    .shape()
                    .iter()
                    .enumerate()
                    .map(|(k, &n)| if n == 1 { 0 } else { idx[lead + k] })
                    .collect();
                t.at(&i)
            };
            assert_eq!(v, pick(&a) * 2.0 - pick(&b), "at {idx:?}");
        }
    }
}

/// Gather and scatter-add along every axis of a rank-3 tensor (the last axis has its own loop)
/// against index arithmetic.
#[test]
fn gather_and_scatter_add_match_index_arithmetic() {
    let shape = [3usize, 4, 5];
    let a = Tensor::randn(&shape, 11);
    let tape = physgrad::Tape::new();
    let av = tape.constant(a.clone());
    let idx = [4usize, 0, 2, 2, 3];
    for axis in 0..3 {
        let idx: Vec<usize> = idx.iter().map(|&i| i % shape[axis]).collect();
        let g = av.gather(axis, &idx).value();
        let mut gs = shape;
        gs[axis] = idx.len();
        assert_eq!(g.shape(), &gs[..]);
        let size = shape[axis] + 2;
        let s = av.gather(axis, &idx).scatter_add(axis, &idx, size).value();
        let mut expect_s = vec![0.0; s.len()];
        let mut ss = shape;
        ss[axis] = size;
        for i in 0..gs[0] {
            for j in 0..gs[1] {
                for k in 0..gs[2] {
                    let mut src = [i, j, k];
                    src[axis] = idx[src[axis]];
                    let v = a.at(&src);
                    assert_eq!(g.at(&[i, j, k]), v, "gather axis {axis} at {:?}", [i, j, k]);
                    expect_s[(src[0] * ss[1] + src[1]) * ss[2] + src[2]] += v;
                }
            }
        }
        assert_eq!(s.data(), &expect_s[..], "scatter_add axis {axis}");
    }
}
