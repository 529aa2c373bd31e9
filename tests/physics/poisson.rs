//! Poisson in 1-D and 2-D: manufactured solutions with measured second order, batches against
//! single solves, typed errors, and gradients w.r.t. coefficients and sources (first and second
//! order).

use super::common::*;
use physgrad::physics::poisson::{harmonic_faces, poisson_1d, Poisson2d};
use physgrad::{Error, Tape, Tensor};
use rand::Rng;
use std::f64::consts::PI;

// ---------- 1-D: a = 1 + x², u = x + sin(πx), f = −(a u′)′ ----------

fn a1(x: f64) -> f64 {
    1.0 + x * x
}
fn u1(x: f64) -> f64 {
    x + (PI * x).sin()
}
fn f1(x: f64) -> f64 {
    let up = 1.0 + PI * (PI * x).cos();
    let upp = -PI * PI * (PI * x).sin();
    -(2.0 * x * up + a1(x) * upp)
}

/// Max-norm error of the 1-D scheme with `n` interior nodes.
fn error_1d(n: usize) -> f64 {
    let h = 1.0 / (n + 1) as f64;
    let tape = Tape::new();
    let a: Vec<f64> = (0..=n).map(|i| a1((i as f64 + 0.5) * h)).collect();
    let f: Vec<f64> = (0..n).map(|i| f1((i + 1) as f64 * h)).collect();
    let a = tape.constant(Tensor::from_vec(a, &[n + 1]));
    let f = tape.constant(Tensor::from_vec(f, &[n]));
    let u = poisson_1d(a, f, (u1(0.0), u1(1.0))).unwrap().value();
    (0..n)
        .map(|i| (u.data()[i] - u1((i + 1) as f64 * h)).abs())
        .fold(0.0, f64::max)
}

#[test]
fn poisson_1d_converges_at_second_order() {
    let errors: Vec<f64> = [15, 31, 63, 127].iter().map(|&n| error_1d(n)).collect();
    let p = orders(&errors, 2.0);
    eprintln!("poisson_1d: max errors {errors:?}, orders {p:?}");
    assert!(errors[3] < 1e-3, "{errors:?}");
    for o in &p {
        assert!((o - 2.0).abs() < 0.1, "orders {p:?}, errors {errors:?}");
    }
}

#[test]
fn poisson_1d_batch_matches_single_solves() {
    let mut r = rng(7);
    let (b, n) = (3, 11);
    let a = Tensor::rand_uniform(&[b, n + 1], 0.5, 2.0, r.random());
    let f = Tensor::randn(&[b, n], r.random());
    let tape = Tape::new();
    let ub = poisson_1d(
        tape.constant(a.clone()),
        tape.constant(f.clone()),
        (0.3, -1.0),
    )
    .unwrap()
    .value();
    for s in 0..b {
        let row = |t: &Tensor, len: usize| {
            Tensor::from_vec(t.data()[s * len..(s + 1) * len].to_vec(), &[len])
        };
        let u = poisson_1d(
            tape.constant(row(&a, n + 1)),
            tape.constant(row(&f, n)),
            (0.3, -1.0),
        )
        .unwrap()
        .value();
        assert_eq!(u.data(), &ub.data()[s * n..(s + 1) * n]);
    }
}

#[test]
fn poisson_1d_gradients_in_coefficients_and_source() {
    for_seeds(|seed| {
        let mut r = rng(seed);
        let n = r.random_range(1..=6);
        let batched = r.random_bool(0.5);
        let (sa, sf) = if batched {
            let b = r.random_range(1..=3);
            (vec![b, n + 1], vec![b, n])
        } else {
            (vec![n + 1], vec![n])
        };
        let a = Tensor::rand_uniform(&sa, 0.5, 2.0, r.random());
        let f = Tensor::randn(&sf, r.random());
        let g = (r.random_range(-1.0..1.0), r.random_range(-1.0..1.0));
        check_both(move |_t, v| poisson_1d(v[0], v[1], g).unwrap(), &[a, f])
    });
}

