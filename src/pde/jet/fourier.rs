//! Forward jets through the [`FourierMlp`] of the Path Integral Sampler, a field on `(x, t)` with
//! input layout `[B, d + 1]` (time in the last column, as in its [`Module`](crate::nn::Module)
//! implementation).
//!
//! The time embedding `e(t) = [sin(c·t + φ), cos(c·t + φ)]` is the affine map `t ↦ t·cᵀ + φ`
//! (a `[1, C]` weight) followed by two elementwise maps, so its jet is
//! `J_e = [cos(a)·(J_t cᵀ), −sin(a)·(J_t cᵀ)]`,
//! `L_e = [−sin(a)·Σ_{c∈T}(J_{t,c} c)², −cos(a)·Σ_{c∈T}(J_{t,c} c)²]` with `a = c·t + φ`;
//! the rest of the network is affine maps, exact GELUs and one sum of branches.

use super::{plan, scalar_output, Jet, Penultimate};
use crate::autodiff::Var;
use crate::nn::{Activation, Bound, FourierMlp, Linear, Module};
use crate::pde::{batch_dims, Derivatives, Request, SecondOrder};
use crate::tensor::Tensor;

impl<'t> Jet<'t> {
    /// A [`Linear`] layer: the affine map, then the layer's activation.
    pub fn linear(self, layer: &Linear, p: &Bound<'t>) -> Jet<'t> {
        let w = p.var(layer.weight);
        let b = layer.bias.map(|b| p.var(b));
        self.affine(w, b).activation(layer.activation)
    }

    /// Pushes a jet of the inputs `(x, t)` `[B, d + 1]` through a [`FourierMlp`]:
    /// `f = W_out·GELU(h) + b_out` with `h` from `hₓ + hₜ` and the GELU-Linear blocks.
    ///
    /// The time branch `hₜ` depends on `t` alone, so it is pushed only along the directions
    /// that move `t` (while the directions are shared by every row); the others leave it
    /// constant. A divergence in `x` thus skips the time branch's derivatives entirely, and a
    /// gradient in `(x, t)` carries one direction through it instead of `d + 1`.
    ///
    /// # Panics
    /// If the jet's width is not `d + 1` for the network's input width `d`.
    #[track_caller]
    pub fn fourier_mlp(self, net: &FourierMlp, p: &Bound<'t>) -> Jet<'t> {
        match self.fourier_penultimate(net, p) {
            Ok(pen) => pen.finish(),
            Err(h) => h.linear(&net.output, p),
        }
    }

    /// Pushes the jet through all of `net` but its output layer (see [`Penultimate`]); when
    /// that layer has an activation, `Err` with the jet of its input instead.
    ///
    /// # Panics
    /// As [`Jet::fourier_mlp`].
    #[track_caller]
    pub fn fourier_penultimate(
        self,
        net: &FourierMlp,
        p: &Bound<'t>,
    ) -> Result<Penultimate<'t>, Jet<'t>> {
        let n = self.value.shape()[1];
        let d = net.input.in_features;
        assert!(
            n == d + 1,
            "Jet::fourier_mlp: the points must be [B, d + 1 = {}], got width {n}",
            d + 1
        );
        let x = self.columns(0..d);
        let t = self.columns(d..d + 1);
        let ht = time_branch(t, net, p);
        let mut h = x.linear(&net.input, p).plus(ht);
        for block in &net.blocks {
            h = h.activation(Activation::Gelu).linear(block, p);
        }
        let hidden = h.activation(Activation::Gelu);
        if net.output.activation != Activation::Identity {
            return Err(hidden);
        }
        Ok(Penultimate {
            hidden,
            weight: p.var(net.output.weight),
            bias: net.output.bias.map(|b| p.var(b)),
        })
    }

    /// The jet of the feature columns `range` (value `[B, k]`, first derivatives `[…, m, k]`).
    pub fn columns(&self, range: std::ops::Range<usize>) -> Jet<'t> {
        let last = self.first.ndim() - 1;
        Jet {
            value: self.value.slice(1, range.clone()),
            first: self.first.slice(last, range.clone()),
            second: self.second.map(|l| l.slice(1, range)),
            trace: self.trace.clone(),
        }
    }

    /// The jet of `[a, b]` concatenated along the features. Both must come from the same input
    /// jet (same directions and trace set).
    ///
    /// # Panics
    /// If the batch or direction counts differ.
    #[track_caller]
    pub fn concat(a: Jet<'t>, b: Jet<'t>) -> Jet<'t> {
        let (fa, fb) = (a.first, b.first);
        let (fa, fb) = match (fa.ndim(), fb.ndim()) {
            (2, 3) => (fa.broadcast_to(&rows(fb, fa)), fb),
            (3, 2) => (fa, fb.broadcast_to(&rows(fa, fb))),
            _ => (fa, fb),
        };
        let last = fa.ndim() - 1;
        let zeros = |j: &Jet<'t>| {
            let s = j.value.shape();
            j.value.tape().constant(Tensor::zeros(&[s[0], s[1]]))
        };
        let second = match (a.second, b.second) {
            (None, None) => None,
            (sa, sb) => Some(Var::concat(
                &[
                    sa.unwrap_or_else(|| zeros(&a)),
                    sb.unwrap_or_else(|| zeros(&b)),
                ],
                1,
            )),
        };
        Jet {
            value: Var::concat(&[a.value, b.value], 1),
            first: Var::concat(&[fa, fb], last),
            second,
            trace: a.trace,
        }
    }
}

