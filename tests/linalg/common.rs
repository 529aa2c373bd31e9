//! Random well-conditioned problems and the proptest runner shared by the linalg tests.

use physgrad::Tensor;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub use crate::support::{check_both, rng};

/// Runs `body` on `cases()` random seeds; with `LINALG_SEED=s`, on that seed only.
pub fn for_seeds(body: impl Fn(u64) -> Result<(), TestCaseError>) {
    crate::support::for_seeds("LINALG_SEED", body)
}

/// A random sparse pattern on `n × n`: the full diagonal plus each off-diagonal position with
/// probability `density` (mirrored when `symmetric`), in a shuffled order.
pub fn random_pattern(
    n: usize,
    density: f64,
    symmetric: bool,
    r: &mut ChaCha8Rng,
) -> Vec<(usize, usize)> {
    let mut e: Vec<(usize, usize)> = (0..n).map(|i| (i, i)).collect();
    for i in 0..n {
        for j in 0..i {
            if r.random_bool(density) {
                e.push((i, j));
                if symmetric || r.random_bool(0.5) {
                    e.push((j, i));
                }
            } else if !symmetric && r.random_bool(density) {
                e.push((j, i));
            }
        }
    }
    for k in (1..e.len()).rev() {
        let m = r.random_range(0..=k);
        e.swap(k, m);
    }
    e
}

/// Values on `entries` with off-diagonals in [−1, 1] and a diagonal that dominates its row and
/// column by at least 1 (so the matrix is well conditioned; SPD when symmetric).
pub fn dominant_values(
    n: usize,
    entries: &[(usize, usize)],
    symmetric: bool,
    r: &mut ChaCha8Rng,
) -> Vec<f64> {
    let mut v: Vec<f64> = entries.iter().map(|_| r.random_range(-1.0..1.0)).collect();
    if symmetric {
        for (k, &(i, j)) in entries.iter().enumerate() {
            if i < j {
                let m = entries.iter().position(|&e| e == (j, i)).unwrap();
                v[k] = v[m];
            }
        }
    }
    let mut rowsum = vec![0.0; n];
    let mut colsum = vec![0.0; n];
    for (k, &(i, j)) in entries.iter().enumerate() {
        if i != j {
            rowsum[i] += v[k].abs();
            colsum[j] += v[k].abs();
        }
    }
    for (k, &(i, j)) in entries.iter().enumerate() {
        if i == j {
            let s = if r.random_bool(0.5) { 1.0 } else { -1.0 };
            let s = if symmetric { 1.0 } else { s };
            v[k] = s * (rowsum[i].max(colsum[i]) + 1.0 + r.random::<f64>());
        }
    }
    v
}

/// `A u` for the matrix with `values` at `entries`.
pub fn matvec(
    n: usize,
    entries: &[(usize, usize)],
    values: &[f64],
    u: &[f64],
    transpose: bool,
) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for (&(i, j), &a) in entries.iter().zip(values) {
        if transpose {
            out[j] += a * u[i];
        } else {
            out[i] += a * u[j];
        }
    }
    out
}

pub fn randn(shape: &[usize], r: &mut ChaCha8Rng) -> Tensor {
    Tensor::randn(shape, r.random())
}

pub fn close(a: &[f64], b: &[f64], tol: f64) -> Result<(), TestCaseError> {
    let scale = 1.0 + b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        prop_assert!(
            (x - y).abs() <= tol * scale,
            "entry {k}: {x} vs {y} (tol {tol})"
        );
    }
    prop_assert_eq!(a.len(), b.len());
    Ok(())
}
