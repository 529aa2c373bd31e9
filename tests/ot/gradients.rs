//! Gradient checks: the pairwise-cost op at first and second order, the Wasserstein op at first
//! order (cost and weights), its second order through the cost, and the plan-as-gradient
//! identity.

use super::{cases, solve, weights};
use physgrad::ot::{
    pairwise_cost, wasserstein, wasserstein_points, Ground, Method, SinkhornConfig, Weights,
};
use physgrad::testing::strategies::tensor_of;
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Tape, Tensor};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Point clouds `n×s`, `m×s` whose coordinates differ pairwise by at least `margin` (away from
/// the kinks of L1 and the coincident points of L2).
fn separated_clouds(margin: f64) -> impl Strategy<Value = (Tensor, Tensor)> {
    (1usize..=4, 1usize..=4, 1usize..=3)
        .prop_flat_map(|(n, m, s)| {
            (
                tensor_of(vec![n, s], -2.0, 2.0),
                tensor_of(vec![m, s], -2.0, 2.0),
            )
        })
        .prop_filter("coordinates too close", move |(x, y)| {
            let s = x.shape()[1];
            x.data().chunks(s).all(|p| {
                y.data()
                    .chunks(s)
                    .all(|q| p.iter().zip(q).all(|(u, v)| (u - v).abs() > margin))
            })
        })
}

#[test]
fn pairwise_cost_first_and_second_order() {
    let cfg = GradCheck::default();
    for ground in [Ground::L1, Ground::L2, Ground::SqL2] {
        let result = runner().run(&separated_clouds(0.05), |(x, y)| {
            let f = hr(move |_t, v| pairwise_cost(v[0], v[1], ground));
            let inputs = [x.clone(), y.clone()];
            check_grad(f, &inputs, &cfg)
                .map_err(|e| TestCaseError::fail(format!("{ground:?} first: {e}")))?;
            check_grad2(f, &inputs, &cfg)
                .map_err(|e| TestCaseError::fail(format!("{ground:?} second: {e}")))?;
            // The forward against the definition.
            let tape = Tape::new();
            let c = pairwise_cost(tape.var(x.clone()), tape.var(y.clone()), ground).value();
            let sd = x.shape()[1];
            for (i, p) in x.data().chunks(sd).enumerate() {
                for (j, q) in y.data().chunks(sd).enumerate() {
                    let want = ground.eval(p, q);
                    prop_assert!((c.at(&[i, j]) - want).abs() <= 1e-14 * (1.0 + want));
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}

#[test]
fn l2_gradient_is_zero_at_coincident_points() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 0.0, 0.0], &[2, 2]));
    let y = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
    let c = pairwise_cost(x, y, Ground::L2);
    let g = c.sum().backward();
    let gx = g.wrt(x);
    assert_eq!(&gx.data()[..2], &[0.0, 0.0]);
    let r = (1.0f64 + 4.0).sqrt();
    assert!((gx.data()[2] + 1.0 / r).abs() < 1e-15 && (gx.data()[3] + 2.0 / r).abs() < 1e-15);
    assert!(!g.wrt(y).has_non_finite());
}

#[test]
fn wasserstein_gradient_in_the_cost_is_the_plan() {
    let (n, m) = (9, 7);
    let c = Tensor::rand_uniform(&[n, m], 0.0, 1.0, 31);
    let (a, b) = (weights(n, 1), weights(m, 2));
    let tape = Tape::new();
    let cv = tape.var(c.clone());
    let w = wasserstein(
        cv,
        Weights::Fixed(&a),
        Weights::Fixed(&b),
        &Method::default(),
    )
    .unwrap();
    let g = (w * 3.0).backward().wrt(cv);
    let p = solve(&a, &b, &c).dense_plan();
    assert_eq!(g.data(), p.map(|x| 3.0 * x).data());
    // ⟨P*, C⟩ = W: the value is linear in C along its own gradient.
    assert!((p.dot(&c) - w.item()).abs() < 1e-15);
}

#[test]
fn wasserstein_first_order_in_cost_and_weights() {
    let cfg = GradCheck::default();
    for seed in 0..cases().min(16) as u64 {
        let (n, m) = (2 + seed as usize % 5, 3 + seed as usize % 4);
        let c = Tensor::rand_uniform(&[n, m], 0.0, 1.0, seed);
        let wa = Tensor::rand_uniform(&[n], 0.5, 1.5, seed + 100);
        let wb = Tensor::rand_uniform(&[m], 0.5, 1.5, seed + 200);
        // Weights through a normalisation, so finite differences stay on balanced marginals.
        let f = hr(|_t, v| {
            let (a, b) = (v[1] / v[1].sum(), v[2] / v[2].sum());
            wasserstein(v[0], Weights::Var(a), Weights::Var(b), &Method::default()).unwrap()
        });
        check_grad(f, &[c, wa, wb], &cfg).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

#[test]
fn wasserstein_of_points_at_first_and_second_order() {
    // Second derivatives come from the cost only (the plan is held constant).
    let cfg = GradCheck::default();
    for seed in 0..cases().min(12) as u64 {
        let (n, m, s) = (
            3 + seed as usize % 4,
            2 + seed as usize % 5,
            1 + seed as usize % 3,
        );
        let x = Tensor::randn(&[n, s], seed);
        let y = Tensor::randn(&[m, s], seed + 77);
        let a = weights(n, seed + 1);
        for ground in [Ground::SqL2, Ground::L2] {
            let f = hr(|_t, v| {
                wasserstein_points(
                    v[0],
                    v[1],
                    ground,
                    Weights::Fixed(&a),
                    Weights::Uniform,
                    &Method::default(),
                )
                .unwrap()
            });
            let inputs = [x.clone(), y.clone()];
            check_grad(f, &inputs, &cfg).unwrap_or_else(|e| panic!("{ground:?} seed {seed}: {e}"));
            check_grad2(f, &inputs, &cfg).unwrap_or_else(|e| panic!("{ground:?} seed {seed}: {e}"));
        }
    }
}

#[test]
fn sinkhorn_op_gradient_is_the_entropic_plan() {
    let cfg = GradCheck::default();
    let method = Method::Sinkhorn(SinkhornConfig {
        epsilon: 0.1,
        tol: 1e-14,
        ..SinkhornConfig::default()
    });
    for seed in 0..4u64 {
        let c = Tensor::rand_uniform(&[5, 4], 0.0, 1.0, seed);
        let a = weights(5, seed);
        let f =
            hr(|_t, v| wasserstein(v[0], Weights::Fixed(&a), Weights::Uniform, &method).unwrap());
        check_grad(f, std::slice::from_ref(&c), &cfg)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // The centred potentials are the gradient in the weights (kept on the simplex).
        let wa = Tensor::rand_uniform(&[5], 0.5, 1.5, seed + 9);
        let wb = Tensor::rand_uniform(&[4], 0.5, 1.5, seed + 19);
        let g = hr(|_t, v| {
            let (a, b) = (v[1] / v[1].sum(), v[2] / v[2].sum());
            wasserstein(v[0], Weights::Var(a), Weights::Var(b), &method).unwrap()
        });
        check_grad(g, &[c, wa, wb], &cfg).unwrap_or_else(|e| panic!("weights, seed {seed}: {e}"));
    }
}

#[test]
fn line_method_matches_the_exact_op_in_value_and_gradient() {
    let cfg = GradCheck::default();
    for seed in 0..8u64 {
        let (n, m) = (3 + seed as usize % 5, 2 + seed as usize % 6);
        let x = Tensor::randn(&[n, 1], seed + 300);
        let y = Tensor::randn(&[m, 1], seed + 400);
        let a = weights(n, seed + 2);
        for ground in [Ground::L1, Ground::L2, Ground::SqL2] {
            let run = |method: &Method| {
                let tape = Tape::new();
                let (xv, yv) = (tape.var(x.clone()), tape.var(y.clone()));
                let w = wasserstein_points(
                    xv,
                    yv,
                    ground,
                    Weights::Fixed(&a),
                    Weights::Uniform,
                    method,
                )
                .unwrap();
                let g = w.backward();
                (w.item(), g.wrt(xv), g.wrt(yv))
            };
            let (w1, gx1, gy1) = run(&Method::Line);
            let (w2, gx2, gy2) = run(&Method::default());
            assert!((w1 - w2).abs() < 1e-12, "{ground:?}: {w1} vs {w2}");
            assert!(gx1.max_abs_diff(&gx2) < 1e-12 && gy1.max_abs_diff(&gy2) < 1e-12);
            let f = hr(|_t, v| {
                wasserstein_points(
                    v[0],
                    v[1],
                    ground,
                    Weights::Fixed(&a),
                    Weights::Uniform,
                    &Method::Line,
                )
                .unwrap()
            });
            let inputs = [x.clone(), y.clone()];
            check_grad(f, &inputs, &cfg).unwrap_or_else(|e| panic!("{ground:?} seed {seed}: {e}"));
            check_grad2(f, &inputs, &cfg).unwrap_or_else(|e| panic!("{ground:?} seed {seed}: {e}"));
        }
    }
    // The line method needs positions and fixed weights.
    let tape = Tape::new();
    let c = tape.var(Tensor::zeros(&[2, 2]));
    assert!(wasserstein(c, Weights::Uniform, Weights::Uniform, &Method::Line).is_err());
    let (x, y) = (
        tape.var(Tensor::zeros(&[2, 1])),
        tape.var(Tensor::ones(&[2, 1])),
    );
    let wv = tape.var(Tensor::from_vec(vec![0.5, 0.5], &[2]));
    let r = wasserstein_points(
        x,
        y,
        Ground::L1,
        Weights::Var(wv),
        Weights::Uniform,
        &Method::Line,
    );
    assert!(r.is_err());
}
