//! The pieces shared by InvNet experiments 2 and 3: a DCGAN-style transposed-convolution
//! generator and convolutional critic for square images, latent draws, data batches, and the
//! three WGAN-GP phases (critic step with gradient penalty, generator step, invariance step).
//!
//! WGAN-GP (Gulrajani et al. 2017): the critic minimises
//! `E D(G(z)) − E D(x) + γ E (‖∇ₓ̂ D(x̂)‖ − 1)²`, `x̂ = εx + (1 − ε)G(z)`, `ε ~ U(0, 1)` per
//! sample; the generator minimises `−E D(G(z))`. The penalty's gradient in the critic's
//! weights is a second derivative: `tape.grad` records the input gradient on the tape and the
//! sweep differentiates through it. An optional `view` mask multiplies every image the critic
//! sees (InvNet's critic that sees only the complement of the motif).

use physgrad::nn::{
    Activation, Bound, Conv2d, ConvGeometry, ConvTranspose2d, Init, Linear, Module, ParamStore,
};
use physgrad::optim::{Adam, AdamConfig, Optimizer};
use physgrad::{Result, Tape, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Adam with the WGAN-GP settings: learning rate `lr`, `β = (0, 0.9)`.
pub fn wgan_adam(lr: f64) -> Adam {
    Adam::new(AdamConfig {
        lr,
        beta1: 0.0,
        beta2: 0.9,
        ..AdamConfig::default()
    })
}

/// `n` latent draws `z ~ N(0, I)`, shape `[n, dim]`.
pub fn latent(n: usize, dim: usize, rng: &mut ChaCha8Rng) -> Tensor {
    let v = (0..n * dim).map(|_| StandardNormal.sample(rng)).collect();
    Tensor::from_vec(v, &[n, dim])
}

/// `b` images drawn with replacement from `data [M, H, W]`.
pub fn data_batch(data: &Tensor, b: usize, rng: &mut ChaCha8Rng) -> Tensor {
    let (h, w) = (data.shape()[1], data.shape()[2]);
    let d = data.data();
    let mut v = Vec::with_capacity(b * h * w);
    for _ in 0..b {
        let i = rng.random_range(0..data.shape()[0]);
        v.extend_from_slice(&d[i * h * w..(i + 1) * h * w]);
    }
    Tensor::from_vec(v, &[b, h, w])
}

/// Generator `z [B, L] → [B, S, S]`: a dense layer to `[C₀, S/2ᵏ, S/2ᵏ]`, ReLU, then `k`
/// transposed convolutions (kernel 4, stride 2, padding 1: each doubles the side) with ReLU
/// between them and a sigmoid at the end, so pixels lie in `(0, 1)`.
#[derive(Clone, Debug)]
pub struct ConvGenerator {
    dense: Linear,
    ups: Vec<ConvTranspose2d>,
    start: (usize, usize),
}

fn up() -> ConvGeometry {
    ConvGeometry {
        stride: 2,
        padding: 1,
        output_padding: 0,
    }
}

impl ConvGenerator {
    /// `channels = [C₀, C₁, …, C_k]` (the last transposed convolution maps `C_k` to 1); the output
    /// side is `side`, which must be divisible by `2ᵏ⁺¹`.
    pub fn new(store: &mut ParamStore, latent: usize, side: usize, channels: &[usize]) -> Self {
        let k = channels.len();
        assert!(
            side.is_multiple_of(1 << k),
            "generator: side {side} not divisible by 2^{k}"
        );
        let s0 = side >> k;
        let width = channels[0] * s0 * s0;
        let dense = Linear::with(
            store,
            "gen.dense",
            latent,
            width,
            Init::HE,
            Activation::Relu,
        );
        let mut widths = channels.to_vec();
        widths.push(1);
        let ups = (0..k)
            .map(|i| {
                let name = format!("gen.up{i}");
                ConvTranspose2d::new(store, &name, widths[i], widths[i + 1], 4, up())
            })
            .collect();
        ConvGenerator {
            dense,
            ups,
            start: (channels[0], s0),
        }
    }
}

impl Module for ConvGenerator {
    fn forward<'t>(&self, p: &Bound<'t>, z: Var<'t>) -> Var<'t> {
        let b = z.shape()[0];
        let (c0, s0) = self.start;
        let mut x = self.dense.forward(p, z).reshape(&[b, c0, s0, s0]);
        for (i, l) in self.ups.iter().enumerate() {
            x = l.forward(p, x);
            x = if i + 1 < self.ups.len() {
                x.relu()
            } else {
                x.sigmoid()
            };
        }
        let side = x.shape()[2];
        x.reshape(&[b, side, side])
    }
}

/// Critic `[B, S, S] → [B]`: convolutions (kernel 4, stride 2, padding 1: each halves the side)
/// with leaky ReLU (slope 0.2), then a dense layer to one output. No normalisation layers (the
/// gradient penalty is per sample).
#[derive(Clone, Debug)]
pub struct ConvCritic {
    downs: Vec<Conv2d>,
    dense: Linear,
}

impl ConvCritic {
    /// `channels = [C₁, …, C_k]` after each halving of a `side × side` single-channel image.
    pub fn new(store: &mut ParamStore, side: usize, channels: &[usize]) -> Self {
        let mut widths = vec![1];
        widths.extend_from_slice(channels);
        let downs = (0..channels.len())
            .map(|i| {
                let name = format!("critic.down{i}");
                Conv2d::new(store, &name, widths[i], widths[i + 1], 4, up())
            })
            .collect();
        let s = side >> channels.len();
        let last = channels[channels.len() - 1] * s * s;
        ConvCritic {
            downs,
            dense: Linear::new(store, "critic.dense", last, 1),
        }
    }
}

impl Module for ConvCritic {
    fn forward<'t>(&self, p: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        let (b, s) = (x.shape()[0], x.shape()[1]);
        let mut h = x.reshape(&[b, 1, s, s]);
        for l in &self.downs {
            h = l.forward(p, h).leaky_relu(0.2);
        }
        let n = h.len() / b;
        self.dense.forward(p, h.reshape(&[b, n])).reshape(&[b])
    }
}

