//! Targets: normalisers and moments by quadrature against closed forms and an independent rule,
//! closed-form derivatives against finite differences, exact samples against the moments.

use physgrad::sampling::{factor_moments, Factor, Target};
use physgrad::Tensor;

#[test]
fn gmm_reference_is_normalised_with_the_known_std() {
    let r = Target::gmm().reference(2000).unwrap();
    assert!(r.log_z.abs() < 1e-12, "log Z = {}", r.log_z);
    for (m, s) in r.mean.iter().zip(&r.std) {
        assert!(m.abs() < 1e-12, "mean {m}");
        assert!((s - 4.119061).abs() < 1e-6, "std {s}");
        // Exact: 0.3 + (25 + 0 + 25)/3.
        assert!((s * s - (0.3 + 50.0 / 3.0)).abs() < 1e-10, "var {}", s * s);
    }
}

#[test]
fn gaussian_factor_matches_closed_form() {
    let (lz, m, s) = factor_moments(&Factor::Gaussian, 400).unwrap();
    assert!((lz - 0.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
    assert!(m.abs() < 1e-14 && (s - 1.0).abs() < 1e-12);
}

/// An independent rule: the trapezoidal rule on a wider interval with a much finer grid.
fn trapezoid_log_z(f: &Factor, lo: f64, hi: f64, n: usize) -> f64 {
    let h = (hi - lo) / n as f64;
    let s: f64 = (0..=n)
        .map(|i| {
            let w = if i == 0 || i == n { 0.5 } else { 1.0 };
            w * f.log_derivs(lo + i as f64 * h).0.exp()
        })
        .sum();
    (s * h).ln()
}

#[test]
fn double_well_quadrature_converges_to_an_independent_rule() {
    for delta in [2.0, 4.0] {
        let f = Factor::DoubleWell { delta };
        let truth = trapezoid_log_z(&f, -6.0, 6.0, 20_000);
        let errs: Vec<f64> = [40, 80, 160, 2000]
            .iter()
            .map(|&n| (factor_moments(&f, n).unwrap().0 - truth).abs())
            .collect();
        assert!(
            errs[1] < errs[0] && errs[2] < errs[1],
            "δ = {delta}: {errs:?}"
        );
        assert!(errs[3] < 1e-11, "δ = {delta}: {errs:?}");
    }
}

#[test]
fn many_well_reference_is_the_sum_of_factors() {
    let r = Target::many_well(50, 5, 2.0).reference(2000).unwrap();
    let (dw, _, sdw) = factor_moments(&Factor::DoubleWell { delta: 2.0 }, 2000).unwrap();
    let g = 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!((r.log_z - (5.0 * dw + 45.0 * g)).abs() < 1e-10);
    assert!((r.std[0] - sdw).abs() < 1e-14 && (r.std[49] - 1.0).abs() < 1e-12);
    // Modes at ±√δ: the std lies between that of one well and √δ plus the well width.
    assert!(sdw > 1.0 && sdw < 2f64.sqrt() + 0.5, "sd {sdw}");
}

#[test]
fn closed_form_derivatives_match_finite_differences() {
    let t = Target::gmm();
    let mw = Target::many_well(4, 2, 3.0);
    for (target, x) in [
        (&t, vec![0.3, -4.1, 2.2, 5.5]),
        (&mw, vec![0.3, -1.1, 2.0, 0.7, -1.9, 1.2, 0.1, 3.0]),
    ] {
        let d = target.dim();
        let b = x.len() / d;
        let xt = Tensor::from_vec(x.clone(), &[b, d]);
        let (_, g, l) = target.log_q_derivs(&xt);
        let h = 1e-4;
        for r in 0..b {
            let mut lap = 0.0;
            for i in 0..d {
                let at = |dx: f64| {
                    let mut y = x.clone();
                    y[r * d + i] += dx;
                    target.log_q(&Tensor::from_vec(y, &[b, d]))[r]
                };
                let (p, z, m) = (at(h), at(0.0), at(-h));
                let fd = (p - m) / (2.0 * h);
                assert!(
                    (fd - g.data()[r * d + i]).abs() < 1e-6,
                    "grad {fd} vs {}",
                    g.data()[r * d + i]
                );
                lap += (p - 2.0 * z + m) / (h * h);
            }
            assert!(
                (lap - l.data()[r]).abs() < 1e-4,
                "lap {lap} vs {}",
                l.data()[r]
            );
        }
    }
    // The GMM's value against the mixture density summed directly (nine modes, 0.3 I).
    let x = [0.3, -4.1, 2.2, 5.5, -9.0, 12.0];
    let got = t.log_q(&Tensor::from_vec(x.to_vec(), &[3, 2]));
    for (r, row) in x.chunks(2).enumerate() {
        let mut density = 0.0;
        for m0 in [-5.0, 0.0, 5.0] {
            for m1 in [-5.0, 0.0, 5.0] {
                let q = (row[0] - m0) * (row[0] - m0) + (row[1] - m1) * (row[1] - m1);
                density += (-q / 0.6).exp() / (2.0 * std::f64::consts::PI * 0.3) / 9.0;
            }
        }
        assert!(
            (got[r] - density.ln()).abs() < 1e-12,
            "{} vs {}",
            got[r],
            density.ln()
        );
    }
}

#[test]
fn exact_samples_have_the_quadrature_moments() {
    let n = 20_000;
    for target in [Target::gmm(), Target::many_well(5, 5, 4.0)] {
        let r = target.reference(2000).unwrap();
        let x = target.sample(n, 50_000, 7);
        let d = target.dim();
        let sd = physgrad::sampling::column_std(&x);
        for (i, sdi) in sd.iter().enumerate() {
            let mean = x.data().iter().skip(i).step_by(d).sum::<f64>() / n as f64;
            let se = r.std[i] / (n as f64).sqrt();
            assert!(
                (mean - r.mean[i]).abs() < 5.0 * se,
                "{} dim {i}: mean {mean}",
                target.name
            );
            // sd of the sample sd ≈ sd·sqrt((κ − 1)/(4n)); κ ≤ 3 here, so 5·sd/sqrt(2n) bounds it.
            let tol = 5.0 * r.std[i] / (2.0 * n as f64).sqrt();
            assert!(
                (sdi - r.std[i]).abs() < tol,
                "{} dim {i}: sd {sdi} vs {}",
                target.name,
                r.std[i]
            );
        }
    }
    // GMM: a third of the mass near each of −5, 0, 5 in each coordinate.
    let x = Target::gmm().sample(20_000, 50_000, 3);
    let near5 = x.data().iter().filter(|v| **v > 2.5).count() as f64 / 40_000.0;
    assert!((near5 - 1.0 / 3.0).abs() < 0.01, "fraction {near5}");
}

#[test]
fn unknown_target_name_is_an_error() {
    assert!(Target::by_name("mw7").is_err());
    assert_eq!(Target::by_name("mw50").unwrap().dim(), 50);
    assert!(factor_moments(&Factor::Gaussian, 3).is_err());
}
