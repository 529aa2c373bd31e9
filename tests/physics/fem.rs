//! Q4 plane-stress elasticity: patch test, element and global stiffness properties, measured
//! order 2 against a manufactured solution, observations, and gradients w.r.t. (E, ν).

use super::common::*;
use physgrad::physics::fem::q4::{split_stiffness, CORNERS};
use physgrad::physics::fem::{node_displacement, point_displacement, Edge, Q4Elasticity, RectMesh};
use physgrad::{Error, Tape, Tensor};
use rand::Rng;
use std::f64::consts::PI;

/// `uₓ = 0` on the left edge and `uᵧ = 0` on the bottom edge.
fn symmetry_supports(mesh: &RectMesh) -> Vec<usize> {
    let mut fixed: Vec<usize> = mesh.edge_nodes(Edge::Left).iter().map(|n| 2 * n).collect();
    fixed.extend(mesh.edge_nodes(Edge::Bottom).iter().map(|n| 2 * n + 1));
    fixed
}

/// Uniform biaxial stress `σₓₓ = sx`, `σᵧᵧ = sy`: the exact field `uₓ = (sx − ν sy) x / E`,
/// `uᵧ = (sy − ν sx) y / E` is bilinear, so Q4 must reproduce it to rounding.
#[test]
fn patch_test_reproduces_uniform_stress() {
    let mesh = RectMesh::new(3, 2, 1.5, 1.0).unwrap();
    let model = Q4Elasticity::new(mesh.clone(), &symmetry_supports(&mesh)).unwrap();
    let (young, nu, sx, sy) = (7.0, 0.27, 1.3, -0.4);
    let tape = Tape::new();
    let nel = mesh.elements();
    let load = mesh
        .edge_traction(Edge::Right, |_, _| [sx, 0.0])
        .zip_with(&mesh.edge_traction(Edge::Top, |_, _| [0.0, sy]), |a, b| {
            a + b
        });
    let u = model
        .solve(
            tape.var(Tensor::full(&[nel], young)),
            tape.var(Tensor::full(&[nel], nu)),
            tape.constant(load),
        )
        .unwrap()
        .value();
    for node in 0..mesh.nodes() {
        let (x, y) = mesh.coords(node);
        let ux = (sx - nu * sy) * x / young;
        let uy = (sy - nu * sx) * y / young;
        assert!((u.data()[2 * node] - ux).abs() < 1e-12, "node {node} uₓ");
        assert!(
            (u.data()[2 * node + 1] - uy).abs() < 1e-12,
            "node {node} uᵧ"
        );
    }
}

/// `K_e = c₀ ΣK₀ + c₁ ΣK₁` is symmetric, annihilates the three rigid motions and is positive
/// on everything else (its Rayleigh quotient on random strains is positive).
#[test]
fn element_stiffness_is_symmetric_with_rigid_null_space() {
    let (a, b, young, nu) = (0.7, 0.4, 3.0, 0.3);
    let (k0, k1) = split_stiffness(a, b);
    let (c0, c1) = (young / (1.0 - nu * nu), young * nu / (1.0 - nu * nu));
    let k = |p: usize, q: usize| {
        (0..4)
            .map(|g| c0 * k0[g][p * 8 + q] + c1 * k1[g][p * 8 + q])
            .sum::<f64>()
    };
    let scale = (0..8).map(|p| k(p, p)).fold(0.0, f64::max);
    for p in 0..8 {
        for q in 0..8 {
            assert!((k(p, q) - k(q, p)).abs() < 1e-14 * scale);
        }
    }
    let xs = CORNERS.map(|(xi, eta)| ((1.0 + xi) * a / 2.0, (1.0 + eta) * b / 2.0));
    let modes: [Vec<f64>; 3] = [
        (0..8).map(|d| if d % 2 == 0 { 1.0 } else { 0.0 }).collect(),
        (0..8).map(|d| if d % 2 == 1 { 1.0 } else { 0.0 }).collect(),
        (0..8)
            .map(|d| {
                if d % 2 == 0 {
                    -xs[d / 2].1
                } else {
                    xs[d / 2].0
                }
            })
            .collect(),
    ];
    for m in &modes {
        for p in 0..8 {
            let r: f64 = (0..8).map(|q| k(p, q) * m[q]).sum();
            assert!(
                r.abs() < 1e-13 * scale,
                "rigid mode not in the null space: {r}"
            );
        }
    }
}

