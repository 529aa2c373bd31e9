//! Log-domain Sinkhorn: marginals, the limit ε → 0, the entropic objective, small ε.

use super::{close, clouds, solve, weights};
use physgrad::ot::{sinkhorn_log, Ground, SinkhornConfig};

#[test]
fn converges_to_the_exact_cost_as_epsilon_shrinks() {
    let (_, _, c) = clouds(30, 25, 2, Ground::L2, 21);
    let (a, b) = (weights(30, 1), weights(25, 2));
    let exact = solve(&a, &b, &c).cost;
    let mut last_gap = f64::INFINITY;
    for eps in [1e-1, 1e-2, 1e-3, 1e-4] {
        let cfg = SinkhornConfig {
            epsilon: eps,
            ..SinkhornConfig::default()
        };
        let t = sinkhorn_log(&a, &b, &c, &cfg).unwrap();
        // ⟨P_ε, C⟩ ≥ W, and OT_ε − W ≤ ε·log(nm) (the KL to a⊗b is at most its entropy term).
        let gap = t.cost - exact;
        assert!(gap >= -1e-9, "ε = {eps}: {} < {exact}", t.cost);
        assert!(t.objective - exact <= eps * (30.0f64 * 25.0).ln() + 1e-9);
        assert!(
            gap <= last_gap + 1e-12,
            "ε = {eps}: gap {gap} grew from {last_gap}"
        );
        last_gap = gap;
    }
    assert!(last_gap < 1e-3 * exact, "gap {last_gap} at ε = 1e-4");
}

#[test]
fn plan_has_the_requested_marginals_at_small_epsilon() {
    // ε ≈ 1e-3 × the median cost: the regime where kernel-domain Sinkhorn underflows.
    let (_, _, c) = clouds(50, 40, 10, Ground::L1, 22);
    let mut sorted = c.data().to_vec();
    sorted.sort_by(f64::total_cmp);
    let eps = 1e-3 * sorted[sorted.len() / 2];
    let (a, b) = (weights(50, 3), weights(40, 4));
    let cfg = SinkhornConfig {
        epsilon: eps,
        ..SinkhornConfig::default()
    };
    let t = sinkhorn_log(&a, &b, &c, &cfg).unwrap();
    let p = t.plan;
    for i in 0..50 {
        let row: f64 = (0..40).map(|j| p.at(&[i, j])).sum();
        assert!((row - a[i]).abs() < 1e-12);
    }
    let mut col_err = 0.0;
    for j in 0..40 {
        let col: f64 = (0..50).map(|i| p.at(&[i, j])).sum();
        col_err += (col - b[j]).powi(2);
    }
    assert!(col_err.sqrt() <= 1e-9 && t.marginal_error <= 1e-9);
    let exact = solve(&a, &b, &c).cost;
    assert!(close(t.cost, exact, 1e-2));
}

#[test]
fn handles_zero_weights() {
    let (_, _, c) = clouds(6, 5, 2, Ground::SqL2, 23);
    let a = [0.0, 0.25, 0.25, 0.0, 0.5, 0.0];
    let b = [0.2, 0.2, 0.2, 0.2, 0.2];
    let cfg = SinkhornConfig {
        epsilon: 1e-4,
        ..SinkhornConfig::default()
    };
    let t = sinkhorn_log(&a, &b, &c, &cfg).unwrap();
    assert!(t.alpha.iter().chain(&t.beta).all(|v| v.is_finite()));
    assert!(close(t.cost, solve(&a, &b, &c).cost, 1e-3));
}
