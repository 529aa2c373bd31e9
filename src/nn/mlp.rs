//! Multilayer perceptrons: `h₀ = x`, `hₗ = act(hₗ₋₁·Wₗ + bₗ)` (plus `hₗ₋₁` for a residual
//! layer), and a final affine layer without activation.

use super::init::Init;
use super::linear::Linear;
use super::module::{Activation, Module};
use super::params::{Bound, ParamStore};
use crate::autodiff::Var;

/// How to build an [`Mlp`]. Defaults: tanh, Glorot-uniform weights, no residual connections,
/// a randomly initialised last layer.
#[derive(Clone, Debug)]
pub struct MlpConfig {
    /// Layer widths `[in, hidden…, out]` (at least two entries).
    pub widths: Vec<usize>,
    /// The hidden activation.
    pub activation: Activation,
    /// Initialiser of the hidden and output weights (biases start at zero).
    pub init: Init,
    /// Residual hidden layers: `hₗ = hₗ₋₁ + act(hₗ₋₁·Wₗ + bₗ)` wherever the width is unchanged.
    pub residual: bool,
    /// Start the last layer at zero (weights and bias), so the network starts as the zero map —
    /// common for drifts and corrections.
    pub zero_last: bool,
}

impl MlpConfig {
    /// A tanh MLP with the given widths and the other defaults.
    pub fn new(widths: &[usize]) -> MlpConfig {
        MlpConfig {
            widths: widths.to_vec(),
            activation: Activation::Tanh,
            init: Init::GLOROT,
            residual: false,
            zero_last: false,
        }
    }

    /// Sets the hidden activation.
    pub fn activation(mut self, a: Activation) -> MlpConfig {
        self.activation = a;
        self
    }

    /// Sets the weight initialiser.
    pub fn init(mut self, init: Init) -> MlpConfig {
        self.init = init;
        self
    }

    /// Turns residual connections on or off.
    pub fn residual(mut self, on: bool) -> MlpConfig {
        self.residual = on;
        self
    }

    /// Zero-initialises the last layer.
    pub fn zero_last(mut self, on: bool) -> MlpConfig {
        self.zero_last = on;
        self
    }

    /// Creates the parameters `{prefix}.layer{l}.weight` / `.bias` in `store`.
    ///
    /// # Panics
    /// If fewer than two widths are given.
    #[track_caller]
    pub fn build(&self, store: &mut ParamStore, prefix: &str) -> Mlp {
        let w = &self.widths;
        assert!(
            w.len() >= 2,
            "MlpConfig::build: need at least [in, out], got {w:?}"
        );
        let n = w.len() - 1;
        let layers = (0..n)
            .map(|l| {
                let last = l + 1 == n;
                let init = if last && self.zero_last {
                    Init::Zeros
                } else {
                    self.init
                };
                let act = if last {
                    Activation::Identity
                } else {
                    self.activation
                };
                let name = format!("{prefix}.layer{l}");
                Linear::with(store, &name, w[l], w[l + 1], init, act)
            })
            .collect();
        Mlp {
            layers,
            residual: self.residual,
        }
    }
}

/// A multilayer perceptron built by [`MlpConfig::build`].
///
/// ```
/// use physgrad::nn::{MlpConfig, Module, ParamStore};
/// use physgrad::{Tape, Tensor};
///
/// let mut store = ParamStore::new(42);
/// let net = MlpConfig::new(&[2, 16, 16, 1]).build(&mut store, "net");
/// let tape = Tape::new();
/// let p = store.bind(&tape);
/// let y = net.forward(&p, tape.constant(Tensor::zeros(&[5, 2])));
/// assert_eq!(y.shape().as_slice(), &[5, 1]);
/// assert_eq!(store.names()[0], "net.layer0.weight");
/// ```
#[derive(Clone, Debug)]
pub struct Mlp {
    /// The layers, the last one without activation.
    pub layers: Vec<Linear>,
    /// Whether equal-width hidden layers add their input.
    pub residual: bool,
}

impl Module for Mlp {
    fn forward<'t>(&self, p: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        let n = self.layers.len();
        let mut h = x;
        for (l, layer) in self.layers.iter().enumerate() {
            let y = layer.forward(p, h);
            let skip = self.residual && l + 1 < n && layer.in_features == layer.out_features;
            h = if skip { h + y } else { y };
        }
        h
    }
}
