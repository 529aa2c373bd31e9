//! Limited-memory BFGS with a strong-Wolfe line search and optional box bounds.
//!
//! The search direction is `d = −H g` from the two-loop recursion over the last `m` pairs
//! `sₖ = xₖ₊₁ − xₖ`, `yₖ = gₖ₊₁ − gₖ` (kept only when `sₖ·yₖ > 0`), with `H₀ = (s·y / y·y) I`
//! (Nocedal & Wright, Alg. 7.4). Without bounds the step length satisfies the strong Wolfe
//! conditions `f(x + αd) ≤ f(x) + c₁α g·d` and `|∇f(x + αd)·d| ≤ c₂|g·d|` (N&W Alg. 3.5–3.6,
//! cubic interpolation in the zoom).
//!
//! With bounds `l ≤ x ≤ u` the method is projected: a variable at a bound whose gradient points
//! outwards is held fixed (its components of `g` and `d` are zeroed), the step follows the
//! projected path `P(x + αd)` and is accepted by backtracking on the Armijo condition
//! `f(P(x + αd)) ≤ f(x) + c₁ g·(P(x + αd) − x)`. Convergence is measured by the projected
//! gradient (zero in the components of variables held at a bound). This is simpler than
//! L-BFGS-B's generalised Cauchy point and subspace minimisation, and enough for fits whose
//! active set settles early.

use crate::error::{Error, Result};
use crate::nn::{Checkpoint, ParamId, ParamStore};
use crate::tensor::Tensor;
use std::collections::VecDeque;

/// Settings of [`Lbfgs`].
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsConfig {
    /// Pairs `(s, y)` kept (default 10).
    pub history: usize,
    /// Maximum iterations (default 1000).
    pub max_iter: usize,
    /// Stop when `‖projected gradient‖∞ ≤ gtol` (default 1e-10).
    pub gtol: f64,
    /// Stop when `(fₖ − fₖ₊₁) ≤ ftol·max(|fₖ|, |fₖ₊₁|, 1)` (default 0: off).
    pub ftol: f64,
    /// Armijo constant `c₁` (default 1e-4).
    pub c1: f64,
    /// Curvature constant `c₂` (default 0.9).
    pub c2: f64,
    /// Function evaluations allowed per line search (default 25).
    pub max_line_search: usize,
    /// Lower bounds, one per variable (`None`: unbounded below).
    pub lower: Option<Vec<f64>>,
    /// Upper bounds, one per variable (`None`: unbounded above).
    pub upper: Option<Vec<f64>>,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            history: 10,
            max_iter: 1000,
            gtol: 1e-10,
            ftol: 0.0,
            c1: 1e-4,
            c2: 0.9,
            max_line_search: 25,
            lower: None,
            upper: None,
        }
    }
}

/// What a run of [`Lbfgs::minimize`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsReport {
    /// Iterations (accepted steps).
    pub iterations: usize,
    /// Function evaluations.
    pub evaluations: usize,
    /// The final objective.
    pub f: f64,
    /// The final `‖projected gradient‖∞`.
    pub grad_norm: f64,
}

/// L-BFGS (see the [module docs](self)). The curvature pairs persist between calls to
/// [`Lbfgs::minimize`] and are saved in checkpoints.
#[derive(Clone, Debug)]
pub struct Lbfgs {
    /// The settings.
    pub config: LbfgsConfig,
    pairs: VecDeque<(Vec<f64>, Vec<f64>)>,
}

use super::line_search::{dot, Point};

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn not_converged(op: &str, r: &LbfgsReport) -> Error {
    Error::NotConverged {
        op: op.into(),
        iterations: r.iterations,
        residual: r.grad_norm,
    }
}

impl Lbfgs {
    /// An optimiser with the given settings.
    pub fn new(config: LbfgsConfig) -> Lbfgs {
        Lbfgs {
            config,
            pairs: VecDeque::new(),
        }
    }

