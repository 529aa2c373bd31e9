//! The per-field computation of merged needs on one point set: forward jets (one pass for the
//! first-order columns and the first second-order group, one more pass per extra group) or
//! nested reverse mode (one gradient sweep per field component, one sweep per distinct Hessian
//! row), with Hutchinson probes for traces and divergences when asked.

use super::merge::Cols;
use crate::autodiff::Var;
use crate::nn::{Bound, FourierMlp, Mlp};
use crate::pde::hutchinson::{self, HutchinsonConfig};
use crate::pde::jet::{Jet, Penultimate};
use crate::pde::neural;
use crate::tensor::Tensor;
use std::collections::HashMap;

/// A network that forward jets can go through.
#[derive(Clone, Copy)]
pub(crate) enum JetNet<'a> {
    Mlp(&'a Mlp),
    Fourier(&'a FourierMlp),
}

/// A second-order quantity one jet pass computes: `Σ_{c} s_cᵀ∇²u s_c` over unit vectors of
/// some columns, or over the columns of a direction matrix `[d, k]`.
#[derive(Clone, Debug)]
enum Group {
    Units(Vec<usize>),
    Dirs(Tensor),
}

impl PartialEq for Group {
    fn eq(&self, o: &Group) -> bool {
        match (self, o) {
            (Group::Units(a), Group::Units(b)) => a == b,
            (Group::Dirs(a), Group::Dirs(b)) => a.shape() == b.shape() && a.data() == b.data(),
            _ => false,
        }
    }
}

impl Group {
    fn directions(&self, d: usize) -> Tensor {
        match self {
            Group::Units(cols) => units(d, cols),
            Group::Dirs(s) => s.clone(),
        }
    }
}

/// `[d, cols.len()]` with column `j` the unit vector `e_{cols[j]}`.
fn units(d: usize, cols: &[usize]) -> Tensor {
    let m = cols.len();
    let mut e = Tensor::zeros(&[d, m]);
    for (j, &i) in cols.iter().enumerate() {
        e.data_mut()[i * m + j] = 1.0;
    }
    e
}

/// `e_a ± e_b`, `[d, 1]` (polarisation: `H_ab = (q₊ − q₋)/4` with `q± = (e_a ± e_b)ᵀH(e_a ± e_b)`).
fn polar(d: usize, a: usize, b: usize, sign: f64) -> Tensor {
    let mut e = Tensor::zeros(&[d, 1]);
    e.data_mut()[a] = 1.0;
    e.data_mut()[b] = sign;
    e
}

fn first_cols(cols: &[Cols]) -> Vec<usize> {
    let mut f: Vec<usize> = Vec::new();
    for c in cols {
        match c {
            Cols::D { col, .. } => f.push(*col),
            Cols::Grad(cs) | Cols::Div(cs) => f.extend(cs),
            _ => {}
        }
    }
    f.sort_unstable();
    f.dedup();
    f
}

fn groups(d: usize, cols: &[Cols]) -> Vec<Group> {
    let mut g: Vec<Group> = Vec::new();
    let mut add = |x: Group| {
        if !g.contains(&x) {
            g.push(x);
        }
    };
    for c in cols {
        match c {
            Cols::Lap(cs) => add(Group::Units(cs.clone())),
            Cols::D2 { a, b, .. } if a == b => add(Group::Units(vec![*a])),
            Cols::D2 { a, b, .. } => {
                add(Group::Dirs(polar(d, *a, *b, 1.0)));
                add(Group::Dirs(polar(d, *a, *b, -1.0)));
            }
            Cols::Diffusion(s) => add(Group::Dirs(s.clone())),
            _ => {}
        }
    }
    g
}

/// Reads `[B]` column `fc` of `[B, n]`.
fn comp<'t>(v: Var<'t>, fc: usize) -> Var<'t> {
    let b = v.shape()[0];
    v.slice(1, fc..fc + 1).reshape(&[b])
}

