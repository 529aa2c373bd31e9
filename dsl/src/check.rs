//! Name resolution (with "did you mean" suggestions), ranks, and the per-term set of derivative
//! needs. Every error is a `syn::Error` spanned at the user's token; errors are collected so that
//! one compile shows all of them.

use crate::parse::{DomainDecl, Statement};
use proc_macro2::Span;
use std::collections::HashMap;
use syn::Ident;

/// The built-in operators (call position).
pub const OPERATORS: &[&str] = &[
    "d",
    "d2",
    "grad",
    "div",
    "lap",
    "dot",
    "norm",
    "sum",
    "mean",
    "sin",
    "cos",
    "exp",
    "log",
    "tanh",
    "sqrt",
    "abs",
    "pow",
    "sigmoid",
    "fokker_planck",
    "continuity",
    "hjb",
];

/// Collected errors, reported together.
#[derive(Default)]
pub struct Errors(Vec<syn::Error>);

impl Errors {
    pub fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        self.0.push(syn::Error::new(span, message));
    }
    pub fn add(&mut self, e: syn::Error) {
        self.0.push(e);
    }
    /// All errors combined into one, or `None`.
    pub fn finish(self) -> Option<syn::Error> {
        self.0.into_iter().reduce(|mut a, b| {
            a.combine(b);
            a
        })
    }
}

/// Levenshtein distance (two rows).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `"; did you mean `x`?"` for the closest candidate within edit distance ⌈len/3⌉ (at least 1).
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let limit = name.chars().count().div_ceil(3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map_or(String::new(), |(_, c)| format!("; did you mean `{c}`?"))
}

/// What a declared name refers to (index in its declaration list).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Entity {
    Coord(usize),
    Param(usize),
    Field(usize),
    Function(usize),
}

impl Entity {
    fn what(self) -> &'static str {
        match self {
            Entity::Coord(_) => "a coordinate",
            Entity::Param(_) => "a parameter",
            Entity::Field(_) => "a field",
            Entity::Function(_) => "a function",
        }
    }
}

/// The declared names of a statement.
pub struct Scope<'a> {
    pub st: &'a Statement,
    names: HashMap<String, Entity>,
}

impl<'a> Scope<'a> {
    /// Registers every declaration; duplicates and names that shadow a built-in are errors.
    pub fn build(st: &'a Statement, errors: &mut Errors) -> Scope<'a> {
        let mut scope = Scope {
            st,
            names: HashMap::new(),
        };
        let decls = st
            .coords
            .iter()
            .enumerate()
            .map(|(i, c)| (&c.name, Entity::Coord(i)));
        let decls = decls
            .chain(
                st.params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (&p.name, Entity::Param(i))),
            )
            .chain(
                st.fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (&f.name, Entity::Field(i))),
            )
            .chain(
                st.functions
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (&f.name, Entity::Function(i))),
            );
        for (name, entity) in decls {
            let s = name.to_string();
            if OPERATORS.contains(&s.as_str()) || s == "PI" {
                errors.push(
                    name.span(),
                    format!("`{s}` is a built-in name and cannot be declared"),
                );
            } else if let Some(first) = scope.names.get(&s) {
                errors.push(
                    name.span(),
                    format!("duplicate name `{s}`: already declared as {}", first.what()),
                );
            } else {
                scope.names.insert(s, entity);
            }
        }
        let mut terms: HashMap<String, ()> = HashMap::new();
        for t in &st.terms {
            if terms.insert(t.name.to_string(), ()).is_some() {
                errors.push(t.name.span(), format!("duplicate term name `{}`", t.name));
            }
        }
        scope
    }

    fn names_of(&self, keep: impl Fn(Entity) -> bool) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .names
            .iter()
            .filter(|(_, e)| keep(**e))
            .map(|(n, _)| n.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// Any declared name (value position); `PI` is handled by the caller.
    pub fn lookup(&self, id: &Ident) -> syn::Result<Entity> {
        let s = id.to_string();
        self.names.get(&s).copied().ok_or_else(|| {
            let mut cands = self.names_of(|e| !matches!(e, Entity::Function(_)));
            cands.push("PI");
            let hint = suggest(&s, cands);
            syn::Error::new(id.span(), format!("unknown name `{s}`{hint}"))
        })
    }

    /// A name that must be a field.
    pub fn field(&self, id: &Ident) -> syn::Result<usize> {
        self.expect(id, "field", |e| match e {
            Entity::Field(i) => Some(i),
            _ => None,
        })
    }

    /// A name that must be a coordinate.
    pub fn coord(&self, id: &Ident) -> syn::Result<usize> {
        self.expect(id, "coordinate", |e| match e {
            Entity::Coord(i) => Some(i),
            _ => None,
        })
    }

    fn expect(
        &self,
        id: &Ident,
        kind: &str,
        pick: impl Fn(Entity) -> Option<usize>,
    ) -> syn::Result<usize> {
        let s = id.to_string();
        match self.names.get(&s) {
            Some(e) => pick(*e).ok_or_else(|| {
                syn::Error::new(
                    id.span(),
                    format!("expected a {kind}, but `{s}` is {}", e.what()),
                )
            }),
            None => {
                let hint = suggest(&s, self.names_of(|e| pick(e).is_some()));
                Err(syn::Error::new(
                    id.span(),
                    format!("unknown {kind} `{s}`{hint}"),
                ))
            }
        }
    }

    /// An operator that is neither built in nor declared in `functions`.
    pub fn unknown_operator(&self, id: &Ident) -> syn::Error {
        let s = id.to_string();
        let mut cands: Vec<&str> = OPERATORS.to_vec();
        cands.extend(self.names_of(|e| matches!(e, Entity::Function(_))));
        let hint = suggest(&s, cands);
        let note = if self.names.contains_key(&s) {
            format!("`{s}` is not a function (declare Rust functions in `functions {{ … }}`)")
        } else {
            format!("unknown operator `{s}`{hint}")
        };
        syn::Error::new(id.span(), note)
    }

    /// Input columns of coordinate `c`.
    pub fn coord_dim(&self, c: usize) -> usize {
        self.st.coords[c].domain.dim()
    }

    /// `true` for an interval coordinate (a scalar input column with two faces).
    pub fn is_interval(&self, c: usize) -> bool {
        matches!(self.st.coords[c].domain, DomainDecl::Interval(..))
    }

    /// `true` for an interval or a box (a coordinate with faces).
    pub fn is_bounded(&self, c: usize) -> bool {
        !matches!(self.st.coords[c].domain, DomainDecl::Real(_))
    }

    /// `None` for a scalar field, `Some(k)` for a vector field.
    pub fn components(&self, f: usize) -> Option<usize> {
        self.st.fields[f].components
    }
}

