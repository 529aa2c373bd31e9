//! Matrix products through faer, batched over leading axes.
//!
//! The primitive computes `op(A)·op(B)` where `op` optionally transposes the last two axes; the
//! flags let every VJP be a single product with no transposed copy. For `C = X·Y` with
//! `X = op(A)`, `Y = op(B)`: `X̄ = C̄·Yᵀ` and `Ȳ = Xᵀ·C̄`, then `Ā = X̄` or `X̄ᵀ` (and likewise `B̄`),
//! which gives the four flag combinations in [`MatMul::vjp`].

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::tensor::{broadcast_shapes, kernels, Shape, Tensor};

struct MatMul {
    ta: bool,
    tb: bool,
}
impl Op for MatMul {
    fn name(&self) -> &str {
        "matmul"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::matmul(x[0], x[1], self.ta, self.tb))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (a, b, g) = (args.inputs[0], args.inputs[1], args.grad);
        let (ta, tb) = (self.ta, self.tb);
        let ga = args.needs(0).then(|| {
            if ta {
                mm(b, g, tb, true)
            } else {
                mm(g, b, false, !tb)
            }
        });
        let gb = args.needs(1).then(|| {
            if tb {
                mm(g, a, true, ta)
            } else {
                mm(a, g, !ta, false)
            }
        });
        vec![ga, gb]
    }
}

fn mm<'t>(a: Var<'t>, b: Var<'t>, ta: bool, tb: bool) -> Var<'t> {
    a.tape().record(MatMul { ta, tb }, &[a, b])
}

impl<'t> Var<'t> {
    /// The matrix product with numpy's rules: the last two axes multiply, leading (batch) axes
    /// broadcast; a rank-1 left operand is a row vector and a rank-1 right operand a column
    /// vector, and that axis is dropped from the result.
    ///
    /// # Panics
    /// If the inner dimensions differ or the batch axes do not broadcast (naming both shapes).
    #[track_caller]
    pub fn matmul(self, rhs: Var<'t>) -> Var<'t> {
        let (sa, sb) = (self.shape(), rhs.shape());
        let fail = || -> ! {
            panic!(
                "matmul: shapes {:?} and {:?} do not multiply",
                sa.as_slice(),
                sb.as_slice()
            )
        };
        if sa.is_empty() || sb.is_empty() {
            fail();
        }
        if sa.len() == 1 && sb.len() == 1 {
            if sa != sb {
                fail();
            }
            return (self * rhs).sum();
        }
        if sa.len() == 1 {
            let row = self.reshape(&[1, sa[0]]);
            let out = row.matmul(rhs);
            let mut shape = out.shape();
            shape.remove(shape.len() - 2);
            return out.reshape(&shape);
        }
        if sb.len() == 1 {
            let col = rhs.reshape(&[sb[0], 1]);
            let out = self.matmul(col);
            let mut shape = out.shape();
            shape.pop();
            return out.reshape(&shape);
        }
        if sa[sa.len() - 1] != sb[sb.len() - 2] {
            fail();
        }
        if sb.len() == 2 && sa.len() > 2 {
            // A batch of rows times one matrix: flatten the batch into the rows.
            let (k, n) = (sb[0], sb[1]);
            let rows = sa[..sa.len() - 1].iter().product();
            let mut shape = Shape::from_slice(&sa[..sa.len() - 1]);
            shape.push(n);
            return mm(self.reshape(&[rows, k]), rhs, false, false).reshape(&shape);
        }
        let batch =
            broadcast_shapes(&sa[..sa.len() - 2], &sb[..sb.len() - 2]).unwrap_or_else(|| fail());
        let full = |v: Var<'t>, s: &Shape| {
            let mut target = batch.clone();
            target.extend_from_slice(&s[s.len() - 2..]);
            v.broadcast_to(&target)
        };
        mm(full(self, &sa), full(rhs, &sb), false, false)
    }
}
