//! Jacobians `J = ∂F/∂y` by compressed reverse sweeps.
//!
//! Rows of `J` are grouped so that no two rows in a group have a stored entry in the same
//! column (structurally orthogonal rows; greedy colouring of the row-conflict graph). One
//! reverse sweep with seed `Σ_{i ∈ group} eᵢ` gives `Σ_{i ∈ group} J[i, :]`, and each stored
//! `(i, j)` is read off at column `j` of its row's group. A dense `n × n` Jacobian is the case of
//! `n` singleton groups; a 5-point stencil needs about a dozen groups whatever `n` is.

use crate::autodiff::Var;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The grouping of rows and where each stored value is read from.
pub(crate) struct JacobianLayout {
    n: usize,
    groups: Vec<Vec<usize>>,
    /// Value `k` is entry `extract[k]` of the `[groups, n]` compressed block.
    extract: Vec<usize>,
    /// Entries of the compressed block that no stored value covers: they must be zero, or `F`
    /// has a derivative outside the pattern.
    uncovered: Vec<usize>,
    /// Sparse layouts: positions of the values, to check `Jᵀ s` for a probe `s` (a derivative
    /// outside the pattern that lands on a covered column would otherwise go unnoticed).
    positions: Option<(Vec<usize>, Vec<usize>)>,
}

impl JacobianLayout {
    /// Row-major `n × n`, one row per group.
    pub(crate) fn dense(n: usize) -> Self {
        JacobianLayout {
            n,
            groups: (0..n).map(|i| vec![i]).collect(),
            extract: (0..n * n).collect(),
            uncovered: Vec::new(),
            positions: None,
        }
    }

    /// Stored values at `(rows[k], cols[k])`.
    pub(crate) fn sparse(n: usize, rows: &[usize], cols: &[usize]) -> Self {
        let mut by_row = vec![Vec::new(); n];
        let mut by_col = vec![Vec::new(); n];
        for (&i, &j) in rows.iter().zip(cols) {
            by_row[i].push(j);
            by_col[j].push(i);
        }
        let mut color = vec![usize::MAX; n];
        let mut taken = Vec::new();
        for i in 0..n {
            taken.clear();
            for &j in &by_row[i] {
                taken.extend(
                    by_col[j]
                        .iter()
                        .map(|&r| color[r])
                        .filter(|&c| c != usize::MAX),
                );
            }
            color[i] = (0..)
                .find(|c| !taken.contains(c))
                .expect("a free colour exists");
        }
        let count = color.iter().map(|&c| c + 1).max().unwrap_or(0);
        let mut groups = vec![Vec::new(); count];
        for (i, &c) in color.iter().enumerate() {
            groups[c].push(i);
        }
        let extract: Vec<usize> = rows
            .iter()
            .zip(cols)
            .map(|(&i, &j)| color[i] * n + j)
            .collect();
        let mut covered = vec![false; count * n];
        for &m in &extract {
            covered[m] = true;
        }
        let uncovered = (0..count * n).filter(|&m| !covered[m]).collect();
        JacobianLayout {
            n,
            groups,
            extract,
            uncovered,
            positions: Some((rows.to_vec(), cols.to_vec())),
        }
    }

    /// A probe seed `s` (entries in [0.5, 1.5], fixed) when the layout is sparse: its sweep
    /// `Jᵀ s` is compared with the assembled values by [`JacobianLayout::values`].
    pub(crate) fn probe(&self) -> Option<Tensor> {
        self.positions
            .as_ref()
            .map(|_| Tensor::rand_uniform(&[self.n], 0.5, 1.5, 0x5eed_1ac0))
    }

    /// One seed per group, `Σ_{i ∈ group} eᵢ`.
    pub(crate) fn seeds(&self) -> impl Iterator<Item = Tensor> + '_ {
        self.groups.iter().map(|g| {
            let mut e = Tensor::zeros(&[self.n]);
            for &i in g {
                e.data_mut()[i] = 1.0;
            }
            e
        })
    }

    /// The stored values from the compressed block `[groups, n]` (row-major); with a sparse
    /// layout, `probe = (s, Jᵀ s)` from one more sweep checks them.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `F` has a derivative outside the pattern: the block has a
    /// nonzero no stored value covers, or `Jᵀ s` differs from the assembled values' `Jᵀ s`.
    pub(crate) fn values(
        &self,
        op: &str,
        block: &[f64],
        probe: Option<(&[f64], &[f64])>,
    ) -> Result<Vec<f64>> {
        let outside = |j: usize| Error::InvalidInput {
            op: op.into(),
            detail: format!("∂F/∂y has a nonzero in column {j} outside the Jacobian pattern"),
        };
        if let Some(&m) = self.uncovered.iter().find(|&&m| block[m] != 0.0) {
            return Err(outside(m % self.n));
        }
        let values: Vec<f64> = self.extract.iter().map(|&m| block[m]).collect();
        if let (Some((rows, cols)), Some((s, jts))) = (&self.positions, probe) {
            let mut sum = vec![0.0; self.n];
            let mut mag = vec![0.0; self.n];
            for ((&i, &j), &v) in rows.iter().zip(cols).zip(&values) {
                sum[j] += v * s[i];
                mag[j] += (v * s[i]).abs();
            }
            for j in 0..self.n {
                if (sum[j] - jts[j]).abs() > 1e-10 * (mag[j] + jts[j].abs()) {
                    return Err(outside(j));
                }
            }
        }
        Ok(values)
    }

    /// [`JacobianLayout::values`] on the tape (no check): `gather` from the flattened block.
    pub(crate) fn values_var<'t>(&self, block: Var<'t>) -> Var<'t> {
        block
            .reshape(&[self.groups.len() * self.n])
            .gather(0, &self.extract)
    }
}
