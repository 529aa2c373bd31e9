//! Helpers shared by the test modules: the case count and a seeded proptest runner.

use physgrad::testing::{check_grad, check_grad2, GradCheck};
use physgrad::{Tape, Tensor, Var};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The property-test case count: `PROPTEST_CASES`, default 32.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32)
}

/// Runs `body` on `cases()` random seeds (proptest reports the failing seed); with the
/// environment variable `seed_var` set to `s`, on that seed only (to reproduce a failure).
pub fn for_seeds(seed_var: &str, body: impl Fn(u64) -> Result<(), TestCaseError>) {
    if let Some(seed) = std::env::var(seed_var).ok().and_then(|s| s.parse().ok()) {
        if let Err(e) = body(seed) {
            panic!("seed {seed}: {e}");
        }
        return;
    }
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&any::<u64>(), body) {
        panic!("{e}");
    }
}

/// A seeded ChaCha8 generator.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
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
