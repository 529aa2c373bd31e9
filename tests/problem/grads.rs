//! Jets against nested reverse mode on MLP / FourierMlp fields (loss terms and weight
//! gradients agree), and finite-difference checks of DSL losses w.r.t. weights and grid values.

use physgrad::nn::{Activation, FourierMlp, Mlp, MlpConfig, ParamStore};
use physgrad::pde::grid::Boundary;
use physgrad::problem::{
    Domain, FieldId, Grid, GridScheme, Method, Need, NeuralField, ParamKind, Problem, Region, Side,
};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Tape, Tensor};

/// Every kind of need, on a scalar and a vector field over `(x ∈ ℝ², t, c)`.
fn all_needs() -> (Problem, FieldId, FieldId) {
    let mut pb = Problem::new("all");
    let x = pb.coord("x", Domain::Real(2));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    let c = pb.param("c", ParamKind::Input { lo: 1.0, hi: 2.0 });
    let v = pb.scalar_field("v");
    let mu = pb.vector_field("mu", 2);
    let sigma = Tensor::from_vec(vec![0.8, 0.3, -0.2, 0.1, 0.5, 0.7], &[2, 3]);
    let n = vec![
        Need::Value(v),
        Need::d(v, t),
        Need::D2 {
            field: v,
            field_comp: 0,
            a: (x, 0),
            b: (t, 0),
        },
        Need::D2 {
            field: v,
            field_comp: 0,
            a: (x, 1),
            b: (x, 1),
        },
        Need::Grad { field: v, coord: x },
        Need::Lap { field: v, coord: x },
        Need::Diffusion {
            field: v,
            coord: x,
            sigma,
        },
        Need::Value(mu),
        Need::Div {
            field: mu,
            coord: x,
        },
        Need::D {
            field: mu,
            field_comp: 1,
            coord: x,
            component: 0,
        },
        Need::D2 {
            field: mu,
            field_comp: 1,
            a: (x, 0),
            b: (x, 1),
        },
    ];
    let r = n.clone();
    pb.residual("everything", 1.0, n, move |e| {
        let g = |k: usize| e.get(&r[k]);
        let grads = (g(4) * g(7)).sum_axes(&[1], false);
        g(0) * e.param(c) + g(1) + g(2) * g(3) + grads + g(5) - g(6) + g(8) * g(9) + g(10).sin()
    });
    let m = vec![Need::d(v, t), Need::Grad { field: v, coord: x }];
    let q = m.clone();
    pb.condition("ic", 0.5, Region::Face(t, Side::Lo), m, move |e| {
        e.get(&q[0]) + e.get(&q[1]).sum_axes(&[1], false)
    });
    pb.periodic(
        "per",
        0.3,
        t,
        vec![Need::Value(v), Need::Lap { field: v, coord: x }],
    );
    pb.invariance("mean", 2.0, vec![Need::Value(mu)], move |e| {
        e.get(&Need::Value(mu)).mean() - 0.1
    });
    (pb, v, mu)
}

fn nets(store: &mut ParamStore, d: usize) -> (Mlp, Mlp) {
    let v = MlpConfig::new(&[d, 6, 6, 1]).build(store, "v");
    let mu = MlpConfig::new(&[d, 5, 2])
        .activation(Activation::Softplus)
        .build(store, "mu");
    (v, mu)
}

#[test]
fn jets_equal_nested_on_every_need() {
    let (pb, v, mu) = all_needs();
    let mut store = ParamStore::new(3);
    let (nv, nmu) = nets(&mut store, pb.input_dim());
    let pts = pb.sample(24, 8, 11);
    let run = |m: Method| {
        let tape = Tape::new();
        let p = store.bind(&tape);
        let fields = [
            (v, NeuralField::Mlp(&nv, m.clone())),
            (mu, NeuralField::Mlp(&nmu, m)),
        ];
        let loss = pb.loss_neural(&tape, &p, &fields, &[], &pts).unwrap();
        let grads = p.gradients(loss.total);
        let flat: Vec<f64> = store
            .ids()
            .flat_map(|id| grads.get(id).unwrap().data().to_vec())
            .collect();
        (loss.values(), flat)
    };
    let (lj, gj) = run(Method::Jet);
    let (ln, gn) = run(Method::Nested);
    for ((name, a), (_, b)) in lj.iter().zip(&ln) {
        assert!(
            (a - b).abs() <= 1e-10 * (1.0 + b.abs()),
            "{name}: jet {a} vs nested {b}"
        );
        assert!(*b > 1e-8, "{name} is trivially zero");
    }
    let scale = gn.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let err = gj
        .iter()
        .zip(&gn)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        err <= 1e-9 * scale,
        "weight gradients differ by {err:e} (scale {scale})"
    );
}

