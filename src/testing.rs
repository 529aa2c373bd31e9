//! Gradient checking, public so that users can prove their own ops and models the way the
//! library proves its own.
//!
//! * [`check_grad`] compares the reverse-mode gradient of a function against central finite
//!   differences: entry by entry for small inputs, along random directions for large ones, and
//!   always a joint random-direction dot-product test. It checks both sweeps — the first-order
//!   one ([`Tape::gradients`]) and the recorded one ([`Tape::grad_with_seeds`]) — and that they
//!   agree with each other.
//! * [`check_grad2`] checks second order: it applies [`check_grad`] to
//!   `h(x) = Σᵢ ⟨∇ₓᵢ⟨w, f(x)⟩, uᵢ⟩`, computed with the recorded sweep, so the VJPs of the VJPs
//!   (Hessian–vector products) are compared against differences of gradients.
//! * [`strategies`] generates shapes (including broadcast pairs) and tensors for proptest.
//!
//! Non-scalar outputs are reduced with a fixed random projection `⟨w, f(x)⟩`, which exercises every
//! output entry with a different weight.
//!
//! ```
//! use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
//! use physgrad::Tensor;
//!
//! let x = Tensor::rand_uniform(&[3, 2], -1.0, 1.0, 7);
//! let f = hr(|_tape, v| (v[0].sin() * v[0]).exp());
//! check_grad(f, &[x.clone()], &GradCheck::default()).unwrap();
//! check_grad2(f, &[x], &GradCheck::default()).unwrap();
//! ```

use crate::autodiff::{Tape, Var};
use crate::tensor::Tensor;
use std::fmt;

/// Settings of the checker. The defaults follow common practice for f64 (central differences,
/// `eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`).
#[derive(Clone, Debug)]
pub struct GradCheck {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance, multiplied by `1 + √(output elements)` (the typical size of the
    /// projected output).
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
    /// Inputs with at most this many entries are checked entry by entry; larger ones along
    /// `directions` random directions.
    pub max_entries: usize,
    /// Random directions per large input, and for the joint test.
    pub directions: usize,
    /// Seed of the projection and directions.
    pub seed: u64,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            max_entries: 64,
            directions: 3,
            seed: 0x5eed,
        }
    }
}

/// A gradient that disagreed with finite differences (or the two sweeps with each other).
#[derive(Clone, Debug)]
pub struct GradCheckFailure {
    /// What was compared, e.g. `"input 1 entry 4"` or `"joint direction 0"`.
    pub what: String,
    /// The reverse-mode value.
    pub analytic: f64,
    /// The reference value (finite differences, or the other sweep).
    pub numeric: f64,
    /// The tolerance that was exceeded.
    pub tolerance: f64,
}

impl fmt::Display for GradCheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient check failed at {}: analytic {:e} vs reference {:e} (|diff| {:e} > tol {:e})",
            self.what,
            self.analytic,
            self.numeric,
            (self.analytic - self.numeric).abs(),
            self.tolerance
        )
    }
}

impl std::error::Error for GradCheckFailure {}

/// What a passing check measured.
#[derive(Clone, Debug)]
pub struct GradCheckReport {
    /// Number of scalar comparisons made.
    pub comparisons: usize,
    /// The largest `|analytic − numeric| / tolerance` seen (≤ 1 when passing).
    pub worst_ratio: f64,
}

