//! The bilinear quadrilateral (Q4) on an axis-aligned `a × b` rectangle: shape functions, the
//! strain–displacement matrix and the stiffness split by material coefficient, per Gauss point.
//!
//! Plane stress, unit thickness: `σ = D ε`, `ε = (εxx, εyy, γxy)`,
//!
//! ```text
//! D = E/(1 − ν²) · [[1, ν, 0], [ν, 1, 0], [0, 0, (1 − ν)/2]] = c₀ D₀ + c₁ D₁,
//! c₀ = E/(1 − ν²),  c₁ = E ν/(1 − ν²),
//! D₀ = [[1, 0, 0], [0, 1, 0], [0, 0, ½]],  D₁ = [[0, 1, 0], [1, 0, 0], [0, 0, −½]].
//! ```
//!
//! so the element stiffness `K = Σ_g w_g det J · B_gᵀ D_g B_g = Σ_g c₀_g K₀^g + c₁_g K₁^g` is
//! linear in `(c₀, c₁)` at each of the 2×2 Gauss points `(±1/√3, ±1/√3)` (weights 1). Local
//! nodes run counter-clockwise from the lower-left corner; local dofs are
//! `[u₀ₓ, u₀ᵧ, u₁ₓ, u₁ᵧ, …, u₃ᵧ]`.

/// Reference coordinates `(ξ_a, η_a)` of the four local nodes.
pub const CORNERS: [(f64, f64); 4] = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)];

/// The 2×2 Gauss points in reference coordinates, in the order used for per-point materials
/// (lower-left, lower-right, upper-right, upper-left).
pub fn gauss_points() -> [(f64, f64); 4] {
    let g = 1.0 / 3f64.sqrt();
    [(-g, -g), (g, -g), (g, g), (-g, g)]
}

/// Shape functions `N_a(ξ, η) = ¼ (1 + ξ_a ξ)(1 + η_a η)`.
pub fn shape(xi: f64, eta: f64) -> [f64; 4] {
    CORNERS.map(|(xa, ea)| 0.25 * (1.0 + xa * xi) * (1.0 + ea * eta))
}

/// `B` (3 × 8, row-major) at `(ξ, η)` on an `a × b` rectangle: `∂/∂x = (2/a) ∂/∂ξ`,
/// `∂/∂y = (2/b) ∂/∂η`; rows `εxx`, `εyy`, `γxy`.
pub fn strain_matrix(xi: f64, eta: f64, a: f64, b: f64) -> [[f64; 8]; 3] {
    let mut bm = [[0.0; 8]; 3];
    for (k, &(xa, ea)) in CORNERS.iter().enumerate() {
        let dx = 0.25 * xa * (1.0 + ea * eta) * 2.0 / a;
        let dy = 0.25 * ea * (1.0 + xa * xi) * 2.0 / b;
        bm[0][2 * k] = dx;
        bm[1][2 * k + 1] = dy;
        bm[2][2 * k] = dy;
        bm[2][2 * k + 1] = dx;
    }
    bm
}

/// `(K₀^g, K₁^g)` for the four Gauss points, each an 8 × 8 matrix flattened row-major
/// (`[4][64]`), for an `a × b` rectangle: `K_i^g = det J · B_gᵀ D_i B_g`, `det J = ab/4`.
pub fn split_stiffness(a: f64, b: f64) -> ([[f64; 64]; 4], [[f64; 64]; 4]) {
    const D0: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.5]];
    const D1: [[f64; 3]; 3] = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -0.5]];
    let det = a * b / 4.0;
    let mut k0 = [[0.0; 64]; 4];
    let mut k1 = [[0.0; 64]; 4];
    for (g, &(xi, eta)) in gauss_points().iter().enumerate() {
        let bm = strain_matrix(xi, eta, a, b);
        for (d, out) in [(&D0, &mut k0[g]), (&D1, &mut k1[g])] {
            for p in 0..8 {
                for q in 0..8 {
                    let mut s = 0.0;
                    for r in 0..3 {
                        for c in 0..3 {
                            s += bm[r][p] * d[r][c] * bm[c][q];
                        }
                    }
                    out[p * 8 + q] = det * s;
                }
            }
        }
    }
    (k0, k1)
}
