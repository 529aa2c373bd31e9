//! Gradient clipping.

use crate::nn::Grads;

/// Rescales all gradients together so that their global norm `‖g‖ = √(Σᵢ ‖gᵢ‖²)` is at most
/// `max_norm`: if `‖g‖ > max_norm`, `g ← g · max_norm/(‖g‖ + 10⁻⁶)` (PyTorch's rule). Returns
/// the norm before clipping (NaN if a gradient is not finite; then nothing is changed).
pub fn clip_grad_norm(grads: &mut Grads, max_norm: f64) -> f64 {
    let norm = grads.norm();
    if norm.is_finite() && norm > max_norm {
        grads.scale(max_norm / (norm + 1e-6));
    }
    norm
}

/// Clamps every gradient entry to `[−limit, limit]`.
///
/// # Panics
/// If `limit` is negative or NaN.
#[track_caller]
pub fn clip_grad_value(grads: &mut Grads, limit: f64) {
    assert!(limit >= 0.0, "clip_grad_value: limit {limit} must be ≥ 0");
    for t in &mut grads.tensors {
        t.data_mut()
            .iter_mut()
            .for_each(|v| *v = v.clamp(-limit, limit));
    }
}
