//! The Cahn–Hilliard simulator against truth: exact mass conservation at every step, the
//! discrete free energy non-increasing (small and large steps), the linear growth rate of single
//! Fourier modes against the analytic dispersion `σ(k) = M k² (1 − κ k²)` (first order in Δt),
//! the spectral gradient energy of a cosine, volume fraction and two-point correlation of the
//! binary images (through `physics::statistics`), coarsening, batches and errors.

use physgrad::physics::cahn_hilliard::{
    batch_seed, characteristic_length, free_energy, microstructures, simulate, simulate_batch,
    threshold, CahnHilliardConfig, Stepper,
};
use physgrad::physics::statistics::{two_point_correlation, volume_fraction};
use physgrad::{Error, Tape, Tensor};
use std::f64::consts::PI;

fn small(n: usize) -> CahnHilliardConfig {
    CahnHilliardConfig {
        n,
        steps: 150,
        noise: 0.1,
        ..CahnHilliardConfig::default()
    }
}

fn mean(t: &Tensor) -> f64 {
    t.sum_all() / t.len() as f64
}

#[test]
fn mass_is_conserved_to_round_off_every_step() {
    for m in [0.0, 0.25, -0.4] {
        let cfg = CahnHilliardConfig {
            mean: m,
            ..small(32)
        };
        let mut st = Stepper::new(&cfg).unwrap();
        let m0 = mean(&st.field());
        assert!((m0 - m).abs() < 1e-15, "initial mean {m0} ≠ {m}");
        for _ in 0..cfg.steps {
            st.step().unwrap();
            let drift = (mean(&st.field()) - m0).abs();
            assert!(
                drift < 1e-14,
                "mean drifted by {drift:e} at step {}",
                st.steps_taken()
            );
        }
    }
}

#[test]
fn free_energy_never_increases() {
    // Small, default and large steps: the stabilised scheme is energy stable for any Δt while
    // max|c| stays below √(5/3) (S = 2).
    for dt in [0.1, 1.0, 20.0] {
        let cfg = CahnHilliardConfig { dt, ..small(32) };
        let mut st = Stepper::new(&cfg).unwrap();
        let mut c = st.field();
        let e0 = free_energy(&c, &cfg);
        let mut e = e0;
        for _ in 0..cfg.steps {
            st.step().unwrap();
            c = st.field();
            let cmax = c.data().iter().fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(cmax < (5.0f64 / 3.0).sqrt(), "Δt = {dt}: max|c| = {cmax}");
            let next = free_energy(&c, &cfg);
            assert!(
                next <= e + 1e-12 * e.abs(),
                "Δt = {dt}: E rose from {e} to {next} at step {}",
                st.steps_taken()
            );
            e = next;
        }
        // Phase separation releases most of the bulk energy N² h²/4 of c ≈ 0 (t ≥ 150).
        let want = if dt >= 1.0 { 0.5 * e0 } else { e0 };
        assert!(e < want, "Δt = {dt}: E only fell from {e0} to {e}");
    }
}

#[test]
fn gradient_energy_of_a_cosine_is_exact() {
    // c = a cos(k x): Σ h² [(c² − 1)²/4] by brute force, and Σ h² κ/2 |∇c|² = κ/2 h² a² k² N²/2.
    let (n, h, a) = (16, 0.7, 0.3);
    let cfg = CahnHilliardConfig {
        n,
        h,
        kappa: 0.8,
        ..CahnHilliardConfig::default()
    };
    let k = 2.0 * PI * 3.0 / (n as f64 * h);
    let c = Tensor::from_vec(
        (0..n * n)
            .map(|p| a * (k * (p % n) as f64 * h).cos())
            .collect(),
        &[n, n],
    );
    let bulk: f64 = c
        .data()
        .iter()
        .map(|v| h * h * (v * v - 1.0).powi(2) / 4.0)
        .sum();
    let grad = 0.5 * cfg.kappa * h * h * a * a * k * k * (n * n) as f64 / 2.0;
    let e = free_energy(&c, &cfg);
    assert!(
        (e - bulk - grad).abs() < 1e-12 * e,
        "{e} vs {}",
        bulk + grad
    );
}

