//! Comparisons. They are not differentiable, so they return plain [`Tensor`] masks (1.0 where
//! the relation holds, 0.0 elsewhere, broadcast like numpy) for use with [`Var::select`].

use crate::autodiff::Var;
use crate::tensor::{kernels, Tensor};

fn mask(op: &str, a: Var<'_>, b: Var<'_>, f: impl Fn(f64, f64) -> bool + Sync) -> Tensor {
    super::elementwise::check_broadcast(op, a, b);
    kernels::binary(
        op,
        &a.value(),
        &b.value(),
        |x, y| if f(x, y) { 1.0 } else { 0.0 },
    )
}

impl Var<'_> {
    /// Mask of `self > other`.
    #[track_caller]
    pub fn gt(self, other: Var<'_>) -> Tensor {
        mask("gt", self, other, |x, y| x > y)
    }
    /// Mask of `self ≥ other`.
    #[track_caller]
    pub fn ge(self, other: Var<'_>) -> Tensor {
        mask("ge", self, other, |x, y| x >= y)
    }
    /// Mask of `self < other`.
    #[track_caller]
    pub fn lt(self, other: Var<'_>) -> Tensor {
        mask("lt", self, other, |x, y| x < y)
    }
    /// Mask of `self ≤ other`.
    #[track_caller]
    pub fn le(self, other: Var<'_>) -> Tensor {
        mask("le", self, other, |x, y| x <= y)
    }
    /// Mask of `self = other` (exact equality).
    #[track_caller]
    pub fn eq_mask(self, other: Var<'_>) -> Tensor {
        mask("eq", self, other, |x, y| x == y)
    }
}
