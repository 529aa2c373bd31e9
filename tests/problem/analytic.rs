//! Residuals of hand-built problems vanish (to round-off) on analytic solutions given as
//! closure fields: heat kernels, Cole–Hopf Burgers, inviscid Burgers, variable-coefficient
//! Poisson, the Ornstein–Uhlenbeck Fokker–Planck log-density, continuity + HJB.

use super::{assert_vanishes, closure_loss, col, func, sol};
use physgrad::pde::hutchinson::HutchinsonConfig;
use physgrad::pde::operators::{continuity, fokker_planck, hjb};
use physgrad::problem::{Domain, Method, Need, ParamKind, Problem, Region, Side};
use physgrad::{Tape, Tensor, Var};
use std::f64::consts::PI;

const TOL: f64 = 1e-20; // mean r² for |r| ~ 1e-10

/// Heat kernel `u = (4πt)^{-1/2} e^{-x²/4t}` in 1-D and `(4πt)^{-1} e^{-|y|²/4t}` in 2-D (a
/// `Real(2)` coordinate): `u_t = u_xx`, `u_t = Δu`.
#[test]
fn heat_kernel_1d_and_2d() {
    {
        let method = Method::Nested;
        let mut pb = Problem::new("heat");
        let x = pb.coord("x", Domain::Interval(-2.0, 2.0));
        let y = pb.coord("y", Domain::Real(2));
        let t = pb.coord("t", Domain::Interval(0.5, 1.5));
        let u = pb.scalar_field("u");
        let w = pb.scalar_field("w");
        let (ut, uxx) = (Need::d(u, t), Need::d2(u, x, x));
        let (wt, lap) = (Need::d(w, t), Need::Lap { field: w, coord: y });
        let n = [ut.clone(), uxx.clone()];
        pb.residual("heat1", 1.0, n.to_vec(), move |e| {
            e.get(&n[0]) - e.get(&n[1])
        });
        let m = [wt.clone(), lap.clone()];
        pb.residual("heat2", 1.0, m.to_vec(), move |e| {
            e.get(&m[0]) - e.get(&m[1])
        });
        pb.condition(
            "ic",
            1.0,
            Region::Face(t, Side::Lo),
            vec![Need::Value(u)],
            move |e| {
                let (xv, tv) = (e.coord(x), e.coord(t));
                e.get(&Need::Value(u))
                    - (-xv.square() / (tv * 4.0)).exp() / (tv * (4.0 * PI)).sqrt()
            },
        );
        let kernel1 = sol(|p| {
            let (xv, tv) = (col(p, 0), col(p, 3));
            (-xv.square() / (tv * 4.0)).exp() / (tv * (4.0 * PI)).sqrt()
        });
        let kernel2 = sol(|p| {
            let (r2, tv) = (p.slice(1, 1..3).square().sum_axes(&[1], true), col(p, 3));
            (-r2 / (tv * 4.0)).exp() / (tv * (4.0 * PI))
        });
        let tape = Tape::new();
        let pts = pb.sample(48, 16, 1);
        let fields = [
            (u, func(kernel1, method.clone())),
            (w, func(kernel2, method.clone())),
        ];
        let loss = closure_loss(&pb, &tape, &fields, &[], &pts);
        assert_vanishes(&loss, TOL);
        // A wrong solution does not pass: u = kernel at 2t.
        let wrong = sol(|p| {
            let (xv, tv) = (col(p, 0), col(p, 3) * 2.0);
            (-xv.square() / (tv * 4.0)).exp() / (tv * (4.0 * PI)).sqrt()
        });
        let fields = [(u, func(wrong, Method::Nested)), (w, func(kernel2, method))];
        let bad = closure_loss(&pb, &tape, &fields, &[], &pts);
        assert!(bad.values()[0].1 > 1e-6 && bad.values()[2].1 > 1e-6);
    }
}

