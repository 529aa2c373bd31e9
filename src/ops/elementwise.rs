//! Elementwise primitives, forward and VJP side by side. Binary ops broadcast like numpy; the
//! VJP of a broadcast operand sums the gradient back to its shape ([`Var::sum_to`]).

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::tensor::{broadcast_shapes, fastmath, kernels, pool, Tensor};

/// Panics at the caller's line if two operands do not broadcast.
#[track_caller]
pub(crate) fn check_broadcast(op: &str, a: Var<'_>, b: Var<'_>) {
    let (sa, sb) = (a.shape(), b.shape());
    if broadcast_shapes(&sa, &sb).is_none() {
        panic!(
            "{op}: shapes {:?} and {:?} do not broadcast",
            sa.as_slice(),
            sb.as_slice()
        );
    }
}

/// The gradient `g` of a broadcast result, summed back to the shape of operand `x`.
pub(crate) fn unbroadcast<'t>(g: Var<'t>, x: Var<'t>) -> Var<'t> {
    let shape = x.shape();
    if g.shape() == shape {
        g
    } else {
        g.sum_to(&shape)
    }
}

/// Declares a binary broadcasting op: `$kernel` maps `(a, b)`, `$vjp` maps
/// `(args, a, b, out, g)` to the two unreduced gradients (each built only if needed).
macro_rules! binary_op {
    ($ty:ident, $name:literal, $kernel:expr, |$args:ident, $a:ident, $b:ident, $out:ident, $g:ident| ($ga:expr, $gb:expr)) => {
        pub(crate) struct $ty;
        impl Op for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
                Ok(kernels::binary($name, x[0], x[1], $kernel))
            }
            #[allow(unused_variables)]
            fn vjp<'t>(&self, $args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
                let ($a, $b, $out, $g) =
                    ($args.inputs[0], $args.inputs[1], $args.output, $args.grad);
                vec![
                    $args.needs(0).then(|| unbroadcast($ga, $a)),
                    $args.needs(1).then(|| unbroadcast($gb, $b)),
                ]
            }
        }
    };
}

binary_op!(Add, "add", |a, b| a + b, |args, a, b, out, g| (g, g));
binary_op!(Sub, "sub", |a, b| a - b, |args, a, b, out, g| (g, -g));
binary_op!(Mul, "mul", |a, b| a * b, |args, a, b, out, g| (
    g * b,
    g * a
));
// d(a/b) = da/b − (a/b)·db/b
binary_op!(Div, "div", |a, b| a / b, |args, a, b, out, g| (
    g / b,
    -(g * out) / b
));
// d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln a·db
binary_op!(Pow, "pow", f64::powf, |args, a, b, out, g| (
    g * b * a.pow(b - 1.0),
    g * out * a.ln()
));
// Ties (a = b) split the gradient equally between the two operands.
binary_op!(Maximum, "maximum", f64::max, |args, a, b, out, g| (
    g * larger_weight(a, b),
    g * larger_weight(b, a)
));
binary_op!(Minimum, "minimum", f64::min, |args, a, b, out, g| (
    g * larger_weight(b, a),
    g * larger_weight(a, b)
));

/// The constant weight 1 where `x > y`, ½ where `x = y`, 0 elsewhere: the share of the
/// gradient of `max(x, y)` that goes to `x` (and of `min(y, x)`).
fn larger_weight<'t>(x: Var<'t>, y: Var<'t>) -> Var<'t> {
    let w = kernels::binary("maximum", &x.value(), &y.value(), |p, q| {
        if p > q {
            1.0
        } else if p == q {
            0.5
        } else {
            0.0
        }
    });
    x.tape().constant(w)
}

/// Declares a unary op with a kernel on tensors and a VJP from `(x, out, g)`.
macro_rules! unary_op {
    ($ty:ident, $name:literal, $kernel:expr, |$x:ident, $out:ident, $g:ident| $grad:expr) => {
        pub(crate) struct $ty;
        impl Op for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
                let kernel: fn(&Tensor) -> Tensor = $kernel;
                Ok(kernel(x[0]))
            }
            #[allow(unused_variables)]
            fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
                let ($x, $out, $g) = (args.inputs[0], args.output, args.grad);
                vec![args.needs(0).then(|| $grad)]
            }
        }
    };
}

