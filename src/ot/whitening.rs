//! Whitening of point clouds for transport ground costs: coordinates along a data set's leading
//! principal axes, each scaled to unit variance.

use crate::autodiff::{Tape, Var};
use crate::error::{Error, Result};
use crate::Tensor;

/// An affine map `y ↦ (y − m) P` to the coordinates of a data set's leading principal axes,
/// scaled to unit variance: `P = [v₁/√λ₁ … v_k/√λ_k]` for the `k` largest eigenpairs
/// `(λᵢ, vᵢ)` of the data's covariance.
///
/// A ground cost between whitened points, `c(x, y) = ‖(x − y) P‖`, is a Mahalanobis-type
/// distance restricted to the leading axes. Observations of a physical system often lie near a
/// low-dimensional manifold whose directions have very different spreads; under the plain
/// Euclidean cost the weak directions, which may carry the parameters one wants to learn, hardly
/// count in the transport loss. Whitened, every kept direction counts alike.
///
/// ```
/// use physgrad::ot::{pairwise_cost, Ground, Whitening};
/// use physgrad::{Tape, Tensor};
///
/// let data = Tensor::randn(&[500, 4], 0);
/// let white = Whitening::fit(&data, 2).unwrap();
/// let tape = Tape::new();
/// let x = white.apply(tape.var(Tensor::randn(&[8, 4], 1)));
/// let y = tape.constant(white.apply_tensor(&Tensor::randn(&[8, 4], 2)));
/// let c = pairwise_cost(x, y, Ground::L2); // an 8 × 8 cost matrix between whitened points
/// assert_eq!(c.shape()[..], [8, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct Whitening {
    /// The data mean `m`, `[1, N]`.
    pub mean: Tensor,
    /// The scaled principal axes `P`, `[N, k]`.
    pub axes: Tensor,
    /// The eigenvalues `λ₁ ≥ … ≥ λ_k` of the kept axes.
    pub variances: Vec<f64>,
}

impl Whitening {
    /// The map for the first `k` principal axes of the rows of `data [M, N]`.
    ///
    /// # Errors
    /// `InvalidInput` when there are fewer than two vectors or a kept variance is below 1e-12
    /// of the largest (the data spread over fewer than `k` directions); the eigensolver's
    /// failure.
    ///
    /// # Panics
    /// If `k` is 0 or exceeds `N`.
    pub fn fit(data: &Tensor, k: usize) -> Result<Whitening> {
        let (m, n) = (data.shape()[0], data.shape()[1]);
        assert!(
            (1..=n).contains(&k),
            "Whitening::fit: {k} axes in dimension {n}"
        );
        let invalid = |detail: String| Error::InvalidInput {
            op: "Whitening::fit".into(),
            detail,
        };
        if m < 2 {
            return Err(invalid(format!("{m} vectors: no covariance")));
        }
        let x = data.data();
        let mean: Vec<f64> = (0..n)
            .map(|j| (0..m).map(|i| x[i * n + j]).sum::<f64>() / m as f64)
            .collect();
        let cov = faer::Mat::<f64>::from_fn(n, n, |a, b| {
            (0..m)
                .map(|i| (x[i * n + a] - mean[a]) * (x[i * n + b] - mean[b]))
                .sum::<f64>()
                / (m - 1) as f64
        });
        let evd = cov
            .self_adjoint_eigen(faer::Side::Lower)
            .map_err(|e| invalid(format!("eigensolver: {e:?}")))?;
        // Eigenvalues come in ascending order: the last k are the leading ones.
        let (values, vectors) = (evd.S(), evd.U());
        let order: Vec<usize> = (n - k..n).rev().collect();
        let variances: Vec<f64> = order.iter().map(|&j| values[j]).collect();
        // An axis at round-off level relative to the first carries no spread of its own.
        let floor = 1e-12 * variances[0];
        if let Some(v) = variances.iter().find(|v| v.is_nan() || **v <= floor) {
            return Err(invalid(format!(
                "axis variance {v:e}: the data spread over fewer than {k} directions"
            )));
        }
        let mut axes = vec![0.0; n * k];
        for (c, &j) in order.iter().enumerate() {
            let scale = 1.0 / values[j].sqrt();
            for r in 0..n {
                axes[r * k + c] = vectors[(r, j)] * scale;
            }
        }
        Ok(Whitening {
            mean: Tensor::from_vec(mean, &[1, n]),
            axes: Tensor::from_vec(axes, &[n, k]),
            variances,
        })
    }

    /// The whitened coordinates of the rows of `y [B, N]`, on the tape.
    pub fn apply<'t>(&self, y: Var<'t>) -> Var<'t> {
        let tape = y.tape();
        (y - tape.constant(self.mean.clone())).matmul(tape.constant(self.axes.clone()))
    }

    /// The whitened coordinates of the rows of `y [B, N]`, `[B, k]`.
    pub fn apply_tensor(&self, y: &Tensor) -> Tensor {
        let tape = Tape::new();
        self.apply(tape.constant(y.clone())).value()
    }
}