/// The reduced global stiffness, expanded to a dense symmetric matrix, has a Cholesky factor
/// with pivots bounded away from zero (SPD), and `uᵀ K u > 0` for random `u`.
#[test]
fn reduced_stiffness_is_symmetric_positive_definite() {
    let mesh = RectMesh::new(3, 3, 1.0, 1.0).unwrap();
    let model = Q4Elasticity::new(mesh.clone(), &symmetry_supports(&mesh)).unwrap();
    let tape = Tape::new();
    let mut r = rng(5);
    let nel = mesh.elements();
    let e = tape.constant(Tensor::rand_uniform(&[nel], 0.5, 2.0, r.random()));
    let nu = tape.constant(Tensor::rand_uniform(&[nel], 0.1, 0.45, r.random()));
    let v = model.stiffness_values(e, nu).value();
    let p = model.pattern();
    let n = p.n();
    let mut dense = vec![0.0; n * n];
    for ((&i, &j), &x) in p.rows().iter().zip(p.cols()).zip(v.data()) {
        dense[i * n + j] = x;
        dense[j * n + i] = x;
    }
    // Plain Cholesky, pivots must stay positive.
    let mut l = dense.clone();
    for k in 0..n {
        for s in 0..k {
            l[k * n + k] -= l[k * n + s] * l[k * n + s];
        }
        assert!(l[k * n + k] > 1e-8, "pivot {k}: {}", l[k * n + k]);
        l[k * n + k] = l[k * n + k].sqrt();
        for i in k + 1..n {
            for s in 0..k {
                l[i * n + k] -= l[i * n + s] * l[k * n + s];
            }
            l[i * n + k] /= l[k * n + k];
        }
    }
    for t in 0..10 {
        let u = Tensor::randn(&[n], t);
        let q: f64 = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| u.data()[i] * dense[i * n + j] * u.data()[j])
                    .sum::<f64>()
            })
            .sum();
        assert!(q > 0.0);
    }
}

#[test]
fn missing_supports_and_bad_materials_are_typed_errors() {
    let mesh = RectMesh::new(2, 2, 1.0, 1.0).unwrap();
    let nel = mesh.elements();
    let tape = Tape::new();
    let load = tape.constant(mesh.body_force(|_, _| [0.0, -1.0]));
    let model = Q4Elasticity::new(mesh.clone(), &symmetry_supports(&mesh)).unwrap();
    let e = tape.var(Tensor::full(&[nel], 1.0));
    let bad_nu = tape.var(Tensor::full(&[nel], 0.5));
    assert!(matches!(
        model.solve(e, bad_nu, load),
        Err(Error::InvalidInput { .. })
    ));
    let nan = tape.var(Tensor::full(&[nel], f64::NAN));
    let nu = tape.var(Tensor::full(&[nel], 0.3));
    assert!(matches!(
        model.solve(nan, nu, load),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        Q4Elasticity::new(mesh.clone(), &[mesh.dofs()]),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        RectMesh::new(0, 1, 1.0, 1.0),
        Err(Error::InvalidInput { .. })
    ));
}

// ---------- manufactured solution on the unit square, u = 0 on the boundary ----------

/// `u = (sin πx sin πy, x(1−x) y(1−y))`, `b = −∇·σ(u)`.
fn body(x: f64, y: f64, young: f64, nu: f64) -> [f64; 2] {
    let c = young / (1.0 - nu * nu);
    let g = c * (1.0 - nu) / 2.0;
    let (sx, cx, sy, cy) = (
        (PI * x).sin(),
        (PI * x).cos(),
        (PI * y).sin(),
        (PI * y).cos(),
    );
    let (u1xx, u1yy, u1xy) = (-PI * PI * sx * sy, -PI * PI * sx * sy, PI * PI * cx * cy);
    let (u2xx, u2yy, u2xy) = (
        -2.0 * y * (1.0 - y),
        -2.0 * x * (1.0 - x),
        (1.0 - 2.0 * x) * (1.0 - 2.0 * y),
    );
    let bx = -(c * (u1xx + nu * u2xy) + g * (u1yy + u2xy));
    let by = -(g * (u1xy + u2xx) + c * (nu * u1xy + u2yy));
    [bx, by]
}

