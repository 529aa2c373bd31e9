//! The flow sampler and the scores on Gaussian targets, where the velocity field that carries
//! `N(0, I)` to `N(m, s²I)` is known: `x_t = (1 + (s − 1)t) x₀ + t m`, so
//! `u(x, t) = (s − 1)(x − t m)/(1 + (s − 1)t) + m` and `div u = d (s − 1)/(1 + (s − 1)t)`.

use physgrad::nn::ParamStore;
use physgrad::ot::{network_simplex, pairwise_cost_tensor, Ground, NetworkSimplexConfig};
use physgrad::sampling::{
    evaluate, log_sum_exp, normalised_ess, sinkhorn_distance, standard_normal, transport, Factor,
    FlowConfig, MetricsConfig, OnDivergence, Target,
};
use physgrad::Tensor;

const M: [f64; 3] = [1.0, -2.0, 0.5];

fn gaussian_target(s: f64) -> Target {
    Target {
        name: "gauss".into(),
        factors: M
            .iter()
            .map(|&m| Factor::Mixture {
                means: vec![m],
                var: s * s,
            })
            .collect(),
        collocation: vec![(-5.0, 5.0); 3],
    }
}

/// Flows `n` prior samples to `N(m, s²I)` exactly (up to RK4 error) and returns samples and
/// their log-densities.
fn flow_to(s: f64, n: usize, chunk: usize) -> (Tensor, Vec<f64>) {
    flow_on(s, n, chunk, 1)
}

/// [`flow_to`] with the chunks spread over `threads` threads.
fn flow_on(s: f64, n: usize, chunk: usize, threads: usize) -> (Tensor, Vec<f64>) {
    let (x0, lp0) = standard_normal(n, 3, 11);
    let store = ParamStore::new(0);
    let cfg = FlowConfig {
        chunk,
        threads,
        ..FlowConfig::default()
    };
    let m = Tensor::from_vec(M.to_vec(), &[1, 3]);
    let div = 3.0 * (s - 1.0);
    let (x, delta) = transport(&store, &x0, &cfg, |_, x, t| {
        let mv = x.tape().constant(m.clone());
        let b = x.shape()[0];
        let u = (x - mv * t) * ((s - 1.0) / (1.0 + (s - 1.0) * t)) + mv;
        let dv = x
            .tape()
            .constant(Tensor::full(&[b], div / (1.0 + (s - 1.0) * t)));
        (u, dv)
    })
    .unwrap();
    let lp = lp0.iter().zip(&delta).map(|(a, b)| a + b).collect();
    (x, lp)
}

#[test]
fn exact_flow_scores_perfectly() {
    let target = gaussian_target(1.7);
    let r = target.reference(2000).unwrap();
    let (x, lp) = flow_to(1.7, 1000, 300);
    let exact = target.sample(1000, 200_000, 5);
    let cfg = MetricsConfig {
        sinkhorn_samples: 300,
        ..MetricsConfig::default()
    };
    let m = evaluate(&target, &r, &x, &lp, &exact, &cfg).unwrap();
    assert!(m.delta_log_z.abs() < 1e-9, "Δ log Z {}", m.delta_log_z);
    assert!(m.delta_log_z_is.abs() < 1e-9);
    assert!((m.ess - 1.0).abs() < 1e-12, "ESS {}", m.ess);
    assert!(m.delta_std < 0.1, "Δstd {}", m.delta_std);
    // Against the distance between two independent exact sample sets of the same size.
    let other = target.sample(300, 200_000, 9);
    let head = physgrad::tensor::kernels::slice(&exact, 0, 0, 300);
    let floor = sinkhorn_distance(&other, &head, 1e-3, 1e-5).unwrap();
    let s = m.sinkhorn.unwrap();
    assert!(
        s < 1.5 * floor && s > 0.5 * floor,
        "Sinkhorn {s} vs two-sample {floor}"
    );
}

#[test]
fn threaded_transport_equals_one_thread() {
    // 7 chunks of 30 rows (the last short) over 3 threads: the same rows in the same order.
    let (x1, lp1) = flow_on(1.3, 200, 30, 1);
    let (x3, lp3) = flow_on(1.3, 200, 30, 3);
    assert_eq!(x1.shape(), x3.shape());
    assert_eq!(x1.data(), x3.data());
    assert_eq!(lp1, lp3);
}

