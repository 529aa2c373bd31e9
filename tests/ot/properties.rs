//! Metric properties, degenerate inputs, the one-sided (supergradient) inequality and the
//! optimality certificate.

use super::{close, clouds, solve, weights};
use physgrad::ot::{
    network_simplex, pairwise_cost_tensor, uniform_weights, verify_certificate, Ground,
    NetworkSimplexConfig, PlanEntry,
};
use physgrad::{Error, Tensor};

#[test]
fn distance_to_itself_is_zero_and_symmetric() {
    for (n, seed) in [(1, 0), (6, 1), (30, 2), (120, 3)] {
        let (x, _, _) = clouds(n, 1, 3, Ground::L2, seed);
        let a = weights(n, seed);
        let c = pairwise_cost_tensor(&x, &x, Ground::L2);
        assert!(solve(&a, &a, &c).cost.abs() < 1e-14);
        let (x, y, cxy) = clouds(n, n + 7, 3, Ground::L2, seed + 10);
        let cyx = pairwise_cost_tensor(&y, &x, Ground::L2);
        let b = weights(n + 7, seed + 11);
        let (w1, w2) = (solve(&a, &b, &cxy).cost, solve(&b, &a, &cyx).cost);
        assert!(close(w1, w2, 1e-12), "{w1} vs {w2}");
        drop(x);
    }
}

#[test]
fn triangle_inequality_for_a_metric_ground_cost() {
    for seed in 0..6u64 {
        let (n1, n2, n3) = (10 + seed as usize, 17, 8 + 3 * seed as usize);
        let x = Tensor::randn(&[n1, 2], seed);
        let y = Tensor::randn(&[n2, 2], seed + 100).map(|v| v + 1.0);
        let z = Tensor::randn(&[n3, 2], seed + 200).map(|v| 2.0 * v);
        let (a, b, c) = (
            weights(n1, seed),
            weights(n2, seed + 1),
            weights(n3, seed + 2),
        );
        for ground in [Ground::L1, Ground::L2] {
            let w = |p: &Tensor, q: &Tensor, u: &[f64], v: &[f64]| {
                solve(u, v, &pairwise_cost_tensor(p, q, ground)).cost
            };
            let (xy, yz, xz) = (w(&x, &y, &a, &b), w(&y, &z, &b, &c), w(&x, &z, &a, &c));
            assert!(xz <= xy + yz + 1e-12, "{xz} > {xy} + {yz}");
        }
    }
}

#[test]
fn degenerate_inputs_solve_exactly() {
    // All costs equal: every plan is optimal.
    let c = Tensor::full(&[5, 4], 2.5);
    let t = solve(&uniform_weights(5), &uniform_weights(4), &c);
    assert!(close(t.cost, 2.5, 1e-14));
    // Duplicate points on both sides and ties in the cost.
    let x = Tensor::from_vec(vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0], &[6, 1]);
    let y = Tensor::from_vec(vec![0.0, 1.0, 1.0, 2.0, 2.0, 0.0], &[6, 1]);
    let c = pairwise_cost_tensor(&x, &y, Ground::L1);
    let u6 = uniform_weights(6);
    for t in super::solve_both(&u6, &u6, &c) {
        assert!(t.cost.abs() < 1e-15);
    }
    for t in super::solve_both(&u6, &u6, &Tensor::full(&[6, 6], 0.75)) {
        assert!(close(t.cost, 0.75, 1e-14));
    }
    // n = 1 and m = 1: the plan is forced.
    let c = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[1, 3]);
    let t = solve(&[1.0], &[0.2, 0.3, 0.5], &c);
    assert!(close(t.cost, 0.2 + 0.6 + 1.5, 1e-14));
    let t = solve(&[0.2, 0.3, 0.5], &[1.0], &c.reshape(&[3, 1]));
    assert!(close(t.cost, 0.2 + 0.6 + 1.5, 1e-14));
}

