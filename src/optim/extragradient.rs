//! The extra-gradient method for min–max games (Korpelevich; used for GAN-style training).

use super::state::check_grads;
use crate::error::{Error, Result};
use crate::nn::{Checkpoint, Grads, ParamStore};

/// Settings of [`ExtraGradient`].
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraGradientConfig {
    /// Step size `η` of both half steps (default `1e-3`).
    pub lr: f64,
}

impl Default for ExtraGradientConfig {
    fn default() -> Self {
        ExtraGradientConfig { lr: 1e-3 }
    }
}

/// Extra-gradient: for the game's vector field `F(w)` (the gradient of each player's own loss
/// with respect to its own parameters — so a maximising player supplies the gradient of the
/// *negated* objective),
///
/// `w½ = w − η F(w)`, then `w ← w − η F(w½)`.
///
/// Unlike simultaneous gradient descent, it converges on bilinear games such as
/// `min_x max_y x·y`.
#[derive(Clone, Debug)]
pub struct ExtraGradient {
    /// The settings.
    pub config: ExtraGradientConfig,
}

impl ExtraGradient {
    /// An optimiser with the given settings.
    pub fn new(config: ExtraGradientConfig) -> ExtraGradient {
        ExtraGradient { config }
    }

    /// One extra-gradient step; `field(store)` evaluates `F` at the store's current values.
    ///
    /// # Errors
    /// Whatever `field` returns, or `NonFinite` gradients; on error the store holds its values
    /// from before the step.
    ///
    /// # Panics
    /// If the two evaluations return gradients for different parameters.
    pub fn step(
        &mut self,
        store: &mut ParamStore,
        mut field: impl FnMut(&ParamStore) -> Result<Grads>,
    ) -> Result<()> {
        let g0 = field(store)?;
        check_grads("extragradient", store, &g0)?;
        let saved: Vec<_> = g0.ids.iter().map(|&id| store.get(id).clone()).collect();
        let restore = |store: &mut ParamStore| {
            for (&id, w) in g0.ids.iter().zip(&saved) {
                store.set(id, w.clone());
            }
        };
        self.descend(store, &g0, &saved);
        let g1 = match field(store).and_then(|g| check_grads("extragradient", store, &g).map(|_| g))
        {
            Ok(g) => g,
            Err(e) => {
                restore(store);
                return Err(e);
            }
        };
        assert_eq!(
            g0.ids, g1.ids,
            "ExtraGradient: the field changed its parameters between evaluations"
        );
        self.descend(store, &g1, &saved);
        Ok(())
    }

    /// `w ← base − η g` for each parameter.
    fn descend(&self, store: &mut ParamStore, g: &Grads, base: &[crate::Tensor]) {
        for ((&id, gi), b) in g.ids.iter().zip(&g.tensors).zip(base) {
            let lr = self.config.lr;
            store.set(id, b.zip_with(gi, |w, d| w - lr * d));
        }
    }

    /// Writes the learning rate (the method keeps no other state).
    pub fn save_state(&self, ckpt: &mut Checkpoint) {
        ckpt.insert(
            "optim:extragradient:lr",
            crate::Tensor::scalar(self.config.lr),
        );
    }

    /// Restores the learning rate.
    ///
    /// # Errors
    /// `InvalidInput` if the entry is missing.
    pub fn load_state(&mut self, ckpt: &Checkpoint) -> Result<()> {
        let lr = ckpt
            .get("optim:extragradient:lr")
            .filter(|t| t.len() == 1)
            .ok_or_else(|| Error::InvalidInput {
                op: "extragradient load_state".into(),
                detail: "missing optim:extragradient:lr".into(),
            })?;
        self.config.lr = lr.item();
        Ok(())
    }
}