/// Cole–Hopf: `φ = 1 + a e^{-νk²t} cos kx` solves `φ_t = νφ_xx`, so
/// `u = −2νφ_x/φ = 2νak e^{-νk²t} sin kx / φ` solves `u_t + u u_x = ν u_xx`; ν is a conditioning
/// input; periodic in `x` with period `2π/k`; the initial condition is the formula at `t = 0`.
#[test]
fn viscous_burgers_cole_hopf() {
    let (a, k) = (0.6, 2.0);
    let mut pb = Problem::new("burgers");
    let x = pb.coord("x", Domain::Interval(0.0, 2.0 * PI / k));
    let t = pb.coord("t", Domain::Interval(0.0, 0.5));
    let nu = pb.param("nu", ParamKind::Input { lo: 0.01, hi: 0.2 });
    let u = pb.scalar_field("u");
    let n = [
        Need::Value(u),
        Need::d(u, t),
        Need::d(u, x),
        Need::d2(u, x, x),
    ];
    let r = n.clone();
    pb.residual("momentum", 1.0, n.to_vec(), move |e| {
        e.get(&r[1]) + e.get(&r[0]) * e.get(&r[2]) - e.param(nu) * e.get(&r[3])
    });
    pb.condition(
        "ic",
        2.0,
        Region::Face(t, Side::Lo),
        vec![Need::Value(u)],
        move |e| {
            let (xv, v) = (e.coord(x), e.param(nu));
            let u0 = v * (2.0 * a * k) * (xv * k).sin() / ((xv * k).cos() * a + 1.0);
            e.get(&Need::Value(u)) - u0
        },
    );
    pb.periodic("per", 1.0, x, vec![Need::Value(u), Need::d(u, x)]);
    let exact = sol(move |p| {
        let (xv, tv, v) = (col(p, 0), col(p, 1), col(p, 2));
        let decay = (-(v * tv) * (k * k)).exp() * a;
        v * decay * (2.0 * k) * (xv * k).sin() / (decay * (xv * k).cos() + 1.0)
    });
    let tape = Tape::new();
    let pts = pb.sample(64, 16, 2);
    let loss = closure_loss(&pb, &tape, &[(u, func(exact, Method::Nested))], &[], &pts);
    assert_vanishes(&loss, TOL);
    assert_eq!(loss.terms.len(), 3);
    let want = [("momentum", 1.0), ("ic", 2.0), ("per", 1.0)];
    for (term, (name, w)) in loss.terms.iter().zip(want) {
        assert_eq!((term.name.as_str(), term.weight), (name, w));
    }
}

/// Inviscid Burgers `u_t + u u_x = 0` with the expansion wave `u = x/(1 + t)`.
#[test]
fn inviscid_burgers() {
    let mut pb = Problem::new("inviscid");
    let x = pb.coord("x", Domain::Interval(-1.0, 1.0));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    let u = pb.scalar_field("u");
    let n = [Need::Value(u), Need::d(u, t), Need::d(u, x)];
    let r = n.clone();
    pb.residual("burgers", 1.0, n.to_vec(), move |e| {
        e.get(&r[1]) + e.get(&r[0]) * e.get(&r[2])
    });
    pb.condition(
        "ic",
        1.0,
        Region::Face(t, Side::Lo),
        vec![Need::Value(u)],
        move |e| e.get(&Need::Value(u)) - e.coord(x),
    );
    let tape = Tape::new();
    let pts = pb.sample(32, 8, 3);
    let exact = sol(|p| col(p, 0) / (col(p, 1) + 1.0));
    let loss = closure_loss(&pb, &tape, &[(u, func(exact, Method::Nested))], &[], &pts);
    assert_vanishes(&loss, TOL);
}