#[test]
fn poisson_1d_typed_errors() {
    let tape = Tape::new();
    let f = tape.constant(Tensor::ones(&[3]));
    let a = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0], &[4]));
    assert!(matches!(
        poisson_1d(a, f, (0.0, 0.0)),
        Err(Error::InvalidInput { .. })
    ));
    let a = tape.constant(Tensor::from_vec(vec![1.0, f64::NAN, 1.0, 1.0], &[4]));
    assert!(matches!(
        poisson_1d(a, f, (0.0, 0.0)),
        Err(Error::NonFinite { .. })
    ));
    let a = tape.constant(Tensor::ones(&[4]));
    assert!(matches!(
        poisson_1d(a, f, (f64::INFINITY, 0.0)),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
#[should_panic(expected = "poisson_1d")]
fn poisson_1d_shape_mismatch_panics() {
    let tape = Tape::new();
    let _ = poisson_1d(
        tape.constant(Tensor::ones(&[3])),
        tape.constant(Tensor::ones(&[3])),
        (0.0, 0.0),
    );
}

// ---------- 2-D: κ = 1 + x² + y, u = sin(πx) sin(πy) + x + y², f = ∇·(κ∇u) ----------

fn k2(x: f64, y: f64) -> f64 {
    1.0 + x * x + y
}
fn u2(x: f64, y: f64) -> f64 {
    (PI * x).sin() * (PI * y).sin() + x + y * y
}
fn f2(x: f64, y: f64) -> f64 {
    let (sx, cx, sy, cy) = (
        (PI * x).sin(),
        (PI * x).cos(),
        (PI * y).sin(),
        (PI * y).cos(),
    );
    let ux = PI * cx * sy + 1.0;
    let uy = PI * sx * cy + 2.0 * y;
    let lap = -2.0 * PI * PI * sx * sy + 2.0;
    k2(x, y) * lap + 2.0 * x * ux + uy
}

fn error_2d(m: usize) -> f64 {
    let p = Poisson2d::new(m).unwrap();
    let h = p.h();
    let kx: Vec<f64> = (0..m)
        .flat_map(|j| (0..=m).map(move |i| k2((i as f64 + 0.5) * h, (j + 1) as f64 * h)))
        .collect();
    let ky: Vec<f64> = (0..=m)
        .flat_map(|j| (0..m).map(move |i| k2((i + 1) as f64 * h, (j as f64 + 0.5) * h)))
        .collect();
    let f: Vec<f64> = (0..m)
        .flat_map(|j| (0..m).map(move |i| f2((i + 1) as f64 * h, (j + 1) as f64 * h)))
        .collect();
    let g: Vec<f64> = (0..m + 2)
        .flat_map(|j| (0..m + 2).map(move |i| u2(i as f64 * h, j as f64 * h)))
        .collect();
    let tape = Tape::new();
    let u = p
        .solve(
            tape.constant(Tensor::from_vec(kx, &[m, m + 1])),
            tape.constant(Tensor::from_vec(ky, &[m + 1, m])),
            tape.constant(Tensor::from_vec(f, &[m, m])),
            Some(&Tensor::from_vec(g, &[m + 2, m + 2])),
        )
        .unwrap()
        .value();
    let mut err = 0.0f64;
    for j in 0..m {
        for i in 0..m {
            let exact = u2((i + 1) as f64 * h, (j + 1) as f64 * h);
            err = err.max((u.at(&[j, i]) - exact).abs());
        }
    }
    err
}

#[test]
fn poisson_2d_converges_at_second_order() {
    let errors: Vec<f64> = [7, 15, 31].iter().map(|&m| error_2d(m)).collect();
    let p = orders(&errors, 2.0);
    eprintln!("poisson_2d: max errors {errors:?}, orders {p:?}");
    for o in &p {
        assert!((o - 2.0).abs() < 0.15, "orders {p:?}, errors {errors:?}");
    }
}

/// With κ = 1 and a quadratic `u = x² + y²` (Δu = 4) the 5-point stencil is exact.
#[test]
fn poisson_2d_exact_on_quadratics() {
    let m = 5;
    let p = Poisson2d::new(m).unwrap();
    let h = p.h();
    let g: Vec<f64> = (0..m + 2)
        .flat_map(|j| (0..m + 2).map(move |i| (i as f64 * h).powi(2) + (j as f64 * h).powi(2)))
        .collect();
    let tape = Tape::new();
    let kappa = tape.constant(Tensor::ones(&[m + 2, m + 2]));
    let (kx, ky) = harmonic_faces(kappa);
    let f = tape.constant(Tensor::full(&[m, m], 4.0));
    let u = p
        .solve(
            kx,
            ky,
            f,
            Some(&Tensor::from_vec(g.clone(), &[m + 2, m + 2])),
        )
        .unwrap();
    for j in 0..m {
        for i in 0..m {
            let want = g[(j + 1) * (m + 2) + i + 1];
            assert!((u.value().at(&[j, i]) - want).abs() < 1e-12);
        }
    }
}

#[test]
fn poisson_2d_batch_matches_single_solves() {
    let mut r = rng(3);
    let (b, m) = (3, 4);
    let kx = Tensor::rand_uniform(&[b, m, m + 1], 0.5, 2.0, r.random());
    let ky = Tensor::rand_uniform(&[b, m + 1, m], 0.5, 2.0, r.random());
    let f = Tensor::randn(&[b, m, m], r.random());
    let p = Poisson2d::new(m).unwrap();
    let tape = Tape::new();
    let c = |t: &Tensor| tape.constant(t.clone());
    let ub = p.solve(c(&kx), c(&ky), c(&f), None).unwrap().value();
    for s in 0..b {
        let row = |t: &Tensor| {
            let len = t.len() / b;
            let shape = &t.shape()[1..];
            tape.constant(Tensor::from_vec(
                t.data()[s * len..(s + 1) * len].to_vec(),
                shape,
            ))
        };
        let u = p.solve(row(&kx), row(&ky), row(&f), None).unwrap().value();
        let want = &ub.data()[s * m * m..(s + 1) * m * m];
        for (x, y) in u.data().iter().zip(want) {
            assert!((x - y).abs() < 1e-13);
        }
    }
}

#[test]
fn poisson_2d_gradients_in_face_coefficients_and_source() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 0x2d);
        let m = r.random_range(1..=3);
        let kx = Tensor::rand_uniform(&[m, m + 1], 0.5, 2.0, r.random());
        let ky = Tensor::rand_uniform(&[m + 1, m], 0.5, 2.0, r.random());
        let f = Tensor::randn(&[m, m], r.random());
        let g = Tensor::randn(&[m + 2, m + 2], r.random());
        let p = Poisson2d::new(m).unwrap();
        check_both(
            move |_t, v| p.solve(v[0], v[1], v[2], Some(&g)).unwrap(),
            &[kx, ky, f],
        )
    });
}

