//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

use super::state::{check_grads, Slots};
use super::Optimizer;
use crate::error::Result;
use crate::nn::{Checkpoint, Grads, ParamStore};

/// Settings of [`Sgd`]; the defaults are PyTorch's (`lr = 1e-3`, everything else off).
#[derive(Clone, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate `η`.
    pub lr: f64,
    /// Momentum `μ` (0 disables the buffer).
    pub momentum: f64,
    /// Dampening `τ` of the momentum update.
    pub dampening: f64,
    /// L2 weight decay `λ`, added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum (needs `μ > 0` and `τ = 0`).
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

/// SGD: with `g ← g + λp`, the buffer `b₁ = g`, `bₜ = μ bₜ₋₁ + (1 − τ) g`, the direction
/// `d = g + μ bₜ` (Nesterov) or `d = bₜ` (or `d = g` without momentum), and `p ← p − η d`.
#[derive(Clone, Debug)]
pub struct Sgd {
    /// The settings.
    pub config: SgdConfig,
    state: Slots,
}

impl Sgd {
    /// An optimiser with the given settings.
    ///
    /// # Panics
    /// If Nesterov momentum is asked for without momentum or with dampening.
    #[track_caller]
    pub fn new(config: SgdConfig) -> Sgd {
        assert!(
            !config.nesterov || (config.momentum > 0.0 && config.dampening == 0.0),
            "Sgd: Nesterov momentum needs momentum > 0 and zero dampening"
        );
        Sgd {
            config,
            state: Slots::new("sgd", &["momentum"]),
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, store: &mut ParamStore, grads: &Grads) -> Result<()> {
        check_grads("sgd", store, grads)?;
        let c = self.config.clone();
        for (&id, g) in grads.ids.iter().zip(&grads.tensors) {
            let p = store.get_mut(id).data_mut();
            let e = self.state.entry(id, p.len());
            let first = e.step == 0;
            e.step += 1;
            let buf = &mut e.bufs[0];
            for ((pi, &gi), bi) in p.iter_mut().zip(g.data()).zip(buf.iter_mut()) {
                let mut d = gi + c.weight_decay * *pi;
                if c.momentum != 0.0 {
                    *bi = if first {
                        d
                    } else {
                        c.momentum * *bi + (1.0 - c.dampening) * d
                    };
                    d = if c.nesterov {
                        d + c.momentum * *bi
                    } else {
                        *bi
                    };
                }
                *pi -= c.lr * d;
            }
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
