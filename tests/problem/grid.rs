//! Grid evaluation: residuals of exact solutions sampled on grids converge at the stencil's
//! order (measured from two resolutions), conditions and periodicity read the right slices, box
//! coordinates agree with scalar ones, batches with conditioning inputs.

use physgrad::pde::grid::{Accuracy, Boundary};
use physgrad::problem::{Domain, Grid, GridScheme, Need, ParamKind, Problem, Region, Side};
use physgrad::{Tape, Tensor, Var};
use std::f64::consts::PI;

/// `0.5 · log2(L_coarse / L_fine)`: the order of a residual whose mean square is `L ∝ h^{2p}`.
fn order(coarse: f64, fine: f64) -> f64 {
    let p = 0.5 * (coarse / fine).log2();
    println!("measured order {p:.3} (mean r² {coarse:.3e} → {fine:.3e})");
    p
}

/// Values of `f(x, y)` on the grid `xs × ys`, row-major.
fn sample2(xs: &[f64], ys: &[f64], f: impl Fn(f64, f64) -> f64) -> Tensor {
    let data = xs
        .iter()
        .flat_map(|&x| ys.iter().map(move |&y| (x, y)))
        .map(|(x, y)| f(x, y));
    Tensor::from_vec(data.collect(), &[xs.len(), ys.len()])
}

fn points(lo: f64, h: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| lo + i as f64 * h).collect()
}

/// `−∇·(κ∇u) = f` on the periodic square, `κ = 2 + sin x cos y`, `u = sin x sin 2y`, stated with
/// two scalar coordinates (`d`, `d2`) and again with one box coordinate (`grad`, `lap`).
fn poisson2(box_coord: bool) -> Problem {
    let mut pb = Problem::new("poisson2d");
    let u = if box_coord {
        let z = pb.coord("z", Domain::Box(vec![(0.0, 2.0 * PI), (0.0, 2.0 * PI)]));
        let u = pb.scalar_field("u");
        let n = [
            Need::Grad { field: u, coord: z },
            Need::Lap { field: u, coord: z },
        ];
        pb.residual("poisson", 1.0, n.to_vec(), move |e| {
            let zv = e.coord(z); // [n, n, 2]
            let (x, y) = (zv.slice(2, 0..1), zv.slice(2, 1..2));
            let g = e.get(&n[0]);
            let lap = e.get(&n[1]);
            let s = lap.shape().to_vec();
            let (ux, uy) = (g.slice(2, 0..1), g.slice(2, 1..2));
            let r = flux(x, y, ux, uy, lap.reshape(&[s[0], s[1], 1]));
            r.reshape(&s)
        });
        u
    } else {
        let x = pb.coord("x", Domain::Interval(0.0, 2.0 * PI));
        let y = pb.coord("y", Domain::Interval(0.0, 2.0 * PI));
        let u = pb.scalar_field("u");
        let n = [
            Need::d(u, x),
            Need::d(u, y),
            Need::d2(u, x, x),
            Need::d2(u, y, y),
        ];
        pb.residual("poisson", 1.0, n.to_vec(), move |e| {
            let lap = e.get(&n[2]) + e.get(&n[3]);
            flux(e.coord(x), e.coord(y), e.get(&n[0]), e.get(&n[1]), lap)
        });
        u
    };
    assert_eq!(u.0, 0);
    pb
}

/// `−(κ_x u_x + κ_y u_y + κΔu) − f` for the manufactured solution above.
fn flux<'t>(x: Var<'t>, y: Var<'t>, ux: Var<'t>, uy: Var<'t>, lap: Var<'t>) -> Var<'t> {
    let kappa = x.sin() * y.cos() + 2.0;
    let (kx, ky) = (x.cos() * y.cos(), -(x.sin() * y.sin()));
    let (eu, eux) = (x.sin() * (y * 2.0).sin(), x.cos() * (y * 2.0).sin());
    let euy = x.sin() * (y * 2.0).cos() * 2.0;
    let f = -(kx * eux + ky * euy - kappa * eu * 5.0);
    -(kx * ux + ky * uy + kappa * lap) - f
}