/// Checks the first-order gradient of `f` at `inputs` (see the [module docs](self)).
///
/// # Errors
/// The first comparison that exceeds its tolerance.
pub fn check_grad<F>(
    f: F,
    inputs: &[Tensor],
    cfg: &GradCheck,
) -> Result<GradCheckReport, GradCheckFailure>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = inputs.iter().map(|t| tape.var(t.clone())).collect();
    let y = f(&tape, &vars);
    let w = Tensor::randn(&y.shape(), cfg.seed);
    let fast = tape.gradients(&[y], Some(std::slice::from_ref(&w)), &vars);
    let seed = tape.constant(w.clone());
    let recorded: Vec<Tensor> = tape
        .grad_with_seeds(&[y], &[seed], &vars)
        .iter()
        .map(|g| g.value())
        .collect();
    let scale = 1.0 + (w.len() as f64).sqrt();
    let mut report = GradCheckReport {
        comparisons: 0,
        worst_ratio: 0.0,
    };
    let projected = |xs: &[Tensor]| -> f64 { evaluate(&f, xs).dot(&w) };
    let mut compare = |what: String, analytic: f64, numeric: f64, tol: f64| {
        report.comparisons += 1;
        let err = (analytic - numeric).abs();
        if err.is_nan() || err > tol {
            return Err(GradCheckFailure {
                what,
                analytic,
                numeric,
                tolerance: tol,
            });
        }
        report.worst_ratio = report.worst_ratio.max(err / tol);
        Ok(())
    };
    // The two sweeps must agree to rounding.
    for (i, (a, b)) in fast.iter().zip(&recorded).enumerate() {
        for (j, (&p, &q)) in a.data().iter().zip(b.data()).enumerate() {
            let tol = 1e-10 * (1.0 + q.abs()) * scale;
            compare(format!("input {i} entry {j}: backward vs grad"), p, q, tol)?;
        }
    }
    let tol_for = |numeric: f64| cfg.atol * scale + cfg.rtol * numeric.abs();
    let mut rng_seed = cfg.seed.wrapping_add(1);
    for (i, x) in inputs.iter().enumerate() {
        if x.len() <= cfg.max_entries {
            for j in 0..x.len() {
                let numeric = central_difference(&projected, inputs, i, cfg.eps, |t| {
                    let mut e = Tensor::zeros(t.shape());
                    e.data_mut()[j] = 1.0;
                    e
                });
                let analytic = fast[i].data()[j];
                compare(
                    format!("input {i} entry {j}"),
                    analytic,
                    numeric,
                    tol_for(numeric),
                )?;
            }
        } else {
            for d in 0..cfg.directions {
                rng_seed = rng_seed.wrapping_add(1);
                let v = unit(Tensor::randn(x.shape(), rng_seed));
                let numeric = central_difference(&projected, inputs, i, cfg.eps, |_| v.clone());
                let analytic = fast[i].dot(&v);
                compare(
                    format!("input {i} direction {d}"),
                    analytic,
                    numeric,
                    tol_for(numeric),
                )?;
            }
        }
    }
    for d in 0..cfg.directions {
        rng_seed = rng_seed.wrapping_add(1);
        let dirs: Vec<Tensor> = inputs
            .iter()
            .enumerate()
            .map(|(k, x)| unit(Tensor::randn(x.shape(), rng_seed ^ ((k as u64 + 1) << 32))))
            .collect();
        let shifted = |s: f64| -> Vec<Tensor> {
            inputs
                .iter()
                .zip(&dirs)
                .map(|(x, v)| x.zip_with(v, |a, b| a + s * b))
                .collect()
        };
        let numeric =
            (projected(&shifted(cfg.eps)) - projected(&shifted(-cfg.eps))) / (2.0 * cfg.eps);
        let analytic: f64 = fast.iter().zip(&dirs).map(|(g, v)| g.dot(v)).sum();
        compare(
            format!("joint direction {d}"),
            analytic,
            numeric,
            tol_for(numeric),
        )?;
    }
    Ok(report)
}

/// Checks second-order gradients of `f`: [`check_grad`] applied to
/// `h(x) = Σᵢ ⟨∇ₓᵢ⟨w, f(x)⟩, uᵢ⟩` with fixed random `w` and `uᵢ`, where the inner gradient is
/// recorded on the tape ([`Tape::grad_with_seeds`]).
///
/// # Errors
/// The first comparison that exceeds its tolerance.
pub fn check_grad2<F>(
    f: F,
    inputs: &[Tensor],
    cfg: &GradCheck,
) -> Result<GradCheckReport, GradCheckFailure>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let out_shape = evaluate(&f, inputs).shape().to_vec();
    let w = Tensor::randn(&out_shape, cfg.seed ^ 0xa5a5);
    let us: Vec<Tensor> = inputs
        .iter()
        .enumerate()
        .map(|(k, x)| Tensor::randn(x.shape(), cfg.seed ^ (0x1234 + k as u64)))
        .collect();
    let h = hr(|tape, vars| {
        let y = f(tape, vars);
        let seed = tape.constant(w.clone());
        let grads = tape.grad_with_seeds(&[y], &[seed], vars);
        let mut total = tape.scalar(0.0);
        for (g, u) in grads.into_iter().zip(&us) {
            total = total + g.dot(tape.constant(u.clone()));
        }
        total
    });
    check_grad(h, inputs, cfg)
}

