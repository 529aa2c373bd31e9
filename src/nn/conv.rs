//! 2-D convolution and transposed convolution (NCHW), as compositions of `pad`, `gather`,
//! `matmul`, `scatter_add` and `slice`: no derivative code of their own, so their gradients of
//! every order follow from those primitives.
//!
//! **Convolution** (cross-correlation, as in PyTorch), stride `s`, zero padding `p`:
//! `y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x̃[n,c,s·i+u,s·j+v]`, `x̃` the padded input,
//! output size `⌊(H + 2p − k)/s⌋ + 1`. Computed by im2col: the padded image is flattened to
//! `[N, H̃W̃, C]`, one `gather` picks the `OH·OW·k_h·k_w` patch entries, and the patches
//! `[N, OH·OW, k_h·k_w·C]` are multiplied by the kernel `[k_h·k_w·C, O]`.
//!
//! **Transposed convolution** is the adjoint of that map in `x` (PyTorch's `conv_transpose2d`):
//! columns `[N, H·W·k_h·k_w, O]` (`x` times the kernel) are scatter-added (col2im) into the full output of size
//! `(H − 1)s + k + output_padding` and the padding `p` is cut off each side, giving
//! `(H − 1)s − 2p + k + output_padding`.
//!
//! Both work channels-last internally (`[N, H·W, C]`): gathered and scattered patch entries
//! are contiguous runs of channels, and the product is one `[rows, k] · [k, cols]` matrix
//! product with the kernel, whose gradient is one product too (no per-sample copy of the kernel).

use super::init::{Fans, Init};
use super::module::Module;
use super::params::{Bound, ParamId, ParamStore};
use crate::autodiff::Var;

/// Stride and padding of a convolution (equal on both spatial axes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Step between patches.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
    /// Extra rows/columns at the end of a transposed convolution's output (`< stride`).
    pub output_padding: usize,
}

impl Default for ConvGeometry {
    /// Stride 1, no padding.
    fn default() -> Self {
        ConvGeometry {
            stride: 1,
            padding: 0,
            output_padding: 0,
        }
    }
}

/// Row-major positions in a `[_, w_full]` image of the patch entries `(s·i + u, s·j + v)`, in
/// the order `i, j, u, v` (output pixel major, kernel offset minor).
fn patch_indices(
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    s: usize,
    w_full: usize,
) -> Vec<usize> {
    let mut idx = Vec::with_capacity(kh * kw * oh * ow);
    for i in 0..oh {
        for j in 0..ow {
            for u in 0..kh {
                for v in 0..kw {
                    idx.push((s * i + u) * w_full + s * j + v);
                }
            }
        }
    }
    idx
}

