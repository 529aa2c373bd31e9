//! Grid evaluation: fields are tensors sampled at `lo + i·h` along one axis per coordinate
//! component; needs are finite-difference (or Sobel) stencils over the whole tensor, computed once
//! per field; conditions read face slices, periodicity compares the first and last slices.

use super::declare::{Term, TermKind};
use super::eval::{Eval, Names};
use super::merge::Cols;
use super::neural::{call, mean_square, total};
use super::{Domain, FieldId, Loss, Need, ParamId, ParamKind, Problem, Side};
use crate::autodiff::{Tape, Var};
use crate::error::Result;
use crate::pde::grid::{diff1, diff2, smoothed_diff2, sobel, Accuracy, Boundary};
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::rc::Rc;

/// How derivatives are taken on a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridScheme {
    /// Central differences of the given order for every derivative.
    Central(Accuracy),
    /// First derivatives by [`sobel`] (smoothed across the next grid axis), second derivatives
    /// by second-order central differences.
    Sobel,
    /// First derivatives by [`sobel`], pure second derivatives (`d(u, x, x)`, `lap`) by the
    /// smoothed Laplacian [`smoothed_diff2`] (`[1 2 1]/4` across the next grid axis ⊗
    /// `[1 −2 1]/h²`), mixed second derivatives by two central differences: the InvNet
    /// stencils.
    SobelSmoothed,
}

/// The grid a field tensor is sampled on.
#[derive(Clone, Debug)]
pub struct Grid {
    /// Spacing `h` per coordinate axis (a box coordinate has one axis per component).
    pub spacing: Vec<f64>,
    /// Values beyond the grid (default: replicate the edge).
    pub boundary: Boundary,
    /// The stencils (default: second-order central).
    pub scheme: GridScheme,
    /// Whether the field tensors carry a leading batch axis.
    pub batch: bool,
}

impl Grid {
    /// A grid with the given spacings and the defaults: `Boundary::Replicate`,
    /// `GridScheme::Central(Accuracy::Second)`, no batch axis.
    pub fn new(spacing: Vec<f64>) -> Grid {
        Grid {
            spacing,
            boundary: Boundary::Replicate,
            scheme: GridScheme::Central(Accuracy::Second),
            batch: false,
        }
    }
}

/// Needs of one field on the whole grid, with cached first derivatives.
struct GridField<'a, 't> {
    u: Var<'t>,
    vector: bool,
    grid: &'a Grid,
    off: usize,
    naxes: usize,
    d1: HashMap<(usize, usize), Var<'t>>,
}