fn exact(x: f64, y: f64) -> [f64; 2] {
    [
        (PI * x).sin() * (PI * y).sin(),
        x * (1.0 - x) * y * (1.0 - y),
    ]
}

fn nodal_error(n: usize) -> f64 {
    let (young, nu) = (2.0, 0.3);
    let mesh = RectMesh::new(n, n, 1.0, 1.0).unwrap();
    let mut fixed = Vec::new();
    for edge in [Edge::Left, Edge::Right, Edge::Bottom, Edge::Top] {
        fixed.extend(
            mesh.edge_nodes(edge)
                .iter()
                .flat_map(|&k| [2 * k, 2 * k + 1]),
        );
    }
    let model = Q4Elasticity::new(mesh.clone(), &fixed).unwrap();
    let tape = Tape::new();
    let nel = mesh.elements();
    let load = mesh.body_force(|x, y| body(x, y, young, nu));
    let u = model
        .solve(
            tape.constant(Tensor::full(&[nel], young)),
            tape.constant(Tensor::full(&[nel], nu)),
            tape.constant(load),
        )
        .unwrap()
        .value();
    let mut err = 0.0f64;
    for k in 0..mesh.nodes() {
        let (x, y) = mesh.coords(k);
        let w = exact(x, y);
        err = err
            .max((u.data()[2 * k] - w[0]).abs())
            .max((u.data()[2 * k + 1] - w[1]).abs());
    }
    err
}

#[test]
fn q4_converges_at_second_order_in_displacement() {
    let errors: Vec<f64> = [4, 8, 16, 32].iter().map(|&n| nodal_error(n)).collect();
    let p = orders(&errors, 2.0);
    eprintln!("q4 elasticity: max nodal errors {errors:?}, orders {p:?}");
    for o in &p[1..] {
        assert!((o - 2.0).abs() < 0.2, "orders {p:?}, errors {errors:?}");
    }
}

#[test]
fn observations_interpolate_bilinearly() {
    // The patch-test field is bilinear, so interpolation at any point is exact.
    let mesh = RectMesh::new(2, 3, 1.0, 1.5).unwrap();
    let tape = Tape::new();
    let u: Vec<f64> = (0..mesh.nodes())
        .flat_map(|k| {
            let (x, y) = mesh.coords(k);
            [0.3 * x - 0.1 * y + 0.2 * x * y, 0.5 * y + 0.05]
        })
        .collect();
    let u = tape.constant(Tensor::from_vec(u, &[mesh.dofs()]));
    for &(x, y) in &[(0.2, 0.3), (0.5, 0.5), (1.0, 1.5), (0.0, 0.0), (0.77, 1.1)] {
        let v = point_displacement(&mesh, u, x, y).unwrap().value();
        assert!((v.data()[0] - (0.3 * x - 0.1 * y + 0.2 * x * y)).abs() < 1e-14);
        assert!((v.data()[1] - (0.5 * y + 0.05)).abs() < 1e-14);
    }
    let k = mesh.node(1, 2);
    let (x, y) = mesh.coords(k);
    let at_node = node_displacement(&mesh, u, k).value();
    let at_point = point_displacement(&mesh, u, x, y).unwrap().value();
    assert!(at_node.max_abs_diff(&at_point) < 1e-15);
    assert!(point_displacement(&mesh, u, 1.1, 0.0).is_err());
}