#[test]
fn mismatched_flow_gives_the_analytic_kl_and_ess() {
    // The flow ends at N(m, 1.5²I) but the target is N(m, 1.7²I): per dimension
    // KL = log(a/b) + b²/(2a²) − ½ and E_p[w²] = b/(a² √(2c)), c = 1/a² − 1/(2b²).
    let (a, b) = (1.7f64, 1.5f64);
    let target = gaussian_target(a);
    let r = target.reference(2000).unwrap();
    let (x, lp) = flow_to(b, 5000, 2500);
    let exact = target.sample(10, 1000, 5);
    let cfg = MetricsConfig {
        sinkhorn_samples: 0,
        ..MetricsConfig::default()
    };
    let m = evaluate(&target, &r, &x, &lp, &exact, &cfg).unwrap();
    let kl = 3.0 * ((a / b).ln() + b * b / (2.0 * a * a) - 0.5);
    assert!(
        (m.delta_log_z + kl).abs() < 6e-3,
        "Δ log Z {} vs −KL {}",
        m.delta_log_z,
        -kl
    );
    let c = 1.0 / (a * a) - 1.0 / (2.0 * b * b);
    let ew2 = (b / (a * a * (2.0 * c).sqrt())).powi(3);
    assert!(
        (m.ess - 1.0 / ew2).abs() < 0.02,
        "ESS {} vs {}",
        m.ess,
        1.0 / ew2
    );
    assert!(
        m.delta_log_z_is.abs() < 0.02,
        "IS estimate {}",
        m.delta_log_z_is
    );
    assert!(m.sinkhorn.is_none());
}

