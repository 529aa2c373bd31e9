//! The line searches of [`Lbfgs`]: strong Wolfe (unbounded) and projected backtracking (bounded).

use super::lbfgs::Lbfgs;
use crate::error::{Error, Result};

/// One evaluated point.
#[derive(Clone)]
pub(super) struct Point {
    pub(super) x: Vec<f64>,
    pub(super) f: f64,
    pub(super) g: Vec<f64>,
}

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A trial step: `α`, `φ(α) = f(x + αd)`, `φ′(α) = ∇f·d`, and the point.
#[derive(Clone)]
struct Trial {
    a: f64,
    phi: f64,
    dphi: f64,
    point: Point,
}

type Objective<'a> = dyn FnMut(&[f64]) -> Result<(f64, Vec<f64>)> + 'a;

fn evaluate(f: &mut Objective<'_>, x: Vec<f64>, evals: &mut usize) -> Result<Point> {
    *evals += 1;
    let (v, g) = f(&x)?;
    if g.len() != x.len() {
        return Err(Error::InvalidInput {
            op: "lbfgs".into(),
            detail: format!("gradient of length {} for {} variables", g.len(), x.len()),
        });
    }
    Ok(Point { x, f: v, g })
}

/// The minimiser of the cubic through `(a, φa, φ′a)` and `(b, φb, φ′b)` (N&W eq. 3.59),
/// safeguarded into the middle 80 % of the interval (bisection if the cubic has none).
fn cubic_step(lo: &Trial, hi: &Trial) -> f64 {
    let (a, b) = (lo.a, hi.a);
    let d1 = lo.dphi + hi.dphi - 3.0 * (lo.phi - hi.phi) / (a - b);
    let disc = d1 * d1 - lo.dphi * hi.dphi;
    let mid = 0.5 * (a + b);
    let t = if disc >= 0.0 {
        let d2 = (b - a).signum() * disc.sqrt();
        b - (b - a) * (hi.dphi + d2 - d1) / (hi.dphi - lo.dphi + 2.0 * d2)
    } else {
        mid
    };
    let (l, h) = (a.min(b), a.max(b));
    let margin = 0.1 * (h - l);
    if t.is_finite() {
        t.clamp(l + margin, h - margin)
    } else {
        mid
    }
}

impl Lbfgs {
    fn trial(
        &self,
        x: &Point,
        d: &[f64],
        a: f64,
        f: &mut Objective<'_>,
        evals: &mut usize,
    ) -> Result<Trial> {
        let xs = x.x.iter().zip(d).map(|(xi, di)| xi + a * di).collect();
        let point = evaluate(f, xs, evals)?;
        let dphi = dot(&point.g, d);
        Ok(Trial {
            a,
            phi: point.f,
            dphi,
            point,
        })
    }

    /// Strong-Wolfe line search (N&W Alg. 3.5); `None` if it fails within the budget.
    pub(super) fn wolfe_search(
        &self,
        x: &Point,
        d: &[f64],
        first: bool,
        f: &mut Objective<'_>,
        evals: &mut usize,
    ) -> Result<Option<Point>> {
        let c = &self.config;
        let dphi0 = dot(&x.g, d);
        let dmax = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut a = if first { (1.0 / dmax).min(1.0) } else { 1.0 };
        let mut prev = Trial {
            a: 0.0,
            phi: x.f,
            dphi: dphi0,
            point: x.clone(),
        };
        for i in 0..c.max_line_search {
            let t = self.trial(x, d, a, f, evals)?;
            let armijo_holds = t.phi <= x.f + c.c1 * a * dphi0;
            if !armijo_holds || (i > 0 && t.phi >= prev.phi) {
                return self.zoom(x, d, prev, t, f, evals);
            }
            if t.dphi.abs() <= -c.c2 * dphi0 {
                return Ok(Some(t.point));
            }
            if t.dphi >= 0.0 {
                return self.zoom(x, d, t, prev, f, evals);
            }
            prev = t;
            a *= 2.0;
        }
        Ok(None)
    }

    /// The zoom phase (N&W Alg. 3.6): `lo` satisfies Armijo with the lowest value so far, and
    /// `[lo, hi]` brackets a strong-Wolfe step.
    fn zoom(
        &self,
        x: &Point,
        d: &[f64],
        mut lo: Trial,
        mut hi: Trial,
        f: &mut Objective<'_>,
        evals: &mut usize,
    ) -> Result<Option<Point>> {
        let c = &self.config;
        let dphi0 = dot(&x.g, d);
        for _ in 0..c.max_line_search {
            if (hi.a - lo.a).abs() < 1e-16 * lo.a.abs().max(1e-300) {
                break;
            }
            let a = cubic_step(&lo, &hi);
            let t = self.trial(x, d, a, f, evals)?;
            let armijo_holds = t.phi <= x.f + c.c1 * a * dphi0;
            if !armijo_holds || t.phi >= lo.phi {
                hi = t;
            } else {
                if t.dphi.abs() <= -c.c2 * dphi0 {
                    return Ok(Some(t.point));
                }
                if t.dphi * (hi.a - lo.a) >= 0.0 {
                    hi = lo;
                }
                lo = t;
            }
        }
        // Budget spent: accept the best Armijo point if it decreased f.
        Ok((lo.a > 0.0 && lo.phi < x.f).then_some(lo.point))
    }

    /// Projected backtracking: `x(α) = P(x + αd)`, accepted when
    /// `f(x(α)) ≤ f(x) + c₁ g·(x(α) − x)`; `α` halves from 1.
    pub(super) fn projected_search(
        &self,
        x: &Point,
        d: &[f64],
        f: &mut Objective<'_>,
        evals: &mut usize,
    ) -> Result<Option<Point>> {
        let c = &self.config;
        let mut a = if self.has_pairs() {
            1.0
        } else {
            (1.0 / d.iter().fold(0.0f64, |m, v| m.max(v.abs()))).min(1.0)
        };
        for _ in 0..c.max_line_search {
            let mut xs: Vec<f64> = x.x.iter().zip(d).map(|(xi, di)| xi + a * di).collect();
            self.project(&mut xs);
            let step: Vec<f64> = xs.iter().zip(&x.x).map(|(p, q)| p - q).collect();
            let decrease = dot(&x.g, &step);
            if decrease >= 0.0 {
                return Ok(None);
            }
            let p = evaluate(f, xs, evals)?;
            if p.f <= x.f + c.c1 * decrease {
                return Ok(Some(p));
            }
            a *= 0.5;
        }
        Ok(None)
    }
}
