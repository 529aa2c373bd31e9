//! Experiment 1's reference fields: the explicit Rusanov solver (`physics::burgers`,
//! zero-gradient ends) sampled at the generator's grid points, and the same solver run at the
//! generator's own resolution.

use super::{initial, NT, NX, T_END};
use physgrad::physics::burgers::{Burgers, BurgersBoundary};
use physgrad::{Error, Result, Tensor};

/// The evaluation frequencies (2.0 lies outside the training range [3, 6]).
pub const CASES_C: [f64; 4] = [2.0, 4.0, 5.5, 6.0];
/// The evaluation viscosities (the inviscid case is evaluated separately).
pub const CASES_NU: [f64; 4] = [0.002, 0.006, 0.02, 0.03];

/// `u(xᵢ, tⱼ)` at `xᵢ = i/64`, `tⱼ = 0.2 j/64` (row-major, x outer) from the solver on `cells`
/// uniform cells of `[0, 1]` (`cells + 1` nodes, `cells` a multiple of 64), advanced from one
/// snapshot time to the next with automatic stable steps.
///
/// # Errors
/// [`Error::InvalidInput`] if `cells` is not a positive multiple of 64; the solver's errors.
pub fn reference_field(c: f64, nu: f64, cells: usize) -> Result<Vec<f64>> {
    if cells == 0 || !cells.is_multiple_of(NX) {
        return Err(Error::InvalidInput {
            op: "invnet_burgers reference".into(),
            detail: format!("cells must be a positive multiple of {NX}, got {cells}"),
        });
    }
    let k = cells / NX;
    let solver = Burgers {
        nu,
        boundary: BurgersBoundary::Neumann,
        ..Burgers::default()
    };
    let x0: Vec<f64> = (0..=cells)
        .map(|i| 0.5 * (1.0 - (2.0 * std::f64::consts::PI * c * i as f64 / cells as f64).cos()))
        .collect();
    let mut u = Tensor::from_vec(x0, &[cells + 1]);
    let mut out = vec![0.0; NX * NT];
    let dt = T_END / NT as f64;
    for j in 0..NT {
        if j > 0 {
            u = solver.solve(&u, dt)?;
        }
        for i in 0..NX {
            out[i * NT + j] = u.data()[i * k];
        }
    }
    debug_assert!((out[NT] - initial(c)[1]).abs() < 1e-12);
    Ok(out)
}

/// The relative L2 error of the solver at the generator's resolution (64 cells) against the
/// solver on `fine_cells` cells, both at the 64 × 64 grid points: a bound on what a 64-point
/// discretisation of the flow reaches.
///
/// # Errors
/// As [`reference_field`].
pub fn coarse_floor(c: f64, nu: f64, fine: &[f64]) -> Result<f64> {
    let coarse = reference_field(c, nu, NX)?;
    Ok(super::rel_l2(&coarse, fine))
}
