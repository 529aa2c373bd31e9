//! The Fourier features `[sin a, cos a]` as one primitive.
//!
//! Stacking `sin` and `cos` of the same argument (a Fourier time embedding) with the separate
//! primitives costs a library call per element and order: the VJP of `sin` evaluates `cos` and
//! that of `cos` evaluates `sin`, and a gradient of a gradient does it again. Here the values are
//! computed once: with `y = [s, c] = [sin a, cos a]` along the last axis,
//!
//! * `sin_cos(a) = y`, VJP `ā = rot_dot(g, y) = g_s·c − g_c·s`;
//! * `rot_dot(g, y)`, bilinear: `ḡ = rot_scale(h, y)`, `ȳ = −rot_scale(h, g)` for upstream `h`;
//! * `rot_scale(u, v) = [u·v_c, −u·v_s]`, bilinear: `ū = rot_dot(h, v)`, `v̄ = −rot_scale(u, h)`,
//!
//! where `x_s`, `x_c` are the first and second halves of the last axis. The last two are closed
//! under differentiation, so derivatives of every order cost no further `sin` or `cos`.

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::tensor::{fastmath, pool, Tensor};

/// The shape with the last axis multiplied (`num/den`) — `[…, C] ↔ […, 2C]`.
fn last_axis_scaled(shape: &[usize], num: usize, den: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    let k = s.len() - 1;
    s[k] = s[k] * num / den;
    s
}

struct SinCos;

impl Op for SinCos {
    fn name(&self) -> &str {
        "sin_cos"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let a = x[0];
        let c = *a.shape().last().expect("sin_cos of a tensor with an axis");
        let mut out = pool::scratch(2 * a.len());
        if c > 0 {
            for (row, o) in a.data().chunks_exact(c).zip(out.chunks_exact_mut(2 * c)) {
                let (s, co) = o.split_at_mut(c);
                fastmath::sin_cos_into(row, s, co);
            }
        }
        Ok(Tensor::from_vec(out, &last_axis_scaled(a.shape(), 2, 1)))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        vec![Some(rot_dot(args.grad, args.output))]
    }
}

/// `g_s·v_c − g_c·v_s` per row: `[…, 2C] × […, 2C] → […, C]`.
struct RotDot;

impl Op for RotDot {
    fn name(&self) -> &str {
        "rot_dot"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let (g, v) = (x[0], x[1]);
        let c2 = *g.shape().last().expect("rot_dot operand with an axis");
        let c = c2 / 2;
        let mut out = pool::with_capacity(g.len() / 2);
        if c > 0 {
            for (gr, vr) in g.data().chunks_exact(c2).zip(v.data().chunks_exact(c2)) {
                let (gs, gc) = gr.split_at(c);
                let (vs, vc) = vr.split_at(c);
                out.extend((0..c).map(|i| gs[i] * vc[i] - gc[i] * vs[i]));
            }
        }
        Ok(Tensor::from_vec(out, &last_axis_scaled(g.shape(), 1, 2)))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (g, v, h) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| rot_scale(h, v)),
            args.needs(1).then(|| -rot_scale(h, g)),
        ]
    }
}

/// `[u·v_c, −u·v_s]` per row: `[…, C] × […, 2C] → […, 2C]`.
struct RotScale;

impl Op for RotScale {
    fn name(&self) -> &str {
        "rot_scale"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let (u, v) = (x[0], x[1]);
        let c = *u.shape().last().expect("rot_scale operand with an axis");
        let mut out = pool::with_capacity(v.len());
        if c > 0 {
            for (ur, vr) in u.data().chunks_exact(c).zip(v.data().chunks_exact(2 * c)) {
                let (vs, vc) = vr.split_at(c);
                out.extend(ur.iter().zip(vc).map(|(a, b)| a * b));
                out.extend(ur.iter().zip(vs).map(|(a, b)| -(a * b)));
            }
        }
        Ok(Tensor::from_vec(out, v.shape()))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (u, v, h) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| rot_dot(h, v)),
            args.needs(1).then(|| -rot_scale(u, h)),
        ]
    }
}

/// Checks two operands whose last axes are `C` and `2C` with equal leading axes.
#[track_caller]
fn check_halves(op: &str, half: Var<'_>, full: Var<'_>) {
    let (a, b) = (half.shape(), full.shape());
    let ok = !a.is_empty()
        && a.len() == b.len()
        && a[..a.len() - 1] == b[..b.len() - 1]
        && 2 * a[a.len() - 1] == b[b.len() - 1];
    assert!(
        ok,
        "{op}: expected shapes […, C] and […, 2C] with equal leading axes, got {:?} and {:?}",
        a.as_slice(),
        b.as_slice()
    );
}

#[track_caller]
fn rot_dot<'t>(g: Var<'t>, v: Var<'t>) -> Var<'t> {
    assert_eq!(
        g.shape(),
        v.shape(),
        "rot_dot: operands must have equal shapes"
    );
    let full = *g.shape().last().expect("rot_dot: operands need an axis");
    assert!(
        full.is_multiple_of(2),
        "rot_dot: the last axis ({full}) must be even"
    );
    g.tape.record(RotDot, &[g, v])
}

#[track_caller]
fn rot_scale<'t>(u: Var<'t>, v: Var<'t>) -> Var<'t> {
    check_halves("rot_scale", u, v);
    u.tape.record(RotScale, &[u, v])
}

impl<'t> Var<'t> {
    /// `[sin a, cos a]` concatenated along the last axis (`[…, C] → […, 2C]`), the Fourier
    /// features of an argument: one library call of each per element, and derivatives of every
    /// order from bilinear ops on the stored values (see the [module docs](self)).
    ///
    /// # Panics
    /// If `self` is a scalar (no axis to stack along).
    #[track_caller]
    pub fn sin_cos(self) -> Var<'t> {
        assert!(
            self.ndim() > 0,
            "sin_cos: the argument needs an axis to stack along, got a scalar"
        );
        self.tape.record(SinCos, &[self])
    }
}
