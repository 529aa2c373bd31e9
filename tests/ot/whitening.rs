//! Whitening for ground costs: the principal axes and variances of known Gaussian data, unit
//! covariance after the map, refusal of axes without spread, and gradients through a transport
//! loss between whitened points at first and second order.

use physgrad::ot::{pairwise_cost, wasserstein, Ground, Method, Weights, Whitening};
use physgrad::testing::{check_grad, hr, GradCheck};
use physgrad::Tensor;
use rand::{Rng, SeedableRng};

/// On Gaussian data with known, distinct
/// variances along rotated axes it recovers the variances, maps the data to zero mean and
/// identity covariance, and refuses more axes than the data spread over.
#[test]
fn whitening_recovers_the_principal_axes() {
    let (m, n) = (4000, 5);
    let sd = [3.0, 2.0, 1.0, 0.5, 0.0];
    // An orthogonal basis: a Householder reflection of the unit vectors.
    let v: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
    let vv: f64 = v.iter().map(|x| x * x).sum();
    let q = |r: usize, c: usize| f64::from(u8::from(r == c)) - 2.0 * v[r] * v[c] / vv;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut data = Vec::with_capacity(m * n);
    for _ in 0..m {
        let g: Vec<f64> = (0..n)
            .map(|k| sd[k] * rng.sample::<f64, _>(rand_distr::StandardNormal))
            .collect();
        data.extend((0..n).map(|r| 1.5 + (0..n).map(|k| q(r, k) * g[k]).sum::<f64>()));
    }
    let data = Tensor::from_vec(data, &[m, n]);
    let w = Whitening::fit(&data, 3).unwrap();
    for (got, want) in w.variances.iter().zip(sd) {
        assert!(
            (got / (want * want) - 1.0).abs() < 0.1,
            "{got} vs {}",
            want * want
        );
    }
    let y = w.apply_tensor(&data);
    let y = y.data();
    for a in 0..3 {
        let mean = (0..m).map(|i| y[i * 3 + a]).sum::<f64>() / m as f64;
        assert!(mean.abs() < 1e-12, "mean {mean}");
        for b in 0..3 {
            let c = (0..m).map(|i| y[i * 3 + a] * y[i * 3 + b]).sum::<f64>() / (m - 1) as f64;
            let want = f64::from(u8::from(a == b));
            assert!((c - want).abs() < 1e-9, "cov[{a}][{b}] = {c}");
        }
    }
    // The fifth direction carries no spread (round-off only): five axes are refused.
    assert!(matches!(
        Whitening::fit(&data, 5),
        Err(physgrad::Error::InvalidInput { .. })
    ));
    assert_eq!(Whitening::fit(&data, 4).unwrap().variances.len(), 4);
}

/// `W(whiten(x), whiten(y))` is differentiable in `x` at first and second order.
#[test]
fn transport_between_whitened_points_checks_out() {
    let white = Whitening::fit(&Tensor::randn(&[200, 5], 3), 3).unwrap();
    let y = Tensor::randn(&[6, 5], 4);
    let x = Tensor::randn(&[6, 5], 5);
    let report = check_grad(
        hr(|tape, v| {
            let c = pairwise_cost(
                white.apply(v[0]),
                white.apply(tape.constant(y.clone())),
                Ground::SqL2,
            );
            wasserstein(c, Weights::Uniform, Weights::Uniform, &Method::default()).unwrap()
        }),
        &[x],
        &GradCheck::default(),
    );
    assert!(report.is_ok(), "{report:?}");
}
