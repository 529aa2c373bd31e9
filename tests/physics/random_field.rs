//! Gaussian random fields: the factor reproduces the kernel, the sample covariance matches it
//! within a statistical bound, seeding is reproducible, and failures are typed errors.

use physgrad::physics::random_field::{squared_exponential, GaussianRandomField, GrfConfig};
use physgrad::{Error, Tensor};

fn points() -> Tensor {
    // Five points in the plane, spread over about one length scale.
    Tensor::from_vec(
        vec![0.0, 0.0, 0.3, 0.1, 0.7, 0.4, 0.2, 0.9, 1.0, 1.0],
        &[5, 2],
    )
}

#[test]
fn factor_reproduces_the_kernel_plus_jitter() {
    let (s2, rho) = (1.7, 0.5);
    let grf = GaussianRandomField::new(&points(), s2, rho, &GrfConfig::default()).unwrap();
    let k = squared_exponential(&points(), s2, rho);
    let l = grf.factor();
    let n = grf.len();
    for i in 0..n {
        for j in 0..n {
            let llt: f64 = (0..n).map(|c| l.at(&[i, c]) * l.at(&[j, c])).sum();
            let want = k.at(&[i, j]) + if i == j { grf.jitter() } else { 0.0 };
            assert!((llt - want).abs() < 1e-13, "({i}, {j}): {llt} vs {want}");
        }
    }
    // Spot-check the kernel formula itself: ‖x₀ − x₁‖² = 0.1.
    assert!((k.at(&[0, 1]) - s2 * (-0.1f64 / rho).exp()).abs() < 1e-15);
}

/// Each sample-covariance entry has standard deviation `√((KᵢᵢKⱼⱼ + Kᵢⱼ²)/B)`; allow 5 of them.
#[test]
fn sample_covariance_matches_the_kernel() {
    let (s2, rho, b) = (2.0, 0.4, 40_000);
    let grf = GaussianRandomField::new(&points(), s2, rho, &GrfConfig::default()).unwrap();
    let x = grf.sample(b, 11);
    assert_eq!(x.shape(), &[b, 5]);
    let k = squared_exponential(&points(), s2, rho);
    for i in 0..5 {
        let mean: f64 = (0..b).map(|s| x.at(&[s, i])).sum::<f64>() / b as f64;
        assert!(
            mean.abs() < 5.0 * (s2 / b as f64).sqrt(),
            "mean {i}: {mean}"
        );
        for j in 0..5 {
            let c: f64 = (0..b).map(|s| x.at(&[s, i]) * x.at(&[s, j])).sum::<f64>() / b as f64;
            let kij = k.at(&[i, j]);
            let sd = ((k.at(&[i, i]) * k.at(&[j, j]) + kij * kij) / b as f64).sqrt();
            assert!(
                (c - kij).abs() < 5.0 * sd,
                "({i}, {j}): {c} vs {kij} (sd {sd})"
            );
        }
    }
}

#[test]
fn seeded_samples_are_reproducible() {
    let grf = GaussianRandomField::new(&points(), 1.0, 1.0, &GrfConfig::default()).unwrap();
    assert_eq!(grf.sample(4, 5).data(), grf.sample(4, 5).data());
    assert_ne!(grf.sample(4, 5).data(), grf.sample(4, 6).data());
}

/// 60 points within 1e-9 of each other: K is all σ² to rounding, numerically of rank one.
#[test]
fn jitter_rescues_near_duplicates_and_fails_typed_when_too_small() {
    let pts = Tensor::from_vec((0..60).map(|i| i as f64 * 1e-11).collect(), &[60, 1]);
    let grf = GaussianRandomField::new(&pts, 1.0, 1.0, &GrfConfig::default()).unwrap();
    assert!(grf.jitter() > 0.0 && grf.jitter() <= 1e-4);
    let tiny = GrfConfig {
        jitter: 0.0,
        max_jitter: 1e-30,
    };
    let err = GaussianRandomField::new(&pts, 1.0, 1.0, &tiny).unwrap_err();
    assert!(matches!(err, Error::Singular { .. }), "{err}");
}

#[test]
fn bad_parameters_are_typed_errors() {
    let cfg = GrfConfig::default();
    let p = points();
    assert!(matches!(
        GaussianRandomField::new(&p, 0.0, 1.0, &cfg),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        GaussianRandomField::new(&p, 1.0, -1.0, &cfg),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        GaussianRandomField::new(&p, f64::NAN, 1.0, &cfg),
        Err(Error::NonFinite { .. })
    ));
    let bad = GrfConfig {
        jitter: 1e-3,
        max_jitter: 1e-6,
    };
    assert!(matches!(
        GaussianRandomField::new(&p, 1.0, 1.0, &bad),
        Err(Error::InvalidInput { .. })
    ));
    let nan = Tensor::from_vec(vec![0.0, f64::NAN], &[2, 1]);
    assert!(matches!(
        GaussianRandomField::new(&nan, 1.0, 1.0, &cfg),
        Err(Error::NonFinite { .. })
    ));
}
