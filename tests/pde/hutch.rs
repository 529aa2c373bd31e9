//! Hutchinson estimates: unbiased within a statistical bound, exact where the variance is zero,
//! nested and jet versions identical for the same probes, weight gradients checked.

use physgrad::nn::{MlpConfig, Module, ParamStore};
use physgrad::pde::hutchinson::{self, HutchinsonConfig, Probe};
use physgrad::pde::{neural, Request};
use physgrad::testing::{check_grad, hr, GradCheck};
use physgrad::{Tape, Tensor, Var};

fn quadratic<'t>(x: Var<'t>, a: &Tensor) -> Var<'t> {
    (0.5 * (x.matmul(x.tape().constant(a.clone())) * x)).sum_axes(&[1], false)
}

fn symmetric(d: usize, seed: u64) -> Tensor {
    let m = Tensor::randn(&[d, d], seed);
    let data = (0..d * d)
        .map(|k| m.data()[k] + m.data()[(k % d) * d + k / d])
        .collect();
    Tensor::from_vec(data, &[d, d])
}

/// `Σ_{i≠j} A_ij²` and `Σ A_ij²` of a square matrix.
fn off_and_frobenius(a: &Tensor) -> (f64, f64) {
    let d = a.shape()[0];
    let fro: f64 = a.data().iter().map(|v| v * v).sum();
    let diag: f64 = (0..d).map(|i| a.at(&[i, i]).powi(2)).sum();
    (fro - diag, fro)
}

/// `Bᵀ A B` for `B` `[d, k]`.
fn congruence(a: &Tensor, b: &Tensor) -> Tensor {
    let (d, k) = (b.shape()[0], b.shape()[1]);
    let mut out = vec![0.0; k * k];
    for p in 0..k {
        for q in 0..k {
            for i in 0..d {
                for j in 0..d {
                    out[p * k + q] += b.at(&[i, p]) * a.at(&[i, j]) * b.at(&[j, q]);
                }
            }
        }
    }
    Tensor::from_vec(out, &[k, k])
}

/// For a quadratic the Hessian is the same in every row, so the batch mean of `B` rows of
/// `k`-probe estimates has variance `Var₁/(kB)` with the closed-form single-probe variance.
#[test]
fn unbiased_on_quadratics_within_five_sigma() {
    let (d, rows, k) = (5, 400, 4);
    let a = symmetric(d, 1);
    let sigma = Tensor::randn(&[d, 3], 2);
    let xs = Tensor::randn(&[rows, d], 3);
    let cases = [
        (Request::laplacian(vec![0, 2, 3]), {
            let mut e = Tensor::zeros(&[d, 3]);
            for (c, i) in [0usize, 2, 3].into_iter().enumerate() {
                e.data_mut()[i * 3 + c] = 1.0;
            }
            e
        }),
        (Request::diffusion(sigma.clone()), sigma),
    ];
    for (req, dirs) in cases {
        let m = congruence(&a, &dirs);
        let exact: f64 = (0..m.shape()[0]).map(|i| m.at(&[i, i])).sum();
        let (off, fro) = off_and_frobenius(&m);
        for (probe, var1) in [(Probe::Rademacher, 2.0 * off), (Probe::Gaussian, 2.0 * fro)] {
            let cfg = HutchinsonConfig {
                probes: k,
                probe,
                seed: 11,
            };
            let tape = Tape::new();
            let x = tape.var(xs.clone());
            let est = hutchinson::scalar(x, |x| quadratic(x, &a), &req, &cfg)
                .second
                .unwrap();
            let mean = est.value().sum_all() / rows as f64;
            let sd = (var1 / (k * rows) as f64).sqrt();
            assert!(
                (mean - exact).abs() < 5.0 * sd,
                "{probe:?}: {mean} vs {exact} (sd {sd})"
            );
            // and the per-row estimates do vary: the test is not vacuous
            assert!(est.value().max_abs_diff(&Tensor::full(&[rows], exact)) > 1e-3);
        }
    }
}