/// The measured growth rate of `c₀ = δ cos(kx x + ky y)` over `steps` steps of `dt`.
fn measured_rate(cfg: &CahnHilliardConfig, mx: usize, my: usize) -> (f64, f64) {
    let (n, h, delta) = (cfg.n, cfg.h, 1e-6);
    let kk = |m: usize| 2.0 * PI * m as f64 / (n as f64 * h);
    let (kx, ky) = (kk(mx), kk(my));
    let mode: Vec<f64> = (0..n * n)
        .map(|p| (kx * (p % n) as f64 * h + ky * (p / n) as f64 * h).cos())
        .collect();
    let c0 = Tensor::from_vec(mode.iter().map(|v| delta * v).collect(), &[n, n]);
    let mut st = Stepper::from_field(cfg, &c0).unwrap();
    for _ in 0..cfg.steps {
        st.step().unwrap();
    }
    let c = st.field();
    let proj: f64 = c.data().iter().zip(&mode).map(|(a, b)| a * b).sum();
    let norm: f64 = mode.iter().map(|b| b * b).sum();
    let t = cfg.steps as f64 * cfg.dt;
    ((proj / norm / delta).ln() / t, (kx * kx + ky * ky).sqrt())
}

#[test]
fn single_modes_grow_at_the_analytic_rate() {
    // κ = ½: unstable band k < √2, fastest k = 1; N = 32, h = 1 gives k = 2π m/32.
    let base = CahnHilliardConfig {
        n: 32,
        dt: 1e-4,
        steps: 400,
        ..CahnHilliardConfig::default()
    };
    let sigma_max = base.growth_rate(1.0 / (2.0 * base.kappa).sqrt());
    for (mx, my) in [(2, 0), (0, 5), (3, 4), (8, 0), (7, 7), (10, 0)] {
        let (rate, k) = measured_rate(&base, mx, my);
        let exact = base.growth_rate(k);
        let err = (rate - exact).abs();
        eprintln!(
            "mode ({mx},{my}) k = {k:.4}: rate {rate:.6}, σ(k) = {exact:.6}, |Δ| = {err:.2e}"
        );
        assert!(
            err < 2e-3 * sigma_max.max(exact.abs()),
            "mode ({mx},{my}), k = {k:.3}: rate {rate:.6} vs σ = {exact:.6}"
        );
        // First order in Δt: halving the step halves the error.
        let half = CahnHilliardConfig {
            dt: base.dt / 2.0,
            steps: 2 * base.steps,
            ..base
        };
        let err_half = (measured_rate(&half, mx, my).0 - exact).abs();
        let ratio = err / err_half;
        assert!(
            (ratio - 2.0).abs() < 0.1,
            "mode ({mx},{my}): error ratio {ratio}"
        );
    }
}

/// `(p₁, S₂ along both axes averaged, r = 0..=N/2)` of a binary image via `statistics`.
fn stats(img: &Tensor) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let phi = tape.constant(img.clone());
    let half = img.shape()[0] / 2;
    let a = two_point_correlation(phi, 0, half).value().into_vec();
    let b = two_point_correlation(phi, 1, half).value().into_vec();
    let s2 = a.iter().zip(&b).map(|(x, y)| 0.5 * (x + y)).collect();
    (volume_fraction(phi).item(), s2)
}

#[test]
fn binary_images_hit_the_volume_fraction_and_decorrelate() {
    let k = 4;
    // Tolerances: at m = 0 the phases are symmetric (64 seeds: |p₁ − ½| ≤ 0.007); off-critical,
    // droplets sit in a matrix whose concentration is raised above −1 by curvature (Gibbs–
    // Thomson), which biases p₁ low (m = −0.3, 64 seeds: p₁ − 0.35 ∈ [−0.034, 0]).
    for (m, tol) in [(0.0, 0.01), (-0.3, 0.045)] {
        let cfg = CahnHilliardConfig {
            mean: m,
            ..CahnHilliardConfig::default()
        };
        let imgs = microstructures(&cfg, k).unwrap();
        let nn = cfg.n * cfg.n;
        assert!(imgs.data().iter().all(|&v| v == 0.0 || v == 1.0));
        let (mut p1_avg, mut tail_avg) = (0.0, 0.0);
        for i in 0..k {
            let img = Tensor::from_vec(imgs.data()[i * nn..(i + 1) * nn].to_vec(), &[64, 64]);
            let (p1, s2) = stats(&img);
            let target = cfg.target_volume_fraction();
            assert!(
                (p1 - target).abs() < tol,
                "m = {m}: p₁ = {p1}, target {target}"
            );
            assert!((s2[0] - p1).abs() < 1e-15, "S₂(0) = {} ≠ p₁ = {p1}", s2[0]);
            assert!(s2[1] < s2[0] && s2[2] < s2[1], "S₂ not decreasing: {s2:?}");
            p1_avg += p1 / k as f64;
            tail_avg += s2[24..].iter().sum::<f64>() / (s2.len() - 24) as f64 / k as f64;
        }
        let p1sq = p1_avg * p1_avg;
        assert!(
            (tail_avg - p1sq).abs() < 0.03,
            "m = {m}: S₂ tail {tail_avg:.4} vs p₁² = {p1sq:.4}"
        );
    }
}