/// `conv2d(x, w) + b`: `x` `[N, C, H, W]`, `w` `[O, C, k_h, k_w]`, `b` `[O]` (see the
/// [module docs](self)).
///
/// # Panics
/// If the ranks or channel counts do not match, the stride is 0, or the kernel is larger than
/// the padded input (naming the shapes).
#[track_caller]
pub fn conv2d<'t>(x: Var<'t>, w: Var<'t>, b: Option<Var<'t>>, g: ConvGeometry) -> Var<'t> {
    let (sx, sw) = (x.shape(), w.shape());
    let ok = sx.len() == 4 && sw.len() == 4 && sx[1] == sw[1] && g.stride > 0;
    assert!(
        ok,
        "conv2d: input {:?} and kernel {:?} (stride {}) do not match",
        sx.as_slice(),
        sw.as_slice(),
        g.stride
    );
    let (n, c, h, wd) = (sx[0], sx[1], sx[2], sx[3]);
    let (o, kh, kw) = (sw[0], sw[2], sw[3]);
    let (hp, wp) = (h + 2 * g.padding, wd + 2 * g.padding);
    assert!(
        kh <= hp && kw <= wp,
        "conv2d: kernel {:?} larger than padded input {:?}",
        sw.as_slice(),
        sx.as_slice()
    );
    let (oh, ow) = ((hp - kh) / g.stride + 1, (wp - kw) / g.stride + 1);
    let xp = if g.padding > 0 {
        x.pad(2, g.padding, g.padding).pad(3, g.padding, g.padding)
    } else {
        x
    };
    // Channels last, so that each gathered patch entry is a contiguous run of C values and the
    // patches [N, OH·OW, k_h·k_w·C] multiply one kernel matrix [k_h·k_w·C, O] (no batching of
    // the kernel).
    let idx = patch_indices(kh, kw, oh, ow, g.stride, wp);
    let cols = xp
        .reshape(&[n, c, hp * wp])
        .permute(&[0, 2, 1])
        .gather(1, &idx)
        .reshape(&[n, oh * ow, kh * kw * c]);
    let kernel = w.permute(&[2, 3, 1, 0]).reshape(&[kh * kw * c, o]);
    let y = cols
        .matmul(kernel)
        .permute(&[0, 2, 1])
        .reshape(&[n, o, oh, ow]);
    match b {
        Some(b) => y + b.reshape(&[o, 1, 1]),
        None => y,
    }
}

/// `conv_transpose2d(x, w) + b`: `x` `[N, C, H, W]`, `w` `[C, O, k_h, k_w]` (PyTorch's layout),
/// `b` `[O]`; the adjoint in `x` of [`conv2d`] with the same kernel and geometry.
///
/// # Panics
/// If the ranks or channel counts do not match, the stride is 0, `output_padding ≥ stride`, or
/// the padding removes the whole output.
#[track_caller]
pub fn conv_transpose2d<'t>(
    x: Var<'t>,
    w: Var<'t>,
    b: Option<Var<'t>>,
    g: ConvGeometry,
) -> Var<'t> {
    let (sx, sw) = (x.shape(), w.shape());
    let ok = sx.len() == 4
        && sw.len() == 4
        && sx[1] == sw[0]
        && g.stride > 0
        && g.output_padding < g.stride.max(1);
    assert!(
        ok,
        "conv_transpose2d: input {:?} and kernel {:?} (stride {}, output padding {}) do not match",
        sx.as_slice(),
        sw.as_slice(),
        g.stride,
        g.output_padding
    );
    let (n, c, h, wd) = (sx[0], sx[1], sx[2], sx[3]);
    let (o, kh, kw) = (sw[1], sw[2], sw[3]);
    let hf = (h - 1) * g.stride + kh + g.output_padding;
    let wf = (wd - 1) * g.stride + kw + g.output_padding;
    assert!(
        hf > 2 * g.padding && wf > 2 * g.padding,
        "conv_transpose2d: padding {} removes the whole output of input {:?}",
        g.padding,
        sx.as_slice()
    );
    // Channels last: [N, H·W, C] · [C, k_h·k_w·O] gives, per input pixel, its k_h·k_w·O
    // contributions, which are scatter-added as runs of O values into [N, H_f·W_f, O].
    let kernel = w.permute(&[0, 2, 3, 1]).reshape(&[c, kh * kw * o]);
    let cols = x
        .reshape(&[n, c, h * wd])
        .permute(&[0, 2, 1])
        .matmul(kernel)
        .reshape(&[n, h * wd * kh * kw, o]);
    let idx = patch_indices(kh, kw, h, wd, g.stride, wf);
    let full = cols
        .scatter_add(1, &idx, hf * wf)
        .permute(&[0, 2, 1])
        .reshape(&[n, o, hf, wf]);
    let y = if g.padding > 0 {
        full.slice(2, g.padding..hf - g.padding)
            .slice(3, g.padding..wf - g.padding)
    } else {
        full
    };
    match b {
        Some(b) => y + b.reshape(&[o, 1, 1]),
        None => y,
    }
}

