//! Optimisers: plain updates off the tape on a [`ParamStore`]'s tensors.
//!
//! First-order methods implement [`Optimizer`]: `step(store, grads)` updates the parameters
//! named in `grads` (so a frozen or unselected group is left alone) and keeps per-parameter state
//! (moments, momentum buffers, step counts) that a [`Checkpoint`] saves
//! and restores exactly. Defaults follow PyTorch where it has the method.
//!
//! * [`Sgd`] — momentum, dampening, Nesterov, weight decay;
//! * [`Adam`] — Adam and AdamW (decoupled weight decay);
//! * [`RmsProp`] — plain, centred, with momentum;
//! * [`Lbfgs`] — limited-memory BFGS with a strong-Wolfe line search and optional box bounds
//!   (projected), for deterministic full-batch fits;
//! * [`ExtraGradient`] — extrapolation steps for min–max games;
//! * [`Schedule`] — learning-rate schedules; [`clip_grad_norm`], [`clip_grad_value`].

pub mod adam;
pub mod clip;
pub mod extragradient;
pub mod lbfgs;
mod line_search;
pub mod rmsprop;
pub mod schedule;
pub mod sgd;
mod state;

pub use adam::{Adam, AdamConfig};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use extragradient::{ExtraGradient, ExtraGradientConfig};
pub use lbfgs::{Lbfgs, LbfgsConfig, LbfgsReport};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use schedule::Schedule;
pub use sgd::{Sgd, SgdConfig};

use crate::error::Result;
use crate::nn::{Checkpoint, Grads, ParamStore};

/// A first-order optimiser: one update of the parameters from their gradients.
pub trait Optimizer {
    /// Updates every parameter named in `grads`.
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) if a gradient holds NaN or ±∞; nothing is
    /// updated then.
    fn step(&mut self, store: &mut ParamStore, grads: &Grads) -> Result<()>;

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate (what a [`Schedule`] drives).
    fn set_lr(&mut self, lr: f64);

    /// Writes the optimiser state into `ckpt` under names `optim:…` that include the
    /// parameters' names.
    fn save_state(&self, store: &ParamStore, ckpt: &mut Checkpoint);

    /// Restores the state written by [`Optimizer::save_state`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if an entry is missing, unexpected or
    /// of the wrong shape; the optimiser is unchanged then.
    fn load_state(&mut self, store: &ParamStore, ckpt: &Checkpoint) -> Result<()>;
}
