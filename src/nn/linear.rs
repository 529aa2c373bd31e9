//! The dense layer `y = act(x·W + b)`.

use super::init::{Fans, Init};
use super::module::{Activation, Module};
use super::params::{Bound, ParamId, ParamStore};
use crate::autodiff::Var;

/// A dense layer `y = act(x·W + b)` with `W` of shape `[in, out]` and `b` of shape `[out]`;
/// `x` is `[…, in]`. With [`Activation::Tanh`] the bias and activation are one fused node
/// ([`Var::add_tanh`]).
#[derive(Clone, Debug)]
pub struct Linear {
    /// `W`, `[in, out]`, named `{prefix}.weight`.
    pub weight: ParamId,
    /// `b`, `[out]`, named `{prefix}.bias`; set to `None` for a layer without bias.
    pub bias: Option<ParamId>,
    /// The activation applied after the affine map.
    pub activation: Activation,
    /// Input width.
    pub in_features: usize,
    /// Output width.
    pub out_features: usize,
}

impl Linear {
    /// A layer with Glorot-uniform weights, zero bias and no activation.
    pub fn new(store: &mut ParamStore, prefix: &str, inp: usize, out: usize) -> Linear {
        Linear::with(store, prefix, inp, out, Init::GLOROT, Activation::Identity)
    }

    /// A layer with the given weight initialiser and activation (zero bias).
    pub fn with(
        store: &mut ParamStore,
        prefix: &str,
        inp: usize,
        out: usize,
        init: Init,
        activation: Activation,
    ) -> Linear {
        let weight = store.add(
            &format!("{prefix}.weight"),
            &[inp, out],
            init,
            Fans::dense(inp, out),
        );
        let bias = store.add(
            &format!("{prefix}.bias"),
            &[out],
            Init::Zeros,
            Fans::dense(inp, out),
        );
        Linear {
            weight,
            bias: Some(bias),
            activation,
            in_features: inp,
            out_features: out,
        }
    }
}

impl Module for Linear {
    fn forward<'t>(&self, p: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        let z = x.matmul(p.var(self.weight));
        match (self.bias, self.activation) {
            (Some(b), Activation::Tanh) => z.add_tanh(p.var(b)),
            (Some(b), act) => act.apply(z + p.var(b)),
            (None, act) => act.apply(z),
        }
    }
}