fn poisson_loss(pb: &Problem, n: usize, acc: Accuracy) -> f64 {
    let h = 2.0 * PI / n as f64;
    let xs = points(0.0, h, n);
    let u = sample2(&xs, &xs, |x, y| x.sin() * (2.0 * y).sin());
    let tape = Tape::new();
    let grid = Grid {
        spacing: vec![h, h],
        boundary: Boundary::Periodic,
        scheme: GridScheme::Central(acc),
        batch: false,
    };
    let fields = [(physgrad::problem::FieldId(0), tape.constant(u))];
    pb.loss_grid(&tape, &fields, &grid, &[])
        .unwrap()
        .total
        .item()
}

#[test]
fn poisson_2d_converges_at_stencil_order() {
    let (scalar, boxed) = (poisson2(false), poisson2(true));
    for (acc, want) in [(Accuracy::Second, 2.0), (Accuracy::Fourth, 4.0)] {
        let (c, f) = (
            poisson_loss(&scalar, 16, acc),
            poisson_loss(&scalar, 32, acc),
        );
        let p = order(c, f);
        assert!((p - want).abs() < 0.15, "{acc:?}: measured order {p}");
        // The box-coordinate statement computes the same stencils.
        let (cb, fb) = (poisson_loss(&boxed, 16, acc), poisson_loss(&boxed, 32, acc));
        assert!(
            (cb - c).abs() <= 1e-12 * c && (fb - f).abs() <= 1e-12 * f,
            "{cb} vs {c}"
        );
    }
}

/// `−((2 + sin x) u′)′ = f`, `u = sin 2x`, periodic 1-D.
#[test]
fn poisson_1d_converges_at_stencil_order() {
    let mut pb = Problem::new("poisson1d");
    let x = pb.coord("x", Domain::Interval(0.0, 2.0 * PI));
    let u = pb.scalar_field("u");
    let n = [Need::d(u, x), Need::d2(u, x, x)];
    pb.residual("poisson", 1.0, n.to_vec(), move |e| {
        let xv = e.coord(x);
        let a = xv.sin() + 2.0;
        let f = -(xv.cos() * (xv * 2.0).cos() * 2.0 - a * (xv * 2.0).sin() * 4.0);
        -(xv.cos() * e.get(&n[0]) + a * e.get(&n[1])) - f
    });
    let loss = |m: usize, acc| {
        let h = 2.0 * PI / m as f64;
        let tape = Tape::new();
        let data = points(0.0, h, m).iter().map(|x| (2.0 * x).sin()).collect();
        let field = tape.constant(Tensor::from_vec(data, &[m]));
        let mut grid = Grid::new(vec![h]);
        grid.boundary = Boundary::Periodic;
        grid.scheme = GridScheme::Central(acc);
        pb.loss_grid(&tape, &[(u, field)], &grid, &[])
            .unwrap()
            .total
            .item()
    };
    for (acc, want) in [(Accuracy::Second, 2.0), (Accuracy::Fourth, 4.0)] {
        let p = order(loss(32, acc), loss(64, acc));
        assert!((p - want).abs() < 0.1, "{acc:?}: measured order {p}");
    }
}

/// Heat `u_t = u_xx` with `u = e^{−t} sin x` on a space–time image: periodic in `x`, the
/// residual read away from the `t` edges; the initial condition is exact on its face.
#[test]
fn heat_space_time_image() {
    let mut pb = Problem::new("heat");
    let x = pb.coord("x", Domain::Interval(0.0, 2.0 * PI));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    let u = pb.scalar_field("u");
    let n = [Need::d(u, t), Need::d2(u, x, x)];
    pb.residual("heat", 1.0, n.to_vec(), move |e| {
        let r = e.get(&n[0]) - e.get(&n[1]);
        let nt = r.shape()[1];
        r.slice(1, 2..nt - 2)
    });
    pb.condition(
        "ic",
        1.0,
        Region::Face(t, Side::Lo),
        vec![Need::Value(u)],
        move |e| e.get(&Need::Value(u)) - e.coord(x).sin() * (-e.coord(t)).exp(),
    );
    let run = |m: usize, acc| {
        let (hx, ht) = (2.0 * PI / m as f64, 1.0 / (m - 1) as f64);
        let field = sample2(&points(0.0, hx, m), &points(0.0, ht, m), |x, t| {
            (-t).exp() * x.sin()
        });
        let tape = Tape::new();
        let mut grid = Grid::new(vec![hx, ht]);
        grid.boundary = Boundary::Periodic;
        grid.scheme = GridScheme::Central(acc);
        let loss = pb
            .loss_grid(&tape, &[(u, tape.constant(field))], &grid, &[])
            .unwrap();
        let v = loss.values();
        (v[0].1, v[1].1)
    };
    for (acc, want) in [(Accuracy::Second, 2.0), (Accuracy::Fourth, 4.0)] {
        let ((c, ic), (f, _)) = (run(16, acc), run(32, acc));
        assert!(ic < 1e-28, "ic {ic}");
        let p = order(c, f);
        assert!((p - want).abs() < 0.2, "{acc:?}: measured order {p}");
    }
}