/// Directions and trace set of the first jet pass: the unit vectors of the first-order columns,
/// then the first second-order group (reusing unit vectors already present).
fn first_pass(d: usize, first: &[usize], g0: Option<&Group>) -> (Tensor, Vec<usize>) {
    let dirs = units(d, first);
    match g0 {
        None => (dirs, Vec::new()),
        Some(Group::Units(cs)) if cs.iter().all(|c| first.contains(c)) => {
            let pos = |c: &usize| first.iter().position(|f| f == c).expect("present");
            (dirs, cs.iter().map(pos).collect())
        }
        Some(g) => {
            let all = hcat(&dirs, &g.directions(d));
            let m = all.shape()[1];
            (all, (first.len()..m).collect())
        }
    }
}

/// A network's jet output: stopped before an affine last layer, or complete.
enum Out<'t> {
    Pen(Penultimate<'t>),
    Full(Jet<'t>),
}

fn run_out<'t>(
    net: JetNet<'_>,
    p: &Bound<'t>,
    x: Var<'t>,
    dirs: &Tensor,
    trace: Vec<usize>,
) -> Out<'t> {
    let j = Jet::input(x, dirs, trace);
    match net {
        JetNet::Mlp(m) => match j.clone().mlp_penultimate(m, p) {
            Some(pen) => Out::Pen(pen),
            None => Out::Full(j.mlp(m, p)),
        },
        JetNet::Fourier(f) => match j.fourier_penultimate(f, p) {
            Ok(pen) => Out::Pen(pen),
            Err(h) => Out::Full(h.linear(&f.output, p)),
        },
    }
}

/// Columns `pos` of `e` `[B, K]`: `e` itself, a slice or a gather.
fn columns<'t>(e: Var<'t>, pos: &[usize]) -> Var<'t> {
    let k = e.shape()[1];
    let contiguous = pos.windows(2).all(|w| w[1] == w[0] + 1);
    match pos.first() {
        Some(&0) if contiguous && pos.len() == k => e,
        Some(&a) if contiguous => e.slice(1, a..a + pos.len()),
        _ => e.gather(1, pos),
    }
}

