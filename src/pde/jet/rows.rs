//! Fused kernels for jets whose first derivatives are stored per row, `J` `[B, m, n]`: scaling
//! every direction by a per-row vector (`J ↦ a'(h)·J`) and contracting over the directions
//! (`Σ_c J_c²`, and the same contraction in the reverse pass). Written as broadcast
//! multiplications and sums they cost a temporary of `J`'s size and an extra pass each; these
//! ops make one pass. `row_scale` and `sum_prod` take a contiguous range `sel` of directions:
//! rows outside it are zero (`row_scale`) or skipped (`sum_prod`), which keeps the pair closed
//! under VJPs. Two more families of three, each closed under VJPs, serve a tangent `F` `[m, n]`
//! shared by every row (`row_scale_shared`, `sum_prod_shared`, `weighted_row_sum`) and the
//! diagonal entries of an output layer's derivatives (`row_dot`, `outer_shared`,
//! `col_weighted_sum`).
//!
//! Every op returns zeros of its output shape when its `[B, m, n]` operand or output has no
//! entries (no directions, say): its loops step through rows of `n` and blocks of `m·n` values.

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
        if b * m * n == 0 {
            return Ok(Tensor::zeros(&[b, m, n]));
        }
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
        if b * m * n == 0 {
            return Ok(Tensor::zeros(&[b, n]));
        }
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

// The same products for a tangent shared by every row, `F` `[m, n]` (the first layer's: the
// directions times the input weight, before any row-dependent factor). Three ops, closed
// under VJPs; each one pass, with `F` small enough to stay in L1.

/// `y[b, c, :] = s[b, :] ⊙ F[c, :]`.
struct RowScaleShared;

/// `y[b, :] = Σ_c a[b, c, :] ⊙ F[c, :]`.
struct SumProdShared;

/// `y[c, :] = Σ_b a[b, c, :] ⊙ s[b, :]`.
struct WeightedRowSum;

/// `(B, m, n)` for the shared-operand ops: a per-row `[B, ·]`, a shared `[m, n]` and, when
/// given, a `[B, m, n]`, where the per-row operand's second axis is the shared one's axis
/// `along` (`n` for the shared tangent's ops, `m` for the entry ops); `layout` names the shapes
/// the op wants, for the message.
#[track_caller]
fn shared_dims(
    who: &str,
    layout: &str,
    along: usize,
    rows: &[usize],
    shared: &[usize],
    full: Option<&[usize]>,
) -> (usize, usize, usize) {
    let ok = rows.len() == 2
        && shared.len() == 2
        && rows[1] == shared[along]
        && full.is_none_or(|f| f == [rows[0], shared[0], shared[1]]);
    assert!(
        ok,
        "{who}: need {layout} operands, got {rows:?}, {shared:?} and {full:?}"
    );
    (rows[0], shared[0], shared[1])
}

/// The shapes of the shared tangent's ops.
const ROWS: &str = "[B, n], [m, n] and [B, m, n]";
/// The shapes of the entry ops.
const ENTRIES: &str = "[B, m], [m, k] and [B, m, k]";

impl Op for RowScaleShared {
    fn name(&self) -> &str {
        "jet_row_scale_shared"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (s, f) = (inputs[0], inputs[1]);
        let (b, m, n) = shared_dims("jet_row_scale_shared", ROWS, 1, s.shape(), f.shape(), None);
        if b * m * n == 0 {
            return Ok(Tensor::zeros(&[b, m, n]));
        }
        let mut out = pool::scratch(b * m * n);
        for (sr, block) in s.data().chunks_exact(n).zip(out.chunks_exact_mut(m * n)) {
            for (o, fr) in block.chunks_exact_mut(n).zip(f.data().chunks_exact(n)) {
                for ((o, &x), &y) in o.iter_mut().zip(sr).zip(fr) {
                    *o = x * y;
                }
            }
        }
        Ok(Tensor::from_vec(out, &[b, m, n]))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (s, f, g) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| sum_prod_shared(g, f)),
            args.needs(1).then(|| weighted_row_sum(g, s)),
        ]
    }
}

impl Op for SumProdShared {
    fn name(&self) -> &str {
        "jet_sum_prod_shared"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (a, f) = (inputs[0], inputs[1]);
        let sa = a.shape();
        let (b, m, n) = shared_dims(
            "jet_sum_prod_shared",
            ROWS,
            1,
            &[sa[0], f.shape()[1]],
            f.shape(),
            Some(sa),
        );
        if b * m * n == 0 {
            return Ok(Tensor::zeros(&[b, n]));
        }
        let mut out = pool::filled(b * n, 0.0);
        for (o, block) in out.chunks_exact_mut(n).zip(a.data().chunks_exact(m * n)) {
            for (ar, fr) in block.chunks_exact(n).zip(f.data().chunks_exact(n)) {
                for ((o, &x), &y) in o.iter_mut().zip(ar).zip(fr) {
                    *o += x * y;
                }
            }
        }
        Ok(Tensor::from_vec(out, &[b, n]))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (a, f, g) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| row_scale_shared(g, f)),
            args.needs(1).then(|| weighted_row_sum(a, g)),
        ]
    }
}

