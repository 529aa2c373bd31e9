//! Neural evaluation: the fields are networks (or any tape function) of the input batch
//! `[B, input_dim]`; each point set (the interior, one per condition, two per periodic term) is
//! evaluated once per field with the merged needs of the terms that use it.

use super::backend::{jet_needs, JetNet, Nested};
use super::declare::{Term, TermKind};
use super::eval::{Eval, Names};
use super::{Collocation, FieldId, Loss, LossTerm, Need, ParamId, ParamKind, Problem, Side};
use crate::autodiff::{Tape, Var};
use crate::error::{Error, Result};
use crate::nn::{Bound, FourierMlp, Mlp, Module};
use crate::pde::hutchinson::HutchinsonConfig;
use crate::tensor::Tensor;
use std::rc::Rc;

/// How a neural field's input derivatives are computed.
#[derive(Clone, Debug)]
pub enum Method {
    /// Forward jets through an `Mlp` / `FourierMlp`: one pass for the value, the first
    /// derivatives and one second-order group; one more pass per extra group.
    Jet,
    /// Nested reverse mode: one gradient sweep per field component, one sweep per Hessian row
    /// (`∂²u/∂a∂b` reads row `a`; `tr(σσᵀ∇²u)` one sweep per column of σ).
    Nested,
    /// Nested reverse mode with Hutchinson estimates of the Laplacian, diffusion and divergence
    /// needs (unbiased; exact gradients and `D`/`D2` entries).
    Hutchinson(HutchinsonConfig),
}

/// How to evaluate one field: an `Mlp` / `FourierMlp` (jets possible) or any tape function of
/// the input batch `[B, input_dim]` (nested / Hutchinson only). A scalar field returns `[B]` or
/// `[B, 1]`, a vector field with `k` components `[B, k]`. A `FourierMlp` reads its last input
/// column as time.
pub enum NeuralField<'a> {
    /// A multilayer perceptron.
    Mlp(&'a Mlp, Method),
    /// The Path Integral Sampler's Fourier-embedded network.
    Fourier(&'a FourierMlp, Method),
    /// Any function of the input batch on the tape.
    #[allow(clippy::type_complexity)]
    Func(Box<dyn for<'t> Fn(Var<'t>) -> Var<'t> + 'a>, Method),
}

impl NeuralField<'_> {
    fn method(&self) -> &Method {
        match self {
            NeuralField::Mlp(_, m) | NeuralField::Fourier(_, m) | NeuralField::Func(_, m) => m,
        }
    }

    fn forward<'t>(&self, p: &Bound<'t>, x: Var<'t>) -> Var<'t> {
        match self {
            NeuralField::Mlp(n, _) => n.forward(p, x),
            NeuralField::Fourier(n, _) => n.forward(p, x),
            NeuralField::Func(f, _) => f(x),
        }
    }
}

impl Problem {
    /// The loss on neural fields at the collocation points `pts` (see [`Problem::sample`]).
    /// `p` binds the networks' weights; `given` supplies every `Given` parameter a term reads.
    ///
    /// # Errors
    /// [`Error::NonFinite`] naming the problem and the term if a term's value is NaN or ±∞.
    ///
    /// # Panics
    /// If a field some term needs has no binding, a point set is not `[n, input_dim]`, the
    /// number of region sets does not match the condition/periodic terms, `Method::Jet` is asked
    /// of a `Func` field, or a field returns the wrong shape.
    pub fn loss_neural<'t>(
        &self,
        tape: &'t Tape,
        p: &Bound<'t>,
        fields: &[(FieldId, NeuralField<'_>)],
        given: &[(ParamId, Var<'t>)],
        pts: &Collocation,
    ) -> Result<Loss<'t>> {
        self.check_bindings(fields.iter().map(|(f, _)| *f), "loss_neural");
        self.check_points(pts);
        let names = Rc::new(self.names());
        let interior = |k: &TermKind| matches!(k, TermKind::Residual | TermKind::Invariance);
        let all: Vec<Need> = (0..self.fields.len())
            .flat_map(|f| self.merged_needs(FieldId(f), interior))
            .collect();
        let at_interior = self.needs_at(tape, p, fields, &pts.interior, &all);
        let mut region = pts.regions.iter();
        let mut out = Vec::with_capacity(self.terms.len());
        for term in &self.terms {
            let value = match &term.kind {
                TermKind::Residual | TermKind::Invariance => {
                    let e = self.eval(tape, term, &at_interior, &pts.interior, given, &names);
                    mean_square(call(term, &e))
                }
                TermKind::Condition(_) => {
                    let x = region.next().expect("checked count");
                    let vals = self.needs_at(tape, p, fields, x, &term.needs);
                    let e = self.eval(tape, term, &vals, x, given, &names);
                    mean_square(call(term, &e))
                }
                TermKind::Periodic(c) => {
                    let lo = region.next().expect("checked count");
                    let mut hi = lo.clone();
                    self.place_on_faces(&mut hi, &super::Region::Face(*c, Side::Hi));
                    let a = self.needs_at(tape, p, fields, lo, &term.needs);
                    let b = self.needs_at(tape, p, fields, &hi, &term.needs);
                    periodic_gap(&a, &b)
                }
            };
            out.push(self.finish_term(term, value)?);
        }
        Ok(total(tape, out))
    }

    /// Checks that a term's value is finite and wraps it.
    pub(crate) fn finish_term<'t>(&self, term: &Term, value: Var<'t>) -> Result<LossTerm<'t>> {
        if value.value().has_non_finite() {
            return Err(Error::NonFinite {
                op: format!("problem {}", self.name),
                what: format!("loss term {} (value {})", term.name, value.item()),
            });
        }
        Ok(LossTerm {
            name: term.name.clone(),
            weight: term.weight,
            value,
        })
    }

