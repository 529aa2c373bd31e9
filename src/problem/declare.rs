//! Declarations: coordinates, parameters, fields and terms, with the checks that make a misuse
//! panic at the declaring line (naming the problem, the term and the offending item).

use super::{CoordId, Domain, Eval, FieldId, Need, ParamId, ParamKind, Problem, Region, TermFn};
use crate::autodiff::Var;
use std::fmt::Write;

pub(crate) struct Coord {
    pub name: String,
    pub domain: Domain,
    /// First input column.
    pub col: usize,
    /// Sampling box of a `Real(d)` coordinate (else `None`: `N(0, I)`).
    pub sample_box: Option<Vec<(f64, f64)>>,
}

impl Coord {
    pub fn dim(&self) -> usize {
        self.domain.dim()
    }

    /// The bounds of component `i`, if bounded.
    pub fn bounds(&self, i: usize) -> Option<(f64, f64)> {
        match &self.domain {
            Domain::Interval(lo, hi) => Some((*lo, *hi)),
            Domain::Box(b) => Some(b[i]),
            Domain::Real(_) => None,
        }
    }
}

pub(crate) struct Param {
    pub name: String,
    pub kind: ParamKind,
}

pub(crate) struct Field {
    pub name: String,
    /// `None` for a scalar field, `Some(k)` for a vector field with `k` components.
    pub components: Option<usize>,
}

pub(crate) enum TermKind {
    Residual,
    Condition(Region),
    Periodic(CoordId),
    Invariance,
}

pub(crate) struct Term {
    pub name: String,
    pub weight: f64,
    pub kind: TermKind,
    pub needs: Vec<Need>,
    pub f: Option<TermFn>,
}

impl Problem {
    /// An empty problem named `name` (the name appears in every panic and error message).
    pub fn new(name: &str) -> Problem {
        Problem {
            name: name.to_string(),
            coords: Vec::new(),
            params: Vec::new(),
            fields: Vec::new(),
            terms: Vec::new(),
        }
    }

    /// The problem's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Declares a coordinate; it takes `domain.dim()` input columns after those declared before.
    ///
    /// # Panics
    /// On a duplicate name, an empty or reversed interval, or a zero dimension.
    #[track_caller]
    pub fn coord(&mut self, name: &str, domain: Domain) -> CoordId {
        self.check_name(name);
        let ok = match &domain {
            Domain::Interval(lo, hi) => lo < hi,
            Domain::Box(b) => !b.is_empty() && b.iter().all(|(lo, hi)| lo < hi),
            Domain::Real(d) => *d > 0,
        };
        assert!(
            ok,
            "problem {}: coordinate {name} has an empty domain {domain:?}",
            self.name
        );
        let col = self.coords.iter().map(Coord::dim).sum();
        self.coords.push(Coord {
            name: name.to_string(),
            domain,
            col,
            sample_box: None,
        });
        CoordId(self.coords.len() - 1)
    }

    /// Samples the `Real(d)` coordinate `c` uniformly on a box instead of from `N(0, I)`.
    ///
    /// # Panics
    /// If `c` is not a `Real(d)` coordinate or the box does not have `d` non-empty intervals.
    #[track_caller]
    pub fn sample_box(&mut self, c: CoordId, bounds: Vec<(f64, f64)>) {
        let name = &self.name;
        let coord = &mut self.coords[c.0];
        assert!(
            matches!(coord.domain, Domain::Real(d) if d == bounds.len())
                && bounds.iter().all(|(lo, hi)| lo < hi),
            "problem {name}: sample_box for {} needs a Real(d) coordinate and d non-empty intervals, got {:?} and {bounds:?}",
            coord.name,
            coord.domain
        );
        coord.sample_box = Some(bounds);
    }

    /// Declares a parameter. `Input` parameters take one input column each, after all
    /// coordinates, in declaration order.
    ///
    /// # Panics
    /// On a duplicate name or an `Input` with `lo > hi`.
    #[track_caller]
    pub fn param(&mut self, name: &str, kind: ParamKind) -> ParamId {
        self.check_name(name);
        if let ParamKind::Input { lo, hi } = kind {
            assert!(
                lo <= hi,
                "problem {}: parameter {name} has lo {lo} > hi {hi}",
                self.name
            );
        }
        self.params.push(Param {
            name: name.to_string(),
            kind,
        });
        ParamId(self.params.len() - 1)
    }

    /// The coordinate declared as `name`.
    ///
    /// # Panics
    /// If there is none (the message lists the declared coordinates).
    #[track_caller]
    pub fn coord_id(&self, name: &str) -> CoordId {
        CoordId(self.lookup(
            "coordinate",
            name,
            self.coords.iter().map(|c| c.name.as_str()),
        ))
    }

    /// The parameter declared as `name` (for the `given` list of an evaluation).
    ///
    /// # Panics
    /// If there is none (the message lists the declared parameters).
    #[track_caller]
    pub fn param_id(&self, name: &str) -> ParamId {
        ParamId(self.lookup(
            "parameter",
            name,
            self.params.iter().map(|p| p.name.as_str()),
        ))
    }