/// The rank of a value at each point.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rank {
    /// A compile-time or Rust constant: broadcasts against anything.
    Const,
    /// One value per point (or a whole-field reduction).
    Scalar,
    /// `k` values per point.
    Vector(usize),
    /// A user function's result: not checked.
    Unknown,
}

impl Rank {
    pub fn describe(self) -> String {
        match self {
            Rank::Const => "a constant".into(),
            Rank::Scalar => "a scalar".into(),
            Rank::Vector(k) => format!("a vector of {k} components"),
            Rank::Unknown => "of unknown rank".into(),
        }
    }
    /// Whether `+`, `-` or `=` may combine the two.
    pub fn agrees(self, other: Rank) -> bool {
        matches!(
            (self, other),
            (Rank::Const | Rank::Unknown, _) | (_, Rank::Const | Rank::Unknown)
        ) || self == other
    }
    /// The rank of an elementwise combination of agreeing ranks (scalars scale vectors).
    pub fn join(self, other: Rank) -> Rank {
        match (self, other) {
            (Rank::Unknown, _) | (_, Rank::Unknown) => Rank::Unknown,
            (Rank::Vector(k), _) | (_, Rank::Vector(k)) => Rank::Vector(k),
            (Rank::Scalar, _) | (_, Rank::Scalar) => Rank::Scalar,
            _ => Rank::Const,
        }
    }
}

/// One derivative need, by declaration indices (`sigma`: index into the statement's σ blocks).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NeedKey {
    Value(usize),
    D {
        field: usize,
        comp: usize,
        coord: (usize, usize),
    },
    D2 {
        field: usize,
        comp: usize,
        a: (usize, usize),
        b: (usize, usize),
    },
    Grad {
        field: usize,
        coord: usize,
    },
    Div {
        field: usize,
        coord: usize,
    },
    Lap {
        field: usize,
        coord: usize,
    },
    Diffusion {
        field: usize,
        coord: usize,
        sigma: usize,
    },
}

/// The needs of one term, each once; a need's position is its index in `Eval` lookups.
#[derive(Default)]
pub struct NeedSet(pub Vec<NeedKey>);

impl NeedSet {
    /// The index of `key`, inserting it if new. Mixed second derivatives are symmetric, so
    /// `D2` pairs are stored in sorted order and `d(u, x, y)` and `d(u, y, x)` share one need.
    pub fn index(&mut self, key: NeedKey) -> usize {
        let key = match key {
            NeedKey::D2 { field, comp, a, b } if b < a => NeedKey::D2 {
                field,
                comp,
                a: b,
                b: a,
            },
            k => k,
        };
        if let Some(i) = self.0.iter().position(|k| *k == key) {
            return i;
        }
        self.0.push(key);
        self.0.len() - 1
    }
}
