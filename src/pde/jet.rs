//! Forward jets (the "forward Laplacian"): value, first derivatives along chosen input
//! directions and a Laplacian-type second-order term, pushed through a network layer by layer
//! as ordinary tape ops — so the reverse pass to the weights comes for free.
//!
//! For directions `s_1…s_m` (the columns of `D` `[d, m]`) a [`Jet`] of a layer output `h`
//! `[B, n]` holds `h`, `J` with `J[b, c, :] = ∂h/∂x · s_c` (`[B, m, n]`, or `[m, n]` while it is
//! the same for every row) and `L[b, :] = Σ_{c∈T} s_cᵀ ∇²h s_c` (`[B, n]`) for a subset `T` of
//! the directions. The rules are
//!
//! * affine `h ↦ hW + b`: `J ↦ JW`, `L ↦ LW` (no bias);
//! * elementwise `a`: `J ↦ a'(h)·J`, `L ↦ a'(h)·L + a''(h)·Σ_{c∈T} J_c²`.
//!
//! One forward pass gives `∇v·s_c` and `Σ_{c∈T} s_cᵀ∇²v s_c` of the network output; nested
//! reverse mode ([`super::neural`]) needs one extra sweep per direction in `T`.

mod fourier;
mod rows;
pub use fourier::{fourier_divergence, fourier_scalar};
pub use rows::{
    col_weighted_sum, outer_shared, row_dot, row_scale, row_scale_shared, sum_prod,
    sum_prod_shared, weighted_row_sum,
};

use super::{batch_dims, Derivatives, Request, SecondOrder};
use crate::autodiff::Var;
use crate::nn::{Activation, Bound, Mlp};
use crate::tensor::Tensor;

/// A second-order jet of a batch of layer outputs (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct Jet<'t> {
    /// The values `h`, `[B, n]`.
    pub value: Var<'t>,
    /// First derivatives along the directions: `[B, m, n]`, or `[m, n]` before the first
    /// nonlinearity (identical rows).
    pub first: Var<'t>,
    /// The second-order term `Σ_{c∈T} s_cᵀ∇²h s_c`, `[B, n]`; `None` while it is zero.
    pub second: Option<Var<'t>>,
    /// The directions `T` whose second derivatives are summed (indices into `0..m`).
    pub trace: Vec<usize>,
}

impl<'t> Jet<'t> {
    /// The jet of the input points `x` `[B, d]` along the columns of `directions` `[d, m]`:
    /// `J = Dᵀ`, `L = 0`. `trace` selects the directions summed in the second-order term.
    ///
    /// # Panics
    /// If the shapes do not match or a trace index is `≥ m`.
    #[track_caller]
    pub fn input(x: Var<'t>, directions: &Tensor, trace: Vec<usize>) -> Jet<'t> {
        let (_, d) = batch_dims(x, "Jet::input");
        let ds = directions.shape();
        assert!(
            ds.len() == 2 && ds[0] == d,
            "Jet::input: directions must be [d = {d}, m], got {ds:?}"
        );
        let m = ds[1];
        assert!(
            trace.iter().all(|&c| c < m),
            "Jet::input: trace indices {trace:?} out of range for m = {m}"
        );
        let first = x.tape().constant(directions.clone()).t();
        Jet {
            value: x,
            first,
            second: None,
            trace,
        }
    }

    /// Like [`Jet::input`] with directions that differ per row: `directions` `[B, m, d]` holds
    /// `s_c` of row `b` at `[b, c, :]` (random probes, say).
    ///
    /// # Panics
    /// If the shapes do not match or a trace index is `≥ m`.
    #[track_caller]
    pub fn input_rows(x: Var<'t>, directions: &Tensor, trace: Vec<usize>) -> Jet<'t> {
        let (b, d) = batch_dims(x, "Jet::input_rows");
        let ds = directions.shape();
        assert!(
            ds.len() == 3 && ds[0] == b && ds[2] == d,
            "Jet::input_rows: directions must be [B = {b}, m, d = {d}], got {ds:?}"
        );
        assert!(
            trace.iter().all(|&c| c < ds[1]),
            "Jet::input_rows: trace indices {trace:?} out of range for m = {}",
            ds[1]
        );
        Jet {
            value: x,
            first: x.tape().constant(directions.clone()),
            second: None,
            trace,
        }
    }

    /// The affine map `hW + b` with `W` `[n, o]`, `b` `[o]`.
    pub fn affine(self, w: Var<'t>, b: Option<Var<'t>>) -> Jet<'t> {
        let z = self.value.matmul(w);
        Jet {
            value: b.map_or(z, |b| z + b),
            first: self.first.matmul(w),
            second: self.second.map(|l| l.matmul(w)),
            trace: self.trace,
        }
    }

    /// `Σ_{c∈T} J_c²`, `[n]` or `[B, n]`.
    fn trace_square(&self) -> Var<'t> {
        let nd = self.first.ndim();
        let axis = nd - 2;
        let m = self.first.shape()[axis];
        let t = &self.trace;
        let contiguous = t.windows(2).all(|w| w[1] == w[0] + 1);
        if nd == 3 && contiguous && !t.is_empty() {
            return sum_prod(self.first, self.first, t[0]..t[0] + t.len());
        }
        let sel = if t.len() == m && contiguous && t.first() == Some(&0) {
            self.first
        } else if contiguous && !t.is_empty() {
            self.first.slice(axis, t[0]..t[0] + t.len())
        } else {
            self.first.gather(axis, t)
        };
        sel.square().sum_axes(&[axis], false)
    }

