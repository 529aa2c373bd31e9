//! Needs resolved to input columns, validated at declaration, and merged per point set.

use super::declare::TermKind;
use super::{CoordId, FieldId, Need, Problem};
use crate::tensor::Tensor;

/// A need resolved to input columns (neural) / coordinate axes (grid: the same numbering).
#[derive(Clone, Debug)]
pub(crate) enum Cols {
    /// The field's value.
    Value,
    /// `∂u_fc/∂x_col`.
    D { fc: usize, col: usize },
    /// `∂²u_fc/∂x_a∂x_b`.
    D2 { fc: usize, a: usize, b: usize },
    /// `∇u` over the columns.
    Grad(Vec<usize>),
    /// `Σ_j ∂u_j/∂x_{cols[j]}`.
    Div(Vec<usize>),
    /// `Σ_i ∂²u/∂x_i²` over the columns.
    Lap(Vec<usize>),
    /// `tr(S Sᵀ ∇²u)` with `S` `[n_cols, k]` the σ embedded into all columns.
    Diffusion(Tensor),
}

impl Problem {
    /// The columns of coordinate `c`.
    pub(crate) fn cols_of(&self, c: CoordId) -> Vec<usize> {
        let first = self.col(c, 0);
        (first..first + self.coord_dim(c)).collect()
    }

    pub(crate) fn coord_dim(&self, c: CoordId) -> usize {
        self.coords[c.0].dim()
    }

    /// Components of a field (`None` for a scalar field).
    pub(crate) fn components(&self, f: FieldId) -> Option<usize> {
        self.fields[f.0].components
    }

    /// Resolves a (validated) need to columns; `width` is the number of columns σ is embedded in.
    pub(crate) fn resolve(&self, n: &Need, width: usize) -> Cols {
        match n {
            Need::Value(_) => Cols::Value,
            Need::D {
                field_comp,
                coord,
                component,
                ..
            } => Cols::D {
                fc: *field_comp,
                col: self.col(*coord, *component),
            },
            Need::D2 {
                field_comp, a, b, ..
            } => Cols::D2 {
                fc: *field_comp,
                a: self.col(a.0, a.1),
                b: self.col(b.0, b.1),
            },
            Need::Grad { coord, .. } => Cols::Grad(self.cols_of(*coord)),
            Need::Div { coord, .. } => Cols::Div(self.cols_of(*coord)),
            Need::Lap { coord, .. } => Cols::Lap(self.cols_of(*coord)),
            Need::Diffusion { coord, sigma, .. } => {
                let k = sigma.shape()[1];
                let first = self.col(*coord, 0);
                let mut s = Tensor::zeros(&[width, k]);
                for i in 0..sigma.shape()[0] {
                    for c in 0..k {
                        s.data_mut()[(first + i) * k + c] = sigma.data()[i * k + c];
                    }
                }
                Cols::Diffusion(s)
            }
        }
    }

    /// The distinct needs of `field` among the terms selected by `pick`, in first-seen order.
    pub(crate) fn merged_needs(
        &self,
        field: FieldId,
        pick: impl Fn(&TermKind) -> bool,
    ) -> Vec<Need> {
        let mut out: Vec<Need> = Vec::new();
        for t in self.terms.iter().filter(|t| pick(&t.kind)) {
            for n in t.needs.iter().filter(|n| n.field() == field) {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        }
        out
    }

    /// Checks a need against the declarations.
    ///
    /// # Panics
    /// Naming the problem, the term and the need, if it refers to something undeclared or
    /// applies an operator to a field or coordinate of the wrong kind.
    #[track_caller]
    pub(crate) fn check_need(&self, n: &Need, term: &str) {
        let fail =
            |why: &str| -> ! { panic!("problem {}: term {term}: need {n:?} {why}", self.name) };
        let f = n.field();
        if f.0 >= self.fields.len() {
            fail("refers to an undeclared field");
        }
        let fname = &self.fields[f.0].name;
        let comps = self.fields[f.0].components;
        let coord_ok = |c: CoordId, i: usize| c.0 < self.coords.len() && i < self.coord_dim(c);
        let comp_ok = |fc: usize| fc < comps.unwrap_or(1);
        let scalar_only = |c: CoordId| {
            if comps.is_some() {
                fail(&format!(
                    "needs a scalar field, but {fname} is a vector field"
                ));
            }
            if c.0 >= self.coords.len() {
                fail("refers to an undeclared coordinate");
            }
        };
        match n {
            Need::Value(_) => {}
            Need::D {
                field_comp,
                coord,
                component,
                ..
            } => {
                if !coord_ok(*coord, *component) || !comp_ok(*field_comp) {
                    fail("has a coordinate or component out of range");
                }
            }
            Need::D2 {
                field_comp, a, b, ..
            } => {
                if !coord_ok(a.0, a.1) || !coord_ok(b.0, b.1) || !comp_ok(*field_comp) {
                    fail("has a coordinate or component out of range");
                }
            }
            Need::Grad { coord, .. } | Need::Lap { coord, .. } => scalar_only(*coord),
            Need::Diffusion { coord, sigma, .. } => {
                scalar_only(*coord);
                let d = self.coord_dim(*coord);
                if sigma.ndim() != 2 || sigma.shape()[0] != d {
                    fail(&format!("has σ {:?}; it must be [{d}, k]", sigma.shape()));
                }
            }
            Need::Div { coord, .. } => {
                if coord.0 >= self.coords.len() {
                    fail("refers to an undeclared coordinate");
                }
                let d = self.coord_dim(*coord);
                if comps != Some(d) {
                    fail(&format!(
                        "needs a vector field with {d} components, but {fname} has {comps:?}"
                    ));
                }
            }
        }
    }
}