/// A convolution layer: kernel `{prefix}.weight` `[O, C, k, k]` (He-uniform with gain 1, i.e.
/// `U(±√(3/fan_in))`, unless given) and bias `{prefix}.bias` `[O]` (zeros).
#[derive(Clone, Debug)]
pub struct Conv2d {
    /// The kernel.
    pub weight: ParamId,
    /// The bias.
    pub bias: ParamId,
    /// Stride and padding.
    pub geometry: ConvGeometry,
}

impl Conv2d {
    /// A `k×k` convolution from `c_in` to `c_out` channels.
    pub fn new(
        store: &mut ParamStore,
        prefix: &str,
        c_in: usize,
        c_out: usize,
        k: usize,
        geometry: ConvGeometry,
    ) -> Conv2d {
        Conv2d::with_init(
            store,
            prefix,
            c_in,
            c_out,
            k,
            geometry,
            Init::HeUniform { gain: 1.0 },
        )
    }

    /// With a chosen kernel initialiser.
    pub fn with_init(
        store: &mut ParamStore,
        prefix: &str,
        c_in: usize,
        c_out: usize,
        k: usize,
        geometry: ConvGeometry,
        init: Init,
    ) -> Conv2d {
        let (weight, bias) = kernel_and_bias(store, prefix, [c_out, c_in, k, k], c_out, init);
        Conv2d {
            weight,
            bias,
            geometry,
        }
    }
}

impl Module for Conv2d {
    fn forward<'t>(&self, p: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        conv2d(x, p.var(self.weight), Some(p.var(self.bias)), self.geometry)
    }
}

/// A transposed convolution layer: kernel `{prefix}.weight` `[C, O, k, k]`, bias `[O]`.
/// The kernel's fans are those of the convolution it is the adjoint of (`fan_in = O·k²`).
#[derive(Clone, Debug)]
pub struct ConvTranspose2d {
    /// The kernel.
    pub weight: ParamId,
    /// The bias.
    pub bias: ParamId,
    /// Stride, padding and output padding.
    pub geometry: ConvGeometry,
}

impl ConvTranspose2d {
    /// A `k×k` transposed convolution from `c_in` to `c_out` channels.
    pub fn new(
        store: &mut ParamStore,
        prefix: &str,
        c_in: usize,
        c_out: usize,
        k: usize,
        geometry: ConvGeometry,
    ) -> ConvTranspose2d {
        ConvTranspose2d::with_init(
            store,
            prefix,
            c_in,
            c_out,
            k,
            geometry,
            Init::HeUniform { gain: 1.0 },
        )
    }

    /// With a chosen kernel initialiser.
    pub fn with_init(
        store: &mut ParamStore,
        prefix: &str,
        c_in: usize,
        c_out: usize,
        k: usize,
        geometry: ConvGeometry,
        init: Init,
    ) -> ConvTranspose2d {
        let (weight, bias) = kernel_and_bias(store, prefix, [c_in, c_out, k, k], c_out, init);
        ConvTranspose2d {
            weight,
            bias,
            geometry,
        }
    }
}

impl Module for ConvTranspose2d {
    fn forward<'t>(&self, p: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        conv_transpose2d(x, p.var(self.weight), Some(p.var(self.bias)), self.geometry)
    }
}

/// Adds `{prefix}.weight` (kernel of `shape`, initialised by `init` with the kernel's fans) and a
/// zero `{prefix}.bias` of length `c_out`.
fn kernel_and_bias(
    store: &mut ParamStore,
    prefix: &str,
    shape: [usize; 4],
    c_out: usize,
    init: Init,
) -> (ParamId, ParamId) {
    let fans = Fans::conv(&shape);
    let weight = store.add(&format!("{prefix}.weight"), &shape, init, fans);
    let bias = store.add(&format!("{prefix}.bias"), &[c_out], Init::Zeros, fans);
    (weight, bias)
}