    /// An elementwise map with derivatives `a'`, `a''` (each `[B, n]`, on the tape).
    pub fn elementwise(self, a: Var<'t>, a1: Var<'t>, a2: Option<Var<'t>>) -> Jet<'t> {
        let curvature = match (a2, self.trace.is_empty()) {
            (Some(a2), false) => Some(a2 * self.trace_square()),
            _ => None,
        };
        let second = match (self.second, curvature) {
            (Some(l), Some(c)) => Some(a1 * l + c),
            (Some(l), None) => Some(a1 * l),
            (None, c) => c,
        };
        Jet {
            value: a,
            first: if self.first.ndim() == 3 {
                let m = self.first.shape()[1];
                row_scale(a1, self.first, 0..m)
            } else {
                row_scale_shared(a1, self.first)
            },
            second,
            trace: self.trace,
        }
    }

    /// An activation from the network library. ReLU and leaky ReLU use `a'' = 0` (true away
    /// from the kink, where nested reverse mode agrees).
    pub fn activation(self, act: Activation) -> Jet<'t> {
        let z = self.value;
        let (a, a1, a2) = match act {
            Activation::Identity => return self,
            Activation::Tanh => {
                let t = z.tanh();
                let a1 = 1.0 - t.square();
                (t, a1, Some(-2.0 * t * a1))
            }
            Activation::Sin => (z.sin(), z.cos(), Some(-z.sin())),
            Activation::Softplus => {
                let s = z.sigmoid();
                (z.softplus(), s, Some(s * (1.0 - s)))
            }
            Activation::Sigmoid => {
                let s = z.sigmoid();
                let a1 = s * (1.0 - s);
                (s, a1, Some(a1 * (1.0 - 2.0 * s)))
            }
            Activation::Silu => {
                let s = z.sigmoid();
                let ds = s * (1.0 - s);
                (z * s, s + z * ds, Some(ds * (2.0 + z * (1.0 - 2.0 * s))))
            }
            // Three fused ops (value, first and second derivative), each one pass.
            Activation::Gelu => {
                let g = z.gelu_derivatives(&[0, 1, 2]);
                (g[0], g[1], Some(g[2]))
            }
            Activation::Relu | Activation::LeakyRelu(_) => {
                let slope = if let Activation::LeakyRelu(s) = act {
                    s
                } else {
                    0.0
                };
                let mask = z.value().map(|v| if v > 0.0 { 1.0 } else { slope });
                (act.apply(z), z.tape().constant(mask), None)
            }
        };
        self.elementwise(a, a1, a2)
    }

