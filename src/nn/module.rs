//! The [`Module`] trait, activations, reshaping layers and [`Sequential`].

use super::params::Bound;
use crate::autodiff::Var;

/// A layer or network: a forward map on the tape reading its parameters from a [`Bound`] store.
///
/// Modules hold only [`ParamId`](super::ParamId)s and hyper-parameters; the values live in the
/// [`ParamStore`](super::ParamStore), so one module can be evaluated on many tapes.
pub trait Module {
    /// `y = f(x; θ)` with `θ` read from `params`.
    fn forward<'t>(&self, params: &Bound<'t>, x: Var<'t>) -> Var<'t>;
}

/// Elementwise activations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `x`.
    Identity,
    /// `tanh x` (fused with a dense layer's bias through [`Var::add_tanh`]).
    Tanh,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, `slope·x` otherwise.
    LeakyRelu(f64),
    /// `ln(1 + eˣ)`.
    Softplus,
    /// `1/(1 + e⁻ˣ)`.
    Sigmoid,
    /// `sin x` (SIREN-style periodic activations).
    Sin,
    /// `x·σ(x)`.
    Silu,
    /// The exact GELU `½x(1 + erf(x/√2))` ([`Var::gelu`]).
    Gelu,
}

impl Activation {
    /// Applies the activation.
    pub fn apply<'t>(self, x: Var<'t>) -> Var<'t> {
        match self {
            Activation::Identity => x,
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.relu(),
            Activation::LeakyRelu(s) => x.leaky_relu(s),
            Activation::Softplus => x.softplus(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Sin => x.sin(),
            Activation::Silu => x.silu(),
            Activation::Gelu => x.gelu(),
        }
    }
}

impl Module for Activation {
    fn forward<'t>(&self, _params: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        self.apply(x)
    }
}

/// Flattens every axis after the first: `[N, d₁, d₂, …] → [N, d₁·d₂·…]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn forward<'t>(&self, _params: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        let s = x.shape();
        let rest: usize = s[1..].iter().product();
        x.reshape(&[s[0], rest])
    }
}

/// Reshapes each sample: `[N, …] → [N, shape…]` (e.g. a dense output to `[N, C, H, W]`).
#[derive(Clone, Debug)]
pub struct Reshape {
    /// The per-sample shape.
    pub shape: Vec<usize>,
}

impl Module for Reshape {
    #[track_caller]
    fn forward<'t>(&self, _params: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        let mut full = vec![x.shape()[0]];
        full.extend_from_slice(&self.shape);
        x.reshape(&full)
    }
}

/// Modules applied in order.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty sequence.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a module.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, m: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(m));
        self
    }

    /// Number of modules.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no modules.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward<'t>(&self, params: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        self.layers.iter().fold(x, |h, m| m.forward(params, h))
    }
}