impl<'t> GridField<'_, 't> {
    fn comp(&self, fc: usize) -> Var<'t> {
        if !self.vector {
            return self.u;
        }
        let s = self.u.shape();
        let last = s.len() - 1;
        self.u.slice(last, fc..fc + 1).reshape(&s[..last])
    }

    fn acc(&self) -> Accuracy {
        match self.grid.scheme {
            GridScheme::Central(a) => a,
            GridScheme::Sobel | GridScheme::SobelSmoothed => Accuracy::Second,
        }
    }

    fn first(&mut self, fc: usize, col: usize) -> Var<'t> {
        if let Some(v) = self.d1.get(&(fc, col)) {
            return *v;
        }
        let (f, axis, h, bnd) = (
            self.comp(fc),
            self.off + col,
            self.grid.spacing[col],
            self.grid.boundary,
        );
        let v = match self.grid.scheme {
            GridScheme::Central(acc) => diff1(f, axis, h, acc, bnd),
            GridScheme::Sobel | GridScheme::SobelSmoothed => {
                sobel(f, axis, self.across(col), h, bnd)
            }
        };
        self.d1.insert((fc, col), v);
        v
    }

    /// The axis a Sobel stencil along coordinate column `col` smooths across.
    fn across(&self, col: usize) -> usize {
        assert!(
            self.naxes >= 2,
            "loss_grid: the Sobel schemes need at least two grid axes"
        );
        self.off + (col + 1) % self.naxes
    }

    fn second(&mut self, fc: usize, a: usize, b: usize) -> Var<'t> {
        let bnd = self.grid.boundary;
        if a == b && self.grid.scheme == GridScheme::SobelSmoothed {
            let h = self.grid.spacing[a];
            return smoothed_diff2(self.comp(fc), self.off + a, self.across(a), h, bnd);
        }
        if a == b {
            return diff2(
                self.comp(fc),
                self.off + a,
                self.grid.spacing[a],
                self.acc(),
                bnd,
            );
        }
        let da = diff1(
            self.comp(fc),
            self.off + a,
            self.grid.spacing[a],
            self.acc(),
            bnd,
        );
        diff1(da, self.off + b, self.grid.spacing[b], self.acc(), bnd)
    }

    fn get(&mut self, c: &Cols) -> Var<'t> {
        match c {
            Cols::Value => self.u,
            Cols::D { fc, col } => self.first(*fc, *col),
            Cols::D2 { fc, a, b } => self.second(*fc, *a, *b),
            Cols::Grad(cs) => {
                let parts: Vec<Var<'t>> = cs
                    .iter()
                    .map(|&i| unsqueeze_last(self.first(0, i)))
                    .collect();
                let last = parts[0].ndim() - 1;
                Var::concat(&parts, last)
            }
            Cols::Div(cs) => sum(cs
                .iter()
                .enumerate()
                .map(|(j, &i)| self.first(j, i))
                .collect()),
            Cols::Lap(cs) => sum(cs.iter().map(|&i| self.second(0, i, i)).collect()),
            Cols::Diffusion(s) => {
                let k = s.shape()[1];
                let a = |i: usize, j: usize| -> f64 {
                    (0..k)
                        .map(|c| s.data()[i * k + c] * s.data()[j * k + c])
                        .sum()
                };
                let mut terms = Vec::new();
                for i in 0..self.naxes {
                    for j in 0..self.naxes {
                        let w = a(i, j);
                        if w != 0.0 {
                            terms.push(self.second(0, i, j) * w);
                        }
                    }
                }
                if terms.is_empty() {
                    return self.u.tape().constant(Tensor::zeros(&self.u.shape()));
                }
                sum(terms)
            }
        }
    }
}

