//! Input derivatives of neural fields (`physgrad::pde`): closed forms, nested vs jets, weight
//! gradients.

mod fourier;
mod grid;
mod hutch;
mod jets;
mod nested;
mod operators;
mod rows;

/// Property-test case count from `PROPTEST_CASES` (default 32).
pub(crate) fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32)
}