#[test]
fn fourier_jets_equal_nested() {
    let mut pb = Problem::new("pis");
    let x = pb.coord("x", Domain::Real(2));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    let v = pb.scalar_field("v");
    let n = vec![
        Need::d(v, t),
        Need::Lap { field: v, coord: x },
        Need::Grad { field: v, coord: x },
    ];
    let r = n.clone();
    pb.residual("r", 1.0, n, move |e| {
        e.get(&r[0]) - e.get(&r[1]) + e.get(&r[2]).square().sum_axes(&[1], false)
    });
    let mut store = ParamStore::new(5);
    let net = FourierMlp::new(&mut store, "v", 2, 4, 1, 1, false);
    let pts = pb.sample(16, 0, 12);
    let run = |m: Method| {
        let tape = Tape::new();
        let p = store.bind(&tape);
        let loss = pb
            .loss_neural(&tape, &p, &[(v, NeuralField::Fourier(&net, m))], &[], &pts)
            .unwrap();
        let g = p.gradients(loss.total);
        (loss.total.item(), g.norm())
    };
    let ((a, ga), (b, gb)) = (run(Method::Jet), run(Method::Nested));
    assert!(
        (a - b).abs() <= 1e-10 * b.abs() && (ga - gb).abs() <= 1e-9 * gb,
        "{a} {b} {ga} {gb}"
    );
}

/// `check_grad` / `check_grad2` of the whole loss w.r.t. every weight, jets and nested.
#[test]
fn loss_weight_gradients_check() {
    let (pb, v, mu) = all_needs();
    let mut store = ParamStore::new(8);
    let (nv, nmu) = nets(&mut store, pb.input_dim());
    let pts = pb.sample(6, 3, 13);
    let cfg = GradCheck {
        max_entries: 8,
        directions: 2,
        ..GradCheck::default()
    };
    for (m, second) in [(Method::Jet, true), (Method::Nested, false)] {
        let f = hr(|tape, vars| {
            let p = store.bind_vars(vars);
            let fields = [
                (v, NeuralField::Mlp(&nv, m.clone())),
                (mu, NeuralField::Mlp(&nmu, m.clone())),
            ];
            pb.loss_neural(tape, &p, &fields, &[], &pts).unwrap().total
        });
        check_grad(f, store.values(), &cfg).unwrap();
        if second {
            check_grad2(f, store.values(), &cfg).unwrap();
        }
    }
}

/// A grid loss as an InvNet generator sees it: gradients w.r.t. the field values (Sobel
/// residual, a face condition, periodicity, an invariance), first and second order.
#[test]
fn grid_loss_value_gradients_check() {
    let mut pb = Problem::new("grid");
    let x = pb.coord("x", Domain::Interval(0.0, 1.0));
    let y = pb.coord("y", Domain::Interval(0.0, 1.0));
    let u = pb.scalar_field("u");
    let n = vec![
        Need::Value(u),
        Need::d(u, x),
        Need::d2(u, x, y),
        Need::Lap { field: u, coord: y },
    ];
    let r = n.clone();
    pb.residual("r", 1.0, n, move |e| {
        e.get(&r[0]) * e.get(&r[1]) - e.get(&r[2]) + e.get(&r[3])
    });
    pb.condition(
        "wall",
        1.0,
        Region::Face(y, Side::Hi),
        vec![Need::d(u, y)],
        move |e| e.get(&Need::d(u, y)) - e.coord(x),
    );
    pb.periodic("per", 1.0, x, vec![Need::Value(u)]);
    pb.invariance("vf", 1.0, vec![Need::Value(u)], move |e| {
        e.get(&Need::Value(u)).mean() - 0.5
    });
    let grid = Grid {
        spacing: vec![0.25, 0.2],
        boundary: Boundary::Replicate,
        scheme: GridScheme::Sobel,
        batch: true,
    };
    let f = hr(|tape, vars| {
        pb.loss_grid(tape, &[(u, vars[0])], &grid, &[])
            .unwrap()
            .total
    });
    let field = Tensor::rand_uniform(&[2, 5, 6], -1.0, 1.0, 4);
    let cfg = GradCheck {
        max_entries: 64,
        ..GradCheck::default()
    };
    check_grad(f, std::slice::from_ref(&field), &cfg).unwrap();
    check_grad2(f, &[field], &cfg).unwrap();
}