#[test]
fn ess_and_log_sum_exp_on_known_weights() {
    assert!((normalised_ess(&[0.3; 8]) - 1.0).abs() < 1e-14);
    let lw = [0.0, f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    assert!((normalised_ess(&lw) - 0.25).abs() < 1e-14);
    // Weights 1, 2, 3: (6)²/(3·14).
    let lw = [0.0, 2f64.ln(), 3f64.ln()];
    assert!((normalised_ess(&lw) - 36.0 / 42.0).abs() < 1e-14);
    assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
}

#[test]
fn sinkhorn_at_small_epsilon_approaches_the_exact_transport() {
    let x = Tensor::randn(&[100, 2], 1);
    let y = Tensor::randn(&[100, 2], 2).map(|v| 1.5 * v);
    let cost = pairwise_cost_tensor(&x, &y, Ground::L2);
    let w = vec![1.0 / 100.0; 100];
    let exact = network_simplex(&w, &w, &cost, &NetworkSimplexConfig::default())
        .unwrap()
        .cost;
    let s = sinkhorn_distance(&x, &y, 1e-3, 1e-5).unwrap();
    assert!(
        s >= exact - 1e-9 && s < exact + 5e-3,
        "Sinkhorn {s} vs exact {exact}"
    );
}

/// `dx/dt = x³` per coordinate blows up at `t* = 1/(2x₀²)`: rows with a coordinate above
/// `1/√2` in magnitude leave the finite range before `t = 1`. The others follow
/// `x(t) = x₀/√(1 − 2x₀²t)` with `Δ = −∫ 3Σxᵢ² dt = (3/2) Σ ln(1 − 2x₀ᵢ²)`.
fn cubic_flow(on_divergence: OnDivergence) -> (Tensor, physgrad::Result<(Tensor, Vec<f64>)>) {
    let (x0, _) = standard_normal(64, 3, 4);
    let x0 = Tensor::from_vec(x0.data().iter().map(|v| 0.6 * v).collect(), &[64, 3]);
    let cfg = FlowConfig {
        chunk: 10,
        threads: 2,
        on_divergence,
        ..FlowConfig::default()
    };
    let out = transport(&ParamStore::new(0), &x0, &cfg, |_, x, _| {
        let sq = x * x;
        (sq * x, sq.sum_axes(&[1], false) * 3.0)
    });
    (x0, out)
}

#[test]
fn a_flow_that_leaves_the_finite_range_is_an_error_naming_the_sample() {
    let (x0, out) = cubic_flow(OnDivergence::Error);
    let first = (0..64)
        .find(|&r| x0.data()[3 * r..3 * r + 3].iter().any(|v| v * v > 0.5))
        .expect("a row that blows up");
    match out {
        Err(physgrad::Error::NonFinite { op, what }) => {
            assert_eq!(op, "sampling::transport");
            assert!(what.contains(" at t = "), "{what}");
            // The first chunk with a divergent row reports one of its rows.
            let chunk = first / 10;
            let named: usize = what
                .split("sample ")
                .nth(1)
                .and_then(|w| w.split(' ').next())
                .and_then(|w| w.parse().ok())
                .expect("a sample index");
            assert!(named / 10 >= chunk, "{what}; first divergent row {first}");
            // Only a row with t* < 1 can leave the range.
            let row = &x0.data()[3 * named..3 * named + 3];
            assert!(row.iter().any(|v| v * v > 0.5), "{what}: row {row:?}");
        }
        other => panic!("expected a NonFinite error, got {other:?}"),
    }
}

#[test]
fn marked_divergent_rows_are_nan_and_the_others_exact() {
    let (x0, out) = cubic_flow(OnDivergence::Mark);
    let (x, delta) = out.unwrap();
    let (mut lost, mut kept) = (0, 0);
    for (r, &dr) in delta.iter().enumerate() {
        let a = &x0.data()[3 * r..3 * r + 3];
        let row = &x.data()[3 * r..3 * r + 3];
        let peak = a.iter().fold(0.0f64, |m, v| m.max(v * v));
        if peak > 0.6 {
            // t* < 0.84: far inside the interval.
            assert!(
                row.iter().all(|v| v.is_nan()) && dr.is_nan(),
                "row {r}: {row:?}"
            );
            lost += 1;
        } else if peak < 0.4 {
            // t* > 1.25: a smooth path, RK4-accurate.
            for (v, x0) in row.iter().zip(a) {
                let want = x0 / (1.0 - 2.0 * x0 * x0).sqrt();
                assert!(
                    (v - want).abs() < 1e-6 * want.abs().max(1.0),
                    "row {r}: {v} vs {want}"
                );
            }
            let want: f64 = a.iter().map(|v| 1.5 * (1.0 - 2.0 * v * v).ln()).sum();
            assert!((dr - want).abs() < 1e-6, "row {r}: Δ {} vs {want}", dr);
            kept += 1;
        }
    }
    assert!(
        lost >= 5 && kept >= 5,
        "{lost} divergent and {kept} smooth rows checked"
    );
}

#[test]
fn diverged_samples_have_zero_weight_in_the_ess_and_the_is_estimate() {
    // Exact samples with their exact log-density (w = Z for every row), a quarter marked
    // diverged: ESS (Σw)²/(NΣw²) = 3/4, IS estimate log(3/4), ELBO over the rest exact.
    let target = gaussian_target(1.3);
    let r = target.reference(2000).unwrap();
    let x = target.sample(400, 200_000, 3);
    let lq = target.log_q(&x);
    let mut lp: Vec<f64> = lq.iter().map(|l| l - r.log_z).collect();
    let mut data = x.data().to_vec();
    for row in (0..400).step_by(4) {
        data[3 * row..3 * row + 3].fill(f64::NAN);
        lp[row] = f64::NAN;
    }
    let x = Tensor::from_vec(data, &[400, 3]);
    let cfg = MetricsConfig {
        sinkhorn_samples: 0,
        ..MetricsConfig::default()
    };
    let m = evaluate(&target, &r, &x, &lp, &x, &cfg).unwrap();
    assert_eq!(m.diverged, 100);
    assert!((m.ess - 0.75).abs() < 1e-12, "ESS {}", m.ess);
    assert!(
        (m.delta_log_z_is - 0.75f64.ln()).abs() < 1e-9,
        "{}",
        m.delta_log_z_is
    );
    assert!(m.delta_log_z.abs() < 1e-9, "{}", m.delta_log_z);
    let all_nan = Tensor::full(&[4, 3], f64::NAN);
    let err = evaluate(&target, &r, &all_nan, &[f64::NAN; 4], &all_nan, &cfg).unwrap_err();
    assert!(
        err.to_string().contains("every sample (4 of 4 diverged)"),
        "{err}"
    );
}