    /// The field declared as `name` (to bind a network or a grid tensor to it).
    ///
    /// # Panics
    /// If there is none (the message lists the declared fields).
    #[track_caller]
    pub fn field_id(&self, name: &str) -> FieldId {
        FieldId(self.lookup("field", name, self.fields.iter().map(|f| f.name.as_str())))
    }

    #[track_caller]
    fn lookup<'a>(&self, kind: &str, name: &str, names: impl Iterator<Item = &'a str>) -> usize {
        let names: Vec<&str> = names.collect();
        names.iter().position(|n| *n == name).unwrap_or_else(|| {
            panic!(
                "problem {}: no {kind} named {name:?} (declared: {names:?})",
                self.name
            )
        })
    }

    /// Declares a scalar field.
    ///
    /// # Panics
    /// On a duplicate name.
    #[track_caller]
    pub fn scalar_field(&mut self, name: &str) -> FieldId {
        self.check_name(name);
        self.fields.push(Field {
            name: name.to_string(),
            components: None,
        });
        FieldId(self.fields.len() - 1)
    }

    /// Declares a vector field with `components ≥ 1` components.
    ///
    /// # Panics
    /// On a duplicate name or zero components.
    #[track_caller]
    pub fn vector_field(&mut self, name: &str, components: usize) -> FieldId {
        self.check_name(name);
        assert!(
            components > 0,
            "problem {}: vector field {name} needs at least one component",
            self.name
        );
        self.fields.push(Field {
            name: name.to_string(),
            components: Some(components),
        });
        FieldId(self.fields.len() - 1)
    }

    /// Interior residual; loss term = weight · mean(r²) (over points and components).
    ///
    /// # Panics
    /// On a duplicate term name, a negative or non-finite weight, or an invalid need.
    #[track_caller]
    pub fn residual(
        &mut self,
        name: &str,
        weight: f64,
        needs: Vec<Need>,
        f: impl for<'t> Fn(&Eval<'t>) -> Var<'t> + Send + Sync + 'static,
    ) {
        self.push_term(name, weight, TermKind::Residual, needs, Some(Box::new(f)));
    }

    /// A condition on a region (Dirichlet: r = u − g; Neumann: r = d(u, x) − g; any
    /// expression); loss term = weight · mean(r²) over the region's points.
    ///
    /// # Panics
    /// As [`Problem::residual`], and if a face is not on a declared interval coordinate or
    /// the region has no face.
    #[track_caller]
    pub fn condition(
        &mut self,
        name: &str,
        weight: f64,
        region: Region,
        needs: Vec<Need>,
        f: impl for<'t> Fn(&Eval<'t>) -> Var<'t> + Send + Sync + 'static,
    ) {
        let faces = self.faces(&region);
        assert!(
            !faces.is_empty(),
            "problem {}: condition {name}: the region {region:?} has no face",
            self.name
        );
        let kind = TermKind::Condition(region);
        self.push_term(name, weight, kind, needs, Some(Box::new(f)));
    }

    /// Periodicity along an interval coordinate: the listed needs are evaluated on both faces
    /// at paired points; loss = weight · mean((lo − hi)²) over all listed needs.
    ///
    /// # Panics
    /// As [`Problem::residual`], and if `coord` is not an interval coordinate.
    #[track_caller]
    pub fn periodic(&mut self, name: &str, weight: f64, coord: CoordId, needs: Vec<Need>) {
        self.check_coord(coord, name);
        assert!(
            matches!(self.coords[coord.0].domain, Domain::Interval(..)),
            "problem {}: periodic {name}: coordinate {} is not an interval",
            self.name,
            self.coords[coord.0].name
        );
        assert!(
            !needs.is_empty(),
            "problem {}: periodic {name} lists no needs",
            self.name
        );
        self.push_term(name, weight, TermKind::Periodic(coord), needs, None);
    }

    /// A whole-field constraint (mean, moments, two-point correlation, motif on a mask): `f`
    /// sees the interior evaluation (neural: the collocation batch; grid: the whole grid) and
    /// returns the violation; loss term = weight · mean(violation²).
    ///
    /// # Panics
    /// As [`Problem::residual`].
    #[track_caller]
    pub fn invariance(
        &mut self,
        name: &str,
        weight: f64,
        needs: Vec<Need>,
        f: impl for<'t> Fn(&Eval<'t>) -> Var<'t> + Send + Sync + 'static,
    ) {
        self.push_term(name, weight, TermKind::Invariance, needs, Some(Box::new(f)));
    }

    /// Input layout of every neural field: coordinate columns in declaration order (a vector
    /// coordinate takes dim columns), then Input params in declaration order.
    pub fn input_dim(&self) -> usize {
        let coords: usize = self.coords.iter().map(Coord::dim).sum();
        let inputs = self
            .params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Input { .. }))
            .count();
        coords + inputs
    }

    /// The input column of coordinate `c`, component `i`.
    pub(crate) fn col(&self, c: CoordId, i: usize) -> usize {
        self.coords[c.0].col + i
    }

    /// The input column of an `Input` parameter.
    pub(crate) fn param_col(&self, p: ParamId) -> Option<usize> {
        if !matches!(self.params[p.0].kind, ParamKind::Input { .. }) {
            return None;
        }
        let before = self.params[..p.0]
            .iter()
            .filter(|q| matches!(q.kind, ParamKind::Input { .. }))
            .count();
        Some(self.coords.iter().map(Coord::dim).sum::<usize>() + before)
    }

    /// The faces `(coord, component, side)` of a region.
    pub(crate) fn faces(&self, region: &Region) -> Vec<(CoordId, usize, super::Side)> {
        use super::Side::{Hi, Lo};
        match region {
            Region::Face(c, side) => {
                assert!(
                    c.0 < self.coords.len()
                        && matches!(self.coords[c.0].domain, Domain::Interval(..)),
                    "problem {}: a Face needs a declared interval coordinate, got {c:?}",
                    self.name
                );
                vec![(*c, 0, *side)]
            }
            Region::AllFacesExcept(except) => {
                let mut out = Vec::new();
                for (k, c) in self.coords.iter().enumerate() {
                    if except.contains(&CoordId(k)) || c.bounds(0).is_none() {
                        continue;
                    }
                    for i in 0..c.dim() {
                        out.push((CoordId(k), i, Lo));
                        out.push((CoordId(k), i, Hi));
                    }
                }
                out
            }
        }
    }

    /// A human-readable summary: names, domains, input layout, terms and their needs.
    pub fn describe(&self) -> String {
        let mut s = format!("problem {} (input_dim {})\n", self.name, self.input_dim());
        for c in &self.coords {
            let _ = writeln!(
                s,
                "  coord {}: {:?}, columns {}..{}",
                c.name,
                c.domain,
                c.col,
                c.col + c.dim()
            );
        }
        for (k, p) in self.params.iter().enumerate() {
            let col = self.param_col(ParamId(k));
            let _ = writeln!(s, "  param {}: {:?}, column {col:?}", p.name, p.kind);
        }
        for f in &self.fields {
            match f.components {
                None => {
                    let _ = writeln!(s, "  field {}: scalar", f.name);
                }
                Some(k) => {
                    let _ = writeln!(s, "  field {}: vector({k})", f.name);
                }
            }
        }
        for t in &self.terms {
            let kind = match &t.kind {
                super::declare::TermKind::Residual => "residual".to_string(),
                TermKind::Condition(r) => format!("condition on {}", self.region_name(r)),
                TermKind::Periodic(c) => format!("periodic in {}", self.coords[c.0].name),
                TermKind::Invariance => "invariance".to_string(),
            };
            let needs: Vec<String> = t.needs.iter().map(|n| self.need_name(n)).collect();
            let _ = writeln!(
                s,
                "  {kind} {} (weight {}): needs [{}]",
                t.name,
                t.weight,
                needs.join(", ")
            );
        }
        s
    }

    fn region_name(&self, r: &Region) -> String {
        match r {
            Region::Face(c, side) => format!("{} = {side:?}", self.coords[c.0].name),
            Region::AllFacesExcept(ex) => {
                let names: Vec<&str> = ex.iter().map(|c| self.coords[c.0].name.as_str()).collect();
                format!("all faces except [{}]", names.join(", "))
            }
        }
    }

    /// A need written with names, e.g. `d(u, x)` or `d2(mu[1], y[0], t)`.
    pub fn need_name(&self, n: &Need) -> String {
        self.names().need(n)
    }

    /// The names used in messages.
    pub(crate) fn names(&self) -> super::eval::Names {
        super::eval::Names {
            problem: self.name.clone(),
            coords: self
                .coords
                .iter()
                .map(|c| (c.name.clone(), c.dim()))
                .collect(),
            fields: self
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.components))
                .collect(),
            params: self.params.iter().map(|p| p.name.clone()).collect(),
        }
    }

    #[track_caller]
    fn check_name(&self, name: &str) {
        let taken = self.coords.iter().any(|c| c.name == name)
            || self.params.iter().any(|p| p.name == name)
            || self.fields.iter().any(|f| f.name == name);
        assert!(
            !taken,
            "problem {}: the name {name} is declared twice",
            self.name
        );
    }

    #[track_caller]
    fn check_coord(&self, c: CoordId, term: &str) {
        assert!(
            c.0 < self.coords.len(),
            "problem {}: term {term} uses undeclared coordinate {c:?}",
            self.name
        );
    }

    #[track_caller]
    fn push_term(
        &mut self,
        name: &str,
        weight: f64,
        kind: TermKind,
        needs: Vec<Need>,
        f: Option<TermFn>,
    ) {
        assert!(
            !self.terms.iter().any(|t| t.name == name),
            "problem {}: the term name {name} is used twice",
            self.name
        );
        assert!(
            weight.is_finite() && weight >= 0.0,
            "problem {}: term {name} has weight {weight}; weights must be finite and ≥ 0",
            self.name
        );
        for n in &needs {
            self.check_need(n, name);
        }
        self.terms.push(Term {
            name: name.to_string(),
            weight,
            kind,
            needs,
            f,
        });
    }
}
