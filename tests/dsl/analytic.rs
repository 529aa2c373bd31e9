//! DSL statements on analytic solutions: with a closure field that *is* the solution, every
//! residual vanishes to round-off (nested reverse mode gives exact input derivatives).

use physgrad::nn::ParamStore;
use physgrad::problem::{FieldId, Method, NeuralField, ParamId, Problem};
use physgrad::{Tape, Tensor, Var};

/// Column `j` of `[B, n]` as `[B]`.
fn col(p: Var<'_>, j: usize) -> Var<'_> {
    p.slice(1, j..j + 1).reshape(&[p.shape()[0]])
}

/// Every loss term of `pb` with exact fields: `(name, value)`.
fn terms(
    pb: &Problem,
    fields: Vec<(FieldId, NeuralField<'_>)>,
    given: &[(ParamId, f64)],
) -> Vec<(String, f64)> {
    let tape = Tape::new();
    let store = ParamStore::new(0);
    let given: Vec<_> = given.iter().map(|(p, v)| (*p, tape.scalar(*v))).collect();
    let pts = pb.sample(64, 16, 21);
    pb.loss_neural(&tape, &store.bind(&tape), &fields, &given, &pts)
        .unwrap()
        .values()
}

fn assert_vanish(values: &[(String, f64)], tol: f64) {
    for (name, v) in values {
        assert!(
            v.is_finite() && *v < tol,
            "term {name} = {v:e} should vanish"
        );
    }
}

/// With the single scalar field bound to `exact` (nested reverse mode), all `n_terms` terms
/// vanish to round-off.
fn assert_exact_vanishes(pb: &Problem, exact: for<'t> fn(Var<'t>) -> Var<'t>, n_terms: usize) {
    let field = (
        pb.field_id("u"),
        NeuralField::Func(Box::new(exact), Method::Nested),
    );
    let values = terms(pb, vec![field], &[]);
    assert_eq!(values.len(), n_terms);
    assert_vanish(&values, 1e-24);
}

/// Heat kernel `u = exp(−x²/(4κ(t+1)))/√(4πκ(t+1))` solves `u_t = κ u_xx`; the initial
/// condition is stated with the DSL's elementwise maths.
#[test]
fn heat_kernel_vanishes() {
    let pb = physgrad::pde! {
        name: "heat";
        coords { x in [-2.0, 2.0], t in [0.0, 1.0] }
        params { kappa in [0.5, 2.0] }
        fields { u: scalar }
        residual heat: d(u, t) = kappa * d(u, x, x);
        initial ic at t = lo: u = exp(-(x * x) / (4.0 * kappa)) / sqrt(4.0 * PI * kappa);
    };
    fn exact(p: Var<'_>) -> Var<'_> {
        let (x, t, k) = (col(p, 0), col(p, 1), col(p, 2));
        let s = 4.0 * k * (t + 1.0);
        (-(x * x) / s).exp() / (std::f64::consts::PI * s).sqrt()
    }
    assert_exact_vanishes(&pb, exact, 2);
}

/// Viscous Burgers travelling wave `u = c − a·tanh(a(x − ct)/(2ν))` (Cole–Hopf), conditioned on
/// the viscosity `ν` as an input column.
#[test]
fn cole_hopf_burgers_vanishes() {
    let pb = physgrad::pde! {
        name: "burgers";
        coords { x in [-1.0, 1.0], t in [0.0, 1.0] }
        params { nu in [0.05, 0.2] }
        fields { u: scalar }
        residual burgers: d(u, t) + u * d(u, x) = nu * d(u, x, x);
        boundary left at x = lo: u = 0.5 - 0.3 * tanh(0.3 * (-1.0 - 0.5 * t) / (2.0 * nu));
    };
    fn exact(p: Var<'_>) -> Var<'_> {
        let (x, t, nu) = (col(p, 0), col(p, 1), col(p, 2));
        0.5 - 0.3 * (0.3 * (x - 0.5 * t) / (2.0 * nu)).tanh()
    }
    assert_exact_vanishes(&pb, exact, 2);
}

/// Ornstein–Uhlenbeck `dX = −X dt + √2 dW` in ℝ² from `N(0, a₀I)`: the log-density
/// `v = −|x|²/(2a) − log(2πa)`, `a(t) = 1 + (a₀ − 1)e^{−2t}`, solves `∂ₜv = P_FP(v)` with
/// `μ = −x`; `mean(exp(v))`-style invariances read a `given` parameter.
#[test]
fn ornstein_uhlenbeck_fokker_planck_vanishes() {
    let sigma = Tensor::from_vec(vec![2f64.sqrt(), 0.0, 0.0, 2f64.sqrt()], &[2, 2]);
    let pb = physgrad::pde! {
        name: "ou";
        coords { x in R^2, t in [0.0, 1.0] }
        params { shift given }
        fields { v: scalar, mu: vector(2) }
        residual fp: d(v, t) = fokker_planck(v, mu, x, { sigma.clone() });
        residual drift: mu = -x + shift;
    };
    fn v(p: Var<'_>) -> Var<'_> {
        let (x0, x1, t) = (col(p, 0), col(p, 1), col(p, 2));
        let a = 1.0 + (3.0 - 1.0) * (-2.0 * t).exp();
        -(x0 * x0 + x1 * x1) / (2.0 * a) - (2.0 * std::f64::consts::PI * a).ln()
    }
    fn mu(p: Var<'_>) -> Var<'_> {
        -p.slice(1, 0..2)
    }
    let fields = vec![
        (
            pb.field_id("v"),
            NeuralField::Func(Box::new(v), Method::Nested),
        ),
        (
            pb.field_id("mu"),
            NeuralField::Func(Box::new(mu), Method::Nested),
        ),
    ];
    let values = terms(&pb, fields, &[(ParamId(0), 0.0)]);
    assert_vanish(&values, 1e-24);
}

/// Inviscid Burgers `u_t + u u_x = 0` has the rarefaction `u = x/(1 + t)`; the boundary value
/// is stated with the time coordinate.
#[test]
fn inviscid_burgers_rarefaction_vanishes() {
    let pb = physgrad::pde! {
        name: "inviscid";
        coords { x in [-1.0, 1.0], t in [0.0, 2.0] }
        fields { u: scalar }
        residual burgers: d(u, t) + u * d(u, x) = 0;
        initial ic at t = lo: u = x;
        boundary right at x = hi: u = 1.0 / (1.0 + t);
    };
    fn exact(p: Var<'_>) -> Var<'_> {
        col(p, 0) / (1.0 + col(p, 1))
    }
    assert_exact_vanishes(&pb, exact, 3);
}

/// 1-D variable-coefficient Poisson `−((1 + x²) u′)′ = f` with `u = sin πx`, the forcing written
/// in the statement's elementwise maths.
#[test]
fn poisson_1d_variable_coefficient_vanishes() {
    let pb = physgrad::pde! {
        name: "poisson1d";
        coords { x in [0.0, 1.0] }
        fields { u: scalar }
        residual poisson: -((1.0 + x * x) * d(u, x, x) + 2.0 * x * d(u, x))
            = -(2.0 * x * PI * cos(PI * x)) + (1.0 + x * x) * PI * PI * sin(PI * x);
        boundary ends at x: u = 0;
    };
    fn exact(p: Var<'_>) -> Var<'_> {
        (std::f64::consts::PI * col(p, 0)).sin()
    }
    assert_exact_vanishes(&pb, exact, 2);
}