#[test]
fn gradients_in_young_modulus_and_poisson_ratio() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 0xfe);
        let (nx, ny) = (r.random_range(1..=2), r.random_range(1..=2));
        let mesh =
            RectMesh::new(nx, ny, r.random_range(0.5..2.0), r.random_range(0.5..2.0)).unwrap();
        let nel = mesh.elements();
        let shape = if r.random_bool(0.5) {
            vec![nel]
        } else {
            vec![nel, 4]
        };
        let e = Tensor::rand_uniform(&shape, 0.5, 2.0, r.random());
        let nu = Tensor::rand_uniform(&shape, 0.1, 0.4, r.random());
        let load = mesh
            .body_force(|x, y| [x - 0.3, 1.0 + y])
            .zip_with(&mesh.edge_traction(Edge::Right, |_, y| [1.0, y]), |a, b| {
                a + b
            });
        let model = Q4Elasticity::new(mesh.clone(), &symmetry_supports(&mesh)).unwrap();
        let (px, py) = (mesh.lx * 0.6, mesh.ly * 0.8);
        check_both(
            move |t, v| {
                let u = model.solve(v[0], v[1], t.constant(load.clone())).unwrap();
                let obs = point_displacement(model.mesh(), u, px, py).unwrap();
                physgrad::Var::concat(&[u, obs], 0)
            },
            &[e, nu],
        )
    });
}

/// Fixing too little leaves rigid motions free (a semi-definite stiffness that the sparse
/// Cholesky would factorise into garbage): rejected when the model is built. The symmetry
/// supports of the patch test (one translation per edge plus the corner) are enough.
#[test]
fn unsupported_rigid_motion_is_rejected() {
    let mesh = RectMesh::new(2, 2, 1.0, 1.0).unwrap();
    let rejects = |fixed: &[usize]| {
        matches!(
            Q4Elasticity::new(mesh.clone(), fixed),
            Err(Error::InvalidInput { .. })
        )
    };
    assert!(rejects(&[0]));
    assert!(rejects(&[0, 1]));
    // uₓ fixed along the bottom edge: the vertical translation is still free.
    let bottom_x: Vec<usize> = mesh
        .edge_nodes(Edge::Bottom)
        .iter()
        .map(|n| 2 * n)
        .collect();
    assert!(rejects(&bottom_x));
    // uₓ, uᵧ at one corner and uᵧ at the other: all three suppressed.
    let right = mesh.node(2, 0);
    assert!(!rejects(&[0, 1, 2 * right + 1]));
}

/// Against the closed-form stiffness of the unit square in plane stress (the matrix of the
/// classic 99-line topology-optimisation code): with `c = E/(1 − ν²)`,
/// `K_aa = c(½ − ν/6)` on the diagonal, `K(u₀ₓ, u₀ᵧ) = c(1 + ν)/8`, and for `u₀ₓ` against `uₓ` of
/// the horizontal neighbour, the opposite corner and the vertical neighbour
/// `c(−¼ − ν/12)`, `c(−¼ + ν/12)`, `c ν/6`.
#[test]
fn unit_square_element_matches_the_closed_form() {
    for &(young, nu) in &[(1.0, 0.3), (2.5, 0.1)] {
        let (k0, k1) = split_stiffness(1.0, 1.0);
        let (c0, c1) = (young / (1.0 - nu * nu), young * nu / (1.0 - nu * nu));
        let k = |p: usize, q: usize| {
            (0..4)
                .map(|g| c0 * k0[g][p * 8 + q] + c1 * k1[g][p * 8 + q])
                .sum::<f64>()
        };
        let c = c0;
        for p in 0..8 {
            assert!((k(p, p) - c * (0.5 - nu / 6.0)).abs() < 1e-14);
        }
        assert!((k(0, 1) - c * (1.0 + nu) / 8.0).abs() < 1e-14);
        assert!((k(0, 2) - c * (-0.25 - nu / 12.0)).abs() < 1e-14);
        assert!((k(0, 4) - c * (-0.25 + nu / 12.0)).abs() < 1e-14);
        assert!((k(0, 6) - c * nu / 6.0).abs() < 1e-14);
    }
}