/// All `cols` of one field at the points `x` `[B, d]` by forward jets; values `[B, n]` where a
/// scalar field has `n = 1` (the caller reshapes).
///
/// The first derivatives the columns use are entries `(direction, component)` of the output's
/// `[B, m, n]` Jacobian. When they are at most a quarter of it and the last layer is affine (a
/// divergence in d ≥ 4: `m` of `m·n`), they are formed as row dots before that layer
/// ([`Penultimate::entries`]); otherwise the whole Jacobian is formed and the entries taken by
/// one gather. Slicing entries one by one would cost, in the reverse pass, a zero-padded
/// `[B, m, n]` gradient per entry (at d = 50 a divergence made a hundred passes over 10 MB).
pub(crate) fn jet_needs<'t>(
    net: JetNet<'_>,
    p: &Bound<'t>,
    x: Var<'t>,
    cols: &[Cols],
) -> Vec<Var<'t>> {
    let (b, d) = (x.shape()[0], x.shape()[1]);
    let first = first_cols(cols);
    let groups = groups(d, cols);
    let (dirs, trace) = first_pass(d, &first, groups.first());
    let m = dirs.shape()[1];
    let idx = |c: usize| first.iter().position(|f| *f == c).expect("planned column");
    // The distinct entries, and each column's positions among them.
    let mut pairs: Vec<(usize, usize)> = vec![];
    let mut at = |pair: (usize, usize)| match pairs.iter().position(|q| *q == pair) {
        Some(i) => i,
        None => {
            pairs.push(pair);
            pairs.len() - 1
        }
    };
    let positions: Vec<Vec<usize>> = cols
        .iter()
        .map(|c| match c {
            Cols::D { fc, col } => vec![at((idx(*col), *fc))],
            Cols::Grad(cs) => cs.iter().map(|&c| at((idx(c), 0))).collect(),
            Cols::Div(cs) => cs
                .iter()
                .enumerate()
                .map(|(j, &c)| at((idx(c), j)))
                .collect(),
            _ => vec![],
        })
        .collect();
    let tape = x.tape();
    let (value, entries, second0) = match run_out(net, p, x, &dirs, trace) {
        Out::Pen(pen) if 4 * pairs.len() <= m * pen.weight.shape()[1] => pen.entries(&pairs),
        out => {
            let o = match out {
                Out::Pen(pen) => pen.finish(),
                Out::Full(o) => o,
            };
            let n = o.value.shape()[1];
            let e = if pairs.is_empty() {
                tape.constant(Tensor::zeros(&[b, 0]))
            } else {
                let flat: Vec<usize> = pairs.iter().map(|&(i, fc)| i * n + fc).collect();
                o.first
                    .broadcast_to(&[b, m, n])
                    .reshape(&[b, m * n])
                    .gather(1, &flat)
            };
            (o.value, e, o.second)
        }
    };
    let n = value.shape()[1];
    let zeros = || tape.constant(Tensor::zeros(&[b, n]));
    let mut seconds: Vec<Var<'t>> = Vec::with_capacity(groups.len());
    if !groups.is_empty() {
        seconds.push(second0.unwrap_or_else(zeros));
    }
    for g in groups.iter().skip(1) {
        let gd = g.directions(d);
        let k = gd.shape()[1];
        // The second-order term alone: no first-derivative product at the last layer.
        let second = match run_out(net, p, x, &gd, (0..k).collect()) {
            Out::Pen(pen) => pen.entries(&[]).2,
            Out::Full(o) => o.second,
        };
        seconds.push(second.unwrap_or_else(zeros));
    }
    let second = |g: &Group| seconds[groups.iter().position(|h| h == g).expect("planned group")];
    cols.iter()
        .zip(&positions)
        .map(|(c, pos)| match c {
            Cols::Value => value,
            Cols::D { .. } => columns(entries, pos).reshape(&[b]),
            Cols::Grad(_) => columns(entries, pos),
            Cols::Div(_) => columns(entries, pos).sum_axes(&[1], false),
            Cols::Lap(cs) => comp(second(&Group::Units(cs.clone())), 0),
            Cols::Diffusion(s) => comp(second(&Group::Dirs(s.clone())), 0),
            Cols::D2 { fc, a, b: bb } if a == bb => comp(second(&Group::Units(vec![*a])), *fc),
            Cols::D2 { fc, a, b: bb } => {
                let plus = second(&Group::Dirs(polar(d, *a, *bb, 1.0)));
                let minus = second(&Group::Dirs(polar(d, *a, *bb, -1.0)));
                comp(plus - minus, *fc) * 0.25
            }
        })
        .collect()
}

fn sum_all<'t>(mut it: impl Iterator<Item = Var<'t>>) -> Var<'t> {
    let first = it.next().expect("a non-empty sum");
    it.fold(first, |a, v| a + v)
}

/// `[A | B]` for `[d, m]` and `[d, k]`.
fn hcat(a: &Tensor, b: &Tensor) -> Tensor {
    let (d, m, k) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let mut out = Vec::with_capacity(d * (m + k));
    for i in 0..d {
        out.extend_from_slice(&a.data()[i * m..(i + 1) * m]);
        out.extend_from_slice(&b.data()[i * k..(i + 1) * k]);
    }
    Tensor::from_vec(out, &[d, m + k])
}

/// Nested reverse mode on a field's values `u` `[B, n]` at the trainable leaf `x` `[B, d]`,
/// with caches so that each gradient and each Hessian row is one sweep, whatever asks for it.
pub(crate) struct Nested<'t> {
    x: Var<'t>,
    u: Var<'t>,
    grads: HashMap<usize, Var<'t>>,
    rows: HashMap<(usize, usize), Var<'t>>,
    hutchinson: Option<HutchinsonConfig>,
}

