//! Experiment 5 (mean of a Gaussian random field by L-BFGS), reduced.

#[allow(dead_code)]
#[path = "../../examples/physgnn_grf.rs"]
mod example;

use example::{estimate, mean_std, Config, Plate, Problem, Solver};

fn small() -> Config {
    Config {
        nx: 4,
        ny: 2,
        model_samples: 40,
        ..Config::default()
    }
}

#[test]
fn observation_is_linear_in_compliance_for_a_constant_field() {
    // With g = 0 the corner displacement is exactly proportional to 1/E₀.
    let cfg = small();
    let plate = Plate::new(&cfg, 0.1).unwrap();
    let zero = physgrad::Tensor::zeros(&[1, 8]);
    let a = plate.observe_plain(1.0, &zero).unwrap()[0];
    let b = plate.observe_plain(4.0, &zero).unwrap()[0];
    assert!(a > 0.0 && (a - 4.0 * b).abs() < 1e-12, "{a} {b}");
}

#[test]
fn objective_gradient_matches_finite_differences() {
    let cfg = small();
    let p = Problem::new(&cfg, 0.1, 0).unwrap();
    for solver in [Solver::Exact, Solver::Sinkhorn(0.05)] {
        for e0 in [0.8, 1.3, 2.0] {
            let (_, g) = p.loss(e0, solver).unwrap();
            let h = 1e-6;
            let fd =
                (p.loss(e0 + h, solver).unwrap().0 - p.loss(e0 - h, solver).unwrap().0) / (2.0 * h);
            assert!(
                (g - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                "{solver:?} {e0}: {g} vs {fd}"
            );
        }
    }
}

#[test]
fn lbfgs_recovers_the_mean_from_ten_observations() {
    let cfg = small();
    for rho in [0.01, 10.0] {
        let mut est = Vec::new();
        for rep in 0..4 {
            let p = Problem::new(&cfg, rho, rep).unwrap();
            let (j0, _) = p.loss(cfg.start, Solver::Exact).unwrap();
            let e = estimate(&cfg, &p, rho, rep, Solver::Exact);
            let (j1, _) = p.loss(e.e0, Solver::Exact).unwrap();
            assert!(j1 < 0.2 * j0, "loss {j0} -> {j1}");
            assert!(e.e0 >= p.lower);
            est.push(e.e0);
        }
        let (m, s) = mean_std(&est);
        eprintln!("rho {rho}: estimates {est:?} mean {m:.4} std {s:.4}");
        assert!((m - cfg.e0).abs() < 0.1, "rho {rho}: mean {m}");
    }
}

#[test]
fn short_correlation_averages_the_field_out() {
    // Independent element values average out in the corner displacement; a nearly constant
    // field does not: the observations spread much more for long correlation lengths.
    let cfg = small();
    let spread = |rho: f64| {
        let plate = Plate::new(&cfg, rho).unwrap();
        let u = plate.observe_plain(cfg.e0, &plate.fields(400, 7)).unwrap();
        let (m, s) = mean_std(&u);
        s / m
    };
    let (short, long) = (spread(0.01), spread(10.0));
    eprintln!("relative spread of u_x: rho 0.01 {short:.4}, rho 10 {long:.4}");
    // A constant field E₀ + g gives u ∝ 1/(1 + g): relative spread ≈ σ/E₀ = 0.1.
    assert!((long - 0.1).abs() < 0.02, "{long}");
    assert!(short < 0.7 * long, "{short} {long}");
}