impl Op for WeightedRowSum {
    fn name(&self) -> &str {
        "jet_weighted_row_sum"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (a, s) = (inputs[0], inputs[1]);
        let sa = a.shape();
        let (b, m, n) = shared_dims(
            "jet_weighted_row_sum",
            ROWS,
            1,
            s.shape(),
            &[sa[1], s.shape()[1]],
            Some(sa),
        );
        if b * m * n == 0 {
            return Ok(Tensor::zeros(&[m, n]));
        }
        let mut out = pool::filled(m * n, 0.0);
        for (block, sr) in a.data().chunks_exact(m * n).zip(s.data().chunks_exact(n)) {
            for (o, ar) in out.chunks_exact_mut(n).zip(block.chunks_exact(n)) {
                for ((o, &x), &y) in o.iter_mut().zip(ar).zip(sr) {
                    *o += x * y;
                }
            }
        }
        Ok(Tensor::from_vec(out, &[m, n]))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (a, s, g) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| row_scale_shared(s, g)),
            args.needs(1).then(|| sum_prod_shared(a, g)),
        ]
    }
}

/// `y[b, c, :] = s[b, :] ⊙ F[c, :]` for `s` `[B, n]` and a tangent `F` `[m, n]` shared by every
/// row: `y` `[B, m, n]`, in one pass (the broadcast product without its reverse pass's
/// temporaries). VJPs: `s̄ = Σ_c ȳ_c ⊙ F_c` ([`sum_prod_shared`]), `F̄ = Σ_b ȳ_b ⊙ s_b`
/// ([`weighted_row_sum`]).
///
/// # Panics
/// If the shapes do not match.
#[track_caller]
pub fn row_scale_shared<'t>(s: Var<'t>, f: Var<'t>) -> Var<'t> {
    shared_dims(
        "jet::row_scale_shared",
        ROWS,
        1,
        &s.shape(),
        &f.shape(),
        None,
    );
    s.tape()
        .apply(RowScaleShared, &[s, f])
        .expect("row_scale_shared has no data-dependent failure")
}

/// `y[b, :] = Σ_c a[b, c, :] ⊙ F[c, :]` for `a` `[B, m, n]` and `F` `[m, n]`: `y` `[B, n]`, in
/// one pass. VJPs: `ā = row_scale_shared(ȳ, F)`, `F̄ = weighted_row_sum(a, ȳ)`.
///
/// # Panics
/// If the shapes do not match.
#[track_caller]
pub fn sum_prod_shared<'t>(a: Var<'t>, f: Var<'t>) -> Var<'t> {
    let (sa, sf) = (a.shape(), f.shape());
    assert!(
        sa.len() == 3,
        "jet::sum_prod_shared: need a [B, m, n] operand, got {:?}",
        sa.as_slice()
    );
    shared_dims(
        "jet::sum_prod_shared",
        ROWS,
        1,
        &[sa[0], sa[2]],
        &sf,
        Some(&sa),
    );
    a.tape()
        .apply(SumProdShared, &[a, f])
        .expect("sum_prod_shared has no data-dependent failure")
}

/// `y[c, :] = Σ_b a[b, c, :] ⊙ s[b, :]` for `a` `[B, m, n]` and `s` `[B, n]`: `y` `[m, n]`, in one
/// pass. VJPs: `ā = row_scale_shared(s, ȳ)`, `s̄ = sum_prod_shared(a, ȳ)`.
///
/// # Panics
/// If the shapes do not match.
#[track_caller]
pub fn weighted_row_sum<'t>(a: Var<'t>, s: Var<'t>) -> Var<'t> {
    let (sa, ss) = (a.shape(), s.shape());
    assert!(
        sa.len() == 3,
        "jet::weighted_row_sum: need a [B, m, n] operand, got {:?}",
        sa.as_slice()
    );
    shared_dims(
        "jet::weighted_row_sum",
        ROWS,
        1,
        &ss,
        &[sa[1], sa[2]],
        Some(&sa),
    );
    a.tape()
        .apply(WeightedRowSum, &[a, s])
        .expect("weighted_row_sum has no data-dependent failure")
}

// The last layer's diagonal entries: per row, the directions' tangents dotted with a shared
// matrix's rows. Three more ops, closed under VJPs, each one pass.

/// `y[b, c] = Σ_k J[b, c, k] · W[c, k]`.
struct RowDot;

/// `y[b, c, k] = g[b, c] · W[c, k]`.
struct OuterShared;

/// `y[c, k] = Σ_b g[b, c] · J[b, c, k]`.
struct ColWeightedSum;

impl Op for RowDot {
    fn name(&self) -> &str {
        "jet_row_dot"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (j, w) = (inputs[0], inputs[1]);
        let sj = j.shape();
        let (b, m, k) = shared_dims("jet_row_dot", ENTRIES, 0, &sj[..2], w.shape(), Some(sj));
        if b * m * k == 0 {
            return Ok(Tensor::zeros(&[b, m]));
        }
        let mut out = pool::scratch(b * m);
        for (i, (o, jr)) in out.iter_mut().zip(j.data().chunks_exact(k)).enumerate() {
            let wr = &w.data()[(i % m) * k..][..k];
            *o = jr.iter().zip(wr).map(|(x, y)| x * y).sum();
        }
        Ok(Tensor::from_vec(out, &[b, m]))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (j, w, g) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| outer_shared(g, w)),
            args.needs(1).then(|| col_weighted_sum(g, j)),
        ]
    }
}

