//! Differential operators on neural fields, with respect to the network's *inputs*, recorded on
//! the tape so that a residual loss built from them back-propagates to the weights.
//!
//! A field is a tape function `f` mapping a batch of points `x` `[B, d]` (rows independent) to
//! values `[B]` or `[B, 1]` (a scalar field `v`) or `[B, d]` (a vector field `u`). Two methods
//! compute the same [`Derivatives`] from the same [`Request`], so they are interchangeable:
//!
//! * [`neural`] — nested reverse mode, the reference: works for any composition of tape ops.
//!   One sweep gives `∇ₓv` for the whole batch (rows are independent, so
//!   `∂(Σ_b v_b)/∂x_b = ∇v(x_b)`); each second-order direction costs one more sweep.
//! * [`jet`] — forward jets (the "forward Laplacian"): value, first derivatives along chosen
//!   directions and a Laplacian-type term are pushed through the layers of an MLP as ordinary
//!   tape ops, in one forward pass.
//!
//! ```
//! use physgrad::nn::{MlpConfig, Module, ParamStore};
//! use physgrad::pde::{jet, neural, Request};
//! use physgrad::{Tape, Tensor};
//!
//! let mut store = ParamStore::new(1);
//! let net = MlpConfig::new(&[3, 8, 1]).build(&mut store, "v");
//! let tape = Tape::new();
//! let p = store.bind(&tape);
//! let x = tape.var(Tensor::randn(&[4, 3], 2));
//! let req = Request::laplacian(vec![0, 1]).with_gradient();
//! let a = neural::scalar(x, |x| net.forward(&p, x), &req);
//! let b = jet::mlp_scalar(&net, &p, x, &req);
//! let (la, lb) = (a.second.unwrap().value(), b.second.unwrap().value());
//! assert!(la.max_abs_diff(&lb) < 1e-12);
//! ```

pub mod grid;
pub mod hutchinson;
pub mod jet;
pub mod neural;
pub mod operators;

use crate::autodiff::Var;
use crate::tensor::Tensor;

/// The second-order term a [`Request`] asks for.
#[derive(Clone, Debug)]
pub enum SecondOrder {
    /// `Σ_{i∈S} ∂²v/∂xᵢ²`, the Laplacian over the coordinate subset `S`.
    Laplacian(Vec<usize>),
    /// `tr(σσᵀ∇²v) = Σ_c σ_cᵀ ∇²v σ_c` over the columns `σ_c` of a constant `σ` `[d, k]`.
    Diffusion(Tensor),
}

impl SecondOrder {
    /// The directions `[d, k]` whose second derivatives are summed: unit vectors `e_i`, `i ∈ S`,
    /// for a Laplacian, the columns of `σ` for a diffusion term.
    ///
    /// # Panics
    /// If a coordinate is `≥ d`, or `σ` is not `[d, k]`.
    #[track_caller]
    pub fn directions(&self, d: usize) -> Tensor {
        match self {
            SecondOrder::Laplacian(s) => {
                let mut e = Tensor::zeros(&[d, s.len()]);
                for (c, &i) in s.iter().enumerate() {
                    assert!(
                        i < d,
                        "pde: Laplacian coordinate {i} out of range for d = {d}"
                    );
                    e.data_mut()[i * s.len() + c] = 1.0;
                }
                e
            }
            SecondOrder::Diffusion(sigma) => {
                assert!(
                    sigma.ndim() == 2 && sigma.shape()[0] == d,
                    "pde: σ must be [d = {d}, k], got {:?}",
                    sigma.shape()
                );
                sigma.clone()
            }
        }
    }
}

/// Which derivatives of a scalar field to compute. Default: the value only.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Compute the full gradient `∇ₓv` `[B, d]`.
    pub gradient: bool,
    /// Compute one second-order term `[B]`.
    pub second: Option<SecondOrder>,
}

impl Request {
    /// Value and gradient.
    pub fn gradient() -> Request {
        Request {
            gradient: true,
            second: None,
        }
    }

    /// The Laplacian `Σ_{i∈S} ∂ᵢ²v` over the coordinates `S`.
    pub fn laplacian(coords: Vec<usize>) -> Request {
        Request {
            gradient: false,
            second: Some(SecondOrder::Laplacian(coords)),
        }
    }

    /// The diffusion term `tr(σσᵀ∇²v)` for a constant `σ` `[d, k]`.
    pub fn diffusion(sigma: Tensor) -> Request {
        Request {
            gradient: false,
            second: Some(SecondOrder::Diffusion(sigma)),
        }
    }

    /// Also asks for the gradient.
    pub fn with_gradient(mut self) -> Request {
        self.gradient = true;
        self
    }
}

/// What a method computed for a scalar field at a batch `[B, d]`; every entry is on the tape.
#[derive(Clone, Copy, Debug)]
pub struct Derivatives<'t> {
    /// `v`, `[B]`.
    pub value: Var<'t>,
    /// `∇ₓv`, `[B, d]`, when requested.
    pub gradient: Option<Var<'t>>,
    /// The requested second-order term, `[B]`.
    pub second: Option<Var<'t>>,
}

impl<'t> Derivatives<'t> {
    /// `∂v/∂xᵢ`, `[B]`, a column of the gradient.
    ///
    /// # Panics
    /// If the gradient was not requested or `i ≥ d`.
    #[track_caller]
    pub fn derivative(&self, i: usize) -> Var<'t> {
        let g = self
            .gradient
            .expect("Derivatives::derivative: the gradient was not requested");
        let s = g.shape();
        assert!(
            i < s[1],
            "Derivatives::derivative: coordinate {i} ≥ d = {}",
            s[1]
        );
        g.slice(1, i..i + 1).reshape(&[s[0]])
    }
}

/// Reshapes a scalar field's output `[B]` or `[B, 1]` to `[B]`.
#[track_caller]
pub(crate) fn batch_values<'t>(v: Var<'t>, b: usize, who: &str) -> Var<'t> {
    let s = v.shape();
    match s.as_slice() {
        [n] if *n == b => v,
        [n, 1] if *n == b => v.reshape(&[b]),
        other => panic!("{who}: a scalar field must return [{b}] or [{b}, 1], got {other:?}"),
    }
}

/// Checks that `x` is a batch of points `[B, d]` and returns `(B, d)`.
#[track_caller]
pub(crate) fn batch_dims(x: Var<'_>, who: &str) -> (usize, usize) {
    let s = x.shape();
    assert!(
        s.len() == 2,
        "{who}: points must be [B, d], got {:?}",
        s.as_slice()
    );
    (s[0], s[1])
}