/// Gives a closure the higher-ranked signature the checkers take (closures bound with `let` do
/// not infer it on their own).
pub fn hr<G>(g: G) -> G
where
    G: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    g
}

/// `f` at `xs` on a fresh tape. The inputs are trainable leaves, so that functions which take
/// gradients inside (as `check_grad2` does) compute the same thing as in the analytic pass.
fn evaluate<F>(f: &F, xs: &[Tensor]) -> Tensor
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = xs.iter().map(|t| tape.var(t.clone())).collect();
    f(&tape, &vars).value()
}

fn unit(v: Tensor) -> Tensor {
    let n = v.norm();
    if n > 0.0 {
        v.map(|x| x / n)
    } else {
        v
    }
}

fn central_difference(
    f: &impl Fn(&[Tensor]) -> f64,
    inputs: &[Tensor],
    which: usize,
    eps: f64,
    direction: impl Fn(&Tensor) -> Tensor,
) -> f64 {
    let v = direction(&inputs[which]);
    let mut plus = inputs.to_vec();
    let mut minus = inputs.to_vec();
    plus[which] = inputs[which].zip_with(&v, |a, b| a + eps * b);
    minus[which] = inputs[which].zip_with(&v, |a, b| a - eps * b);
    (f(&plus) - f(&minus)) / (2.0 * eps)
}

/// Proptest strategies for shapes and tensors.
pub mod strategies {
    use crate::tensor::{numel, Tensor};
    use proptest::prelude::*;

    /// Shapes of rank `0..=max_rank` with axes of length `1..=max_dim`.
    pub fn shape(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
        proptest::collection::vec(1..=max_dim, 0..=max_rank)
    }

    /// A pair of shapes that broadcast together: a common shape, from which each operand drops
    /// some leading axes and sets some axes to 1.
    pub fn broadcast_pair(
        max_rank: usize,
        max_dim: usize,
    ) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
        shape(max_rank, max_dim)
            .prop_flat_map(|full| {
                let n = full.len();
                let mask = proptest::collection::vec(any::<bool>(), n);
                (Just(full), mask.clone(), mask, 0..=n, 0..=n)
            })
            .prop_map(|(full, ma, mb, da, db)| {
                let make = |mask: &[bool], drop: usize| -> Vec<usize> {
                    full.iter()
                        .zip(mask)
                        .skip(drop)
                        .map(|(&d, &one)| if one { 1 } else { d })
                        .collect()
                };
                (make(&ma, da.min(full.len())), make(&mb, db.min(full.len())))
            })
    }

    /// Tensors of the given shape with entries uniform in `[low, high]`.
    pub fn tensor_of(shape: Vec<usize>, low: f64, high: f64) -> impl Strategy<Value = Tensor> {
        let n = numel(&shape);
        proptest::collection::vec(low..=high, n).prop_map(move |v| Tensor::from_vec(v, &shape))
    }

    /// Tensors of random shape (see [`shape`]) with entries uniform in `[low, high]`.
    pub fn tensor(
        max_rank: usize,
        max_dim: usize,
        low: f64,
        high: f64,
    ) -> impl Strategy<Value = Tensor> {
        shape(max_rank, max_dim).prop_flat_map(move |s| tensor_of(s, low, high))
    }

    /// Like [`tensor_of`], with every entry at least `margin` away from each point in `kinks`
    /// (for functions such as `abs` or `max` that are not differentiable there).
    pub fn tensor_away_from(
        shape: Vec<usize>,
        low: f64,
        high: f64,
        kinks: Vec<f64>,
        margin: f64,
    ) -> impl Strategy<Value = Tensor> {
        tensor_of(shape, low, high).prop_map(move |t| {
            t.map(|x| match kinks.iter().find(|&&k| (x - k).abs() < margin) {
                Some(&k) if x >= k => k + margin,
                Some(&k) => k - margin,
                None => x,
            })
        })
    }
}
