//! Adam and AdamW.

use super::state::{check_grads, Slots};
use super::Optimizer;
use crate::error::Result;
use crate::nn::{Checkpoint, Grads, ParamStore};

/// Settings of [`Adam`]; the defaults are PyTorch's Adam (`lr = 1e-3`, `β = (0.9, 0.999)`,
/// `ε = 1e-8`, no weight decay). For AdamW use [`AdamConfig::adamw`] (decoupled decay, PyTorch's
/// default `λ = 1e-2`).
#[derive(Clone, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate `η`.
    pub lr: f64,
    /// Decay rate `β₁` of the first moment.
    pub beta1: f64,
    /// Decay rate `β₂` of the second moment.
    pub beta2: f64,
    /// `ε` added to `√v̂`.
    pub eps: f64,
    /// Weight decay `λ`: added to the gradient (Adam) or applied to the weights (AdamW).
    pub weight_decay: f64,
    /// Decoupled weight decay (AdamW): `p ← (1 − ηλ) p` before the Adam update.
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// AdamW with PyTorch's defaults (`λ = 1e-2`, decoupled).
    pub fn adamw() -> AdamConfig {
        AdamConfig {
            weight_decay: 1e-2,
            decoupled: true,
            ..AdamConfig::default()
        }
    }
}

/// Adam (Kingma & Ba): at step `t`,
/// `m ← m + (1 − β₁)(g − m)`, `v ← β₂ v + (1 − β₂) g²`,
/// `p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`,
/// with `g ← g + λp` (Adam) or `p ← (1 − ηλ)p` first (AdamW). The step count is kept per
/// parameter, so groups updated in alternation each get their own bias correction.
#[derive(Clone, Debug)]
pub struct Adam {
    /// The settings.
    pub config: AdamConfig,
    state: Slots,
}

impl Adam {
    /// An optimiser with the given settings.
    pub fn new(config: AdamConfig) -> Adam {
        let kind = if config.decoupled { "adamw" } else { "adam" };
        Adam {
            config,
            state: Slots::new(kind, &["m", "v"]),
        }
    }
}

impl Optimizer for Adam {
    fn step(&mut self, store: &mut ParamStore, grads: &Grads) -> Result<()> {
        check_grads("adam", store, grads)?;
        let c = &self.config;
        for (&id, g) in grads.ids.iter().zip(&grads.tensors) {
            let p = store.get_mut(id).data_mut();
            let e = self.state.entry(id, p.len());
            e.step += 1;
            let t = e.step as f64;
            let step_size = c.lr / (1.0 - c.beta1.powf(t));
            let bc2_sqrt = (1.0 - c.beta2.powf(t)).sqrt();
            let (m, v) = e.bufs.split_at_mut(1);
            let (m, v) = (&mut m[0], &mut v[0]);
            let k = Scalars {
                decay: if c.decoupled {
                    1.0 - c.lr * c.weight_decay
                } else {
                    1.0
                },
                l2: if c.decoupled { 0.0 } else { c.weight_decay },
                one_minus_beta1: 1.0 - c.beta1,
                beta2: c.beta2,
                one_minus_beta2: 1.0 - c.beta2,
                bc2_sqrt,
                eps: c.eps,
                step_size,
            };
            update(p, g.data(), m, v, &k);
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

/// The per-step constants of the elementwise update.
struct Scalars {
    decay: f64,
    l2: f64,
    one_minus_beta1: f64,
    beta2: f64,
    one_minus_beta2: f64,
    bc2_sqrt: f64,
    eps: f64,
    step_size: f64,
}

/// The elementwise Adam update, in 256-bit vectors where the CPU has AVX (same arithmetic, so
/// the same bits, as the portable loop: no FMA contraction).
fn update(p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64], k: &Scalars) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX (checked just above).
        return unsafe { update_avx(p, g, m, v, k) };
    }
    update_portable(p, g, m, v, k)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn update_avx(p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64], k: &Scalars) {
    update_portable(p, g, m, v, k)
}

/// An indexed loop over disjoint slices, which the compiler vectorises.
#[inline(always)]
fn update_portable(p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64], k: &Scalars) {
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let pi = p[i] * k.decay;
        let gi = g[i] + k.l2 * pi;
        m[i] += k.one_minus_beta1 * (gi - m[i]);
        v[i] = k.beta2 * v[i] + k.one_minus_beta2 * gi * gi;
        let denom = v[i].sqrt() / k.bc2_sqrt + k.eps;
        p[i] = pi - k.step_size * (m[i] / denom);
    }
}