impl Op for OuterShared {
    fn name(&self) -> &str {
        "jet_outer_shared"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (g, w) = (inputs[0], inputs[1]);
        let (b, m, k) = shared_dims("jet_outer_shared", ENTRIES, 0, g.shape(), w.shape(), None);
        if b * m * k == 0 {
            return Ok(Tensor::zeros(&[b, m, k]));
        }
        let mut out = pool::scratch(b * m * k);
        for (i, o) in out.chunks_exact_mut(k).enumerate() {
            let (gv, wr) = (g.data()[i], &w.data()[(i % m) * k..][..k]);
            for (o, &y) in o.iter_mut().zip(wr) {
                *o = gv * y;
            }
        }
        Ok(Tensor::from_vec(out, &[b, m, k]))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (g, w, y) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| row_dot(y, w)),
            args.needs(1).then(|| col_weighted_sum(g, y)),
        ]
    }
}

impl Op for ColWeightedSum {
    fn name(&self) -> &str {
        "jet_col_weighted_sum"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (g, j) = (inputs[0], inputs[1]);
        let sj = j.shape();
        let (b, m, k) = shared_dims(
            "jet_col_weighted_sum",
            ENTRIES,
            0,
            g.shape(),
            &sj[1..],
            Some(sj),
        );
        if b * m * k == 0 {
            return Ok(Tensor::zeros(&[m, k]));
        }
        let mut out = pool::filled(m * k, 0.0);
        for (i, jr) in j.data().chunks_exact(k).enumerate() {
            let gv = g.data()[i];
            let o = &mut out[(i % m) * k..][..k];
            for (o, &x) in o.iter_mut().zip(jr) {
                *o += gv * x;
            }
        }
        Ok(Tensor::from_vec(out, &[m, k]))
    }

    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (g, j, y) = (args.inputs[0], args.inputs[1], args.grad);
        vec![
            args.needs(0).then(|| row_dot(j, y)),
            args.needs(1).then(|| outer_shared(g, y)),
        ]
    }
}

/// `y[b, c] = Σ_k J[b, c, k] · W[c, k]` for `J` `[B, m, k]` and `W` `[m, k]`: `y` `[B, m]`, in
/// one pass (the broadcast product and its sum without the temporary). VJPs:
/// `J̄ = outer_shared(ȳ, W)`, `W̄ = col_weighted_sum(ȳ, J)`.
///
/// # Panics
/// If the shapes do not match.
#[track_caller]
pub fn row_dot<'t>(j: Var<'t>, w: Var<'t>) -> Var<'t> {
    let sj = j.shape();
    assert!(
        sj.len() == 3,
        "jet::row_dot: need a [B, m, k] operand, got {:?}",
        sj.as_slice()
    );
    shared_dims("jet::row_dot", ENTRIES, 0, &sj[..2], &w.shape(), Some(&sj));
    j.tape()
        .apply(RowDot, &[j, w])
        .expect("row_dot has no data-dependent failure")
}

/// `y[b, c, k] = g[b, c] · W[c, k]` for `g` `[B, m]` and `W` `[m, k]`: `y` `[B, m, k]`, in one
/// pass. VJPs: `ḡ = row_dot(ȳ, W)`, `W̄ = col_weighted_sum(g, ȳ)`.
///
/// # Panics
/// If the shapes do not match.
#[track_caller]
pub fn outer_shared<'t>(g: Var<'t>, w: Var<'t>) -> Var<'t> {
    shared_dims(
        "jet::outer_shared",
        ENTRIES,
        0,
        &g.shape(),
        &w.shape(),
        None,
    );
    g.tape()
        .apply(OuterShared, &[g, w])
        .expect("outer_shared has no data-dependent failure")
}

/// `y[c, k] = Σ_b g[b, c] · J[b, c, k]` for `g` `[B, m]` and `J` `[B, m, k]`: `y` `[m, k]`, in
/// one pass. VJPs: `ḡ = row_dot(J, ȳ)`, `J̄ = outer_shared(g, ȳ)`.
///
/// # Panics
/// If the shapes do not match.
#[track_caller]
pub fn col_weighted_sum<'t>(g: Var<'t>, j: Var<'t>) -> Var<'t> {
    let sj = j.shape();
    assert!(
        sj.len() == 3,
        "jet::col_weighted_sum: need a [B, m, k] operand, got {:?}",
        sj.as_slice()
    );
    shared_dims(
        "jet::col_weighted_sum",
        ENTRIES,
        0,
        &g.shape(),
        &sj[1..],
        Some(&sj),
    );
    g.tape()
        .apply(ColWeightedSum, &[g, j])
        .expect("col_weighted_sum has no data-dependent failure")
}
