//! The problem builder: a PDE problem stated as named, weighted loss terms over declared
//! coordinates, parameters and fields, evaluated on neural fields (input derivatives by forward
//! jets, nested reverse mode or Hutchinson probes) or on grid fields (stencils). The `pde!` macro
//! expands to calls of this API; it is equally usable by hand.
//!
//! A term lists the derivative [`Need`]s its closure reads; per point set and field the builder
//! merges the needs of all terms evaluated there and computes each once. Every term contributes
//! `weight · mean(r²)` (over points and components) to the total loss:
//!
//! `L = Σ_terms w_k · mean(r_k²)`.
//!
//! ```
//! use physgrad::problem::{Domain, Method, NeuralField, Need, Problem, Region, Side};
//! use physgrad::Tape;
//!
//! // Heat equation u_t = u_xx with u = e^{-t} sin x: every residual vanishes.
//! let mut pb = Problem::new("heat");
//! let x = pb.coord("x", Domain::Interval(0.0, 3.0));
//! let t = pb.coord("t", Domain::Interval(0.0, 1.0));
//! let u = pb.scalar_field("u");
//! let (ut, uxx) = (Need::d(u, t), Need::d2(u, x, x));
//! pb.residual("heat", 1.0, vec![ut.clone(), uxx.clone()], move |e| e.get(&ut) - e.get(&uxx));
//! pb.condition("ic", 1.0, Region::Face(t, Side::Lo), vec![Need::Value(u)], move |e| {
//!     e.get(&Need::Value(u)) - e.coord(x).sin()
//! });
//! let exact = NeuralField::Func(
//!     Box::new(|p| (-p.slice(1, 1..2)).exp() * p.slice(1, 0..1).sin()),
//!     Method::Nested,
//! );
//! let tape = Tape::new();
//! let pts = pb.sample(64, 16, 7);
//! let store = physgrad::nn::ParamStore::new(0);
//! let loss = pb.loss_neural(&tape, &store.bind(&tape), &[(u, exact)], &[], &pts).unwrap();
//! assert!(loss.total.item() < 1e-20);
//! ```

mod backend;
mod declare;
mod eval;
mod grid;
mod merge;
mod neural;
mod sample;

pub use eval::Eval;
pub use grid::{Grid, GridScheme};
pub use neural::{Method, NeuralField};
pub use sample::Collocation;

use crate::autodiff::Var;
use crate::tensor::Tensor;

/// The domain of a coordinate.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// A scalar coordinate on `[lo, hi]` (dimension 1).
    Interval(f64, f64),
    /// A vector coordinate on the box `Π [loᵢ, hiᵢ]` (dimension = number of intervals).
    Box(Vec<(f64, f64)>),
    /// A vector coordinate on all of `ℝᵈ` (sampled from `N(0, I)` unless
    /// [`Problem::sample_box`] gives a box).
    Real(usize),
}

impl Domain {
    /// The number of input columns the coordinate takes.
    pub fn dim(&self) -> usize {
        match self {
            Domain::Interval(..) => 1,
            Domain::Box(b) => b.len(),
            Domain::Real(d) => *d,
        }
    }
}

/// A declared coordinate (index in declaration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CoordId(pub usize);
/// A declared parameter (index in declaration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamId(pub usize);
/// A declared field (index in declaration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldId(pub usize);

/// What a parameter is.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamKind {
    /// A conditioning input: appended to every field's inputs (after the coordinates), sampled
    /// uniformly on [lo, hi] per collocation point (neural) / per batch element (grid).
    Input {
        /// Lower bound of the sampled range.
        lo: f64,
        /// Upper bound of the sampled range.
        hi: f64,
    },
    /// A value supplied at evaluation time as a `Var` (constant or trainable, e.g. log Z).
    Given,
}

/// Which end of an interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `coord = lo`.
    Lo,
    /// `coord = hi`.
    Hi,
}

/// Where a condition holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Region {
    /// The face `coord = lo` or `coord = hi` of an interval coordinate (e.g. an initial condition
    /// is `Face(t, Lo)`).
    Face(CoordId, Side),
    /// Every face of every bounded coordinate except those listed (e.g. all spatial boundaries).
    /// A box coordinate contributes the two faces of each of its components.
    AllFacesExcept(Vec<CoordId>),
}

