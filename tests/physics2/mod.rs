//! Physics, second half: ODE/SDE integrators against closed forms with measured orders,
//! reference solvers, image statistics; gradient checks through every tape-level piece.

// Index loops read more like the formulas in these tests.
#![allow(clippy::needless_range_loop)]
mod burgers;
mod ode;
mod sde;
mod statistics;

/// Least-squares slope of `log e` against `log h`: the measured order.
pub(crate) fn measured_order(hs: &[f64], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = hs.iter().map(|h| h.ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}
