//! The proptest runner and gradient-check helper shared by the physics tests.

use physgrad::testing::{check_grad, check_grad2, GradCheck};
use physgrad::{Tape, Tensor, Var};
use proptest::test_runner::TestCaseError;

pub use crate::support::rng;

/// Runs `body` on `cases()` random seeds; with `PHYSICS_SEED=s`, on that seed only.
pub fn for_seeds(body: impl Fn(u64) -> Result<(), TestCaseError>) {
    crate::support::for_seeds("PHYSICS_SEED", body)
}

/// First- and second-order checks of `f` at `inputs`.
pub fn check_both<F>(f: F, inputs: &[Tensor]) -> Result<(), TestCaseError>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let cfg = GradCheck::default();
    check_grad(&f, inputs, &cfg).map_err(|e| TestCaseError::fail(format!("first order: {e}")))?;
    check_grad2(&f, inputs, &cfg).map_err(|e| TestCaseError::fail(format!("second order: {e}")))?;
    Ok(())
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