impl<'t> Nested<'t> {
    pub(crate) fn new(x: Var<'t>, u: Var<'t>, hutchinson: Option<HutchinsonConfig>) -> Nested<'t> {
        Nested {
            x,
            u,
            grads: HashMap::new(),
            rows: HashMap::new(),
            hutchinson,
        }
    }

    /// `∇ₓu_fc` `[B, d]`.
    fn grad(&mut self, fc: usize) -> Var<'t> {
        let (x, u) = (self.x, self.u);
        *self
            .grads
            .entry(fc)
            .or_insert_with(|| x.tape().grad(&[u.slice(1, fc..fc + 1)], &[x])[0])
    }

    /// Row `i` of `∇²u_fc`, `[B, d]`.
    fn row(&mut self, fc: usize, i: usize) -> Var<'t> {
        if let Some(r) = self.rows.get(&(fc, i)) {
            return *r;
        }
        let g = self.grad(fc);
        let r = neural::hessian_row(self.x, g, i);
        self.rows.insert((fc, i), r);
        r
    }

    /// One need.
    pub(crate) fn get(&mut self, c: &Cols) -> Var<'t> {
        let b = self.x.shape()[0];
        match c {
            Cols::Value => self.u,
            Cols::D { fc, col } => comp(self.grad(*fc), *col),
            Cols::D2 { fc, a, b: bb } => comp(self.row(*fc, *a), *bb),
            Cols::Grad(cs) => self.grad(0).gather(1, cs),
            Cols::Div(cs) => match &self.hutchinson {
                Some(cfg) => hutchinson::divergence(self.x, self.u, cs, cfg),
                None => sum_all(cs.iter().enumerate().map(|(j, &i)| comp(self.grad(j), i))),
            },
            Cols::Lap(cs) => match self.hutchinson.clone() {
                Some(cfg) => self.probe_trace(&units(self.x.shape()[1], cs), &cfg),
                None => sum_all(cs.iter().map(|&i| comp(self.row(0, i), i))),
            },
            Cols::Diffusion(s) => match self.hutchinson.clone() {
                Some(cfg) => self.probe_trace(s, &cfg),
                None => {
                    let g = self.grad(0);
                    neural::diffusion_from_gradient(self.x, g, s).reshape(&[b])
                }
            },
        }
    }

    /// `(1/k) Σ_p (S z_p)ᵀ ∇²u (S z_p)` `[B]` with probes `z_p` drawn per row from `cfg`: an
    /// unbiased estimate of `tr(Sᵀ∇²u S)`, one Hessian–vector sweep per probe.
    fn probe_trace(&mut self, s: &Tensor, cfg: &HutchinsonConfig) -> Var<'t> {
        let (b, d) = (self.x.shape()[0], self.x.shape()[1]);
        let m = s.shape()[1];
        let z = cfg.draw(b, m);
        let g = self.grad(0);
        let tape = self.x.tape();
        let k = cfg.probes;
        let mut acc = tape.constant(Tensor::zeros(&[b]));
        for p in 0..k {
            let mut dir = vec![0.0; b * d];
            for row in 0..b {
                let zr = &z.data()[(row * k + p) * m..(row * k + p + 1) * m];
                for i in 0..d {
                    let si = &s.data()[i * m..(i + 1) * m];
                    dir[row * d + i] = zr.iter().zip(si).map(|(a, c)| a * c).sum();
                }
            }
            let sp = tape.constant(Tensor::from_vec(dir, &[b, d]));
            let hv = tape.grad(&[g * sp], &[self.x])[0];
            acc = acc + (hv * sp).sum_axes(&[1], false);
        }
        acc * (1.0 / k as f64)
    }
}
