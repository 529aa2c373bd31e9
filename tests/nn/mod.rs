//! Layers, optimisers, checkpoints and training utilities (`physgrad::nn`, `physgrad::optim`).

mod checkpoint;
mod conv;
mod example;
mod layers;
mod optim;
mod training;

/// Property-test case count from `PROPTEST_CASES` (default 32).
pub(crate) fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32)
}