/// A batch of samples equals the single solves, and its gradients pass the checks.
#[test]
fn batched_solve_matches_single_solves_and_its_gradients_check() {
    let mesh = RectMesh::new(2, 2, 1.0, 1.0).unwrap();
    let model = Q4Elasticity::new(mesh.clone(), &symmetry_supports(&mesh)).unwrap();
    let (b, nel, nd) = (3, mesh.elements(), mesh.dofs());
    let mut r = rng(9);
    let e = Tensor::rand_uniform(&[b, nel, 4], 0.5, 2.0, r.random());
    let nu = Tensor::rand_uniform(&[b, nel, 4], 0.1, 0.4, r.random());
    let load = Tensor::randn(&[b, nd], r.random());
    let tape = Tape::new();
    let c = |t: &Tensor| tape.constant(t.clone());
    let ub = model.solve_batch(c(&e), c(&nu), c(&load)).unwrap().value();
    for s in 0..b {
        let row = |t: &Tensor| {
            let len = t.len() / b;
            tape.constant(Tensor::from_vec(
                t.data()[s * len..(s + 1) * len].to_vec(),
                &t.shape()[1..],
            ))
        };
        let u = model.solve(row(&e), row(&nu), row(&load)).unwrap().value();
        for (x, y) in u.data().iter().zip(&ub.data()[s * nd..(s + 1) * nd]) {
            assert!((x - y).abs() < 1e-12 * (1.0 + y.abs()));
        }
    }
    let e2 = Tensor::rand_uniform(&[2, nel], 0.5, 2.0, 1);
    let nu2 = Tensor::rand_uniform(&[2, nel], 0.1, 0.4, 2);
    let load2 = Tensor::randn(&[2, nd], 3);
    check_both(
        move |_t, v| model.solve_batch(v[0], v[1], v[2]).unwrap(),
        &[e2, nu2, load2],
    )
    .unwrap();
}

/// Stretching by a prescribed `uₓ = δ` on the right edge (no load): uniaxial stress,
/// `uₓ = δ x/Lx`, `uᵧ = −ν δ y/Lx`, exactly; and the gradients in (E, ν) with non-zero
/// prescribed displacements (and a load) pass the checks.
#[test]
fn prescribed_displacements_give_uniaxial_stretch_and_check_gradients() {
    let mesh = RectMesh::new(3, 2, 1.5, 1.0).unwrap();
    let delta = 0.02;
    let mut bc: Vec<(usize, f64)> = symmetry_supports(&mesh).iter().map(|&d| (d, 0.0)).collect();
    bc.extend(mesh.edge_nodes(Edge::Right).iter().map(|&k| (2 * k, delta)));
    let model = Q4Elasticity::with_displacements(mesh.clone(), &bc).unwrap();
    let nel = mesh.elements();
    let nu = 0.3;
    let tape = Tape::new();
    let u = model
        .solve(
            tape.var(Tensor::full(&[nel], 4.0)),
            tape.var(Tensor::full(&[nel], nu)),
            tape.constant(Tensor::zeros(&[mesh.dofs()])),
        )
        .unwrap()
        .value();
    for k in 0..mesh.nodes() {
        let (x, y) = mesh.coords(k);
        assert!(
            (u.data()[2 * k] - delta * x / 1.5).abs() < 1e-13,
            "node {k} uₓ"
        );
        assert!(
            (u.data()[2 * k + 1] + nu * delta * y / 1.5).abs() < 1e-13,
            "node {k} uᵧ"
        );
    }
    let conflicting = [(0, 0.0), (0, 1.0)];
    assert!(Q4Elasticity::with_displacements(mesh.clone(), &conflicting).is_err());
    let mut r = rng(4);
    let e = Tensor::rand_uniform(&[nel, 4], 0.5, 2.0, r.random());
    let nus = Tensor::rand_uniform(&[nel, 4], 0.1, 0.4, r.random());
    let load = mesh.body_force(|x, _| [0.0, x]);
    check_both(
        move |t, v| model.solve(v[0], v[1], t.constant(load.clone())).unwrap(),
        &[e, nus],
    )
    .unwrap();
}
