//! Workloads of the `nn` layer, timed by `benches/nn.rs` (criterion) and by
//! `examples/peer_workloads.rs` against PyTorch and JAX (`benches/peers/peers.py` mirrors them).

#![allow(dead_code)]

use physgrad::nn::{
    Activation, ConvGeometry, ConvTranspose2d, Init, Linear, Mlp, MlpConfig, Module, ParamStore,
    Reshape, Sequential,
};
use physgrad::optim::{Adam, AdamConfig, Optimizer};
use physgrad::{Tape, Tensor};

/// One Adam training step (forward, backward, update) of a tanh MLP on `mean((mlp(x) − y)²)`.
pub struct AdamStep {
    pub store: ParamStore,
    pub net: Mlp,
    pub opt: Adam,
    pub x: Tensor,
    pub y: Tensor,
}

impl AdamStep {
    pub fn new(widths: &[usize], batch: usize) -> AdamStep {
        let mut store = ParamStore::new(0);
        let net = MlpConfig::new(widths).build(&mut store, "net");
        AdamStep {
            store,
            net,
            opt: Adam::new(AdamConfig::default()),
            x: Tensor::randn(&[batch, widths[0]], 1),
            y: Tensor::randn(&[batch, *widths.last().unwrap()], 2),
        }
    }

    /// One step; returns the loss before the update.
    pub fn step(&mut self) -> f64 {
        // The tape is dropped before the update, so the store's tensors are updated in place.
        let (loss, grads) = {
            let tape = Tape::new();
            let p = self.store.bind(&tape);
            let out = self.net.forward(&p, tape.constant(self.x.clone()));
            let loss = out.mse(tape.constant(self.y.clone()));
            (loss.item(), p.gradients(loss))
        };
        self.opt.step(&mut self.store, &grads).unwrap();
        loss
    }
}

/// (a) 10 → 20 → 20 → 20 → 2, batch 64.
pub fn adam_small() -> AdamStep {
    AdamStep::new(&[10, 20, 20, 20, 2], 64)
}

/// (b) 2 → 64 → 64 → 64 → 64 → 1, batch 4096.
pub fn adam_large() -> AdamStep {
    AdamStep::new(&[2, 64, 64, 64, 64, 1], 4096)
}

/// A DCGAN-style 64×64 image generator: z (32) → dense → [64, 4, 4] → four 4×4 transposed
/// convolutions with stride 2 and padding 1 (64 → 32 → 16 → 8 → 1 channels, 4 → 64 pixels),
/// ReLU between them and tanh at the end. Batch 16.
pub struct Generator64 {
    pub store: ParamStore,
    pub net: Sequential,
    pub z: Tensor,
}

impl Generator64 {
    pub fn new(batch: usize) -> Generator64 {
        let mut store = ParamStore::new(0);
        let g = ConvGeometry {
            stride: 2,
            padding: 1,
            output_padding: 0,
        };
        let mut net = Sequential::new()
            .add(Linear::with(
                &mut store,
                "gen.dense",
                32,
                64 * 16,
                Init::GLOROT,
                Activation::Relu,
            ))
            .add(Reshape {
                shape: vec![64, 4, 4],
            });
        let chans = [64, 32, 16, 8, 1];
        for (l, c) in chans.windows(2).enumerate() {
            net = net.add(ConvTranspose2d::new(
                &mut store,
                &format!("gen.up{l}"),
                c[0],
                c[1],
                4,
                g,
            ));
            net = net.add(if l + 2 < chans.len() {
                Activation::Relu
            } else {
                Activation::Tanh
            });
        }
        Generator64 {
            store,
            net,
            z: Tensor::randn(&[batch, 32], 3),
        }
    }

    /// Images `[batch, 1, 64, 64]`, forward only.
    pub fn forward(&self) -> Tensor {
        let tape = Tape::new();
        let p = self.store.bind(&tape);
        self.net.forward(&p, tape.constant(self.z.clone())).value()
    }

    /// `mean(G(z)²)` and its gradients with respect to every parameter.
    pub fn gradient(&self) -> f64 {
        let tape = Tape::new();
        let p = self.store.bind(&tape);
        let loss = self
            .net
            .forward(&p, tape.constant(self.z.clone()))
            .square()
            .mean();
        let g = p.gradients(loss);
        std::hint::black_box(g);
        loss.item()
    }
}