/// One derivative need. `coord` + `component` address one input column: `component` is the
/// index within a vector coordinate (0 for a scalar coordinate). `field_comp` is the component
/// of a vector field (0 for a scalar field).
#[derive(Clone, Debug)]
pub enum Need {
    /// The field's value: `[B]` (scalar) or `[B, k]` (vector field).
    Value(FieldId),
    /// `∂u_{field_comp}/∂x_{coord, component}`, `[B]`.
    D {
        /// The field.
        field: FieldId,
        /// Its component (0 for a scalar field).
        field_comp: usize,
        /// The coordinate.
        coord: CoordId,
        /// The component of the coordinate (0 for a scalar coordinate).
        component: usize,
    },
    /// `∂²u_{field_comp}/∂a∂b`, pure (`a = b`) or mixed, `[B]`.
    D2 {
        /// The field.
        field: FieldId,
        /// Its component (0 for a scalar field).
        field_comp: usize,
        /// First input column (coordinate, component).
        a: (CoordId, usize),
        /// Second input column (coordinate, component).
        b: (CoordId, usize),
    },
    /// `∇_coord u` of a scalar field, `[B, dim(coord)]`.
    Grad {
        /// The (scalar) field.
        field: FieldId,
        /// The coordinate.
        coord: CoordId,
    },
    /// `Σⱼ ∂u_j/∂x_{coord, j}` of a vector field with `dim(coord)` components, `[B]`.
    Div {
        /// The (vector) field.
        field: FieldId,
        /// The coordinate.
        coord: CoordId,
    },
    /// `Σᵢ ∂²u/∂x_{coord, i}²` of a scalar field, `[B]`.
    Lap {
        /// The (scalar) field.
        field: FieldId,
        /// The coordinate.
        coord: CoordId,
    },
    /// `tr(σσᵀ∇²_coord u)` of a scalar field for a constant `σ` `[dim(coord), k]`, `[B]`.
    Diffusion {
        /// The (scalar) field.
        field: FieldId,
        /// The coordinate.
        coord: CoordId,
        /// The diffusion matrix `σ`, `[dim(coord), k]`.
        sigma: Tensor,
    },
}

impl PartialEq for Need {
    fn eq(&self, other: &Need) -> bool {
        use Need::*;
        match (self, other) {
            (Value(a), Value(b)) => a == b,
            (
                D {
                    field: f,
                    field_comp: c,
                    coord: x,
                    component: i,
                },
                D {
                    field: g,
                    field_comp: d,
                    coord: y,
                    component: j,
                },
            ) => (f, c, x, i) == (g, d, y, j),
            (
                D2 {
                    field: f,
                    field_comp: c,
                    a,
                    b,
                },
                D2 {
                    field: g,
                    field_comp: d,
                    a: a2,
                    b: b2,
                },
            ) => (f, c) == (g, d) && ((a, b) == (a2, b2) || (a, b) == (b2, a2)),
            (Grad { field: f, coord: x }, Grad { field: g, coord: y })
            | (Div { field: f, coord: x }, Div { field: g, coord: y })
            | (Lap { field: f, coord: x }, Lap { field: g, coord: y }) => (f, x) == (g, y),
            (
                Diffusion {
                    field: f,
                    coord: x,
                    sigma: s,
                },
                Diffusion {
                    field: g,
                    coord: y,
                    sigma: t,
                },
            ) => (f, x) == (g, y) && s.shape() == t.shape() && s.data() == t.data(),
            _ => false,
        }
    }
}

impl Need {
    /// The field the need is about.
    pub fn field(&self) -> FieldId {
        match self {
            Need::Value(f) => *f,
            Need::D { field, .. }
            | Need::D2 { field, .. }
            | Need::Grad { field, .. }
            | Need::Div { field, .. }
            | Need::Lap { field, .. }
            | Need::Diffusion { field, .. } => *field,
        }
    }

    /// `∂u/∂x` of a scalar field along a scalar coordinate.
    pub fn d(field: FieldId, coord: CoordId) -> Need {
        Need::D {
            field,
            field_comp: 0,
            coord,
            component: 0,
        }
    }

    /// `∂²u/∂a∂b` of a scalar field along two scalar coordinates.
    pub fn d2(field: FieldId, a: CoordId, b: CoordId) -> Need {
        Need::D2 {
            field,
            field_comp: 0,
            a: (a, 0),
            b: (b, 0),
        }
    }
}

/// A problem: declarations and loss terms. `Send + Sync`; build it once, evaluate it per batch.
pub struct Problem {
    name: String,
    coords: Vec<declare::Coord>,
    params: Vec<declare::Param>,
    fields: Vec<declare::Field>,
    terms: Vec<declare::Term>,
}

/// The closure of a term: reads its needs from an [`Eval`] and returns the residual/violation.
pub type TermFn = Box<dyn for<'t> Fn(&Eval<'t>) -> Var<'t> + Send + Sync + 'static>;

/// The loss of a problem: its named terms and their weighted sum.
pub struct Loss<'t> {
    /// One entry per term, in declaration order.
    pub terms: Vec<LossTerm<'t>>,
    /// `Σ weight · value`, a scalar on the tape.
    pub total: Var<'t>,
}

/// One named term of a [`Loss`].
pub struct LossTerm<'t> {
    /// The term's name.
    pub name: String,
    /// Its weight.
    pub weight: f64,
    /// The unweighted value `mean(r²)`, a scalar on the tape.
    pub value: Var<'t>,
}

impl Loss<'_> {
    /// `(name, unweighted value)` for each term, for logging.
    pub fn values(&self) -> Vec<(String, f64)> {
        self.terms
            .iter()
            .map(|t| (t.name.clone(), t.value.item()))
            .collect()
    }
}