#[test]
fn poisson_2d_gradients_in_a_nodal_field_through_harmonic_faces() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 0x4f);
        let m = r.random_range(1..=3);
        let theta = Tensor::rand_uniform(&[m + 2, m + 2], -0.7, 0.7, r.random());
        let f = Tensor::randn(&[m, m], r.random());
        let p = Poisson2d::new(m).unwrap();
        check_both(
            move |t, v| {
                let (kx, ky) = harmonic_faces(v[0].exp());
                p.solve(kx, ky, t.constant(f.clone()), None).unwrap()
            },
            &[theta],
        )
    });
}

#[test]
fn poisson_2d_typed_errors() {
    let m = 2;
    let p = Poisson2d::new(m).unwrap();
    let tape = Tape::new();
    let f = tape.constant(Tensor::ones(&[m, m]));
    let ky = tape.constant(Tensor::ones(&[m + 1, m]));
    let kx = tape.constant(Tensor::from_vec(
        vec![1.0, 1.0, -1.0, 1.0, 1.0, 1.0],
        &[m, m + 1],
    ));
    assert!(matches!(
        p.solve(kx, ky, f, None),
        Err(Error::InvalidInput { .. })
    ));
    let kx = tape.constant(Tensor::ones(&[m, m + 1]));
    let bad = tape.constant(Tensor::full(&[m, m], f64::NAN));
    assert!(matches!(
        p.solve(kx, ky, bad, None),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(Poisson2d::new(0), Err(Error::InvalidInput { .. })));
}
