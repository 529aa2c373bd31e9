//! The proptest runner and gradient-check helper shared by the physics tests.

use proptest::test_runner::TestCaseError;

pub use crate::support::{check_both, rng};

/// Runs `body` on `cases()` random seeds; with `PHYSICS_SEED=s`, on that seed only.
pub fn for_seeds(body: impl Fn(u64) -> Result<(), TestCaseError>) {
    crate::support::for_seeds("PHYSICS_SEED", body)
}

/// Observed order `log(e₁/e₂)/log(h₁/h₂)` of consecutive errors on grids refined by `ratio`.
pub fn orders(errors: &[f64], ratio: f64) -> Vec<f64> {
    errors
        .windows(2)
        .map(|w| (w[0] / w[1]).ln() / ratio.ln())
        .collect()
}

/// Least-squares slope of `log e` against `log h`: the measured order.
pub fn measured_order(hs: &[f64], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = hs.iter().map(|h| h.ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}
