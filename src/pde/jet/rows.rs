//! Two fused kernels for jets whose first derivatives are stored per row, `J` `[B, m, n]`:
//! scaling every direction by a per-row vector (`J ↦ a'(h)·J`) and contracting over the
//! directions (`Σ_c J_c²`, and the same contraction in the reverse pass). Written as broadcast
//! multiplications and sums they cost a temporary of `J`'s size and an extra pass each; these
//! ops make one pass. Both take a contiguous range `sel` of directions: rows outside it are
//! zero (`row_scale`) or skipped (`sum_prod`), which keeps the pair closed under VJPs.

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::tensor::{pool, Tensor};
use std::ops::Range;

/// `y[b, c, :] = s[b, :] ⊙ J[b, c, :]` for `c ∈ sel`, zero otherwise.
struct RowScale {
    sel: Range<usize>,
}

/// `y[b, :] = Σ_{c ∈ sel} a[b, c, :] ⊙ e[b, c, :]`.
struct SumProd {
    sel: Range<usize>,
}

#[track_caller]
fn dims(who: &str, s: &[usize], j: &[usize], sel: &Range<usize>) -> (usize, usize, usize) {
    assert!(
        j.len() == 3 && s == [j[0], j[2]] && sel.end <= j[1],
        "{who}: need s [B, n] and J [B, m, n] with the selected directions {sel:?} in 0..m, got {s:?} and {j:?}"
    );
    (j[0], j[1], j[2])
}

impl Op for RowScale {
    fn name(&self) -> &str {
        "jet_row_scale"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (s, j) = (inputs[0], inputs[1]);
        let (b, m, n) = dims("jet_row_scale", s.shape(), j.shape(), &self.sel);
        let (sd, jd) = (s.data(), j.data());
        // Every entry is written below: the selected rows scaled, the others zeroed (a
        // zero-filled buffer would write the selected rows twice).
        let mut out = pool::scratch(b * m * n);
        for ((sr, jr), block) in sd
            .chunks_exact(n)
            .zip(jd.chunks_exact(m * n))
            .zip(out.chunks_exact_mut(m * n))
        {
            block[..self.sel.start * n].fill(0.0);
            block[self.sel.end * n..].fill(0.0);
            for c in self.sel.clone() {
                let (o, x) = (&mut block[c * n..(c + 1) * n], &jr[c * n..(c + 1) * n]);
                for ((o, &x), &f) in o.iter_mut().zip(x).zip(sr) {
                    *o = f * x;
                }
            }
        }
        Ok(Tensor::from_vec(out, j.shape()))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (s, j, g) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| sum_prod(g, j, self.sel.clone())),
            args.needs(1).then(|| row_scale(s, g, self.sel.clone())),
        ]
    }
}

impl Op for SumProd {
    fn name(&self) -> &str {
        "jet_sum_prod"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (a, e) = (inputs[0], inputs[1]);
        assert_eq!(a.shape(), e.shape(), "jet_sum_prod: operand shapes differ");
        let sh = a.shape();
        let (b, m, n) = dims("jet_sum_prod", &[sh[0], sh[sh.len() - 1]], sh, &self.sel);
        let (ad, ed) = (a.data(), e.data());
        let mut out = pool::filled(b * n, 0.0);
        for (r, o) in out.chunks_exact_mut(n).enumerate() {
            for c in self.sel.clone() {
                let at = (r * m + c) * n;
                for ((o, &x), &y) in o.iter_mut().zip(&ad[at..at + n]).zip(&ed[at..at + n]) {
                    *o += x * y;
                }
            }
        }
        Ok(Tensor::from_vec(out, &[b, n]))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (a, e, g) = (args.inputs[0], args.inputs[1], args.grad);
        if a.id == e.id && args.needs(0) {
            // A sum of squares (the jets' `Σ_c J_c²`): one pass for `2ȳ ⊙ J` instead of two
            // scalings and their sum. Doubling is exact, so the bits are those of `x + x`.
            return vec![Some(row_scale(g * 2.0, a, self.sel.clone())), None];
        }
        vec![
            args.needs(0).then(|| row_scale(g, e, self.sel.clone())),
            args.needs(1).then(|| row_scale(g, a, self.sel.clone())),
        ]
    }
}

/// `y[b, c, :] = s[b, :] ⊙ J[b, c, :]` for the directions `c ∈ sel`, zero for the others:
/// `s` `[B, n]`, `J` `[B, m, n]`, `y` `[B, m, n]`, in one pass. VJPs:
/// `s̄ = Σ_{c∈sel} ȳ_c ⊙ J_c` ([`sum_prod`]), `J̄ = row_scale(s, ȳ, sel)`.
///
/// # Panics
/// If the shapes do not match or `sel` is not inside `0..m`.
#[track_caller]
pub fn row_scale<'t>(s: Var<'t>, j: Var<'t>, sel: Range<usize>) -> Var<'t> {
    dims("jet::row_scale", &s.shape(), &j.shape(), &sel);
    s.tape()
        .apply(RowScale { sel }, &[s, j])
        .expect("row_scale has no data-dependent failure")
}

/// `y[b, :] = Σ_{c∈sel} a[b, c, :] ⊙ e[b, c, :]` for `a`, `e` `[B, m, n]`: `y` `[B, n]`, in one
/// pass. VJPs: `ā = row_scale(ȳ, e, sel)`, `ē = row_scale(ȳ, a, sel)`.
///
/// # Panics
/// If the shapes differ, are not three-dimensional, or `sel` is not inside `0..m`.
#[track_caller]
pub fn sum_prod<'t>(a: Var<'t>, e: Var<'t>, sel: Range<usize>) -> Var<'t> {
    let (sa, se) = (a.shape(), e.shape());
    assert!(
        sa == se && sa.len() == 3 && sel.end <= sa[1],
        "jet::sum_prod: need equal [B, m, n] operands with {sel:?} in 0..m, got {:?} and {:?}",
        sa.as_slice(),
        se.as_slice()
    );
    a.tape()
        .apply(SumProd { sel }, &[a, e])
        .expect("sum_prod has no data-dependent failure")
}
