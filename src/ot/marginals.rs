//! Validation and exact balancing of the marginal weights.

use crate::error::{Error, Result};

/// Relative tolerance within which `Σa` and `Σb` must agree: `|Σa − Σb| ≤ 1e-9·max(Σa, Σb)`.
///
/// Weights that agree this closely (e.g. `[0.1, 0.2, 0.7]` against three thirds, whose float sums
/// differ in the last bit) are balanced exactly by [`balance_marginals`] before solving.
pub const MARGINAL_RTOL: f64 = 1e-9;

/// `n` equal weights `1/n`.
pub fn uniform_weights(n: usize) -> Vec<f64> {
    vec![1.0 / n as f64; n]
}

/// Checks the marginals and returns them balanced: `(a, b·Σa/Σb)`.
///
/// Requires both non-empty, every weight finite and `≥ 0`, `Σa > 0`, and
/// `|Σa − Σb| ≤ MARGINAL_RTOL·max(Σa, Σb)`. The rescaling of `b` changes it by at most that
/// relative amount; what remains of `Σa − Σb` is rounding, which the solvers absorb.
///
/// # Errors
/// [`Error::InvalidInput`] naming the offending weight, or both sums when they disagree;
/// [`Error::NonFinite`] for NaN or infinite weights.
pub fn balance_marginals(op: &str, a: &[f64], b: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    check_weights(op, "a", a)?;
    check_weights(op, "b", b)?;
    let sa: f64 = a.iter().sum();
    let sb: f64 = b.iter().sum();
    if sa <= 0.0 || sb <= 0.0 {
        return Err(invalid(
            op,
            format!("total mass must be positive (Σa = {sa:e}, Σb = {sb:e})"),
        ));
    }
    if (sa - sb).abs() > MARGINAL_RTOL * sa.max(sb) {
        return Err(invalid(
            op,
            format!(
                "marginals do not balance: Σa = {sa:.17e}, Σb = {sb:.17e} (relative difference {:.3e} > {MARGINAL_RTOL:e})",
                (sa - sb).abs() / sa.max(sb)
            ),
        ));
    }
    let scale = sa / sb;
    let b = if scale == 1.0 {
        b.to_vec()
    } else {
        b.iter().map(|&w| w * scale).collect()
    };
    Ok((a.to_vec(), b))
}

fn check_weights(op: &str, name: &str, w: &[f64]) -> Result<()> {
    if w.is_empty() {
        return Err(invalid(op, format!("weights {name} are empty")));
    }
    for (i, &x) in w.iter().enumerate() {
        if !x.is_finite() {
            return Err(Error::NonFinite {
                op: op.into(),
                what: format!("weight {name}[{i}] = {x}"),
            });
        }
        if x < 0.0 {
            return Err(invalid(
                op,
                format!("weight {name}[{i}] = {x:e} is negative"),
            ));
        }
    }
    Ok(())
}

pub(crate) fn invalid(op: &str, detail: String) -> Error {
    Error::InvalidInput {
        op: op.into(),
        detail,
    }
}

/// Checks that a cost matrix is `n×m` (panics otherwise: a shape error) and finite (an error).
#[track_caller]
pub(crate) fn check_cost(op: &str, cost: &crate::Tensor, n: usize, m: usize) -> Result<()> {
    assert!(
        cost.shape() == [n, m],
        "{op}: cost matrix of shape {:?} does not match weights of lengths {n} and {m}",
        cost.shape()
    );
    if let Some(k) = cost.data().iter().position(|c| !c.is_finite()) {
        return Err(Error::NonFinite {
            op: op.into(),
            what: format!("cost[{}, {}] = {}", k / m, k % m, cost.data()[k]),
        });
    }
    Ok(())
}