fn unsqueeze_last(v: Var<'_>) -> Var<'_> {
    let mut s = v.shape().to_vec();
    s.push(1);
    v.reshape(&s)
}

fn sum(parts: Vec<Var<'_>>) -> Var<'_> {
    let mut it = parts.into_iter();
    let first = it.next().expect("a non-empty sum");
    it.fold(first, |a, v| a + v)
}

/// `v` restricted to index 0 (`Lo`) or the last index (`Hi`) of `axis`, keeping the axis; an
/// axis of length 1 (a broadcast mesh or parameter) is kept as is.
fn face(v: Var<'_>, axis: usize, side: Side) -> Var<'_> {
    let n = v.shape().get(axis).copied().unwrap_or(1);
    if n == 1 {
        return v;
    }
    match side {
        Side::Lo => v.slice(axis, 0..1),
        Side::Hi => v.slice(axis, n - 1..n),
    }
}

impl Problem {
    /// The loss on grid fields. Fields are tensors whose axes are the coordinates in declaration
    /// order (intervals one axis each, boxes one per component; `Real` coordinates are not
    /// allowed), optionally after a leading batch axis, and a vector field has a trailing
    /// component axis; grid points at `lo + i·h`. `Input` params are given as `[N_batch]` values
    /// (one per batch element), broadcast; `Given` params as supplied.
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) naming the term if a term's value is NaN
    /// or ±∞.
    ///
    /// # Panics
    /// If a needed field is unbound, the field shapes disagree with each other or the grid, a
    /// coordinate is `Real`, or the spacings do not match the coordinate axes.
    pub fn loss_grid<'t>(
        &self,
        tape: &'t Tape,
        fields: &[(FieldId, Var<'t>)],
        grid: &Grid,
        given: &[(ParamId, Var<'t>)],
    ) -> Result<Loss<'t>> {
        self.check_bindings(fields.iter().map(|(f, _)| *f), "loss_grid");
        let shape = self.grid_shape(fields, grid);
        let names = Rc::new(self.names());
        let naxes = grid.spacing.len();
        let mut vals: Vec<(Need, Var<'t>)> = Vec::new();
        for (fid, u) in fields {
            let needs = self.merged_needs(*fid, |_| true);
            let mut gf = GridField {
                u: *u,
                vector: self.components(*fid).is_some(),
                grid,
                off: usize::from(grid.batch),
                naxes,
                d1: HashMap::new(),
            };
            for n in needs {
                let v = gf.get(&self.resolve(&n, naxes));
                vals.push((n, v));
            }
        }
        let base = self.grid_eval(tape, &shape, grid, given, &vals, &names);
        let off = usize::from(grid.batch);
        let mut out = Vec::with_capacity(self.terms.len());
        for term in &self.terms {
            let value = self.grid_term(term, &base, off);
            out.push(self.finish_term(term, value)?);
        }
        Ok(total(tape, out))
    }

    /// The unweighted value of one term on the grid evaluation `base`.
    fn grid_term<'t>(&self, term: &Term, base: &Eval<'t>, off: usize) -> Var<'t> {
        match &term.kind {
            TermKind::Residual | TermKind::Invariance => {
                mean_square(call(term, &base.for_term(term)))
            }
            TermKind::Condition(region) => {
                let parts: Vec<Var<'t>> = self
                    .faces(region)
                    .into_iter()
                    .map(|(c, i, side)| {
                        let axis = off + self.col(c, i);
                        let r = call(term, &base.restrict(term, axis, side));
                        r.reshape(&[r.len()])
                    })
                    .collect();
                mean_square(Var::concat(&parts, 0))
            }
            TermKind::Periodic(c) => {
                let axis = off + self.col(*c, 0);
                let diffs: Vec<Var<'t>> = term
                    .needs
                    .iter()
                    .map(|n| {
                        let v = base.get_unchecked(n);
                        let d = face(v, axis, Side::Lo) - face(v, axis, Side::Hi);
                        d.reshape(&[d.len()])
                    })
                    .collect();
                mean_square(Var::concat(&diffs, 0))
            }
        }
    }

    /// The grid shape (without batch or component axes), checked against every field.
    #[track_caller]
    fn grid_shape(&self, fields: &[(FieldId, Var<'_>)], grid: &Grid) -> Vec<usize> {
        let naxes: usize = self
            .coords
            .iter()
            .map(|c| {
                assert!(
                    !matches!(c.domain, Domain::Real(_)),
                    "problem {}: loss_grid: coordinate {} is Real; grid coordinates must be intervals or boxes",
                    self.name,
                    c.name
                );
                c.dim()
            })
            .sum();
        assert!(
            grid.spacing.len() == naxes && grid.spacing.iter().all(|h| *h > 0.0),
            "problem {}: loss_grid: {} positive spacings needed (one per coordinate axis), got {:?}",
            self.name,
            naxes,
            grid.spacing
        );
        let off = usize::from(grid.batch);
        let mut shape: Option<Vec<usize>> = None;
        for (fid, u) in fields {
            let s = u.shape().to_vec();
            let k = self.components(*fid);
            let want = off + naxes + usize::from(k.is_some());
            let ok = s.len() == want && k.is_none_or(|k| s[want - 1] == k);
            assert!(
                ok,
                "problem {}: loss_grid: field {} has shape {s:?}; expected {}{naxes} grid axes{}",
                self.name,
                self.fields[fid.0].name,
                if grid.batch { "a batch axis, " } else { "" },
                k.map_or(String::new(), |k| format!(", then {k} components"))
            );
            let g = s[..off + naxes].to_vec();
            if let Some(prev) = &shape {
                assert!(
                    prev[off..] == g[off..] && prev[..off] == g[..off],
                    "problem {}: loss_grid: field {} has grid shape {g:?}, another field {prev:?}",
                    self.name,
                    self.fields[fid.0].name
                );
            }
            shape = Some(g);
        }
        shape.unwrap_or_default()
    }

    /// The mesh values of coordinate `k`: `lo + i·h` along its axis, size 1 elsewhere; a box
    /// coordinate stacks its components on a trailing axis (full grid shape, batch size 1).
    fn mesh<'t>(&self, tape: &'t Tape, k: usize, shape: &[usize], grid: &Grid) -> Var<'t> {
        let c = &self.coords[k];
        let off = usize::from(grid.batch);
        let rank = shape.len();
        let meshes: Vec<Var<'t>> = (0..c.dim())
            .map(|i| {
                let axis = off + c.col + i;
                let n = shape[axis];
                let (lo, _) = c.bounds(i).expect("bounded grid coordinate");
                let h = grid.spacing[c.col + i];
                let mut s = vec![1; rank];
                s[axis] = n;
                let data = (0..n).map(|j| lo + j as f64 * h).collect();
                tape.constant(Tensor::from_vec(data, &s))
            })
            .collect();
        if meshes.len() == 1 {
            return meshes[0];
        }
        let mut full = shape.to_vec();
        if off == 1 {
            full[0] = 1;
        }
        let parts: Vec<Var<'t>> = meshes
            .iter()
            .map(|m| unsqueeze_last(m.broadcast_to(&full)))
            .collect();
        Var::concat(&parts, rank)
    }

    /// The whole-grid evaluation: needs, coordinate meshes, parameters.
    fn grid_eval<'t>(
        &self,
        tape: &'t Tape,
        shape: &[usize],
        grid: &Grid,
        given: &[(ParamId, Var<'t>)],
        vals: &[(Need, Var<'t>)],
        names: &Rc<Names>,
    ) -> Eval<'t> {
        let off = usize::from(grid.batch);
        let rank = shape.len();
        let coords = (0..self.coords.len())
            .map(|k| self.mesh(tape, k, shape, grid))
            .collect();
        let params = (0..self.params.len())
            .map(|k| {
                let v = given.iter().find(|(q, _)| q.0 == k).map(|(_, v)| *v)?;
                match self.params[k].kind {
                    ParamKind::Input { .. } if off == 1 && v.ndim() == 1 => {
                        let mut s = vec![1; rank];
                        s[0] = v.len();
                        Some(v.reshape(&s))
                    }
                    _ => Some(v),
                }
            })
            .collect();
        Eval {
            tape,
            term: String::new(),
            needs: vals.to_vec(),
            coords,
            params,
            names: names.clone(),
        }
    }
}

impl<'t> Eval<'t> {
    /// The evaluation restricted to a term's declared needs.
    fn for_term(&self, term: &Term) -> Eval<'t> {
        Eval {
            tape: self.tape,
            term: term.name.clone(),
            needs: self
                .needs
                .iter()
                .filter(|(n, _)| term.needs.contains(n))
                .cloned()
                .collect(),
            coords: self.coords.clone(),
            params: self.params.clone(),
            names: self.names.clone(),
        }
    }

    /// The evaluation of a term on one face: every value sliced at the face (axis kept).
    fn restrict(&self, term: &Term, axis: usize, side: Side) -> Eval<'t> {
        let mut e = self.for_term(term);
        for (_, v) in e.needs.iter_mut() {
            *v = face(*v, axis, side);
        }
        for v in e.coords.iter_mut() {
            *v = face(*v, axis, side);
        }
        for v in e.params.iter_mut().flatten() {
            *v = face(*v, axis, side);
        }
        e
    }

    fn get_unchecked(&self, n: &Need) -> Var<'t> {
        self.needs
            .iter()
            .find(|(m, _)| m == n)
            .expect("merged need")
            .1
    }
}
