//! A macro-built problem equals the hand-built one: the same declarations, terms and needs
//! (`describe`), and the same named loss values and weight gradients on the same weights and
//! points, on neural fields (jets and nested) and on grid fields.

use super::{assert_same, Outcome};
use physgrad::nn::{Mlp, MlpConfig, ParamStore};
use physgrad::problem::{
    Domain, Eval, FieldId, Grid, Method, Need, NeuralField, ParamId, ParamKind, Problem, Region,
    Side,
};
use physgrad::{Tape, Tensor, Var};

/// Loss values and weight gradients of `pb` with one MLP per field (in field order).
fn neural(
    pb: &Problem,
    store: &ParamStore,
    nets: &[&Mlp],
    method: &Method,
    given: bool,
) -> Outcome {
    let tape = Tape::new();
    let bound = store.bind(&tape);
    let fields: Vec<_> = nets
        .iter()
        .enumerate()
        .map(|(i, n)| (FieldId(i), NeuralField::Mlp(n, method.clone())))
        .collect();
    let logz = [(ParamId(0), tape.scalar(0.3))];
    let given: &[(ParamId, Var)] = if given { &logz } else { &[] };
    let pts = pb.sample(40, 10, 11);
    let loss = pb.loss_neural(&tape, &bound, &fields, given, &pts).unwrap();
    (loss.values(), bound.gradients(loss.total).tensors)
}

/// Both problems declare the same things and compute the same loss and weight gradients.
fn check_neural(m: &Problem, h: &Problem, widths_out: &[usize], methods: &[Method], given: bool) {
    assert_eq!(m.describe(), h.describe());
    let mut store = ParamStore::new(3);
    let nets: Vec<Mlp> = widths_out
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            MlpConfig::new(&[m.input_dim(), 10, 10, k]).build(&mut store, &format!("f{i}"))
        })
        .collect();
    let nets: Vec<&Mlp> = nets.iter().collect();
    for method in methods {
        assert_same(
            neural(m, &store, &nets, method, given),
            neural(h, &store, &nets, method, given),
        );
    }
}

fn burgers_macro() -> Problem {
    physgrad::pde! {
        name: "burgers";
        coords { x in [0.0, 1.0], t in [0.0, 0.2] }
        params { nu in [0.001, 0.05], c in [3.0, 6.0] }
        fields { u: scalar }
        residual burgers (weight = 1.0): d(u, t) + u * d(u, x) - nu * d2(u, x, x) = 0;
        initial ic (weight = 2.0) at t = lo: u = 0.5 * (1.0 - cos(2.0 * PI * c * x));
        boundary wall (weight = 0.5) at x = hi: d(u, x) = 0;
        periodic per (weight = 1.5) in x: u, d(u, x);
    }
}

fn burgers_hand() -> Problem {
    let mut p = Problem::new("burgers");
    let x = p.coord("x", Domain::Interval(0.0, 1.0));
    let t = p.coord("t", Domain::Interval(0.0, 0.2));
    let nu = p.param(
        "nu",
        ParamKind::Input {
            lo: 0.001,
            hi: 0.05,
        },
    );
    let c = p.param("c", ParamKind::Input { lo: 3.0, hi: 6.0 });
    let u = p.scalar_field("u");
    let (ut, ux, uxx, uv) = (
        Need::d(u, t),
        Need::d(u, x),
        Need::d2(u, x, x),
        Need::Value(u),
    );
    let needs = vec![ut.clone(), uv.clone(), ux.clone(), uxx.clone()];
    let (a, b, d, e) = (ut, uv.clone(), ux.clone(), uxx);
    p.residual("burgers", 1.0, needs, move |ev| {
        ev.get(&a) + ev.get(&b) * ev.get(&d) - ev.param(nu) * ev.get(&e) - 0.0
    });
    let v = uv.clone();
    p.condition(
        "ic",
        2.0,
        Region::Face(t, Side::Lo),
        vec![uv.clone()],
        move |ev| {
            let arg = 2.0 * std::f64::consts::PI * ev.param(c) * ev.coord(x);
            ev.get(&v) - 0.5 * (1.0 - arg.cos())
        },
    );
    let d = ux.clone();
    p.condition(
        "wall",
        0.5,
        Region::Face(x, Side::Hi),
        vec![ux.clone()],
        move |ev| ev.get(&d) - 0.0,
    );
    p.periodic("per", 1.5, x, vec![uv, ux]);
    p
}

#[test]
fn burgers_macro_equals_hand_built() {
    let (m, h) = (burgers_macro(), burgers_hand());
    assert_eq!(m.input_dim(), 4);
    check_neural(&m, &h, &[1], &[Method::Jet, Method::Nested], false);
}