/// `−(a u′)′ = f` with `a = 1 + x²`, `u = sin πx`, Dirichlet zero on both ends (1-D), and
/// `−∇·(κ∇u) = f` with `κ = 1 + x² + y²` (a box coordinate), `u = sin πx sin πy` (2-D),
/// expanded as `−(∇κ·∇u + κΔu)`.
#[test]
fn variable_coefficient_poisson() {
    let mut pb = Problem::new("poisson");
    let x = pb.coord("x", Domain::Interval(0.0, 1.0));
    let z = pb.coord("z", Domain::Box(vec![(0.0, 1.0), (0.0, 1.0)]));
    let u = pb.scalar_field("u");
    let v = pb.scalar_field("v");
    let (ux, uxx) = (Need::d(u, x), Need::d2(u, x, x));
    let n = [ux.clone(), uxx.clone()];
    pb.residual("poisson1", 1.0, n.to_vec(), move |e| {
        let xv = e.coord(x);
        let (s, c) = ((xv * PI).sin(), (xv * PI).cos());
        let f = (xv.square() + 1.0) * s * (PI * PI) - xv * c * (2.0 * PI);
        -(xv * 2.0 * e.get(&n[0]) + (xv.square() + 1.0) * e.get(&n[1])) - f
    });
    let m = [
        Need::Grad { field: v, coord: z },
        Need::Lap { field: v, coord: z },
    ];
    pb.residual("poisson2", 1.0, m.to_vec(), move |e| {
        let zv = e.coord(z); // [B, 2]
        let kappa = zv.square().sum_axes(&[1], false) + 1.0;
        let grad_kappa = zv * 2.0;
        let (p, q) = (zv.slice(1, 0..1) * PI, zv.slice(1, 1..2) * PI);
        let b = zv.shape()[0];
        let uu = (p.sin() * q.sin()).reshape(&[b]);
        let gu = Var::concat(&[p.cos() * q.sin(), p.sin() * q.cos()], 1) * PI;
        let f = -((grad_kappa * gu).sum_axes(&[1], false) - kappa * uu * (2.0 * PI * PI));
        -((grad_kappa * e.get(&m[0])).sum_axes(&[1], false) + kappa * e.get(&m[1])) - f
    });
    let ends = Region::AllFacesExcept(vec![z]);
    pb.condition("dirichlet_u", 1.0, ends, vec![Need::Value(u)], move |e| {
        e.get(&Need::Value(u))
    });
    let sides = Region::AllFacesExcept(vec![x]);
    pb.condition("dirichlet_v", 1.0, sides, vec![Need::Value(v)], move |e| {
        e.get(&Need::Value(v))
    });
    let tape = Tape::new();
    let pts = pb.sample(40, 24, 4);
    // The box faces are used evenly: 24 points over 4 faces.
    let on = |c: usize, val: f64| {
        pts.regions[1]
            .data()
            .chunks(3)
            .filter(|r| r[c] == val)
            .count()
    };
    assert_eq!(
        [on(1, 0.0), on(1, 1.0), on(2, 0.0), on(2, 1.0)],
        [6, 6, 6, 6]
    );
    let u_exact = sol(|p| (col(p, 0) * PI).sin());
    let v_exact = sol(|p| (col(p, 1) * PI).sin() * (col(p, 2) * PI).sin());
    let fields = [
        (u, func(u_exact, Method::Nested)),
        (v, func(v_exact, Method::Nested)),
    ];
    assert_vanishes(&closure_loss(&pb, &tape, &fields, &[], &pts), TOL);
}

/// The Ornstein–Uhlenbeck process `dX = −θX dt + σ₀ dW` from `N(0, s₀²I)` has the Gaussian
/// log-density `v = −(d/2) log(2πs²) − |x|²/(2s²)`, `s² = s₀²e^{−2θt} + σ₀²(1 − e^{−2θt})/(2θ)`,
/// which solves `∂ₜv = −div μ − ∇v·μ + ½‖σᵀ∇v‖² + ½tr(σσᵀ∇²v)` with the drift field `μ = −θx`.
#[test]
fn fokker_planck_ou_gaussian() {
    let (theta, s0, sig) = (0.7, 1.3, 0.9);
    let sigma = Tensor::from_vec(vec![sig, 0.0, 0.0, sig], &[2, 2]);
    let mut pb = Problem::new("fp");
    let x = pb.coord("x", Domain::Real(2));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    let v = pb.scalar_field("v");
    let mu = pb.vector_field("mu", 2);
    let n = [
        Need::d(v, t),
        Need::Grad { field: v, coord: x },
        Need::Value(mu),
        Need::Div {
            field: mu,
            coord: x,
        },
        Need::Diffusion {
            field: v,
            coord: x,
            sigma: sigma.clone(),
        },
    ];
    let r = n.clone();
    pb.residual("fp", 1.0, n.to_vec(), move |e| {
        let rhs = fokker_planck(
            e.get(&r[1]),
            e.get(&r[2]),
            e.get(&r[3]),
            Some(&sigma),
            Some(e.get(&r[4])),
        );
        e.get(&r[0]) - rhs
    });
    let logp = sol(move |p| {
        let (xs, tv) = (p.slice(1, 0..2), col(p, 2));
        let decay = (tv * (-2.0 * theta)).exp();
        let s2 = decay * (s0 * s0) + (1.0 - decay) * (sig * sig / (2.0 * theta));
        -(s2 * (2.0 * PI)).ln() - xs.square().sum_axes(&[1], true) / (s2 * 2.0)
    });
    let drift = sol(move |p| p.slice(1, 0..2) * (-theta));
    let tape = Tape::new();
    let pts = pb.sample(64, 0, 5);
    // The Hessian of v and the Jacobian of μ are diagonal, so Rademacher probes are exact too.
    for m in [
        Method::Nested,
        Method::Hutchinson(HutchinsonConfig::default()),
    ] {
        let fields = [(v, func(logp, m.clone())), (mu, func(drift, m))];
        assert_vanishes(&closure_loss(&pb, &tape, &fields, &[], &pts), TOL);
    }
    // A wrong drift (−θx/2) leaves a residual.
    let half = sol(move |p| p.slice(1, 0..2) * (-theta / 2.0));
    let fields = [
        (v, func(logp, Method::Nested)),
        (mu, func(half, Method::Nested)),
    ];
    assert!(closure_loss(&pb, &tape, &fields, &[], &pts).total.item() > 1e-4);
}

