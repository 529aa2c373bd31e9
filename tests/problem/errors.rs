//! Misuse panics with a message naming the problem, term and item; a non-finite loss is a typed
//! error naming the term.

use super::{closure_loss, col, func, sol};
use physgrad::problem::{Domain, Method, Need, Problem, Region, Side};
use physgrad::{Error, Tape, Var};

fn heat() -> (Problem, physgrad::problem::FieldId) {
    let mut pb = Problem::new("heat");
    let x = pb.coord("x", Domain::Interval(0.0, 1.0));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    let u = pb.scalar_field("u");
    let n = [Need::d(u, t), Need::d2(u, x, x)];
    pb.residual("heat", 1.0, n.to_vec(), move |e| {
        e.get(&n[0]) - e.get(&n[1])
    });
    (pb, u)
}

#[test]
#[should_panic(
    expected = "problem heat: term drift needs field mu, which has no binding in loss_neural"
)]
fn missing_field_binding() {
    let (mut pb, u) = heat();
    let mu = pb.vector_field("mu", 1);
    pb.residual("drift", 1.0, vec![Need::Value(mu)], move |e| {
        e.get(&Need::Value(mu))
    });
    let tape = Tape::new();
    let pts = pb.sample(4, 0, 0);
    let f = sol(|p: Var<'_>| col(p, 0));
    closure_loss(&pb, &tape, &[(u, func(f, Method::Nested))], &[], &pts);
}

#[test]
#[should_panic(
    expected = "problem p: term bc reads d(u, x) but did not declare it among its needs"
)]
fn undeclared_need_read() {
    let mut pb = Problem::new("p");
    let x = pb.coord("x", Domain::Interval(0.0, 1.0));
    let u = pb.scalar_field("u");
    pb.condition(
        "bc",
        1.0,
        Region::Face(x, Side::Lo),
        vec![Need::Value(u)],
        move |e| e.get(&Need::d(u, x)),
    );
    let tape = Tape::new();
    let pts = pb.sample(4, 4, 0);
    let f = sol(|p: Var<'_>| col(p, 0));
    closure_loss(&pb, &tape, &[(u, func(f, Method::Nested))], &[], &pts);
}

#[test]
fn non_finite_loss_names_the_term() {
    let (mut pb, u) = heat();
    pb.invariance("log_mass", 1.0, vec![Need::Value(u)], move |e| {
        (e.get(&Need::Value(u)) - 10.0).ln()
    });
    let tape = Tape::new();
    let store = physgrad::nn::ParamStore::new(0);
    let pts = pb.sample(4, 0, 0);
    let f = sol(|p: Var<'_>| col(p, 0) * col(p, 1));
    let fields = [(u, func(f, Method::Nested))];
    match pb.loss_neural(&tape, &store.bind(&tape), &fields, &[], &pts) {
        Err(e @ Error::NonFinite { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("problem heat") && msg.contains("loss term log_mass"),
                "{msg}"
            );
        }
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("a NaN loss was accepted"),
    }
}

#[test]
#[should_panic(expected = "field u: Method::Jet needs an Mlp or FourierMlp")]
fn jet_on_closure_field() {
    let (pb, u) = heat();
    let tape = Tape::new();
    let pts = pb.sample(4, 0, 0);
    let f = sol(|p: Var<'_>| col(p, 0));
    closure_loss(&pb, &tape, &[(u, func(f, Method::Jet))], &[], &pts);
}

#[test]
#[should_panic(expected = "needs a vector field with 1 components, but u has None")]
fn div_of_scalar_field() {
    let (mut pb, u) = heat();
    let x = physgrad::problem::CoordId(0);
    pb.residual("bad", 1.0, vec![Need::Div { field: u, coord: x }], |e| {
        e.constant(0.0)
    });
}

#[test]
#[should_panic(expected = "needs a scalar field, but mu is a vector field")]
fn lap_of_vector_field() {
    let (mut pb, _) = heat();
    let mu = pb.vector_field("mu", 2);
    let x = physgrad::problem::CoordId(0);
    pb.residual(
        "bad",
        1.0,
        vec![Need::Lap {
            field: mu,
            coord: x,
        }],
        |e| e.constant(0.0),
    );
}

#[test]
#[should_panic(expected = "problem heat: the name x is declared twice")]
fn duplicate_name() {
    let (mut pb, _) = heat();
    pb.scalar_field("x");
}

#[test]
#[should_panic(expected = "a Face needs a declared interval coordinate")]
fn face_on_real_coordinate() {
    let mut pb = Problem::new("p");
    let y = pb.coord("y", Domain::Real(2));
    let u = pb.scalar_field("u");
    pb.condition(
        "bc",
        1.0,
        Region::Face(y, Side::Lo),
        vec![Need::Value(u)],
        move |e| e.get(&Need::Value(u)),
    );
}

#[test]
#[should_panic(expected = "point set 0 must be [n, input_dim = 2]")]
fn wrong_point_shape() {
    let (pb, u) = heat();
    let tape = Tape::new();
    let mut pts = pb.sample(4, 0, 0);
    pts.interior = physgrad::Tensor::zeros(&[4, 3]);
    let f = sol(|p: Var<'_>| col(p, 0));
    closure_loss(&pb, &tape, &[(u, func(f, Method::Nested))], &[], &pts);
}

#[test]
fn describe_lists_everything() {
    let (mut pb, u) = heat();
    pb.periodic(
        "per",
        0.5,
        physgrad::problem::CoordId(0),
        vec![Need::Value(u)],
    );
    let d = pb.describe();
    for s in [
        "problem heat (input_dim 2)",
        "coord x: Interval(0.0, 1.0), columns 0..1",
        "field u: scalar",
        "residual heat (weight 1): needs [d(u, t), d2(u, x, x)]",
        "periodic in x per (weight 0.5): needs [u]",
    ] {
        assert!(d.contains(s), "missing {s:?} in\n{d}");
    }
}

#[test]
#[should_panic(expected = "problem heat: field u has 1 component(s) but its network outputs 2")]
fn network_width_mismatch() {
    let (pb, u) = heat();
    let mut store = physgrad::nn::ParamStore::new(0);
    let net = physgrad::nn::MlpConfig::new(&[2, 4, 2]).build(&mut store, "u");
    let tape = Tape::new();
    let pts = pb.sample(4, 0, 0);
    let fields = [(u, physgrad::problem::NeuralField::Mlp(&net, Method::Jet))];
    let _ = pb.loss_neural(&tape, &store.bind(&tape), &fields, &[], &pts);
}

#[test]
#[should_panic(
    expected = "problem heat: term norm reads parameter logz, but no value was given for it"
)]
fn missing_given_parameter() {
    let (mut pb, u) = heat();
    let logz = pb.param("logz", physgrad::problem::ParamKind::Given);
    pb.invariance("norm", 1.0, vec![Need::Value(u)], move |e| {
        e.get(&Need::Value(u)).mean() - e.param(logz)
    });
    let tape = Tape::new();
    let pts = pb.sample(4, 0, 0);
    let f = sol(|p: Var<'_>| col(p, 0));
    closure_loss(&pb, &tape, &[(u, func(f, Method::Nested))], &[], &pts);
}

/// A problem can be shared across threads (closures are `Send + Sync`).
#[test]
fn problem_is_send_and_sync() {
    fn check<T: Send + Sync>(_: &T) {}
    let (pb, _) = heat();
    check(&pb);
}

/// Sampling: seeded, inside the domains, conditions on their faces, periodic sets on `lo`.
#[test]
fn sampling_respects_domains_and_regions() {
    use physgrad::problem::ParamKind;
    let mut pb = Problem::new("s");
    let x = pb.coord("x", Domain::Interval(-1.0, 2.0));
    let _y = pb.coord("y", Domain::Box(vec![(0.0, 1.0), (5.0, 6.0)]));
    let nu = pb.param("nu", ParamKind::Input { lo: 0.1, hi: 0.2 });
    let _g = pb.param("g", ParamKind::Given);
    let u = pb.scalar_field("u");
    assert_eq!((pb.input_dim(), nu.0), (4, 0));
    pb.condition(
        "hi",
        1.0,
        Region::Face(x, Side::Hi),
        vec![Need::Value(u)],
        move |e| e.get(&Need::Value(u)),
    );
    pb.periodic("per", 1.0, x, vec![Need::Value(u)]);
    let a = pb.sample(200, 50, 3);
    assert_eq!(a.interior.data(), pb.sample(200, 50, 3).interior.data());
    assert_ne!(a.interior.data(), pb.sample(200, 50, 4).interior.data());
    let bounds = [(-1.0, 2.0), (0.0, 1.0), (5.0, 6.0), (0.1, 0.2)];
    for row in a.interior.data().chunks(4) {
        for (v, (lo, hi)) in row.iter().zip(bounds) {
            assert!((lo..=hi).contains(v), "{v} outside [{lo}, {hi}]");
        }
    }
    assert!(a.regions[0].data().chunks(4).all(|r| r[0] == 2.0));
    assert!(a.regions[1].data().chunks(4).all(|r| r[0] == -1.0));
    assert_eq!(a.regions.len(), 2);
}

#[test]
fn declarations_are_found_by_name() {
    let (mut pb, u) = heat();
    let nu = pb.param("nu", physgrad::problem::ParamKind::Given);
    assert_eq!(pb.field_id("u"), u);
    assert_eq!(pb.param_id("nu"), nu);
    assert_eq!(pb.coord_id("t").0, 1);
}

#[test]
#[should_panic(expected = "problem heat: no field named \"v\" (declared: [\"u\"])")]
fn an_unknown_name_lists_the_declared_ones() {
    heat().0.field_id("v");
}
