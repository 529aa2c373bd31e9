//! The workloads timed both by the criterion benches and by `examples/peer_workloads.rs`, which
//! compares them with PyTorch and JAX (`benches/peers/`). Keep the definitions identical to
//! `benches/peers/peers.py`.

use physgrad::{Tape, Tensor, Var};

/// A tanh MLP: `tanh(x·W₁ + b₁) → … → x·W_L + b_L` (linear output; bias and tanh fused with
/// [`Var::add_tanh`]), weights `fan_in × fan_out` scaled by `1/√fan_in`, zero biases.
pub struct Mlp {
    pub params: Vec<Tensor>,
    pub x: Tensor,
    pub y: Tensor,
}

impl Mlp {
    pub fn new(widths: &[usize], batch: usize) -> Mlp {
        let mut params = Vec::new();
        for (i, w) in widths.windows(2).enumerate() {
            let scale = 1.0 / (w[0] as f64).sqrt();
            params.push(Tensor::randn(&[w[0], w[1]], 100 + i as u64).map(|v| v * scale));
            params.push(Tensor::zeros(&[w[1]]));
        }
        Mlp {
            params,
            x: Tensor::randn(&[batch, widths[0]], 1),
            y: Tensor::randn(&[batch, *widths.last().unwrap()], 2),
        }
    }

    /// `mean((mlp(x) − y)²)` with the parameters as trainable leaves.
    pub fn loss<'t>(&self, tape: &'t Tape) -> (Var<'t>, Vec<Var<'t>>) {
        let params: Vec<Var<'t>> = self.params.iter().map(|p| tape.var(p.clone())).collect();
        let mut h = tape.constant(self.x.clone());
        let layers = params.len() / 2;
        for l in 0..layers {
            let z = h.matmul(params[2 * l]);
            h = if l + 1 < layers {
                z.add_tanh(params[2 * l + 1])
            } else {
                z + params[2 * l + 1]
            };
        }
        let loss = h.mse(tape.constant(self.y.clone()));
        (loss, params)
    }

    /// Loss value only.
    pub fn forward(&self, tape: &mut Tape) -> f64 {
        tape.clear();
        let (loss, _) = self.loss(tape);
        loss.item()
    }

    /// Loss and gradients with respect to every parameter.
    pub fn gradient(&self, tape: &mut Tape) -> (f64, Vec<Tensor>) {
        tape.clear();
        let (loss, params) = self.loss(tape);
        let g = loss.backward();
        (loss.item(), params.iter().map(|&p| g.wrt(p)).collect())
    }
}

/// The small MLP of the benchmarks: 10 → 20 → 20 → 20 → 2, batch 64.
pub fn mlp_small() -> Mlp {
    Mlp::new(&[10, 20, 20, 20, 2], 64)
}

/// The large MLP of the benchmarks: 2 → 64 → 64 → 64 → 64 → 1, batch 4096.
pub fn mlp_large() -> Mlp {
    Mlp::new(&[2, 64, 64, 64, 64, 1], 4096)
}

/// Number of primitive ops in [`op_chain`].
pub const CHAIN_OPS: usize = 100;

/// A chain of [`CHAIN_OPS`] elementwise ops on a 4-element tensor (`x·1.0001 + 0.001`
/// alternating with `sin x`), then the gradient of the sum with respect to `x`: a measure of
/// per-node tape overhead.
pub fn op_chain(tape: &mut Tape, x0: &Tensor) -> Tensor {
    tape.clear();
    let x = tape.var(x0.clone());
    let mut h = x;
    let mut ops = 0;
    while ops < CHAIN_OPS {
        h = h * 1.0001 + 0.001;
        h = h.sin();
        ops += 3;
    }
    h.sum().backward().wrt(x)
}