#[test]
fn float_marginals_that_differ_by_rounding_are_balanced() {
    // [0.1, 0.2, 0.7] against thirds, and ten 0.1 (whose float sum is 1 − 2⁻⁵³) against
    // halves: the cases POT users report as 'infeasible'.
    let tenths = [0.1; 10];
    assert_ne!(tenths.iter().sum::<f64>(), 1.0);
    for (a, b) in [
        (&[0.1, 0.2, 0.7][..], &[1.0 / 3.0; 3][..]),
        (&tenths[..], &[0.5, 0.5][..]),
    ] {
        let (n, m) = (a.len(), b.len());
        let (_, _, c) = clouds(n, m, 2, Ground::L2, 5);
        let t = solve(a, b, &c);
        let p = t.dense_plan();
        for (i, ai) in a.iter().enumerate() {
            let row: f64 = (0..m).map(|j| p.at(&[i, j])).sum();
            assert!((row - ai).abs() < 1e-15);
        }
        for (j, bj) in b.iter().enumerate() {
            let col: f64 = (0..n).map(|i| p.at(&[i, j])).sum();
            assert!((col - bj).abs() < 1e-15);
        }
    }
    // Masses of very different sizes and many points with rounding in every sum.
    let a: Vec<f64> = (0..37).map(|i| 0.1 + (i as f64) * 1e-3).collect();
    let sa: f64 = a.iter().sum();
    let b = vec![sa / 23.0; 23];
    let (_, _, c) = clouds(37, 23, 3, Ground::L1, 6);
    solve(&a, &b, &c);
}

#[test]
fn zero_weights_are_allowed() {
    let (_, _, c) = clouds(5, 6, 2, Ground::SqL2, 8);
    let a = [0.0, 0.5, 0.0, 0.5, 0.0];
    let b = [0.25, 0.0, 0.25, 0.0, 0.5, 0.0];
    let t = solve(&a, &b, &c);
    // Same as the problem with the zero-weight points removed.
    let keep_a = [1, 3];
    let keep_b = [0, 2, 4];
    let sub = Tensor::from_vec(
        keep_a
            .iter()
            .flat_map(|&i| keep_b.iter().map(move |&j| (i, j)))
            .map(|(i, j)| c.at(&[i, j]))
            .collect(),
        &[2, 3],
    );
    let reduced = solve(&[0.5, 0.5], &[0.25, 0.25, 0.5], &sub);
    assert!(close(t.cost, reduced.cost, 1e-13));
    assert!(t.plan.iter().all(|e| a[e.i] > 0.0 && b[e.j] > 0.0));
}

/// W is concave in C and P* is a supergradient: W(C + hE) ≤ W(C) + h⟨P*, E⟩, also at
/// degenerate points where W has a kink.
#[test]
fn plan_is_a_supergradient_at_degenerate_points() {
    let problems = [
        (
            Tensor::full(&[4, 4], 1.0),
            uniform_weights(4),
            uniform_weights(4),
        ),
        (
            pairwise_cost_tensor(
                &Tensor::from_vec(vec![0.0, 0.0, 1.0, 1.0], &[4, 1]),
                &Tensor::from_vec(vec![0.0, 1.0, 0.0, 1.0], &[4, 1]),
                Ground::L1,
            ),
            uniform_weights(4),
            uniform_weights(4),
        ),
        (
            clouds(6, 6, 2, Ground::L1, 3).2,
            uniform_weights(6),
            uniform_weights(6),
        ),
    ];
    for (k, (c, a, b)) in problems.iter().enumerate() {
        for t in super::solve_both(a, b, c) {
            supergradient_holds(k, &t, a, b, c);
        }
    }
}

