//! DSL losses through the gradient checker: first and second order with respect to the weights
//! of the networks (`ParamStore::bind_vars` feeds the checker's `Var`s to the problem).

use physgrad::nn::{Mlp, MlpConfig, ParamStore};
use physgrad::problem::{Collocation, FieldId, Method, NeuralField, Problem};
use physgrad::testing::{check_grad, check_grad2, GradCheck};
use physgrad::{Tape, Var};

fn burgers() -> Problem {
    physgrad::pde! {
        name: "burgers";
        coords { x in [0.0, 1.0], t in [0.0, 0.2] }
        params { nu in [0.001, 0.05] }
        fields { u: scalar }
        residual burgers: d(u, t) + u * d(u, x) - nu * d(u, x, x) = 0;
        initial ic (weight = 2.0) at t = lo: u = -sin(PI * x);
        boundary walls at x: u = 0;
    }
}

fn poisson() -> Problem {
    physgrad::pde! {
        name: "poisson";
        coords { x in box [[0.0, 1.0], [0.0, 1.0]] }
        fields { u: scalar }
        residual poisson: -lap(u, x) = sin(PI * x[0]) * sin(PI * x[1]);
        boundary walls at all: u = 0;
        invariance mean_zero (weight = 0.1): mean(u) = 0.0;
    }
}

/// The total loss of `pb` as a function of the network weights `w` (the checker's inputs).
fn loss_of_weights<'a>(
    pb: &'a Problem,
    store: &'a ParamStore,
    net: &'a Mlp,
    pts: &'a Collocation,
    method: &'a Method,
) -> impl for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t> + 'a {
    move |tape, w| {
        let bound = store.bind_vars(w);
        let fields = [(FieldId(0), NeuralField::Mlp(net, method.clone()))];
        pb.loss_neural(tape, &bound, &fields, &[], pts)
            .unwrap()
            .total
    }
}

/// `check_grad` (and `check_grad2` when `second`) of the total loss w.r.t. every weight.
fn check(pb: &Problem, method: Method, second: bool) {
    let mut store = ParamStore::new(5);
    let net = MlpConfig::new(&[pb.input_dim(), 5, 1]).build(&mut store, "u");
    let pts = pb.sample(12, 4, 9);
    let f = loss_of_weights(pb, &store, &net, &pts, &method);
    check_grad(&f, store.values(), &GradCheck::default()).unwrap();
    if second {
        check_grad2(&f, store.values(), &GradCheck::default()).unwrap();
    }
}

#[test]
fn burgers_loss_gradients_jet_and_nested() {
    check(&burgers(), Method::Jet, true);
    check(&burgers(), Method::Nested, false);
}

#[test]
fn poisson_loss_gradients_jet() {
    check(&poisson(), Method::Jet, true);
}