/// The images the critic sees: `x ⊙ view` if a view mask `[S, S]` is given.
fn seen<'t>(x: Var<'t>, view: Option<&Tensor>) -> Var<'t> {
    match view {
        Some(m) => x * x.tape().constant(m.clone()),
        None => x,
    }
}

/// One WGAN-GP critic update on the latent rows `z` and real images `real`; returns
/// `(E D(x) − E D(G(z)), the penalty term γ·GP)`.
#[allow(clippy::too_many_arguments)]
pub fn critic_step(
    store: &mut ParamStore,
    opt: &mut Adam,
    gen: &impl Module,
    critic: &impl Module,
    z: Tensor,
    real: Tensor,
    gp_weight: f64,
    view: Option<&Tensor>,
    rng: &mut ChaCha8Rng,
) -> Result<(f64, f64)> {
    let b = real.shape()[0];
    let eps: Vec<f64> = (0..b).map(|_| rng.random_range(0.0..1.0)).collect();
    let (estimate, penalty, grads) = {
        let tape = Tape::new();
        let p = store.bind_only(&tape, "critic.");
        let fake = gen.forward(&p, tape.constant(z)).detach();
        let real = tape.constant(real);
        let e = tape.constant(Tensor::from_vec(eps, &[b, 1, 1]));
        let mix = tape.var((e * real + (1.0 - e) * fake).value());
        let d_mix = critic.forward(&p, seen(mix, view)).sum();
        let g = tape.grad(&[d_mix], &[mix])[0];
        let norms = (g.square().sum_axes(&[1, 2], false) + 1e-12).sqrt();
        let gp = gp_weight * (norms - 1.0).square().mean();
        let w = critic.forward(&p, seen(real, view)).mean()
            - critic.forward(&p, seen(fake, view)).mean();
        let loss = (gp - w).check_finite("critic loss")?;
        (w.item(), gp.item(), p.gradients(loss))
    };
    opt.step(store, &grads)?;
    Ok((estimate, penalty))
}

/// One generator update on `−E D(G(z))`; returns that loss.
pub fn generator_step(
    store: &mut ParamStore,
    opt: &mut Adam,
    gen: &impl Module,
    critic: &impl Module,
    z: Tensor,
    view: Option<&Tensor>,
) -> Result<f64> {
    let (loss, grads) = {
        let tape = Tape::new();
        let p = store.bind_only(&tape, "gen.");
        let fake = gen.forward(&p, tape.constant(z));
        let loss = (-critic.forward(&p, seen(fake, view)).mean()).check_finite("generator loss")?;
        (loss.item(), p.gradients(loss))
    };
    opt.step(store, &grads)?;
    Ok(loss)
}

/// One generator update on an invariance loss of the generated images; returns the loss.
pub fn invariance_step(
    store: &mut ParamStore,
    opt: &mut Adam,
    gen: &impl Module,
    z: Tensor,
    loss: impl for<'t> Fn(Var<'t>) -> Var<'t>,
) -> Result<f64> {
    let (value, grads) = {
        let tape = Tape::new();
        let p = store.bind_only(&tape, "gen.");
        let l = loss(gen.forward(&p, tape.constant(z))).check_finite("invariance loss")?;
        (l.item(), p.gradients(l))
    };
    opt.step(store, &grads)?;
    Ok(value)
}

/// Generated images `[n, S, S]` (no gradient), in chunks of 100.
pub fn generate(store: &ParamStore, gen: &impl Module, n: usize, dim: usize, seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut shape = vec![0];
    for start in (0..n).step_by(100) {
        let z = latent((n - start).min(100), dim, &mut rng);
        let tape = Tape::new();
        let x = gen.forward(&store.bind(&tape), tape.constant(z)).value();
        shape = x.shape().to_vec();
        out.extend_from_slice(x.data());
    }
    shape[0] = n;
    Tensor::from_vec(out, &shape)
}