    /// Minimises `f` from `x` (overwritten by the best point found); `f(x)` returns the value
    /// and the gradient.
    ///
    /// # Errors
    /// [`Error::NotConverged`] when `max_iter` is reached or the line search fails before the
    /// tolerance is met (`x` then holds the last accepted point); `NonFinite` if `f` returns a
    /// non-finite value at the start; whatever `f` returns.
    ///
    /// # Panics
    /// If the bounds have the wrong length or a lower bound exceeds its upper bound.
    pub fn minimize(
        &mut self,
        x: &mut [f64],
        mut f: impl FnMut(&[f64]) -> Result<(f64, Vec<f64>)>,
    ) -> Result<LbfgsReport> {
        self.check_bounds(x.len());
        self.project(x);
        let mut evals = 1;
        let (f0, g0) = f(x)?;
        if !f0.is_finite() || g0.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                op: "lbfgs".into(),
                what: "the objective at the start".into(),
            });
        }
        let mut cur = Point {
            x: x.to_vec(),
            f: f0,
            g: g0,
        };
        for it in 0..self.config.max_iter {
            let pg = self.projected_gradient(&cur);
            if max_abs(&pg) <= self.config.gtol {
                return Ok(self.finish(x, &cur, it, evals));
            }
            let d = self.direction(&pg);
            let next = if self.bounded() {
                self.projected_search(&cur, &d, &mut f, &mut evals)?
            } else {
                self.wolfe_search(&cur, &d, it == 0, &mut f, &mut evals)?
            };
            let Some(next) = next else {
                let report = self.finish(x, &cur, it, evals);
                return Err(not_converged("lbfgs (line search)", &report));
            };
            self.remember(&cur, &next);
            let scale = cur.f.abs().max(next.f.abs()).max(1.0);
            let stalled = self.config.ftol > 0.0 && cur.f - next.f <= self.config.ftol * scale;
            cur = next;
            if stalled {
                return Ok(self.finish(x, &cur, it + 1, evals));
            }
        }
        let report = self.finish(x, &cur, self.config.max_iter, evals);
        Err(not_converged("lbfgs", &report))
    }

    /// Copies the point into `x` and describes it.
    fn finish(
        &self,
        x: &mut [f64],
        p: &Point,
        iterations: usize,
        evaluations: usize,
    ) -> LbfgsReport {
        x.copy_from_slice(&p.x);
        LbfgsReport {
            iterations,
            evaluations,
            f: p.f,
            grad_norm: max_abs(&self.projected_gradient(p)),
        }
    }

    /// Minimises over the parameters `ids` of a store; `f(store)` returns the loss and the
    /// gradients of those parameters flattened in the order of `ids` (see
    /// [`ParamStore::flat`]). Bounds, if set, are per flattened entry.
    ///
    /// # Errors
    /// As [`Lbfgs::minimize`]; the store holds the last accepted point.
    pub fn minimize_store(
        &mut self,
        store: &mut ParamStore,
        ids: &[ParamId],
        mut f: impl FnMut(&ParamStore) -> Result<(f64, Vec<f64>)>,
    ) -> Result<LbfgsReport> {
        let mut x = store.flat(ids);
        let mut scratch = store.clone();
        let result = self.minimize(&mut x, |v| {
            scratch.set_flat(ids, v);
            f(&scratch)
        });
        store.set_flat(ids, &x);
        result
    }

    /// Forgets the curvature pairs (e.g. when the objective changes).
    pub fn reset(&mut self) {
        self.pairs.clear();
    }

    /// Writes the curvature pairs (`optim:lbfgs:s{k}`, `optim:lbfgs:y{k}`, oldest first).
    pub fn save_state(&self, ckpt: &mut Checkpoint) {
        ckpt.insert("optim:lbfgs:pairs", Tensor::scalar(self.pairs.len() as f64));
        for (k, (s, y)) in self.pairs.iter().enumerate() {
            ckpt.insert(
                &format!("optim:lbfgs:s{k}"),
                Tensor::from_vec(s.clone(), &[s.len()]),
            );
            ckpt.insert(
                &format!("optim:lbfgs:y{k}"),
                Tensor::from_vec(y.clone(), &[y.len()]),
            );
        }
    }

    /// Restores the pairs written by [`Lbfgs::save_state`].
    ///
    /// # Errors
    /// `InvalidInput` if an entry is missing or the lengths disagree; nothing changes then.
    pub fn load_state(&mut self, ckpt: &Checkpoint) -> Result<()> {
        let bad = |detail: String| Error::InvalidInput {
            op: "lbfgs load_state".into(),
            detail,
        };
        let n = ckpt
            .get("optim:lbfgs:pairs")
            .filter(|t| t.len() == 1)
            .ok_or_else(|| bad("missing or malformed optim:lbfgs:pairs".into()))?
            .item() as usize;
        let mut pairs = VecDeque::new();
        for k in 0..n {
            let get = |name: String| {
                ckpt.get(&name)
                    .cloned()
                    .ok_or_else(|| bad(format!("missing {name}")))
            };
            let (s, y) = (
                get(format!("optim:lbfgs:s{k}"))?,
                get(format!("optim:lbfgs:y{k}"))?,
            );
            let len = pairs
                .front()
                .map_or(s.len(), |(p, _): &(Vec<f64>, Vec<f64>)| p.len());
            if s.len() != len || y.len() != len {
                return Err(bad(format!(
                    "pair {k} has lengths {} and {}, expected {len}",
                    s.len(),
                    y.len()
                )));
            }
            pairs.push_back((s.into_vec(), y.into_vec()));
        }
        self.pairs = pairs;
        Ok(())
    }

    pub(super) fn has_pairs(&self) -> bool {
        !self.pairs.is_empty()
    }

    pub(super) fn bounded(&self) -> bool {
        self.config.lower.is_some() || self.config.upper.is_some()
    }

    #[track_caller]
    fn check_bounds(&self, n: usize) {
        for b in [&self.config.lower, &self.config.upper]
            .into_iter()
            .flatten()
        {
            assert_eq!(
                b.len(),
                n,
                "Lbfgs: bounds of length {} for {n} variables",
                b.len()
            );
        }
        if let (Some(l), Some(u)) = (&self.config.lower, &self.config.upper) {
            assert!(
                l.iter().zip(u).all(|(a, b)| a <= b),
                "Lbfgs: a lower bound exceeds its upper bound"
            );
        }
    }

    pub(super) fn project(&self, x: &mut [f64]) {
        if let Some(l) = &self.config.lower {
            x.iter_mut().zip(l).for_each(|(v, &b)| *v = v.max(b));
        }
        if let Some(u) = &self.config.upper {
            x.iter_mut().zip(u).for_each(|(v, &b)| *v = v.min(b));
        }
    }

    /// `g` with the components of variables held at a bound (gradient pointing out) zeroed.
    fn projected_gradient(&self, p: &Point) -> Vec<f64> {
        let (l, u) = (&self.config.lower, &self.config.upper);
        (0..p.x.len())
            .map(|i| {
                let at_lower = l.as_ref().is_some_and(|l| p.x[i] <= l[i]) && p.g[i] > 0.0;
                let at_upper = u.as_ref().is_some_and(|u| p.x[i] >= u[i]) && p.g[i] < 0.0;
                if at_lower || at_upper {
                    0.0
                } else {
                    p.g[i]
                }
            })
            .collect()
    }

    /// The two-loop recursion `d = −H g` on the free variables (zeros in `g` stay zero).
    fn direction(&self, g: &[f64]) -> Vec<f64> {
        let mut q = g.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y) in self.pairs.iter().rev() {
            let a = dot(s, &q) / dot(y, s);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let Some((s, y)) = self.pairs.back() {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, y), a) in self.pairs.iter().zip(alphas.iter().rev()) {
            let b = dot(y, &q) / dot(y, s);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut d: Vec<f64> = q
            .iter()
            .zip(g)
            .map(|(v, gi)| if *gi == 0.0 { 0.0 } else { -v })
            .collect();
        if dot(&d, g) >= 0.0 {
            d = g.iter().map(|v| -v).collect();
        }
        d
    }

    fn remember(&mut self, a: &Point, b: &Point) {
        let s: Vec<f64> = b.x.iter().zip(&a.x).map(|(p, q)| p - q).collect();
        let y: Vec<f64> = b.g.iter().zip(&a.g).map(|(p, q)| p - q).collect();
        let sy = dot(&s, &y);
        if sy > 1e-300 && sy > f64::EPSILON * dot(&y, &y) {
            if self.pairs.len() == self.config.history {
                self.pairs.pop_front();
            }
            self.pairs.push_back((s, y));
        }
    }
}
