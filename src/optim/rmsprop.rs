//! RMSProp, plain or centred, with optional momentum.

use super::state::{check_grads, Slots};
use super::Optimizer;
use crate::error::Result;
use crate::nn::{Checkpoint, Grads, ParamStore};

/// Settings of [`RmsProp`]; the defaults are PyTorch's (`lr = 1e-2`, `α = 0.99`, `ε = 1e-8`,
/// no momentum, not centred, no weight decay).
#[derive(Clone, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate `η`.
    pub lr: f64,
    /// Smoothing constant `α` of the averages.
    pub alpha: f64,
    /// `ε` added to the root.
    pub eps: f64,
    /// L2 weight decay `λ`, added to the gradient.
    pub weight_decay: f64,
    /// Momentum `μ` (0 disables the buffer).
    pub momentum: f64,
    /// Normalise by the centred second moment `s − ḡ²` instead of `s`.
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

/// RMSProp: `s ← α s + (1 − α) g²`; centred: `ḡ ← ḡ + (1 − α)(g − ḡ)` and
/// `r = √(s − ḡ²) + ε`, else `r = √s + ε`; then `b ← μ b + g/r`, `p ← p − η b` with momentum,
/// or `p ← p − η g/r` without.
#[derive(Clone, Debug)]
pub struct RmsProp {
    /// The settings.
    pub config: RmsPropConfig,
    state: Slots,
}

impl RmsProp {
    /// An optimiser with the given settings.
    pub fn new(config: RmsPropConfig) -> RmsProp {
        RmsProp {
            config,
            state: Slots::new("rmsprop", &["square_avg", "grad_avg", "momentum"]),
        }
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self, store: &mut ParamStore, grads: &Grads) -> Result<()> {
        check_grads("rmsprop", store, grads)?;
        let c = &self.config;
        for (&id, g) in grads.ids.iter().zip(&grads.tensors) {
            let p = store.get_mut(id).data_mut();
            let e = self.state.entry(id, p.len());
            e.step += 1;
            let [s, ga, b] = &mut e.bufs[..] else {
                unreachable!("rmsprop keeps three buffers")
            };
            update(p, g.data(), [s, ga, b], c);
        }
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn save_state(&self, store: &ParamStore, ckpt: &mut Checkpoint) {
        self.state.save(store, self.config.lr, ckpt);
    }

    fn load_state(&mut self, store: &ParamStore, ckpt: &Checkpoint) -> Result<()> {
        self.config.lr = self.state.load(store, ckpt)?;
        Ok(())
    }
}

/// The elementwise update, in 256-bit vectors where the CPU has AVX (same arithmetic, so the
/// same bits, as the portable loop).
fn update(p: &mut [f64], g: &[f64], bufs: [&mut Vec<f64>; 3], c: &RmsPropConfig) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX (checked just above).
        return unsafe { update_avx(p, g, bufs, c) };
    }
    update_portable(p, g, bufs, c)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn update_avx(p: &mut [f64], g: &[f64], bufs: [&mut Vec<f64>; 3], c: &RmsPropConfig) {
    update_portable(p, g, bufs, c)
}

#[inline(always)]
fn update_portable(p: &mut [f64], g: &[f64], bufs: [&mut Vec<f64>; 3], c: &RmsPropConfig) {
    let n = p.len();
    let [s, ga, b] = bufs;
    let (g, s, ga, b) = (&g[..n], &mut s[..n], &mut ga[..n], &mut b[..n]);
    for i in 0..n {
        let gi = g[i] + c.weight_decay * p[i];
        s[i] = c.alpha * s[i] + (1.0 - c.alpha) * gi * gi;
        let r = if c.centered {
            ga[i] += (1.0 - c.alpha) * (gi - ga[i]);
            (s[i] - ga[i] * ga[i]).sqrt() + c.eps
        } else {
            s[i].sqrt() + c.eps
        };
        if c.momentum > 0.0 {
            b[i] = c.momentum * b[i] + gi / r;
            p[i] -= c.lr * b[i];
        } else {
            p[i] -= c.lr * (gi / r);
        }
    }
}