/// The jet of the time branch `hₜ = W₂·GELU(W₁·e(t) + b₁) + b₂` for the jet `t` of the time
/// column, along only the directions with a nonzero `t` component when those are shared by
/// every row (the others have zero derivatives here), then scattered back to all directions.
fn time_branch<'t>(t: Jet<'t>, net: &FourierMlp, p: &Bound<'t>) -> Jet<'t> {
    let nd = t.first.ndim();
    let m = t.first.shape()[nd - 2];
    let moving: Vec<usize> = if nd == 2 {
        let f = t.first.value();
        (0..m).filter(|&c| f.data()[c] != 0.0).collect()
    } else {
        (0..m).collect()
    };
    // Without any moving direction, a second-order term of `t` itself (never present for an
    // input jet) would still feed the branch's: the general path handles it.
    if moving.len() == m || moving.is_empty() && t.second.is_some() {
        return time_branch_all(t, net, p);
    }
    let tape = t.value.tape();
    let c = net.embedding.channels();
    if moving.is_empty() {
        // No direction moves `t`: the value alone, with zero derivatives.
        let cw = tape.constant(net.embedding.freqs.reshape(&[1, c]));
        let e = (t.value.matmul(cw) + p.var(net.embedding.phase)).sin_cos();
        let h = net.time_in.forward(p, e).gelu();
        return Jet {
            value: net.time_out.forward(p, h),
            first: tape.constant(Tensor::zeros(&[m, c])),
            second: None,
            trace: t.trace,
        };
    }
    let trace = t.trace.clone();
    let sub = Jet {
        value: t.value,
        first: t.first.gather(0, &moving),
        second: t.second,
        trace: t
            .trace
            .iter()
            .filter_map(|c| moving.iter().position(|i| i == c))
            .collect(),
    };
    let out = time_branch_all(sub, net, p);
    let axis = out.first.ndim() - 2;
    let (lo, hi) = (moving[0], moving[moving.len() - 1] + 1);
    let first = if hi - lo == moving.len() {
        out.first.pad(axis, lo, m - hi)
    } else {
        out.first.scatter_add(axis, &moving, m)
    };
    Jet {
        value: out.value,
        first,
        second: out.second,
        trace,
    }
}

/// The time branch along every direction of `t`.
fn time_branch_all<'t>(t: Jet<'t>, net: &FourierMlp, p: &Bound<'t>) -> Jet<'t> {
    let c = net.embedding.freqs.clone();
    let cw = t.value.tape().constant(c.reshape(&[1, c.len()]));
    let arg = t.affine(cw, Some(p.var(net.embedding.phase)));
    let z = arg.value;
    let e = z.sin_cos();
    let k = c.len();
    let (s, co) = (e.slice(1, 0..k), e.slice(1, k..2 * k));
    let neg_s = -s; // sin'' and cos' are the same tensor: one op on the tape
    let sin = arg.clone().elementwise(s, co, Some(neg_s));
    let cos = arg.elementwise(co, neg_s, Some(-co));
    Jet::concat(sin, cos)
        .linear(&net.time_in, p)
        .activation(Activation::Gelu)
        .linear(&net.time_out, p)
}

/// The shape `[B, m, n]` of a per-row `first` with the batch of `with` and the features of `own`.
fn rows(with: Var<'_>, own: Var<'_>) -> Vec<usize> {
    let (ws, os) = (with.shape(), own.shape());
    vec![ws[0], os[0], os[1]]
}

/// The value and requested derivatives of a scalar-output [`FourierMlp`] at `xt` `[B, d + 1]`
/// (time last) by forward jets; interchangeable with
/// `neural::scalar(xt, |xt| net.forward(p, xt), req)`. Coordinates in `req` index `(x, t)`, so
/// `d` is `∂ₜ`; use [`time_sigma`](crate::pde::operators::time_sigma) for diffusion in `x` only.
///
/// # Panics
/// If the network's output is not one-dimensional or the shapes do not match.
#[track_caller]
pub fn fourier_scalar<'t>(
    net: &FourierMlp,
    p: &Bound<'t>,
    xt: Var<'t>,
    req: &Request,
) -> Derivatives<'t> {
    let (b, n) = batch_dims(xt, "jet::fourier_scalar");
    let (dirs, trace) = plan(n, req);
    let out = Jet::input(xt, &dirs, trace).fourier_mlp(net, p);
    scalar_output(out, b, n, req)
}

/// The values `u` `[B, m]` of a vector-valued [`FourierMlp`] at `xt` `[B, d + 1]` and its
/// divergence `Σ_j ∂u_j/∂x_{coords[j]}` `[B]` (typically `coords = 0..d`, a drift in `x`).
///
/// # Panics
/// If the output width is not `coords.len()` or a coordinate is out of range.
#[track_caller]
pub fn fourier_divergence<'t>(
    net: &FourierMlp,
    p: &Bound<'t>,
    xt: Var<'t>,
    coords: &[usize],
) -> (Var<'t>, Var<'t>) {
    let (b, n) = batch_dims(xt, "jet::fourier_divergence");
    let dirs = SecondOrder::Laplacian(coords.to_vec()).directions(n);
    let m = coords.len();
    let out = net.output.out_features;
    assert!(
        out == m,
        "jet::fourier_divergence: the field must be [{b}, {m}], got [{b}, {out}]"
    );
    let jet = Jet::input(xt, &dirs, vec![]);
    match jet.fourier_penultimate(net, p) {
        // Only the diagonal `∂u_j/∂x_{coords[j]}` of the output layer's derivatives.
        Ok(pen) => pen.divergence(),
        Err(h) => super::full_divergence(h.linear(&net.output, p)),
    }
}