/// The forcing of the manufactured 2-D Poisson problem (a user function of the DSL).
fn forcing<'t>(x0: Var<'t>, x1: Var<'t>) -> Var<'t> {
    (x0 * x1).sin()
}

fn poisson_macro() -> Problem {
    physgrad::pde! {
        name: "poisson2d";
        coords { x in box [[0.0, 1.0], [0.0, 2.0]] }
        fields { u: scalar }
        functions { forcing }
        residual poisson: -((1.0 + x[0] * x[0]) * lap(u, x) + 2.0 * x[0] * d(u, x[0])) = forcing(x[0], x[1]);
        boundary walls (weight = 10.0) at all: u = 0.0;
    }
}

fn poisson_hand() -> Problem {
    let mut p = Problem::new("poisson2d");
    let x = p.coord("x", Domain::Box(vec![(0.0, 1.0), (0.0, 2.0)]));
    let u = p.scalar_field("u");
    let lap = Need::Lap { field: u, coord: x };
    let ux0 = Need::D {
        field: u,
        field_comp: 0,
        coord: x,
        component: 0,
    };
    let (l, d) = (lap.clone(), ux0.clone());
    p.residual("poisson", 1.0, vec![lap, ux0], move |ev| {
        let xs = ev.coord(x);
        let (x0, x1) = (
            xs.slice(1, 0..1).reshape(&[xs.shape()[0]]),
            xs.slice(1, 1..2).reshape(&[xs.shape()[0]]),
        );
        -((1.0 + x0 * x0) * ev.get(&l) + 2.0 * x0 * ev.get(&d)) - forcing(x0, x1)
    });
    p.condition(
        "walls",
        10.0,
        Region::AllFacesExcept(vec![]),
        vec![Need::Value(u)],
        move |ev| ev.get(&Need::Value(u)) - 0.0,
    );
    p
}

#[test]
fn poisson_2d_variable_coefficient_macro_equals_hand_built() {
    check_neural(
        &poisson_macro(),
        &poisson_hand(),
        &[1],
        &[Method::Jet, Method::Nested],
        false,
    );
}

fn sigma() -> Tensor {
    Tensor::from_vec(vec![1.0, 0.2, 0.0, 0.7], &[2, 2])
}

fn fokker_planck_macro() -> Problem {
    let s = sigma();
    physgrad::pde! {
        name: "fp";
        coords { x in R^2, t in [0.0, 1.0] }
        params { logz given }
        fields { v: scalar, mu: vector(2), phi: scalar }
        residual fp: d(v, t) = fokker_planck(v, mu, x, { s.clone() });
        residual transport (weight = 0.5): d(v, t) = continuity(v, mu, x);
        residual hjb (weight = 0.1): d(phi, t) = hjb(phi, x, { s.clone() });
        invariance norm (weight = 0.01): mean(exp(v - logz)) = 1.0;
        invariance drift (weight = 0.01): mean(norm(mu - grad(phi, x))) = 0;
    }
}

fn fokker_planck_hand() -> Problem {
    use physgrad::pde::operators as ops;
    let mut p = Problem::new("fp");
    let x = p.coord("x", Domain::Real(2));
    let t = p.coord("t", Domain::Interval(0.0, 1.0));
    let logz = p.param("logz", ParamKind::Given);
    let (v, mu, phi) = (
        p.scalar_field("v"),
        p.vector_field("mu", 2),
        p.scalar_field("phi"),
    );
    let (vt, gv, m, dm) = (
        Need::d(v, t),
        Need::Grad { field: v, coord: x },
        Need::Value(mu),
        Need::Div {
            field: mu,
            coord: x,
        },
    );
    let tr = Need::Diffusion {
        field: v,
        coord: x,
        sigma: sigma(),
    };
    let n = [vt.clone(), gv.clone(), m.clone(), dm.clone(), tr.clone()];
    p.residual("fp", 1.0, n.to_vec(), move |ev| {
        let s = sigma();
        ev.get(&n[0])
            - ops::fokker_planck(
                ev.get(&n[1]),
                ev.get(&n[2]),
                ev.get(&n[3]),
                Some(&s),
                Some(ev.get(&n[4])),
            )
    });
    let n = [vt, gv, m.clone(), dm];
    p.residual("transport", 0.5, n.to_vec(), move |ev| {
        ev.get(&n[0]) - ops::continuity(ev.get(&n[1]), ev.get(&n[2]), ev.get(&n[3]))
    });
    let n = [
        Need::d(phi, t),
        Need::Grad {
            field: phi,
            coord: x,
        },
        Need::Diffusion {
            field: phi,
            coord: x,
            sigma: sigma(),
        },
    ];
    p.residual("hjb", 0.1, n.to_vec(), move |ev| {
        ev.get(&n[0]) - ops::hjb(ev.get(&n[1]), ev.get(&n[2]))
    });
    p.invariance("norm", 0.01, vec![Need::Value(v)], move |ev| {
        (ev.get(&Need::Value(v)) - ev.param(logz)).exp().mean() - 1.0
    });
    let gp = Need::Grad {
        field: phi,
        coord: x,
    };
    let n = [m, gp];
    p.invariance("drift", 0.01, n.to_vec(), move |ev| {
        let diff = ev.get(&n[0]) - ev.get(&n[1]);
        (diff * diff).sum_axes(&[1], false).sqrt().mean() - 0.0
    });
    p
}