    /// Panics if a field some term needs is not among `bound`.
    #[track_caller]
    pub(crate) fn check_bindings(&self, bound: impl Iterator<Item = FieldId> + Clone, who: &str) {
        for t in &self.terms {
            for n in &t.needs {
                let f = n.field();
                assert!(
                    bound.clone().any(|b| b == f),
                    "problem {}: term {} needs field {}, which has no binding in {who}",
                    self.name,
                    t.name,
                    self.fields[f.0].name
                );
            }
        }
    }

    #[track_caller]
    fn check_points(&self, pts: &Collocation) {
        let d = self.input_dim();
        let want = self
            .terms
            .iter()
            .filter(|t| matches!(t.kind, TermKind::Condition(_) | TermKind::Periodic(_)))
            .count();
        assert!(
            pts.regions.len() == want,
            "problem {}: loss_neural got {} region point sets for {want} condition/periodic terms",
            self.name,
            pts.regions.len()
        );
        for (k, x) in std::iter::once(&pts.interior)
            .chain(&pts.regions)
            .enumerate()
        {
            assert!(
                x.ndim() == 2 && x.shape()[1] == d,
                "problem {}: point set {k} must be [n, input_dim = {d}], got {:?}",
                self.name,
                x.shape()
            );
        }
    }

    /// Every need in `needs` at the points `x`, each field evaluated once.
    fn needs_at<'t>(
        &self,
        tape: &'t Tape,
        p: &Bound<'t>,
        fields: &[(FieldId, NeuralField<'_>)],
        x: &Tensor,
        needs: &[Need],
    ) -> Vec<(Need, Var<'t>)> {
        let mut out = Vec::with_capacity(needs.len());
        for (fid, field) in fields {
            let mine: Vec<Need> = needs
                .iter()
                .filter(|n| n.field() == *fid)
                .cloned()
                .collect();
            if mine.is_empty() {
                continue;
            }
            let vals = self.field_needs(tape, p, *fid, field, x, &mine);
            out.extend(mine.into_iter().zip(vals));
        }
        out
    }

    /// The needs of one field at `x`.
    fn field_needs<'t>(
        &self,
        tape: &'t Tape,
        p: &Bound<'t>,
        fid: FieldId,
        field: &NeuralField<'_>,
        x: &Tensor,
        needs: &[Need],
    ) -> Vec<Var<'t>> {
        let d = x.shape()[1];
        let cols: Vec<_> = needs.iter().map(|n| self.resolve(n, d)).collect();
        let only_value = needs.iter().all(|n| matches!(n, Need::Value(_)));
        let vals = match (field, field.method()) {
            _ if only_value => {
                let u = self.field_values(fid, field.forward(p, tape.constant(x.clone())), x);
                vec![u; needs.len()]
            }
            (NeuralField::Mlp(net, _), Method::Jet) => {
                let width = net.layers.last().map_or(d, |l| l.out_features);
                self.check_width(fid, width);
                jet_needs(JetNet::Mlp(net), p, tape.constant(x.clone()), &cols)
            }
            (NeuralField::Fourier(net, _), Method::Jet) => {
                self.check_width(fid, net.output.out_features);
                jet_needs(JetNet::Fourier(net), p, tape.constant(x.clone()), &cols)
            }
            (NeuralField::Func(..), Method::Jet) => panic!(
                "problem {}: field {}: Method::Jet needs an Mlp or FourierMlp; a Func field \
                 supports Method::Nested or Method::Hutchinson",
                self.name, self.fields[fid.0].name
            ),
            (_, m) => {
                let xl = tape.var(x.clone());
                let u = self.field_values(fid, field.forward(p, xl), x);
                let h = match m {
                    Method::Hutchinson(cfg) => Some(cfg.clone()),
                    _ => None,
                };
                let mut nested = Nested::new(xl, u, h);
                cols.iter().map(|c| nested.get(c)).collect()
            }
        };
        // Values come back [B, n]; a scalar field's value is [B].
        let b = x.shape()[0];
        needs
            .iter()
            .zip(vals)
            .map(|(n, v)| match n {
                Need::Value(f) if self.components(*f).is_none() => v.reshape(&[b]),
                _ => v,
            })
            .collect()
    }

    /// Panics unless a network's output width matches the field.
    #[track_caller]
    fn check_width(&self, fid: FieldId, width: usize) {
        let n = self.components(fid).unwrap_or(1);
        assert!(
            width == n,
            "problem {}: field {} has {n} component(s) but its network outputs {width}",
            self.name,
            self.fields[fid.0].name
        );
    }

    /// A field's output as `[B, n]` (`n = 1` for a scalar field), shape-checked.
    #[track_caller]
    fn field_values<'t>(&self, fid: FieldId, u: Var<'t>, x: &Tensor) -> Var<'t> {
        let b = x.shape()[0];
        let n = self.components(fid).unwrap_or(1);
        let s = u.shape();
        let ok = s.as_slice() == [b, n] || (n == 1 && s.as_slice() == [b]);
        assert!(
            ok,
            "problem {}: field {} must return [{b}, {n}]{}, got {:?}",
            self.name,
            self.fields[fid.0].name,
            if n == 1 {
                format!(" or [{b}]")
            } else {
                String::new()
            },
            s.as_slice()
        );
        u.reshape(&[b, n])
    }

    /// The [`Eval`] of a term at the points `x`.
    fn eval<'t>(
        &self,
        tape: &'t Tape,
        term: &Term,
        vals: &[(Need, Var<'t>)],
        x: &Tensor,
        given: &[(ParamId, Var<'t>)],
        names: &Rc<Names>,
    ) -> Eval<'t> {
        let b = x.shape()[0];
        let xc = tape.constant(x.clone());
        let coords = self
            .coords
            .iter()
            .map(|c| {
                let v = xc.slice(1, c.col..c.col + c.dim());
                if c.dim() == 1 {
                    v.reshape(&[b])
                } else {
                    v
                }
            })
            .collect();
        let params = (0..self.params.len())
            .map(|k| match self.params[k].kind {
                ParamKind::Input { .. } => {
                    let col = self.param_col(ParamId(k)).expect("input column");
                    Some(xc.slice(1, col..col + 1).reshape(&[b]))
                }
                ParamKind::Given => given.iter().find(|(q, _)| q.0 == k).map(|(_, v)| *v),
            })
            .collect();
        Eval {
            tape,
            term: term.name.clone(),
            needs: vals
                .iter()
                .filter(|(n, _)| term.needs.contains(n))
                .cloned()
                .collect(),
            coords,
            params,
            names: names.clone(),
        }
    }
}

/// Runs a term's closure.
pub(crate) fn call<'t>(term: &Term, e: &Eval<'t>) -> Var<'t> {
    (term.f.as_ref().expect("a term with a closure"))(e)
}

/// `mean(r²)` over all entries.
pub(crate) fn mean_square(r: Var<'_>) -> Var<'_> {
    r.square().mean()
}

/// `mean((a − b)²)` over the entries of all listed needs together.
pub(crate) fn periodic_gap<'t>(a: &[(Need, Var<'t>)], b: &[(Need, Var<'t>)]) -> Var<'t> {
    let diffs: Vec<Var<'t>> = a
        .iter()
        .zip(b)
        .map(|((_, x), (_, y))| {
            let d = *x - *y;
            d.reshape(&[d.len()])
        })
        .collect();
    mean_square(Var::concat(&diffs, 0))
}

/// The [`Loss`] from its terms: `total = Σ weight · value`.
pub(crate) fn total<'t>(tape: &'t Tape, terms: Vec<LossTerm<'t>>) -> Loss<'t> {
    let mut sum = tape.scalar(0.0);
    for t in &terms {
        sum = sum + t.value * t.weight;
    }
    Loss { terms, total: sum }
}
