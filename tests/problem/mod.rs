//! The problem builder (`physgrad::problem`): hand-built problems whose residuals vanish on
//! analytic solutions (neural, to round-off) or converge at the stencil's order (grid); jets
//! against nested reverse mode; gradient checks of losses w.r.t. weights; errors.

mod analytic;
mod errors;
mod grads;
mod grid;
mod invariance;

use physgrad::problem::{Collocation, FieldId, Loss, Method, NeuralField, ParamId, Problem};
use physgrad::{Tape, Var};

/// A field given by a closure on the input batch.
pub(crate) fn func<'a>(f: impl for<'t> Fn(Var<'t>) -> Var<'t> + 'a, m: Method) -> NeuralField<'a> {
    NeuralField::Func(Box::new(f), m)
}

/// Gives a closure the higher-ranked signature of a field (closures bound with `let` do not
/// infer it on their own).
pub(crate) fn sol<F: for<'t> Fn(Var<'t>) -> Var<'t>>(f: F) -> F {
    f
}

/// Column `i` of the input batch, `[B, 1]`.
pub(crate) fn col(x: Var<'_>, i: usize) -> Var<'_> {
    x.slice(1, i..i + 1)
}

/// The loss of closure fields (no weights).
pub(crate) fn closure_loss<'t>(
    pb: &Problem,
    tape: &'t Tape,
    fields: &[(FieldId, NeuralField<'_>)],
    given: &[(ParamId, Var<'t>)],
    pts: &Collocation,
) -> Loss<'t> {
    let store = physgrad::nn::ParamStore::new(0);
    pb.loss_neural(tape, &store.bind(tape), fields, given, pts)
        .unwrap()
}

/// Asserts that every term of a loss is below `tol` (they are mean squares).
#[track_caller]
pub(crate) fn assert_vanishes(loss: &Loss<'_>, tol: f64) {
    for (name, v) in loss.values() {
        assert!(v.abs() <= tol, "term {name}: mean r² = {v:e} > {tol:e}");
    }
}