fn supergradient_holds(k: usize, t: &physgrad::ot::Transport, a: &[f64], b: &[f64], c: &Tensor) {
    {
        let p = t.dense_plan();
        for dir in 0..20u64 {
            let e = Tensor::randn(c.shape(), 1000 * k as u64 + dir);
            for h in [1e-3, 1e-1, 1.0] {
                let shifted = c.zip_with(&e, |x, y| x + h * y);
                let w = solve(a, b, &shifted).cost;
                assert!(
                    w <= t.cost + h * p.dot(&e) + 1e-12,
                    "problem {k} dir {dir} h {h}"
                );
            }
        }
    }
}

#[test]
fn duals_certify_the_cost() {
    let (_, _, c) = clouds(40, 55, 3, Ground::L2, 12);
    let (a, b) = (weights(40, 1), weights(55, 2));
    let t = solve(&a, &b, &c);
    let dual: f64 = a.iter().zip(&t.alpha).map(|(x, y)| x * y).sum::<f64>()
        + b.iter().zip(&t.beta).map(|(x, y)| x * y).sum::<f64>();
    assert!(close(dual, t.cost, 1e-12));
    for i in 0..40 {
        for j in 0..55 {
            assert!(c.at(&[i, j]) - t.alpha[i] - t.beta[j] >= -1e-12);
        }
    }
}

#[test]
fn certificate_catches_corrupted_answers() {
    let (_, _, c) = clouds(12, 9, 2, Ground::L1, 4);
    let (a, b) = (weights(12, 3), weights(9, 4));
    let t = solve(&a, &b, &c);
    verify_certificate(&a, &b, &c, &t, 1e-9).unwrap();
    let expect_fail =
        |t: &physgrad::ot::Transport, what: &str| match verify_certificate(&a, &b, &c, t, 1e-9) {
            Err(Error::NotConverged { op, .. }) => assert!(op.contains(what), "{op}"),
            other => panic!("expected a failed {what} check, got {other:?}"),
        };
    // Mass moved between two cells of a row breaks a column marginal.
    let mut bad = t.clone();
    bad.plan[0].mass *= 0.5;
    expect_fail(&bad, "marginals");
    // A dual raised above the feasible region.
    let mut bad = t.clone();
    bad.alpha[3] += 1.0;
    expect_fail(&bad, "dual feasibility");
    // A feasible but suboptimal plan with the optimal duals: a duality gap.
    let mut bad = t.clone();
    let u = weights(12, 3);
    let v = weights(9, 4);
    bad.plan = (0..12)
        .flat_map(|i| (0..9).map(move |j| (i, j)))
        .map(|(i, j)| PlanEntry {
            i,
            j,
            mass: u[i] * v[j],
        })
        .collect();
    expect_fail(&bad, "nonzeros");
    bad.plan.truncate(0);
    let mut nw = Vec::new();
    let (mut ra, mut rb, mut i, mut j) = (a[0], b[0], 0, 0);
    loop {
        let mass = ra.min(rb);
        nw.push(PlanEntry { i, j, mass });
        ra -= mass;
        rb -= mass;
        if ra <= rb && i + 1 < 12 {
            i += 1;
            ra = a[i];
        } else if j + 1 < 9 {
            j += 1;
            rb = b[j];
        } else {
            break;
        }
    }
    bad.plan = nw;
    bad.cost = bad.plan.iter().map(|e| e.mass * c.at(&[e.i, e.j])).sum();
    expect_fail(&bad, "duality gap");
}

#[test]
fn pivot_cap_is_an_error_not_an_answer() {
    let (_, _, c) = clouds(60, 60, 2, Ground::L1, 9);
    let u = uniform_weights(60);
    let cfg = NetworkSimplexConfig {
        max_pivots: Some(10),
        assignment_max_n: 0,
        ..NetworkSimplexConfig::default()
    };
    match network_simplex(&u, &u, &c, &cfg) {
        Err(Error::NotConverged { iterations, .. }) => assert_eq!(iterations, 10),
        other => panic!("expected NotConverged, got {other:?}"),
    }
}