unary_op!(Neg, "neg", |x| x.map(|v| -v), |x, out, g| -g);
unary_op!(Exp, "exp", kernels::exp, |x, out, g| g * out);
unary_op!(Log, "log", |x| x.map(f64::ln), |x, out, g| g / x);
unary_op!(Sin, "sin", |x| sin_or_cos(x, true), |x, out, g| g * x.cos());
unary_op!(Cos, "cos", |x| sin_or_cos(x, false), |x, out, g| -(g * x
    .sin()));

/// `sin x` or `cos x` elementwise by the vectorised kernel of `sin_cos`
/// ([`fastmath::sin_cos_into`]), so that `[sin a, cos a]` and `sin_cos(a)` agree bit for bit.
fn sin_or_cos(x: &Tensor, sin: bool) -> Tensor {
    let (mut s, mut c) = (pool::scratch(x.len()), pool::scratch(x.len()));
    fastmath::sin_cos_into(x.data(), &mut s, &mut c);
    let (keep, drop) = if sin { (s, c) } else { (c, s) };
    pool::recycle(drop);
    Tensor::from_vec(keep, x.shape())
}
unary_op!(Sqrt, "sqrt", |x| x.map(f64::sqrt), |x, out, g| g
    / (out * 2.0));
unary_op!(Tanh, "tanh", kernels::tanh, |x, out, g| tanh_backward(
    g, out
));
// d|x|/dx = sign(x), taken as 0 at x = 0.
unary_op!(Abs, "abs", |x| x.map(f64::abs), |x, out, g| {
    let sign = x.value().map(|v| {
        if v > 0.0 {
            1.0
        } else if v < 0.0 {
            -1.0
        } else {
            0.0
        }
    });
    g * x.tape().constant(sign)
});

/// `tanh(h + b)` fused (a dense layer's bias and activation in one pass); `b` broadcasts to
/// `h`'s shape. VJP: `h̄ = tanh_backward(g, y)`, `b̄ = h̄⇓`.
pub(crate) struct AddTanh;
impl Op for AddTanh {
    fn name(&self) -> &str {
        "add_tanh"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::add_tanh(x[0], x[1]))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        // The output has h's shape, so h̄ needs no reduction.
        let gh = tanh_backward(args.grad, args.output);
        vec![
            args.needs(0).then_some(gh),
            args.needs(1).then(|| unbroadcast(gh, args.inputs[1])),
        ]
    }
}

/// `g·(1 − y²)` fused: the tanh VJP, itself a primitive so that it costs one pass at first order
/// and stays differentiable at higher order: ∂/∂g = 1 − y², ∂/∂y = −2·g·y.
pub(crate) struct TanhBackward;
impl Op for TanhBackward {
    fn name(&self) -> &str {
        "tanh_backward"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::tanh_backward(x[0], x[1]))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (g, y, h) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| tanh_backward(h, y)),
            args.needs(1).then(|| h * g * y * -2.0),
        ]
    }
}

fn tanh_backward<'t>(g: Var<'t>, y: Var<'t>) -> Var<'t> {
    g.tape().record(TanhBackward, &[g, y])
}

/// `select(cond, a, b)`: `a` where `cond ≠ 0`, else `b`, all three broadcast together. The mask
/// is data, not a tape value: no gradient flows into it.
pub(crate) struct Select {
    pub(crate) cond: Tensor,
}
impl Op for Select {
    fn name(&self) -> &str {
        "select"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let ab = kernels::binary("select", x[0], x[1], |a, _| a);
        let shape = broadcast_shapes(ab.shape(), self.cond.shape()).expect("checked by caller");
        let full_a = kernels::broadcast_to(x[0], &shape);
        let full_b = kernels::broadcast_to(x[1], &shape);
        let c = kernels::broadcast_to(&self.cond, &shape);
        let data = c
            .data()
            .iter()
            .zip(full_a.data().iter().zip(full_b.data()))
            .map(|(&c, (&a, &b))| if c != 0.0 { a } else { b })
            .collect();
        Ok(Tensor::from_vec(data, &shape))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (a, b, g) = (args.inputs[0], args.inputs[1], args.grad);
        let zero = g.tape().scalar(0.0);
        vec![
            args.needs(0)
                .then(|| unbroadcast(Var::select(&self.cond, g, zero), a)),
            args.needs(1)
                .then(|| unbroadcast(Var::select(&self.cond, zero, g), b)),
        ]
    }
}

