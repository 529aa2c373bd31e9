//! The `pde!` macro (`physgrad::pde!`): macro-built problems equal hand-built ones, DSL losses
//! vanish on analytic solutions, DSL losses pass the gradient checker.

mod analytic;
mod equal;
mod gradcheck;

use physgrad::Tensor;

/// Named loss values and gradients of one evaluation.
pub(crate) type Outcome = (Vec<(String, f64)>, Vec<Tensor>);

/// Named loss values and weight gradients of two problems agree to round-off.
pub(crate) fn assert_same(a: Outcome, b: Outcome) {
    assert_eq!(a.0.len(), b.0.len(), "term count");
    for ((na, va), (nb, vb)) in a.0.iter().zip(&b.0) {
        assert_eq!(na, nb);
        assert!(
            (va - vb).abs() <= 1e-12 * (1.0 + va.abs()),
            "term {na}: {va} vs {vb}"
        );
        assert!(
            va.is_finite() && *va > 0.0,
            "term {na} = {va} should be a positive loss"
        );
    }
    assert_eq!(a.1.len(), b.1.len());
    for (ga, gb) in a.1.iter().zip(&b.1) {
        assert_eq!(ga.shape(), gb.shape());
        for (x, y) in ga.data().iter().zip(gb.data()) {
            assert!(
                (x - y).abs() <= 1e-10 * (1.0 + x.abs()),
                "gradient {x} vs {y}"
            );
        }
    }
}