    /// The sum of two jets of the same input and directions (a residual connection).
    pub fn plus(self, other: Jet<'t>) -> Jet<'t> {
        let second = match (self.second, other.second) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        Jet {
            value: self.value + other.value,
            first: self.first + other.first,
            second,
            trace: self.trace,
        }
    }

    /// Pushes the jet through an [`Mlp`] (affine layers, activations, residual connections).
    pub fn mlp(self, net: &Mlp, p: &Bound<'t>) -> Jet<'t> {
        self.mlp_layers(net, p, net.layers.len())
    }

    /// The first `k` layers of `net`.
    fn mlp_layers(self, net: &Mlp, p: &Bound<'t>, k: usize) -> Jet<'t> {
        let n = net.layers.len();
        let mut h = self;
        for (l, layer) in net.layers.iter().enumerate().take(k) {
            let w = p.var(layer.weight);
            let b = layer.bias.map(|b| p.var(b));
            let y = h.clone().affine(w, b).activation(layer.activation);
            let skip = net.residual && l + 1 < n && layer.in_features == layer.out_features;
            h = if skip { h.plus(y) } else { y };
        }
        h
    }

    /// Pushes the jet through all of `net` but its last layer, when that layer is affine with
    /// no activation (otherwise `None`): see [`Penultimate`].
    pub fn mlp_penultimate(self, net: &Mlp, p: &Bound<'t>) -> Option<Penultimate<'t>> {
        let last = net.layers.last()?;
        if last.activation != Activation::Identity {
            return None;
        }
        Some(Penultimate {
            hidden: self.mlp_layers(net, p, net.layers.len() - 1),
            weight: p.var(last.weight),
            bias: last.bias.map(|b| p.var(b)),
        })
    }
}

/// A jet stopped before a network's last layer, an affine map `u = hW + b` with `W` `[k, n]`.
///
/// A divergence needs `m` entries `∂u_j/∂s_j` of the output's `[B, m, n]` first derivatives;
/// the full product `J W` computes all `m·n` (at d = 50, fifty times more than used), and the
/// reverse pass pays for them twice more. [`Penultimate::entries`] forms only the requested
/// entries, `Σ_c J[b, s, c]·W[c, j]`, as row dots.
#[derive(Clone, Debug)]
pub struct Penultimate<'t> {
    /// The jet of the last layer's input `h` `[B, k]`.
    pub hidden: Jet<'t>,
    /// `W` `[k, n]`.
    pub weight: Var<'t>,
    /// `b` `[n]`.
    pub bias: Option<Var<'t>>,
}

impl<'t> Penultimate<'t> {
    /// The whole output jet (what the network's own jet gives).
    pub fn finish(self) -> Jet<'t> {
        self.hidden.affine(self.weight, self.bias)
    }

    /// The output values `[B, n]` and `Σ_j ∂u_j/∂s_j` `[B]` (a divergence when the directions
    /// are the unit vectors of the coordinates the components move along; `m = n`).
    ///
    /// # Panics
    /// If there are fewer directions than output components.
    #[track_caller]
    pub fn divergence(self) -> (Var<'t>, Var<'t>) {
        let n = self.weight.shape()[1];
        let pairs: Vec<(usize, usize)> = (0..n).map(|j| (j, j)).collect();
        let (u, e, _) = self.entries(&pairs);
        (u, e.sum_axes(&[1], false))
    }

    /// The output values `[B, n]`, the entries `E[b, i] = ∂u_{j_i}/∂s_{c_i}` `[B, K]` for the
    /// pairs `(c_i, j_i)` = (direction, output component), and the output's second-order term
    /// `[B, n]` (`None` while zero). With no pairs, `E` is `[B, 0]`: a pass that needs the
    /// second-order term alone skips the first derivatives' product.
    ///
    /// # Panics
    /// If a direction or component is out of range.
    #[track_caller]
    pub fn entries(self, pairs: &[(usize, usize)]) -> (Var<'t>, Var<'t>, Option<Var<'t>>) {
        let h = self.hidden;
        let (w, tape) = (self.weight, h.value.tape());
        let b = h.value.shape()[0];
        let ws = w.shape();
        let (k, n) = (ws[0], ws[1]);
        let nd = h.first.ndim();
        let m = h.first.shape()[nd - 2];
        if let Some(bad) = pairs.iter().find(|&&(c, j)| c >= m || j >= n) {
            panic!("Penultimate::entries: pair {bad:?} out of range for {m} directions and {n} outputs");
        }
        let z = h.value.matmul(w);
        let value = self.bias.map_or(z, |bias| z + bias);
        let second = h.second.map(|l| l.matmul(w));
        if pairs.is_empty() {
            return (value, tape.constant(Tensor::zeros(&[b, 0])), second);
        }
        let dirs: Vec<usize> = pairs.iter().map(|p| p.0).collect();
        let outs: Vec<usize> = pairs.iter().map(|p| p.1).collect();
        let identity =
            |v: &[usize], len: usize| v.len() == len && v.iter().enumerate().all(|(i, &x)| i == x);
        let first = if nd == 2 {
            h.first.broadcast_to(&[b, m, k])
        } else {
            h.first
        };
        let js = if identity(&dirs, m) {
            first
        } else {
            first.gather(1, &dirs)
        };
        let wt = w.t();
        let wsel = if identity(&outs, n) {
            wt
        } else {
            wt.gather(0, &outs)
        };
        (value, row_dot(js, wsel), second)
    }
}

/// The directions and trace set for a request on `d` inputs: the identity first when the
/// gradient is wanted, then the second-order directions (reusing unit vectors already present).
fn plan(d: usize, req: &Request) -> (Tensor, Vec<usize>) {
    let second = req.second.as_ref();
    match (req.gradient, second) {
        (true, Some(SecondOrder::Laplacian(s))) => {
            SecondOrder::Laplacian(s.clone()).directions(d); // validates the coordinates
            (identity(d), s.clone())
        }
        (true, second) => {
            let eye = identity(d);
            let Some(so) = second else {
                return (eye, vec![]);
            };
            let s = so.directions(d);
            let k = s.shape()[1];
            let mut data = Vec::with_capacity(d * (d + k));
            for i in 0..d {
                data.extend_from_slice(&eye.data()[i * d..(i + 1) * d]);
                data.extend_from_slice(&s.data()[i * k..(i + 1) * k]);
            }
            (Tensor::from_vec(data, &[d, d + k]), (d..d + k).collect())
        }
        (false, Some(so)) => {
            let s = so.directions(d);
            let k = s.shape()[1];
            (s, (0..k).collect())
        }
        (false, None) => (Tensor::zeros(&[d, 0]), vec![]),
    }
}

pub(crate) fn identity(d: usize) -> Tensor {
    let mut e = Tensor::zeros(&[d, d]);
    for i in 0..d {
        e.data_mut()[i * d + i] = 1.0;
    }
    e
}

/// The value and requested derivatives of a scalar-output [`Mlp`] at `x` `[B, d]` by forward
/// jets; interchangeable with [`super::neural::scalar`]. `x` may be a constant.
///
/// # Panics
/// If the network's output is not one-dimensional or the shapes do not match.
#[track_caller]
pub fn mlp_scalar<'t>(net: &Mlp, p: &Bound<'t>, x: Var<'t>, req: &Request) -> Derivatives<'t> {
    let (b, d) = batch_dims(x, "jet::mlp_scalar");
    let (dirs, trace) = plan(d, req);
    let out = Jet::input(x, &dirs, trace).mlp(net, p);
    scalar_output(out, b, d, req)
}

/// Reads a scalar field's [`Derivatives`] off the jet of its output `[B, 1]`.
#[track_caller]
pub fn scalar_output<'t>(out: Jet<'t>, b: usize, d: usize, req: &Request) -> Derivatives<'t> {
    let s = out.value.shape();
    assert!(
        s.as_slice() == [b, 1],
        "jet: a scalar field must end in [{b}, 1], got {:?}",
        s.as_slice()
    );
    let tape = out.value.tape();
    let m = out.first.shape()[out.first.ndim() - 2];
    let gradient = req.gradient.then(|| {
        let f = out.first.broadcast_to(&[b, m, 1]).reshape(&[b, m]);
        if m == d {
            f
        } else {
            f.slice(1, 0..d)
        }
    });
    let second = req.second.as_ref().map(|_| {
        out.second
            .map_or_else(|| tape.constant(Tensor::zeros(&[b])), |l| l.reshape(&[b]))
    });
    Derivatives {
        value: out.value.reshape(&[b]),
        gradient,
        second,
    }
}

