//! Fourier-feature time embedding and the Fourier MLP of the Path Integral Sampler
//! (Zhang & Chen, 2022): a network `f(x, t)` for time-dependent fields and drifts.
//!
//! ```text
//! e(t)   = [sin(c·t + φ), cos(c·t + φ)]          c fixed (linspace(0.1, 100, C)), φ learned
//! hₜ     = W₂·GELU(W₁·e(t) + b₁) + b₂             (the time module)
//! hₓ     = Wₓ·x + bₓ                               (the input embedding)
//! h      = hₓ + hₜ
//! h     ← Linear(GELU(h))  repeated `blocks` times
//! f(x,t) = W_out·GELU(h) + b_out
//! ```

use super::init::{Fans, Init};
use super::linear::Linear;
use super::module::{Activation, Module};
use super::params::{Bound, ParamId, ParamStore};
use crate::autodiff::Var;
use crate::tensor::Tensor;

/// `e(t) = [sin(c·t + φ), cos(c·t + φ)]` with fixed frequencies `c` and learnable phases `φ`.
#[derive(Clone, Debug)]
pub struct FourierEmbedding {
    /// The fixed frequencies `c`, shape `[C]`.
    pub freqs: Tensor,
    /// The phases `φ`, shape `[C]`, named `{prefix}.phase` (initialised `N(0, 1)`).
    pub phase: ParamId,
}

impl FourierEmbedding {
    /// `channels` frequencies evenly spaced on `[0.1, 100]` (the sampler's choice).
    pub fn new(store: &mut ParamStore, prefix: &str, channels: usize) -> FourierEmbedding {
        FourierEmbedding::with_freqs(store, prefix, Tensor::linspace(0.1, 100.0, channels))
    }

    /// Given frequencies (shape `[C]`).
    pub fn with_freqs(store: &mut ParamStore, prefix: &str, freqs: Tensor) -> FourierEmbedding {
        let c = freqs.len();
        let phase = store.add(
            &format!("{prefix}.phase"),
            &[c],
            Init::Normal { std: 1.0 },
            Fans::dense(c, c),
        );
        FourierEmbedding { freqs, phase }
    }

    /// The number of frequencies `C`; the embedding has `2C` features.
    pub fn channels(&self) -> usize {
        self.freqs.len()
    }
}

impl Module for FourierEmbedding {
    /// `t` of shape `[N, 1]` → `[N, 2C]`.
    fn forward<'t>(&self, p: &Bound<'t>, t: Var<'t>) -> Var<'t> {
        let c = t.tape().constant(self.freqs.clone());
        let arg = t * c + p.var(self.phase);
        arg.sin_cos()
    }
}

/// The Fourier MLP `f(x, t)` (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct FourierMlp {
    /// `e(t)`.
    pub embedding: FourierEmbedding,
    /// `2C → C`, GELU.
    pub time_in: Linear,
    /// `C → C`.
    pub time_out: Linear,
    /// `d → C`.
    pub input: Linear,
    /// `C → C` blocks, each applied after a GELU.
    pub blocks: Vec<Linear>,
    /// `C → out`, applied after a GELU.
    pub output: Linear,
}

impl FourierMlp {
    /// `d` inputs, `channels` hidden features, `blocks` GELU-Linear blocks, `out` outputs.
    /// Parameters are named `{prefix}.time.phase`, `{prefix}.time_in.weight`, …; with
    /// `zero_last` the output layer starts at zero.
    pub fn new(
        store: &mut ParamStore,
        prefix: &str,
        d: usize,
        channels: usize,
        blocks: usize,
        out: usize,
        zero_last: bool,
    ) -> FourierMlp {
        let g = Init::GLOROT;
        let lin = |store: &mut ParamStore, name: &str, i: usize, o: usize, init: Init| {
            Linear::with(
                store,
                &format!("{prefix}.{name}"),
                i,
                o,
                init,
                Activation::Identity,
            )
        };
        let embedding = FourierEmbedding::new(store, &format!("{prefix}.time"), channels);
        let time_in = lin(store, "time_in", 2 * channels, channels, g);
        let time_out = lin(store, "time_out", channels, channels, g);
        let input = lin(store, "input", d, channels, g);
        let blocks = (0..blocks)
            .map(|k| lin(store, &format!("block{k}"), channels, channels, g))
            .collect();
        let last = if zero_last { Init::Zeros } else { g };
        let output = lin(store, "output", channels, out, last);
        FourierMlp {
            embedding,
            time_in,
            time_out,
            input,
            blocks,
            output,
        }
    }

    /// `f(x, t)` for `x` of shape `[N, d]` and `t` of shape `[N, 1]`; result `[N, out]`.
    pub fn forward_xt<'t>(&self, p: &Bound<'t>, x: Var<'t>, t: Var<'t>) -> Var<'t> {
        let e = self.embedding.forward(p, t);
        let ht = self.time_out.forward(p, self.time_in.forward(p, e).gelu());
        let mut h = self.input.forward(p, x) + ht;
        for b in &self.blocks {
            h = b.forward(p, h.gelu());
        }
        self.output.forward(p, h.gelu())
    }
}

impl Module for FourierMlp {
    /// The input is `[x, t]` concatenated: shape `[N, d + 1]`, time in the last column.
    fn forward<'t>(&self, p: &Bound<'t>, xt: Var<'t>) -> Var<'t> {
        let n = xt.shape()[1];
        let x = xt.slice(1, 0..n - 1);
        let t = xt.slice(1, n - 1..n);
        self.forward_xt(p, x, t)
    }
}