fn separable(x: Var<'_>) -> Var<'_> {
    let c = x
        .tape()
        .constant(Tensor::from_vec(vec![1.0, -2.0, 0.5, 3.0], &[4]));
    (x.sin() * c).sum_axes(&[1], false)
}

/// Rademacher probes are exact for a diagonal second-order matrix: `v = Σ cᵢ sin xᵢ`.
#[test]
fn rademacher_exact_for_separable_fields() {
    let xs = Tensor::randn(&[6, 4], 4);
    let tape = Tape::new();
    let x = tape.var(xs);
    let req = Request::laplacian(vec![0, 1, 2, 3]);
    let est = hutchinson::scalar(
        x,
        separable,
        &req,
        &HutchinsonConfig {
            probes: 1,
            ..Default::default()
        },
    );
    let exact = neural::scalar(x, separable, &req);
    assert!(
        est.second
            .unwrap()
            .value()
            .max_abs_diff(&exact.second.unwrap().value())
            < 1e-13
    );
}

/// Divergence of `u = xAᵀ` (rows `A x_b`) is `tr A`; Rademacher variance `2 Σ_{i≠j} S_ij²` with
/// `S` the symmetric part.
#[test]
fn divergence_unbiased_within_five_sigma() {
    let (d, rows, k) = (4, 400, 3);
    let a = Tensor::randn(&[d, d], 5);
    let s = Tensor::from_vec(
        (0..d * d)
            .map(|q| 0.5 * (a.data()[q] + a.data()[(q % d) * d + q / d]))
            .collect(),
        &[d, d],
    );
    let (off, _) = off_and_frobenius(&s);
    let exact: f64 = (0..d).map(|i| a.at(&[i, i])).sum();
    let tape = Tape::new();
    let x = tape.var(Tensor::randn(&[rows, d], 6));
    let u = x.matmul(tape.constant(a.clone()).t());
    let cfg = HutchinsonConfig {
        probes: k,
        probe: Probe::Rademacher,
        seed: 3,
    };
    let est = hutchinson::divergence(x, u, &[0, 1, 2, 3], &cfg).value();
    let mean = est.sum_all() / rows as f64;
    let sd = (2.0 * off / (k * rows) as f64).sqrt();
    assert!(
        (mean - exact).abs() < 5.0 * sd,
        "{mean} vs {exact} (sd {sd})"
    );
}

/// On a network: one point repeated in every row, the empirical standard error bounds the
/// distance of the mean estimate from the exact (nested) value; jets with the same probes give
/// the same estimates as nested Hessian–vector products.
#[test]
fn mlp_estimates_unbiased_and_methods_agree() {
    let mut store = ParamStore::new(8);
    let net = MlpConfig::new(&[3, 8, 8, 1]).build(&mut store, "v");
    let rows = 300;
    let point = Tensor::randn(&[1, 3], 9);
    let xs = Tensor::from_vec(point.data().repeat(rows), &[rows, 3]);
    let req = Request::diffusion(Tensor::randn(&[3, 2], 10)).with_gradient();
    let cfg = HutchinsonConfig {
        probes: 2,
        probe: Probe::Gaussian,
        seed: 12,
    };
    let tape = Tape::new();
    let p = store.bind(&tape);
    let x = tape.var(xs);
    let nested = hutchinson::scalar(x, |x| net.forward(&p, x), &req, &cfg);
    let jets = hutchinson::mlp_scalar(&net, &p, x, &req, &cfg);
    let (en, ej) = (nested.second.unwrap().value(), jets.second.unwrap().value());
    assert!(en.max_abs_diff(&ej) < 1e-10 * (1.0 + en.norm()));
    let exact = neural::scalar(x, |x| net.forward(&p, x), &req);
    assert!(
        jets.gradient
            .unwrap()
            .value()
            .max_abs_diff(&exact.gradient.unwrap().value())
            < 1e-12
    );
    let truth = exact.second.unwrap().value().data()[0];
    let mean = en.sum_all() / rows as f64;
    let var = en.data().iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (rows - 1) as f64;
    let se = (var / rows as f64).sqrt();
    assert!(
        se > 0.0 && (mean - truth).abs() < 5.0 * se,
        "{mean} vs {truth} (se {se})"
    );
}

/// A loss from a (fixed-seed) Hutchinson estimate differentiates to the weights.
#[test]
fn weight_gradient_of_hutchinson_loss() {
    let mut store = ParamStore::new(13);
    let net = MlpConfig::new(&[2, 5, 1]).build(&mut store, "v");
    let xs = Tensor::randn(&[3, 2], 14);
    let cfg = HutchinsonConfig {
        probes: 3,
        ..Default::default()
    };
    for jets in [false, true] {
        let (s, n, x0, c) = (store.clone(), net.clone(), xs.clone(), cfg.clone());
        let f = hr(move |tape, w| {
            let p = s.bind_vars(w);
            let x = tape.var(x0.clone());
            let req = Request::laplacian(vec![0, 1]);
            let r = if jets {
                hutchinson::mlp_scalar(&n, &p, x, &req, &c)
            } else {
                hutchinson::scalar(x, |x| n.forward(&p, x), &req, &c)
            };
            r.second.unwrap().square().mean()
        });
        check_grad(f, store.values(), &GradCheck::default()).unwrap();
    }
}
