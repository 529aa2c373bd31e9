//! Special functions as primitives: the error function `erf`, needed by the exact GELU.
//!
//! `erf x = (2/√π) ∫₀ˣ e^{−s²} ds`, so `d erf/dx = (2/√π)·e^{−x²}` and the VJP is
//! `x̄ = g·(2/√π)·exp(−x²)`, written with `Var` ops: every higher derivative follows from `exp`.

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::tensor::Tensor;

/// `2/√π`.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// The error function of one `f64`, within 1.5e-15 relative of the C library's `erf`.
///
/// * `|x| < 1.5`: the series `erf x = (2/√π)·e^{−x²}·Σₙ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))`, whose
///   terms are all positive (no cancellation);
/// * `1.5 ≤ |x| < 6`: `erf x = 1 − erfc x` with the continued fraction
///   `erfc x = (e^{−x²}/√π) · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))` evaluated by Lentz's method;
/// * `|x| ≥ 6`: `±1` (`erfc 6 ≈ 2·10⁻¹⁷` is below half an ulp of 1).
pub(crate) fn erf_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    let r = if a < 1.5 {
        erf_series(a)
    } else if a < 6.0 {
        1.0 - erfc_continued_fraction(a)
    } else {
        1.0
    };
    r.copysign(x)
}

fn erf_series(a: f64) -> f64 {
    let two_x2 = 2.0 * a * a;
    let mut term = a;
    let mut sum = a;
    let mut n = 0.0;
    while term > sum * 1e-17 {
        n += 1.0;
        term *= two_x2 / (2.0 * n + 1.0);
        sum += term;
    }
    TWO_OVER_SQRT_PI * (-a * a).exp() * sum
}

/// `erfc a` for `a ≥ 1.5` (at most ~120 terms) by the modified Lentz method on
/// `erfc a = (e^{−a²}/√π) / (a + (1/2)/(a + (2/2)/(a + (3/2)/(a + …))))`.
fn erfc_continued_fraction(a: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut f = a;
    let mut c = a;
    let mut d = 0.0;
    for k in 1..200 {
        let an = k as f64 * 0.5;
        d = a + an * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = a + an / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-a * a).exp() / (std::f64::consts::PI.sqrt() * f)
}

struct Erf;

impl Op for Erf {
    fn name(&self) -> &str {
        "erf"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(x[0].map(erf_f64))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let x = args.inputs[0];
        vec![Some(args.grad * (-(x * x)).exp() * TWO_OVER_SQRT_PI)]
    }
}

impl<'t> Var<'t> {
    /// The error function `erf x = (2/√π) ∫₀ˣ e^{−s²} ds` elementwise; VJP `g·(2/√π)·e^{−x²}`.
    pub fn erf(self) -> Var<'t> {
        self.tape.record(Erf, &[self])
    }

    /// The exact GELU `x·Φ(x) = ½x(1 + erf(x/√2))`, a composition of [`Var::erf`].
    pub fn gelu(self) -> Var<'t> {
        self * ((self * std::f64::consts::FRAC_1_SQRT_2).erf() + 1.0) * 0.5
    }
}

#[cfg(test)]
mod tests {
    use super::erf_f64;

    #[test]
    fn erf_matches_reference_values() {
        // Reference values from the C library's erf (Python `math.erf`), an independent
        // implementation: x, erf x.
        let table = [
            (0.1, 0.1124629160182849),
            (0.5, 0.5204998778130465),
            (1.0, 0.8427007929497149),
            (2.0, 0.9953222650189527),
            (2.5, 0.999593047982555),
            (3.0, 0.9999779095030014),
            (4.0, 0.9999999845827421),
            (5.5, 0.9999999999999927),
        ];
        for (x, want) in table {
            let got = erf_f64(x);
            assert!(
                (got - want).abs() <= 2e-16 * want.max(1e-300) + 1e-17,
                "erf({x}) = {got:e}, want {want:e}"
            );
            assert_eq!(erf_f64(-x), -got);
        }
        assert_eq!(erf_f64(0.0), 0.0);
        assert_eq!(erf_f64(7.0), 1.0);
        assert!(erf_f64(f64::NAN).is_nan());
    }

    #[test]
    fn erf_is_continuous_at_the_branch_point() {
        let below = erf_f64(1.5 - 1e-12);
        let above = erf_f64(1.5 + 1e-12);
        // The jump across the switch is the slope times the gap, to rounding.
        let slope = super::TWO_OVER_SQRT_PI * (-2.25f64).exp();
        assert!((above - below - slope * 2e-12).abs() < 2e-15);
    }
}
