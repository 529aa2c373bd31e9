//! Bad numbers give typed errors, never panics or unfinished answers.

use physgrad::ot::{
    network_simplex, sinkhorn_log, wasserstein, wasserstein_1d, Method, NetworkSimplexConfig,
    SinkhornConfig, Weights,
};
use physgrad::{Error, Tape, Tensor};

fn exact(a: &[f64], b: &[f64], c: &Tensor) -> Result<(), Error> {
    network_simplex(a, b, c, &NetworkSimplexConfig::default()).map(|_| ())
}

fn sinkhorn(a: &[f64], b: &[f64], c: &Tensor) -> Result<(), Error> {
    sinkhorn_log(a, b, c, &SinkhornConfig::default()).map(|_| ())
}

#[test]
fn bad_weights_and_costs_are_typed_errors() {
    let c = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], &[2, 2]);
    let nan_c = Tensor::from_vec(vec![0.0, f64::NAN, 1.0, 0.0], &[2, 2]);
    let empty = Tensor::zeros(&[0, 2]);
    for solve in [exact, sinkhorn] {
        let e = solve(&[-0.1, 1.1], &[0.5, 0.5], &c).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { .. }) && e.to_string().contains("negative"),
            "{e}"
        );
        let e = solve(&[f64::NAN, 1.0], &[0.5, 0.5], &c).unwrap_err();
        assert!(matches!(e, Error::NonFinite { .. }), "{e}");
        let e = solve(&[f64::INFINITY, 1.0], &[0.5, 0.5], &c).unwrap_err();
        assert!(matches!(e, Error::NonFinite { .. }), "{e}");
        let e = solve(&[0.5, 0.5], &[0.5, 0.6], &c).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, Error::InvalidInput { .. })
                && msg.contains("1.1")
                && msg.contains("do not balance"),
            "{msg}"
        );
        let e = solve(&[0.0, 0.0], &[0.0, 0.0], &c).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        let e = solve(&[], &[0.5, 0.5], &empty).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { .. }) && e.to_string().contains("empty"),
            "{e}"
        );
        let e = solve(&[0.5, 0.5], &[0.5, 0.5], &nan_c).unwrap_err();
        assert!(
            matches!(e, Error::NonFinite { .. }) && e.to_string().contains("cost[0, 1]"),
            "{e}"
        );
    }
}

#[test]
fn sinkhorn_rejects_bad_settings_and_reports_non_convergence() {
    let c = Tensor::rand_uniform(&[20, 20], 0.0, 1.0, 3);
    let u = vec![0.05; 20];
    let cfg = SinkhornConfig {
        epsilon: 0.0,
        ..SinkhornConfig::default()
    };
    assert!(matches!(
        sinkhorn_log(&u, &u, &c, &cfg),
        Err(Error::InvalidInput { .. })
    ));
    let cfg = SinkhornConfig {
        epsilon: 1e-3,
        max_iterations: 3,
        tol: 1e-14,
        ..SinkhornConfig::default()
    };
    match sinkhorn_log(&u, &u, &c, &cfg) {
        Err(Error::NotConverged { iterations, .. }) => assert_eq!(iterations, 3),
        other => panic!("expected NotConverged, got {other:?}"),
    }
}

#[test]
fn one_d_rejects_bad_positions_and_exponents() {
    let w = [0.5, 0.5];
    assert!(matches!(
        wasserstein_1d(&[0.0, f64::NAN], &w, &[0.0, 1.0], &w, 1.0),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        wasserstein_1d(&[0.0, 1.0], &w, &[0.0, 1.0], &w, 0.5),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        wasserstein_1d(&[0.0, 1.0], &w, &[0.0, 1.0], &[0.5, 0.7], 1.0),
        Err(Error::InvalidInput { .. })
    ));
}

#[test]
fn the_tape_op_passes_solver_errors_through_and_records_nothing() {
    let tape = Tape::new();
    let c = tape.var(Tensor::from_vec(vec![0.0, f64::NAN, 1.0, 0.0], &[2, 2]));
    let before = tape.len();
    let r = wasserstein(c, Weights::Uniform, Weights::Uniform, &Method::default());
    assert!(matches!(r, Err(Error::NonFinite { .. })));
    // Only the two uniform weight constants were pushed.
    assert_eq!(tape.len(), before + 2);
    let c = tape.var(Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], &[2, 2]));
    let a = tape.var(Tensor::from_vec(vec![0.7, -0.2], &[2]));
    let r = wasserstein(c, Weights::Var(a), Weights::Uniform, &Method::default());
    assert!(matches!(r, Err(Error::InvalidInput { .. })));
}