impl<'t> Var<'t> {
    /// `eˣ` elementwise (vectorised, within 1e-15 relative of libm).
    pub fn exp(self) -> Var<'t> {
        self.tape.record(Exp, &[self])
    }
    /// Natural logarithm elementwise.
    pub fn ln(self) -> Var<'t> {
        self.tape.record(Log, &[self])
    }
    /// Sine elementwise.
    pub fn sin(self) -> Var<'t> {
        self.tape.record(Sin, &[self])
    }
    /// Cosine elementwise.
    pub fn cos(self) -> Var<'t> {
        self.tape.record(Cos, &[self])
    }
    /// Hyperbolic tangent elementwise (vectorised); its VJP is the fused `g·(1 − tanh²)`.
    pub fn tanh(self) -> Var<'t> {
        self.tape.record(Tanh, &[self])
    }
    /// `tanh(self + bias)` in one pass, `bias` broadcasting to `self`'s shape: the bias and
    /// activation of a dense tanh layer, `(x·W).add_tanh(b)`. Same values and derivatives as
    /// `(self + bias).tanh()`, one memory pass and one tape node fewer.
    ///
    /// # Panics
    /// If `bias` does not broadcast to `self`'s shape.
    #[track_caller]
    pub fn add_tanh(self, bias: Var<'t>) -> Var<'t> {
        let (sh, sb) = (self.shape(), bias.shape());
        if broadcast_shapes(&sh, &sb).as_deref() != Some(sh.as_slice()) {
            panic!(
                "add_tanh: bias of shape {:?} does not broadcast to {:?}",
                sb.as_slice(),
                sh.as_slice()
            );
        }
        self.tape.record(AddTanh, &[self, bias])
    }
    /// Square root elementwise.
    pub fn sqrt(self) -> Var<'t> {
        self.tape.record(Sqrt, &[self])
    }
    /// `|x|` elementwise; the derivative at 0 is taken as 0.
    pub fn abs(self) -> Var<'t> {
        self.tape.record(Abs, &[self])
    }
    /// `selfᵉˣᵖ` elementwise with broadcasting; differentiable in both (the exponent's gradient
    /// involves `ln self`, so it needs `self > 0`).
    #[track_caller]
    pub fn pow(self, exponent: Var<'t>) -> Var<'t> {
        check_broadcast("pow", self, exponent);
        self.tape.record(Pow, &[self, exponent])
    }
    /// `selfᵖ` for a constant exponent (any sign of `self` when `p` is an integer).
    pub fn powf(self, p: f64) -> Var<'t> {
        self.pow(self.tape.scalar(p))
    }
    /// Elementwise maximum with broadcasting; at ties each operand receives half the gradient.
    #[track_caller]
    pub fn maximum(self, other: Var<'t>) -> Var<'t> {
        check_broadcast("maximum", self, other);
        self.tape.record(Maximum, &[self, other])
    }
    /// Elementwise minimum with broadcasting; at ties each operand receives half the gradient.
    #[track_caller]
    pub fn minimum(self, other: Var<'t>) -> Var<'t> {
        check_broadcast("minimum", self, other);
        self.tape.record(Minimum, &[self, other])
    }
    /// `a` where `cond ≠ 0`, else `b` (all three broadcast together). Build `cond` with the
    /// comparisons [`Var::gt`], [`Var::lt`], … .
    ///
    /// # Panics
    /// If the three shapes do not broadcast.
    #[track_caller]
    pub fn select(cond: &Tensor, a: Var<'t>, b: Var<'t>) -> Var<'t> {
        check_broadcast("select", a, b);
        let ab = broadcast_shapes(&a.shape(), &b.shape()).expect("checked");
        if broadcast_shapes(&ab, cond.shape()).is_none() {
            panic!(
                "select: condition of shape {:?} does not broadcast with {:?}",
                cond.shape(),
                ab.as_slice()
            );
        }
        a.tape.record(Select { cond: cond.clone() }, &[a, b])
    }
}