#[test]
fn fokker_planck_continuity_hjb_macro_equals_hand_built() {
    let methods = [Method::Jet, Method::Nested];
    check_neural(
        &fokker_planck_macro(),
        &fokker_planck_hand(),
        &[1, 2, 1],
        &methods,
        true,
    );
}

/// A fixed motif: the field on a mask must equal a pattern (a user function reading `Eval`).
fn motif<'t>(ev: &Eval<'t>, phi: Var<'t>) -> Var<'t> {
    let n = phi.shape()[1];
    let mask = Tensor::from_vec(
        (0..n * n)
            .map(|k| f64::from(u8::from(k % n < 3 && k / n < 3)))
            .collect(),
        &[n, n],
    );
    let tape = ev.tape();
    (phi - 0.8) * tape.constant(mask)
}

fn microstructure_macro() -> Problem {
    physgrad::pde! {
        name: "microstructure";
        coords { i in [0.0, 1.0], j in [0.0, 1.0] }
        params { p1 in [0.3, 0.5] }
        fields { phi: scalar }
        functions { motif(eval) }
        invariance volume (weight = 1.0): mean(phi) = mean(p1);
        invariance second (weight = 2.0): mean(phi * phi) = 0.3;
        invariance pattern (weight = 3.0): motif(phi) = 0.0;
        residual smooth (weight = 0.1): lap(phi, i) + d(phi, j, j) = 0;
        boundary edges at i: d(phi, i) = 0;
    }
}

fn microstructure_hand() -> Problem {
    let mut p = Problem::new("microstructure");
    let i = p.coord("i", Domain::Interval(0.0, 1.0));
    let j = p.coord("j", Domain::Interval(0.0, 1.0));
    let p1 = p.param("p1", ParamKind::Input { lo: 0.3, hi: 0.5 });
    let phi = p.scalar_field("phi");
    let v = Need::Value(phi);
    let w = v.clone();
    p.invariance("volume", 1.0, vec![v.clone()], move |ev| {
        ev.get(&w).mean() - ev.param(p1).mean()
    });
    let w = v.clone();
    p.invariance("second", 2.0, vec![v.clone()], move |ev| {
        (ev.get(&w) * ev.get(&w)).mean() - 0.3
    });
    let w = v.clone();
    p.invariance("pattern", 3.0, vec![v], move |ev| {
        motif(ev, ev.get(&w)) - 0.0
    });
    let n = [
        Need::Lap {
            field: phi,
            coord: i,
        },
        Need::d2(phi, j, j),
    ];
    p.residual("smooth", 0.1, n.to_vec(), move |ev| {
        ev.get(&n[0]) + ev.get(&n[1]) - 0.0
    });
    let di = Need::d(phi, i);
    let d = di.clone();
    p.condition(
        "edges",
        1.0,
        Region::AllFacesExcept(vec![j]),
        vec![di],
        move |ev| ev.get(&d) - 0.0,
    );
    p
}

/// Grid fields: a batch of 3 images `[3, 9, 9]` with per-image `p1`.
#[test]
fn microstructure_grid_macro_equals_hand_built() {
    let (m, h) = (microstructure_macro(), microstructure_hand());
    assert_eq!(m.describe(), h.describe());
    let image = Tensor::rand_uniform(&[3, 9, 9], 0.0, 1.0, 4);
    let p1 = Tensor::from_vec(vec![0.3, 0.4, 0.5], &[3]);
    let mut grid = Grid::new(vec![1.0 / 8.0, 1.0 / 8.0]);
    grid.batch = true;
    let eval = |pb: &Problem| {
        let tape = Tape::new();
        let u = tape.var(image.clone());
        let given = [(ParamId(0), tape.constant(p1.clone()))];
        let loss = pb
            .loss_grid(&tape, &[(FieldId(0), u)], &grid, &given)
            .unwrap();
        (loss.values(), vec![loss.total.backward().wrt(u)])
    };
    assert_same(eval(&m), eval(&h));
}