/// Larger problems with heavy ties and zero weights (integer costs and weights): the solver
/// must finish (no cycling), pass its certificate, and agree with the transposed problem.
#[test]
fn heavily_degenerate_problems_finish_and_agree_with_the_transpose() {
    for seed in 0..12u64 {
        let (n, m) = (20 + 7 * seed as usize, 90 - 5 * seed as usize);
        let ints = |len: usize, hi: f64, s: u64| -> Vec<f64> {
            Tensor::rand_uniform(&[len], 0.0, hi, s)
                .data()
                .iter()
                .map(|x| x.floor())
                .collect()
        };
        let c = Tensor::from_vec(ints(n * m, 5.0, seed), &[n, m]);
        let norm = |w: Vec<f64>| {
            let s: f64 = w.iter().sum();
            w.into_iter().map(|x| x / s).collect::<Vec<f64>>()
        };
        let (a, b) = (norm(ints(n, 3.0, seed + 50)), norm(ints(m, 3.0, seed + 90)));
        let t = solve(&a, &b, &c);
        let ct = Tensor::from_vec(
            (0..m)
                .flat_map(|j| (0..n).map(move |i| (i, j)))
                .map(|(i, j)| c.at(&[i, j]))
                .collect(),
            &[m, n],
        );
        let tt = solve(&b, &a, &ct);
        assert!(
            close(t.cost, tt.cost, 1e-12),
            "seed {seed}: {} vs {}",
            t.cost,
            tt.cost
        );
    }
}

/// Costs from 1e-12 to 1e12, masses from 1e-13 to 1e6 in one problem, zero weights: the
/// tolerances are relative, so every solve passes its certificate, and scaling the costs scales
/// the result.
#[test]
fn extreme_scales_of_costs_and_masses() {
    for seed in 0..10u64 {
        let (n, m) = (40 + 3 * seed as usize, 60 - 2 * seed as usize);
        let (_, _, c) = clouds(n, m, 1 + seed as usize % 4, Ground::L2, seed + 70);
        let wa = Tensor::rand_uniform(&[n], 0.0, 1.0, seed + 5);
        let a: Vec<f64> = wa
            .data()
            .iter()
            .enumerate()
            .map(|(i, &v)| match i % 5 {
                1 => 1e-13 * v,
                2 if v < 0.3 => 0.0,
                _ => 1e6 * v,
            })
            .collect();
        let total: f64 = a.iter().sum();
        let b: Vec<f64> = weights(m, seed + 6).iter().map(|v| v * total).collect();
        let base = solve(&a, &b, &c).cost;
        for scale in [1e-12, 1e12] {
            let w = solve(&a, &b, &c.map(|v| v * scale)).cost;
            let want = base * scale;
            assert!(
                (w - want).abs() <= 1e-9 * want,
                "seed {seed}, scale {scale}: {w} vs {}",
                base * scale
            );
        }
    }
}

/// The fused cost matrix against a plain per-coordinate loop, for every ground cost and for
/// dimensions that do and do not fill the four accumulation lanes.
#[test]
fn pairwise_costs_match_a_plain_loop() {
    for s in 0..=9 {
        let x = Tensor::randn(&[3, s], 100 + s as u64);
        let y = Tensor::randn(&[4, s], 200 + s as u64);
        for ground in [Ground::L1, Ground::L2, Ground::SqL2] {
            let c = pairwise_cost_tensor(&x, &y, ground);
            for i in 0..3 {
                for j in 0..4 {
                    let d = (0..s).map(|k| x.at(&[i, k]) - y.at(&[j, k]));
                    let expect = match ground {
                        Ground::L1 => d.map(f64::abs).sum::<f64>(),
                        Ground::L2 => d.map(|v| v * v).sum::<f64>().sqrt(),
                        Ground::SqL2 => d.map(|v| v * v).sum::<f64>(),
                    };
                    let got = c.at(&[i, j]);
                    assert!(
                        (got - expect).abs() <= 1e-14 * (1.0 + expect),
                        "{ground:?} s={s}: {got} vs {expect}"
                    );
                }
            }
        }
    }
}
