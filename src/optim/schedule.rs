//! Learning-rate schedules: `η(k)` from the base rate `η₀` and the epoch (or step) `k`.

/// A learning-rate schedule. Apply it with `opt.set_lr(schedule.lr(base, k))` at the start of
/// epoch `k`; since it is a function of `k` alone, resuming from a checkpoint gives the same
/// rates.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Schedule {
    /// `η(k) = η₀`.
    #[default]
    Constant,
    /// `η(k) = η₀ γᵏ`.
    Exponential {
        /// Decay factor per epoch.
        gamma: f64,
    },
    /// `η(k) = η₀ γ^⌊k/step⌋` (PyTorch's `StepLR`).
    Step {
        /// Epochs between decays (> 0).
        step: usize,
        /// Decay factor.
        gamma: f64,
    },
    /// `η(k) = η_min + ½(η₀ − η_min)(1 + cos(π·min(k, T)/T))` (cosine annealing without restarts).
    Cosine {
        /// The period `T` (> 0).
        period: usize,
        /// The final rate `η_min`.
        min_lr: f64,
    },
}

impl Schedule {
    /// The rate at epoch `k`.
    ///
    /// # Panics
    /// If a step or period is 0.
    #[track_caller]
    pub fn lr(&self, base: f64, k: usize) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::Exponential { gamma } => base * gamma.powf(k as f64),
            Schedule::Step { step, gamma } => {
                assert!(step > 0, "Schedule::Step: step must be positive");
                base * gamma.powf((k / step) as f64)
            }
            Schedule::Cosine { period, min_lr } => {
                assert!(period > 0, "Schedule::Cosine: period must be positive");
                let frac = k.min(period) as f64 / period as f64;
                min_lr + 0.5 * (base - min_lr) * (1.0 + (std::f64::consts::PI * frac).cos())
            }
        }
    }
}