/// The values `u` `[B, m]` of a vector-valued [`Mlp`] at `x` `[B, d]` and its divergence
/// `Σ_j ∂u_j/∂x_{coords[j]}` `[B]`, by a first-order jet along the unit vectors `e_{coords[j]}`.
///
/// # Panics
/// If the output width is not `coords.len()` or a coordinate is out of range.
#[track_caller]
pub fn mlp_divergence<'t>(
    net: &Mlp,
    p: &Bound<'t>,
    x: Var<'t>,
    coords: &[usize],
) -> (Var<'t>, Var<'t>) {
    let (b, d) = batch_dims(x, "jet::mlp_divergence");
    let m = coords.len();
    let dirs = SecondOrder::Laplacian(coords.to_vec()).directions(d);
    let jet = Jet::input(x, &dirs, vec![]);
    let width = net.layers.last().map_or(d, |l| l.out_features);
    assert!(
        width == m,
        "jet::mlp_divergence: the field must be [{b}, {m}], got [{b}, {width}]"
    );
    if let Some(pen) = jet.clone().mlp_penultimate(net, p) {
        return pen.divergence();
    }
    full_divergence(jet.mlp(net, p))
}

/// The values `[B, m]` of a whole output jet along `m` unit directions and the trace of its
/// `[B, m, m]` first derivatives: the divergence when the last layer has an activation and
/// [`Penultimate::divergence`] does not apply.
pub(crate) fn full_divergence(out: Jet<'_>) -> (Var<'_>, Var<'_>) {
    let s = out.value.shape();
    let (b, m) = (s[0], s[1]);
    let eye = out.value.tape().constant(identity(m));
    let div = (out.first * eye)
        .broadcast_to(&[b, m, m])
        .sum_axes(&[1, 2], false);
    (out.value, div)
}
