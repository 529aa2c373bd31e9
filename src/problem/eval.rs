//! [`Eval`]: what a term's closure reads — its declared needs, the coordinates, the parameters.

use super::{CoordId, Need, ParamId};
use crate::autodiff::{Tape, Var};
use crate::tensor::Tensor;
use std::rc::Rc;

/// Names for panic messages, shared by the evaluations of one loss.
pub(crate) struct Names {
    pub problem: String,
    /// `(name, dim)` per coordinate.
    pub coords: Vec<(String, usize)>,
    /// `(name, components)` per field (`None`: scalar).
    pub fields: Vec<(String, Option<usize>)>,
    pub params: Vec<String>,
}

impl Names {
    /// A need written with names, e.g. `d(u, x)` or `d2(mu[1], y[0], t)`.
    pub fn need(&self, n: &Need) -> String {
        let field = |f: super::FieldId, c: usize| match self.fields.get(f.0) {
            Some((name, None)) => name.clone(),
            Some((name, Some(_))) => format!("{name}[{c}]"),
            None => format!("<undeclared field {}>", f.0),
        };
        let fname = |f: super::FieldId| field(f, 0).split('[').next().unwrap_or("").to_string();
        let coord = |c: CoordId, i: usize| match self.coords.get(c.0) {
            Some((name, 1)) => name.clone(),
            Some((name, _)) => format!("{name}[{i}]"),
            None => format!("<undeclared coordinate {}>", c.0),
        };
        let cn = |c: CoordId| coord(c, 0).split('[').next().unwrap_or("").to_string();
        match n {
            Need::Value(f) => fname(*f),
            Need::D {
                field: f,
                field_comp,
                coord: c,
                component,
            } => format!("d({}, {})", field(*f, *field_comp), coord(*c, *component)),
            Need::D2 {
                field: f,
                field_comp,
                a,
                b,
            } => format!(
                "d2({}, {}, {})",
                field(*f, *field_comp),
                coord(a.0, a.1),
                coord(b.0, b.1)
            ),
            Need::Grad { field: f, coord: c } => format!("grad({}, {})", fname(*f), cn(*c)),
            Need::Div { field: f, coord: c } => format!("div({}, {})", fname(*f), cn(*c)),
            Need::Lap { field: f, coord: c } => format!("lap({}, {})", fname(*f), cn(*c)),
            Need::Diffusion {
                field: f,
                coord: c,
                sigma,
            } => format!(
                "diffusion({}, {}, σ {:?})",
                fname(*f),
                cn(*c),
                sigma.shape()
            ),
        }
    }
}

/// What a term's closure reads. Shapes on neural fields: scalar needs `[B]`, `Grad` `[B, dim]`,
/// vector field values `[B, k]`, a scalar coordinate `[B]`, a vector coordinate `[B, dim]`, an
/// `Input` parameter `[B]`. On grid fields: the grid shape (with a leading batch axis if the grid
/// has one; `Grad` and vector values add a trailing component axis), coordinates as mesh values
/// broadcastable against the grid, `Input` parameters as `[N, 1, …, 1]`.
///
/// Asking for a need that was not declared panics naming the term and the need.
pub struct Eval<'t> {
    pub(crate) tape: &'t Tape,
    pub(crate) term: String,
    pub(crate) needs: Vec<(Need, Var<'t>)>,
    pub(crate) coords: Vec<Var<'t>>,
    pub(crate) params: Vec<Option<Var<'t>>>,
    pub(crate) names: Rc<Names>,
}

impl<'t> Eval<'t> {
    /// The value of a declared need.
    ///
    /// # Panics
    /// If the term did not declare `need`.
    #[track_caller]
    pub fn get(&self, need: &Need) -> Var<'t> {
        match self.needs.iter().find(|(n, _)| n == need) {
            Some((_, v)) => *v,
            None => panic!(
                "problem {}: term {} reads {} but did not declare it among its needs",
                self.names.problem,
                self.term,
                self.names.need(need)
            ),
        }
    }

    /// The coordinate `c` at the evaluation points (see the type docs for shapes).
    ///
    /// # Panics
    /// If `c` is not declared.
    #[track_caller]
    pub fn coord(&self, c: CoordId) -> Var<'t> {
        assert!(
            c.0 < self.coords.len(),
            "problem {}: term {} reads undeclared coordinate {c:?}",
            self.names.problem,
            self.term
        );
        self.coords[c.0]
    }

    /// The parameter `p`: an `Input` per point / batch element, a `Given` as supplied.
    ///
    /// # Panics
    /// If `p` is not declared, or it is `Given` and no value was supplied.
    #[track_caller]
    pub fn param(&self, p: ParamId) -> Var<'t> {
        assert!(
            p.0 < self.params.len(),
            "problem {}: term {} reads undeclared parameter {p:?}",
            self.names.problem,
            self.term
        );
        match self.params[p.0] {
            Some(v) => v,
            None => panic!(
                "problem {}: term {} reads parameter {}, but no value was given for it",
                self.names.problem, self.term, self.names.params[p.0]
            ),
        }
    }

    /// A scalar constant on the tape.
    pub fn constant(&self, v: f64) -> Var<'t> {
        self.tape.constant(Tensor::scalar(v))
    }

    /// The tape.
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// The name of the term being evaluated.
    pub fn term(&self) -> &str {
        &self.term
    }

    /// The name of coordinate `c`.
    pub fn coord_name(&self, c: CoordId) -> &str {
        &self.names.coords[c.0].0
    }
}