/// Needs shared by several terms at the same points are computed once: the field closure runs
/// once for the interior (two residuals and an invariance), once per condition, twice for a
/// periodic term.
#[test]
fn each_point_set_evaluates_a_field_once() {
    use std::cell::Cell;
    let mut pb = Problem::new("count");
    let x = pb.coord("x", Domain::Interval(0.0, 1.0));
    let u = pb.scalar_field("u");
    let n = vec![Need::Value(u), Need::d(u, x), Need::d2(u, x, x)];
    let (r1, r2) = (n.clone(), n.clone());
    pb.residual("a", 1.0, n.clone(), move |e| e.get(&r1[0]) - e.get(&r1[2]));
    pb.residual("b", 1.0, n, move |e| e.get(&r2[1]) * e.get(&r2[0]));
    pb.invariance("m", 1.0, vec![Need::Value(u)], move |e| {
        e.get(&Need::Value(u)).mean()
    });
    pb.condition(
        "bc",
        1.0,
        Region::Face(x, Side::Lo),
        vec![Need::d(u, x)],
        move |e| e.get(&Need::d(u, x)),
    );
    pb.periodic("per", 1.0, x, vec![Need::Value(u)]);
    let calls = Cell::new(0usize);
    let f = super::sol(|p| {
        calls.set(calls.get() + 1);
        p.sin()
    });
    let tape = Tape::new();
    let store = ParamStore::new(0);
    let pts = pb.sample(8, 4, 1);
    let fields = [(u, NeuralField::Func(Box::new(f), Method::Nested))];
    pb.loss_neural(&tape, &store.bind(&tape), &fields, &[], &pts)
        .unwrap();
    assert_eq!(calls.get(), 1 + 1 + 2);
}

/// Hutchinson needs equal `pde::hutchinson` with the same configuration (same probes).
#[test]
fn hutchinson_matches_pde_module() {
    use physgrad::nn::Module;
    use physgrad::pde::hutchinson::{self, HutchinsonConfig};
    use physgrad::pde::Request;
    let mut pb = Problem::new("h");
    let y = pb.coord("y", Domain::Real(3));
    let v = pb.scalar_field("v");
    let lap = Need::Lap { field: v, coord: y };
    let l2 = lap.clone();
    pb.residual("lap", 1.0, vec![lap], move |e| e.get(&l2));
    let mut store = ParamStore::new(2);
    let net = MlpConfig::new(&[3, 8, 1]).build(&mut store, "v");
    let pts = pb.sample(10, 0, 3);
    let cfg = HutchinsonConfig {
        probes: 5,
        ..HutchinsonConfig::default()
    };
    let tape = Tape::new();
    let p = store.bind(&tape);
    let fields = [(v, NeuralField::Mlp(&net, Method::Hutchinson(cfg.clone())))];
    let ours = pb
        .loss_neural(&tape, &p, &fields, &[], &pts)
        .unwrap()
        .total
        .item();
    let x = tape.var(pts.interior.clone());
    let req = Request::laplacian(vec![0, 1, 2]);
    let est = hutchinson::scalar(x, |x| net.forward(&p, x), &req, &cfg)
        .second
        .unwrap();
    let want = est.square().mean().item();
    assert!((ours - want).abs() <= 1e-12 * want, "{ours} vs {want}");
}

/// Property: on random MLP widths, activations, batch sizes and weights, every loss term of the
/// all-needs problem agrees between jets and nested reverse mode.
#[test]
fn jets_equal_nested_random_networks() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let acts = [
        Activation::Tanh,
        Activation::Sin,
        Activation::Softplus,
        Activation::Gelu,
        Activation::Silu,
    ];
    let mut runner = TestRunner::new(Config {
        cases: crate::pde::cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let (pb, v, mu) = all_needs();
    let strategy = (1usize..10, 2usize..7, 0usize..5, 0u64..1000);
    runner
        .run(&strategy, |(b, width, act, seed)| {
            let mut store = ParamStore::new(seed);
            let d = pb.input_dim();
            let nv = MlpConfig::new(&[d, width, width, 1])
                .activation(acts[act])
                .build(&mut store, "v");
            let nmu = MlpConfig::new(&[d, width, 2])
                .activation(acts[(act + 1) % 5])
                .build(&mut store, "mu");
            let pts = pb.sample(b, b, seed);
            let run = |m: Method| {
                let tape = Tape::new();
                let p = store.bind(&tape);
                let fields = [
                    (v, NeuralField::Mlp(&nv, m.clone())),
                    (mu, NeuralField::Mlp(&nmu, m)),
                ];
                pb.loss_neural(&tape, &p, &fields, &[], &pts)
                    .unwrap()
                    .values()
            };
            for ((name, a), (_, c)) in run(Method::Jet).iter().zip(&run(Method::Nested)) {
                prop_assert!(
                    (a - c).abs() <= 1e-9 * (1.0 + c.abs()),
                    "{}: jet {} vs nested {}",
                    name,
                    a,
                    c
                );
            }
            Ok(())
        })
        .unwrap();
}