/// Cole–Hopf Burgers on a batch of space–time images, one viscosity per image (an `Input`
/// parameter), Sobel first derivatives: second order away from the edges; the initial condition
/// and the periodicity in `x` (both endpoints on the grid) hold to round-off.
#[test]
fn burgers_batch_sobel() {
    let (a, k) = (0.6, 1.0);
    let mut pb = Problem::new("burgers");
    let x = pb.coord("x", Domain::Interval(0.0, 2.0 * PI));
    let t = pb.coord("t", Domain::Interval(0.0, 1.0));
    let nu = pb.param("nu", ParamKind::Input { lo: 0.05, hi: 0.2 });
    let u = pb.scalar_field("u");
    let n = [
        Need::Value(u),
        Need::d(u, t),
        Need::d(u, x),
        Need::d2(u, x, x),
    ];
    pb.residual("momentum", 1.0, n.to_vec(), move |e| {
        let r = e.get(&n[1]) + e.get(&n[0]) * e.get(&n[2]) - e.param(nu) * e.get(&n[3]);
        let s = r.shape();
        r.slice(1, 2..s[1] - 2).slice(2, 2..s[2] - 2)
    });
    pb.condition(
        "ic",
        1.0,
        Region::Face(t, Side::Lo),
        vec![Need::Value(u)],
        move |e| {
            let (xv, v) = (e.coord(x), e.param(nu));
            e.get(&Need::Value(u)) - v * (2.0 * a * k) * (xv * k).sin() / ((xv * k).cos() * a + 1.0)
        },
    );
    pb.periodic("per", 1.0, x, vec![Need::Value(u)]);
    let nus = [0.05, 0.1, 0.2];
    let exact = |x: f64, t: f64, v: f64| {
        let d = a * (-v * k * k * t).exp();
        2.0 * v * k * d * (k * x).sin() / (1.0 + d * (k * x).cos())
    };
    let run = |m: usize| {
        let (hx, ht) = (2.0 * PI / (m - 1) as f64, 1.0 / (m - 1) as f64);
        let (xs, ts) = (points(0.0, hx, m), points(0.0, ht, m));
        let mut data = Vec::new();
        for &v in &nus {
            data.extend(sample2(&xs, &ts, |x, t| exact(x, t, v)).data());
        }
        let tape = Tape::new();
        let field = tape.constant(Tensor::from_vec(data, &[nus.len(), m, m]));
        let grid = Grid {
            spacing: vec![hx, ht],
            boundary: Boundary::Replicate,
            scheme: GridScheme::Sobel,
            batch: true,
        };
        let nu_v = tape.constant(Tensor::from_vec(nus.to_vec(), &[3]));
        let loss = pb
            .loss_grid(&tape, &[(u, field)], &grid, &[(nu, nu_v)])
            .unwrap();
        loss.values().iter().map(|v| v.1).collect::<Vec<f64>>()
    };
    let (c, f) = (run(17), run(33));
    assert!(c[1] < 1e-28 && c[2] < 1e-28, "ic / periodic: {c:?}");
    let p = order(c[0], f[0]);
    assert!((p - 2.0).abs() < 0.25, "Sobel Burgers: measured order {p}");
}