#[test]
fn domains_coarsen_with_time() {
    let cfg = CahnHilliardConfig::default();
    let mut st = Stepper::new(&cfg).unwrap();
    let mut lengths = Vec::new();
    for target in [50, 150, 450] {
        while st.steps_taken() < target {
            st.step().unwrap();
        }
        lengths.push(characteristic_length(&st.field(), cfg.h));
    }
    eprintln!("coarsening length at t = 50, 150, 450: {lengths:?}");
    assert!(
        lengths.windows(2).all(|w| w[1] > 1.1 * w[0]),
        "no coarsening: {lengths:?}"
    );
    // Late coarsening follows Lifshitz–Slyozov, L ∝ t^{1/3} (measured 0.35 from t = 150 to 450).
    let exponent = (lengths[2] / lengths[1]).ln() / 3f64.ln();
    assert!(
        (0.2..0.5).contains(&exponent),
        "coarsening exponent {exponent}"
    );
    // Onset: the length is near the fastest-growing wavelength 2π√(2κ) = 2π.
    assert!((lengths[0] / (2.0 * PI) - 1.0).abs() < 0.5, "{lengths:?}");
}

#[test]
fn batches_match_single_runs_and_differ_between_seeds() {
    let cfg = CahnHilliardConfig {
        seed: 11,
        ..small(32)
    };
    let batch = simulate_batch(&cfg, 3).unwrap();
    assert_eq!(batch.shape(), &[3, 32, 32]);
    let nn = 32 * 32;
    for i in 0..3 {
        let one = simulate(&CahnHilliardConfig {
            seed: batch_seed(&cfg, i),
            ..cfg
        })
        .unwrap();
        let got = Tensor::from_vec(batch.data()[i * nn..(i + 1) * nn].to_vec(), &[32, 32]);
        assert!(
            got.max_abs_diff(&one) < 1e-9,
            "image {i}: {}",
            got.max_abs_diff(&one)
        );
    }
    let a = &batch.data()[..nn];
    let b = &batch.data()[nn..2 * nn];
    assert!(a.iter().zip(b).any(|(x, y)| (x - y).abs() > 0.5));
    let bin = threshold(&batch);
    assert!(bin.data().iter().all(|&v| v == 0.0 || v == 1.0));
}

#[test]
fn bad_configs_and_blow_up_are_typed_errors() {
    let d = CahnHilliardConfig::default();
    let invalid = [
        CahnHilliardConfig { n: 3, ..d },
        CahnHilliardConfig { steps: 0, ..d },
        CahnHilliardConfig { dt: 0.0, ..d },
        CahnHilliardConfig { kappa: -1.0, ..d },
        CahnHilliardConfig { mean: 1.0, ..d },
        CahnHilliardConfig { noise: -0.1, ..d },
        CahnHilliardConfig {
            stabilization: -1.0,
            ..d
        },
    ];
    for cfg in invalid {
        assert!(
            matches!(simulate(&cfg), Err(Error::InvalidInput { .. })),
            "{cfg:?}"
        );
    }
    for cfg in [
        CahnHilliardConfig { dt: f64::NAN, ..d },
        CahnHilliardConfig {
            mobility: f64::INFINITY,
            ..d
        },
    ] {
        assert!(matches!(simulate(&cfg), Err(Error::NonFinite { .. })));
    }
    assert!(matches!(
        simulate_batch(&d, 0),
        Err(Error::InvalidInput { .. })
    ));
    // Without stabilisation a huge step amplifies the explicit c³ term without bound.
    let unstable = CahnHilliardConfig {
        stabilization: 0.0,
        dt: 1e4,
        noise: 0.5,
        ..small(16)
    };
    assert!(matches!(simulate(&unstable), Err(Error::NonFinite { .. })));
    assert!(matches!(
        simulate_batch(&unstable, 2),
        Err(Error::NonFinite { .. })
    ));
    let nan = Tensor::full(&[16, 16], f64::NAN);
    assert!(matches!(
        Stepper::from_field(&small(16), &nan),
        Err(Error::NonFinite { .. })
    ));
}
