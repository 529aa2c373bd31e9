//! Arithmetic operators on [`Var`], so that expressions read like the maths: `Var ⊕ Var`,
//! `Var ⊕ f64` and `f64 ⊕ Var` for `+ − × ÷`, and unary `−`. A plain `f64` becomes a rank-0
//! constant and broadcasts.

use super::elementwise::{
    check_broadcast, Add as AddOp, Div as DivOp, Mul as MulOp, Neg as NegOp, Sub as SubOp,
};
use crate::autodiff::Var;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! arith {
    ($trait:ident, $method:ident, $op:ident, $name:literal) => {
        impl<'t> $trait<Var<'t>> for Var<'t> {
            type Output = Var<'t>;
            #[track_caller]
            fn $method(self, rhs: Var<'t>) -> Var<'t> {
                check_broadcast($name, self, rhs);
                self.tape.record($op, &[self, rhs])
            }
        }
        impl<'t> $trait<f64> for Var<'t> {
            type Output = Var<'t>;
            fn $method(self, rhs: f64) -> Var<'t> {
                let rhs = self.tape.scalar(rhs);
                self.tape.record($op, &[self, rhs])
            }
        }
        impl<'t> $trait<Var<'t>> for f64 {
            type Output = Var<'t>;
            fn $method(self, rhs: Var<'t>) -> Var<'t> {
                let lhs = rhs.tape.scalar(self);
                rhs.tape.record($op, &[lhs, rhs])
            }
        }
    };
}

arith!(Add, add, AddOp, "add");
arith!(Sub, sub, SubOp, "sub");
arith!(Mul, mul, MulOp, "mul");
arith!(Div, div, DivOp, "div");

impl<'t> Neg for Var<'t> {
    type Output = Var<'t>;
    fn neg(self) -> Var<'t> {
        self.tape.record(NegOp, &[self])
    }
}