/// Continuity with an HJB regulariser: `Φ = |x|²/(2(t+c)) − ½σ₀²d log(t+c)` solves
/// `∂ₜΦ + ½|∇Φ|² + ½tr(σσᵀ∇²Φ) = 0`; the drift `μ = ∇Φ = x/(t+c)` transports `N(0, s₀²I)` to
/// `N(0, s₀²((t+c)/c)²I)`, whose log-density `v` solves `∂ₜv = −div μ − ∇v·μ`; a third residual
/// ties `μ` to `∇Φ` (a vector residual).
#[test]
fn continuity_with_hjb_regulariser() {
    let (c, s0, sig) = (0.5, 0.8, 0.6);
    let sigma = Tensor::from_vec(vec![sig, 0.0, 0.0, sig], &[2, 2]);
    let mut pb = Problem::new("cont_hjb");
    let x = pb.coord("x", Domain::Real(2));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    pb.sample_box(x, vec![(-2.0, 2.0), (-2.0, 2.0)]);
    let v = pb.scalar_field("v");
    let mu = pb.vector_field("mu", 2);
    let phi = pb.scalar_field("phi");
    let n = [
        Need::d(v, t),
        Need::Grad { field: v, coord: x },
        Need::Value(mu),
        Need::Div {
            field: mu,
            coord: x,
        },
    ];
    let r = n.clone();
    pb.residual("continuity", 1.0, n.to_vec(), move |e| {
        e.get(&r[0]) - continuity(e.get(&r[1]), e.get(&r[2]), e.get(&r[3]))
    });
    let h = [
        Need::d(phi, t),
        Need::Grad {
            field: phi,
            coord: x,
        },
        Need::Diffusion {
            field: phi,
            coord: x,
            sigma,
        },
    ];
    let q = h.clone();
    pb.residual("hjb", 0.1, h.to_vec(), move |e| {
        e.get(&q[0]) - hjb(e.get(&q[1]), e.get(&q[2]))
    });
    let g = [
        Need::Value(mu),
        Need::Grad {
            field: phi,
            coord: x,
        },
    ];
    let gg = g.clone();
    pb.residual("drift", 1.0, g.to_vec(), move |e| {
        e.get(&gg[0]) - e.get(&gg[1])
    });
    let logv = sol(move |p| {
        let (xs, tv) = (p.slice(1, 0..2), col(p, 2));
        let s2 = ((tv + c) * (s0 / c)).square();
        -(s2 * (2.0 * PI)).ln() - xs.square().sum_axes(&[1], true) / (s2 * 2.0)
    });
    let drift = sol(move |p| p.slice(1, 0..2) / (col(p, 2) + c));
    let potential = sol(move |p| {
        let (xs, tv) = (p.slice(1, 0..2), col(p, 2));
        xs.square().sum_axes(&[1], true) / ((tv + c) * 2.0) - (tv + c).ln() * (sig * sig)
    });
    let tape = Tape::new();
    let pts = pb.sample(64, 0, 6);
    assert!(pts.interior.data().iter().all(|v| v.abs() <= 2.0));
    let fields = [
        (v, func(logv, Method::Nested)),
        (mu, func(drift, Method::Nested)),
        (phi, func(potential, Method::Nested)),
    ];
    assert_vanishes(&closure_loss(&pb, &tape, &fields, &[], &pts), TOL);
}

/// A `Given` parameter (a trainable log-normaliser) enters a term and receives its gradient.
#[test]
fn given_parameter_is_differentiable() {
    let mut pb = Problem::new("logz");
    let x = pb.coord("x", Domain::Interval(0.0, 1.0));
    let logz = pb.param("logz", ParamKind::Given);
    let v = pb.scalar_field("v");
    pb.condition(
        "end",
        1.0,
        Region::Face(x, Side::Hi),
        vec![Need::Value(v)],
        move |e| e.get(&Need::Value(v)) - e.param(logz),
    );
    let tape = Tape::new();
    let pts = pb.sample(4, 5, 0);
    let z = tape.var(Tensor::scalar(0.25));
    let f = sol(|p| col(p, 0).square());
    let loss = closure_loss(
        &pb,
        &tape,
        &[(v, func(f, Method::Nested))],
        &[(logz, z)],
        &pts,
    );
    // v(1) = 1, so the loss is (1 − z)² and its derivative −2(1 − z).
    assert!((loss.total.item() - 0.5625).abs() < 1e-15);
    let g = tape.grad(&[loss.total], &[z])[0].item();
    assert!((g + 1.5).abs() < 1e-14, "{g}");
}