/// Composite needs on a grid equal their parts: `div` of a vector field (trailing component
/// axis) is the sum of its `d` needs, `diffusion` with a full σ is `Σᵢⱼ (σσᵀ)ᵢⱼ d2ᵢⱼ`, `grad`
/// stacks the `d` needs; and `div` converges to the analytic divergence at fourth order.
#[test]
fn composite_needs_match_their_parts() {
    let mut pb = Problem::new("parts");
    let z = pb.coord("z", Domain::Box(vec![(0.0, 2.0 * PI), (0.0, 2.0 * PI)]));
    let u = pb.scalar_field("u");
    let w = pb.vector_field("w", 2);
    let sigma = Tensor::from_vec(vec![0.9, 0.2, -0.4, 0.3, 0.6, 0.5], &[2, 3]);
    let a = [
        [0.9 * 0.9 + 0.2 * 0.2 + 0.16, 0.27 + 0.12 - 0.2],
        [0.27 + 0.12 - 0.2, 0.09 + 0.36 + 0.25],
    ];
    let dw = |c: usize, i: usize| Need::D {
        field: w,
        field_comp: c,
        coord: z,
        component: i,
    };
    let du = |i: usize| Need::D {
        field: u,
        field_comp: 0,
        coord: z,
        component: i,
    };
    let d2 = |i: usize, j: usize| Need::D2 {
        field: u,
        field_comp: 0,
        a: (z, i),
        b: (z, j),
    };
    let div = Need::Div { field: w, coord: z };
    let diff = Need::Diffusion {
        field: u,
        coord: z,
        sigma,
    };
    let grad = Need::Grad { field: u, coord: z };
    let n = vec![
        div.clone(),
        dw(0, 0),
        dw(1, 1),
        diff.clone(),
        d2(0, 0),
        d2(0, 1),
        d2(1, 1),
        grad.clone(),
        du(0),
        du(1),
    ];
    let r = n.clone();
    pb.invariance("parts", 1.0, n, move |e| {
        let g = |k: usize| e.get(&r[k]);
        let s = g(0).shape().to_vec();
        let stacked = Var::concat(
            &[
                g(8).reshape(&[s[0], s[1], 1]),
                g(9).reshape(&[s[0], s[1], 1]),
            ],
            2,
        );
        let d_parts = g(4) * a[0][0] + g(5) * (2.0 * a[0][1]) + g(6) * a[1][1];
        let parts = [
            g(0) - g(1) - g(2),
            g(3) - d_parts,
            (g(7) - stacked).reshape(&[s[0] * s[1] * 2]),
        ];
        Var::concat(
            &[
                parts[0].reshape(&[s[0] * s[1]]),
                parts[1].reshape(&[s[0] * s[1]]),
                parts[2],
            ],
            0,
        )
    });
    pb.residual("div", 1.0, vec![div.clone()], move |e| {
        let zv = e.coord(z);
        let (x, y) = (zv.slice(2, 0..1), zv.slice(2, 1..2));
        let exact = x.cos() * y.cos() * 2.0;
        let s = exact.shape().to_vec();
        e.get(&div) - exact.reshape(&s[..2])
    });
    let run = |m: usize| {
        let h = 2.0 * PI / m as f64;
        let xs = points(0.0, h, m);
        let su = sample2(&xs, &xs, |x, y| (x + 2.0 * y).sin() * x.cos());
        let (w0, w1) = (
            sample2(&xs, &xs, |x, y| x.sin() * y.cos()),
            sample2(&xs, &xs, |x, y| x.cos() * y.sin()),
        );
        let wd: Vec<f64> = w0
            .data()
            .iter()
            .zip(w1.data())
            .flat_map(|(p, q)| [*p, *q])
            .collect();
        let tape = Tape::new();
        let mut grid = Grid::new(vec![h, h]);
        grid.boundary = Boundary::Periodic;
        grid.scheme = GridScheme::Central(Accuracy::Fourth);
        let fields = [
            (u, tape.constant(su)),
            (w, tape.constant(Tensor::from_vec(wd, &[m, m, 2]))),
        ];
        let loss = pb.loss_grid(&tape, &fields, &grid, &[]).unwrap();
        let v = loss.values();
        (v[0].1, v[1].1)
    };
    let ((parts, c), (_, f)) = (run(16), run(32));
    assert!(parts < 1e-24, "parts differ: {parts:e}");
    let p = order(c, f);
    assert!((p - 4.0).abs() < 0.2, "div: measured order {p}");
}
