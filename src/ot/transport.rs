//! The result of an exact solve and its optimality certificate.

use crate::error::{Error, Result};
use crate::Tensor;

/// One nonzero of a sparse transport plan: `mass` moves from source point `i` to target `j`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanEntry {
    /// Source index, `0 ≤ i < n`.
    pub i: usize,
    /// Target index, `0 ≤ j < m`.
    pub j: usize,
    /// The transported mass `Pᵢⱼ > 0`.
    pub mass: f64,
}

/// An optimal transport plan with its cost and dual potentials.
///
/// * `cost = ⟨P, C⟩ = Σ Pᵢⱼ Cᵢⱼ`;
/// * `plan`: the nonzeros of `P` (at most `n + m − 1`: a basic solution of the LP);
/// * `alpha`, `beta`: dual potentials with `αᵢ + βⱼ ≤ Cᵢⱼ` for all `i, j`, equality where
///   `Pᵢⱼ > 0`, and `Σ aᵢαᵢ + Σ bⱼβⱼ = cost` (strong duality). They are fixed up to
///   `α + t, β − t`; the solvers return them with `mean(α) = mean(β)`.
#[derive(Clone, Debug)]
pub struct Transport {
    /// The optimal value `⟨P*, C⟩`.
    pub cost: f64,
    /// The nonzero entries of the optimal plan.
    pub plan: Vec<PlanEntry>,
    /// Dual potentials of the source points (length `n`).
    pub alpha: Vec<f64>,
    /// Dual potentials of the target points (length `m`).
    pub beta: Vec<f64>,
    /// Simplex pivots (or augmentations) performed.
    pub iterations: usize,
}

impl Transport {
    /// Number of source points `n`.
    pub fn n(&self) -> usize {
        self.alpha.len()
    }

    /// Number of target points `m`.
    pub fn m(&self) -> usize {
        self.beta.len()
    }

    /// The plan as a dense `n×m` tensor.
    pub fn dense_plan(&self) -> Tensor {
        let (n, m) = (self.n(), self.m());
        let mut p = crate::tensor::pool::filled(n * m, 0.0);
        for e in &self.plan {
            p[e.i * m + e.j] += e.mass;
        }
        Tensor::from_vec(p, &[n, m])
    }

    /// Shifts the duals to `α + t, β − t` with `t` chosen so that `mean(α) = mean(β)`.
    pub(crate) fn balance_duals(&mut self) {
        let ma = self.alpha.iter().sum::<f64>() / self.n() as f64;
        let mb = self.beta.iter().sum::<f64>() / self.m() as f64;
        let t = 0.5 * (mb - ma);
        self.alpha.iter_mut().for_each(|x| *x += t);
        self.beta.iter_mut().for_each(|x| *x -= t);
    }
}

/// Verifies that `t` is an optimal solution of the transport LP for `(a, b, C)`:
///
/// 1. at most `n + m − 1` nonzeros, each with `Pᵢⱼ ≥ 0` and indices in range;
/// 2. marginals: `|Σⱼ Pᵢⱼ − aᵢ| ≤ tol·Σa` and likewise for the columns;
/// 3. dual feasibility: `Cᵢⱼ − αᵢ − βⱼ ≥ −tol·s` for every `(i, j)`, with the cost scale
///    `s = max|C| + max|α| + max|β|`;
/// 4. zero duality gap: `|⟨P, C⟩ − (Σ aα + Σ bβ)| ≤ tol·s·Σa`, and `t.cost` equal to `⟨P, C⟩`.
///
/// Together these prove optimality up to `tol` (weak duality).
///
/// # Errors
/// [`Error::NotConverged`] whose `op` names the check that failed and whose `residual` is the
/// violation found.
pub fn verify_certificate(
    a: &[f64],
    b: &[f64],
    cost: &Tensor,
    t: &Transport,
    tol: f64,
) -> Result<()> {
    let (n, m) = (a.len(), b.len());
    let fail = |what: &str, residual: f64| Error::NotConverged {
        op: format!("transport certificate: {what}"),
        iterations: t.iterations,
        residual,
    };
    if t.alpha.len() != n || t.beta.len() != m {
        return Err(fail("dual lengths", (t.alpha.len() + t.beta.len()) as f64));
    }
    if t.plan.len() + 1 > n + m {
        return Err(fail("more than n + m − 1 nonzeros", t.plan.len() as f64));
    }
    let mass: f64 = a.iter().sum();
    let c = cost.data();
    let (mut rows, mut cols) = (vec![0.0; n], vec![0.0; m]);
    let mut primal = 0.0;
    for e in &t.plan {
        if e.i >= n || e.j >= m || e.mass.is_nan() || e.mass < 0.0 {
            return Err(fail("plan entry out of range or negative", e.mass));
        }
        rows[e.i] += e.mass;
        cols[e.j] += e.mass;
        primal += e.mass * c[e.i * m + e.j];
    }
    let row_err = rows
        .iter()
        .zip(a)
        .map(|(r, w)| (r - w).abs())
        .fold(0.0, f64::max);
    let col_err = cols
        .iter()
        .zip(b)
        .map(|(r, w)| (r - w).abs())
        .fold(0.0, f64::max);
    if row_err.max(col_err) > tol * mass {
        return Err(fail("marginals", row_err.max(col_err)));
    }
    let amax = |v: &[f64]| v.iter().fold(0.0f64, |s, x| s.max(x.abs()));
    let scale = amax(c) + amax(&t.alpha) + amax(&t.beta);
    let mut worst = 0.0f64;
    for (i, row) in c.chunks_exact(m).enumerate() {
        let ai = t.alpha[i];
        for (cij, bj) in row.iter().zip(&t.beta) {
            worst = worst.min(cij - ai - bj);
        }
    }
    if worst.is_nan() || worst < -tol * scale {
        return Err(fail("dual feasibility (most negative reduced cost)", worst));
    }
    let dual: f64 = dot(a, &t.alpha) + dot(b, &t.beta);
    let gap = (primal - dual).abs().max((primal - t.cost).abs());
    if gap.is_nan() || gap > tol * scale * mass {
        return Err(fail("duality gap", gap));
    }
    Ok(())
}

pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(p, q)| p * q).sum()
}
