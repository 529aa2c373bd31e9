//! Uniform weights with `n = m`: the assignment problem by shortest augmenting paths
//! (Jonker–Volgenant).
//!
//! With `aᵢ = bⱼ = μ/n` an optimal basic plan is `μ/n` times a permutation, so the LP is the
//! assignment problem `min_σ Σᵢ C_{iσ(i)}`. Column duals start at `vⱼ = minᵢ Cᵢⱼ` (column
//! reduction, assigning each column's minimising row while it is free), then every free row is
//! assigned by a Dijkstra search over the reduced costs `Cᵢⱼ − uᵢ − vⱼ ≥ 0` (with
//! `uᵢ = C_{iσ(i)} − v_{σ(i)}`), after which the duals of the columns it settled are lowered by
//! their distance so that every reduced cost stays non-negative and the new matching is tight.
//! Columns are kept in one array partitioned into settled / at the current minimum / not yet
//! reached, as in Jonker & Volgenant (1987). `O(n³)` in the worst case; no allocation per row.

use super::transport::{PlanEntry, Transport};

const NONE: usize = usize::MAX;

/// An optimal assignment: `row_to_col[i] = σ(i)`, with duals `u`, `v` such that
/// `Cᵢⱼ − uᵢ − vⱼ ≥ 0` and equality on the assignment (to rounding).
struct Assignment {
    row_to_col: Vec<usize>,
    u: Vec<f64>,
    v: Vec<f64>,
    augmentations: usize,
}

/// The assignment problem's solution as a [`Transport`]: mass `aᵢ` on each `(i, σ(i))`,
/// `α = u`, `β = v`.
pub(crate) fn assignment_transport(a: &[f64], c: &[f64]) -> Transport {
    let n = a.len();
    let sol = solve_assignment(c, n);
    let plan: Vec<PlanEntry> = (0..n)
        .filter(|&i| a[i] > 0.0)
        .map(|i| PlanEntry {
            i,
            j: sol.row_to_col[i],
            mass: a[i],
        })
        .collect();
    let mut t = Transport {
        cost: plan.iter().map(|e| e.mass * c[e.i * n + e.j]).sum(),
        plan,
        alpha: sol.u,
        beta: sol.v,
        iterations: sol.augmentations,
    };
    t.balance_duals();
    t
}

/// Solves the `n×n` assignment problem on the row-major cost `c`.
fn solve_assignment(c: &[f64], n: usize) -> Assignment {
    let mut v = vec![f64::INFINITY; n];
    let mut argmin = vec![0usize; n];
    for (i, row) in c.chunks_exact(n).enumerate() {
        for (j, &cij) in row.iter().enumerate() {
            if cij < v[j] {
                v[j] = cij;
                argmin[j] = i;
            }
        }
    }
    let (mut x, mut y) = (vec![NONE; n], vec![NONE; n]);
    for j in (0..n).rev() {
        let i = argmin[j];
        if x[i] == NONE {
            x[i] = j;
            y[j] = i;
        }
    }
    let mut search = Search::new(n);
    let mut augmentations = 0;
    for f in 0..n {
        if x[f] == NONE {
            search.augment(c, n, f, &mut x, &mut y, &mut v);
            augmentations += 1;
        }
    }
    let u = (0..n).map(|i| c[i * n + x[i]] - v[x[i]]).collect();
    Assignment {
        row_to_col: x,
        u,
        v,
        augmentations,
    }
}

/// Scratch space of one Dijkstra search, reused across rows.
struct Search {
    d: Vec<f64>,
    pred: Vec<usize>,
    cols: Vec<usize>,
}

impl Search {
    fn new(n: usize) -> Self {
        Search {
            d: vec![0.0; n],
            pred: vec![0; n],
            cols: (0..n).collect(),
        }
    }

    /// Finds a shortest augmenting path from the free row `f` to a free column, updates the
    /// duals of the settled columns and flips the matching along the path.
    fn augment(
        &mut self,
        c: &[f64],
        n: usize,
        f: usize,
        x: &mut [usize],
        y: &mut [usize],
        v: &mut [f64],
    ) {
        let row = &c[f * n..(f + 1) * n];
        for j in 0..n {
            self.d[j] = row[j] - v[j];
            self.pred[j] = f;
        }
        // cols[..low]: settled; cols[low..up]: at distance `min`, to scan; cols[up..]: the rest.
        let (mut low, mut up) = (0, 0);
        let mut min = 0.0;
        let end = 'search: loop {
            if low == up {
                min = self.d[self.cols[up]];
                let first = up;
                for k in first..n {
                    let j = self.cols[k];
                    let h = self.d[j];
                    if h <= min {
                        if h < min {
                            up = low;
                            min = h;
                        }
                        self.cols.swap(k, up);
                        up += 1;
                    }
                }
                for k in low..up {
                    if y[self.cols[k]] == NONE {
                        break 'search self.cols[k];
                    }
                }
            }
            let j1 = self.cols[low];
            low += 1;
            let i = y[j1];
            let ri = &c[i * n..(i + 1) * n];
            let h = ri[j1] - v[j1] - min;
            let mut k = up;
            while k < n {
                let j = self.cols[k];
                let red = ri[j] - v[j] - h;
                if red < self.d[j] {
                    self.d[j] = red;
                    self.pred[j] = i;
                    if red == min {
                        if y[j] == NONE {
                            break 'search j;
                        }
                        self.cols.swap(k, up);
                        up += 1;
                    }
                }
                k += 1;
            }
        };
        for &j in &self.cols[..low] {
            v[j] += self.d[j] - min;
        }
        let mut j = end;
        loop {
            let i = self.pred[j];
            y[j] = i;
            let next = x[i];
            x[i] = j;
            if i == f {
                break;
            }
            j = next;
        }
    }
}
