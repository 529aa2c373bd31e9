//! Structured rectangular meshes of `[0, Lx] × [0, Ly]` and the consistent load vectors on them.
//!
//! Node `(i, j)`, `i ∈ 0..=nx`, `j ∈ 0..=ny`, sits at `(i Lx/nx, j Ly/ny)` and has index
//! `j (nx + 1) + i` (x fastest); its dofs are `2·node` (`uₓ`) and `2·node + 1` (`uᵧ`). Element
//! `(i, j)` has index `j nx + i` and local nodes `(i, j), (i+1, j), (i+1, j+1), (i, j+1)`
//! (counter-clockwise).

use super::q4::{gauss_points, shape};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A side of the rectangle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// `x = 0`.
    Left,
    /// `x = Lx`.
    Right,
    /// `y = 0`.
    Bottom,
    /// `y = Ly`.
    Top,
}

/// An `nx × ny` grid of equal `Lx/nx × Ly/ny` rectangles.
#[derive(Clone, Debug)]
pub struct RectMesh {
    /// Elements along x.
    pub nx: usize,
    /// Elements along y.
    pub ny: usize,
    /// Width of the domain.
    pub lx: f64,
    /// Height of the domain.
    pub ly: f64,
}

impl RectMesh {
    /// # Errors
    /// [`Error::InvalidInput`] unless `nx, ny ≥ 1` and `Lx, Ly > 0` (finite).
    pub fn new(nx: usize, ny: usize, lx: f64, ly: f64) -> Result<Self> {
        if nx == 0 || ny == 0 || !(lx > 0.0 && ly > 0.0 && lx.is_finite() && ly.is_finite()) {
            return Err(Error::InvalidInput {
                op: "RectMesh::new".into(),
                detail: format!("{nx} × {ny} elements on {lx} × {ly}"),
            });
        }
        Ok(RectMesh { nx, ny, lx, ly })
    }

    /// Element width `a = Lx/nx` and height `b = Ly/ny`.
    pub fn element_size(&self) -> (f64, f64) {
        (self.lx / self.nx as f64, self.ly / self.ny as f64)
    }

    /// Number of nodes `(nx + 1)(ny + 1)`.
    pub fn nodes(&self) -> usize {
        (self.nx + 1) * (self.ny + 1)
    }

    /// Number of dofs, twice the nodes.
    pub fn dofs(&self) -> usize {
        2 * self.nodes()
    }

    /// Number of elements `nx ny`.
    pub fn elements(&self) -> usize {
        self.nx * self.ny
    }

    /// Index of node `(i, j)`.
    pub fn node(&self, i: usize, j: usize) -> usize {
        j * (self.nx + 1) + i
    }

    /// Coordinates of a node.
    pub fn coords(&self, node: usize) -> (f64, f64) {
        let (a, b) = self.element_size();
        let (i, j) = (node % (self.nx + 1), node / (self.nx + 1));
        (i as f64 * a, j as f64 * b)
    }

    /// The four nodes of element `e`, counter-clockwise from the lower left.
    pub fn element_nodes(&self, e: usize) -> [usize; 4] {
        let (i, j) = (e % self.nx, e / self.nx);
        [
            self.node(i, j),
            self.node(i + 1, j),
            self.node(i + 1, j + 1),
            self.node(i, j + 1),
        ]
    }

    /// The eight global dofs of element `e`, in local order.
    pub fn element_dofs(&self, e: usize) -> [usize; 8] {
        let n = self.element_nodes(e);
        std::array::from_fn(|k| 2 * n[k / 2] + k % 2)
    }

    /// Nodes on an edge, in increasing coordinate.
    pub fn edge_nodes(&self, edge: Edge) -> Vec<usize> {
        match edge {
            Edge::Left => (0..=self.ny).map(|j| self.node(0, j)).collect(),
            Edge::Right => (0..=self.ny).map(|j| self.node(self.nx, j)).collect(),
            Edge::Bottom => (0..=self.nx).map(|i| self.node(i, 0)).collect(),
            Edge::Top => (0..=self.nx).map(|i| self.node(i, self.ny)).collect(),
        }
    }

    /// The element containing `(x, y)` and the reference coordinates `(ξ, η)` there.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the point is outside the domain (or not finite).
    pub fn locate(&self, x: f64, y: f64) -> Result<(usize, f64, f64)> {
        if !(0.0..=self.lx).contains(&x) || !(0.0..=self.ly).contains(&y) {
            return Err(Error::InvalidInput {
                op: "RectMesh::locate".into(),
                detail: format!("({x}, {y}) is outside [0, {}] × [0, {}]", self.lx, self.ly),
            });
        }
        let (a, b) = self.element_size();
        let i = ((x / a) as usize).min(self.nx - 1);
        let j = ((y / b) as usize).min(self.ny - 1);
        let xi = 2.0 * (x - i as f64 * a) / a - 1.0;
        let eta = 2.0 * (y - j as f64 * b) / b - 1.0;
        Ok((j * self.nx + i, xi, eta))
    }

    /// Consistent nodal loads `Fᵢ = ∫ Nᵢ b dA` of a body force `b(x, y) = (bₓ, bᵧ)` per unit
    /// area, by 2×2 Gauss quadrature on each element; `[dofs]`.
    pub fn body_force(&self, b: impl Fn(f64, f64) -> [f64; 2]) -> Tensor {
        let (ea, eb) = self.element_size();
        let mut f = vec![0.0; self.dofs()];
        for e in 0..self.elements() {
            let (x0, y0) = self.coords(self.element_nodes(e)[0]);
            for (xi, eta) in gauss_points() {
                let load = b(x0 + (1.0 + xi) * ea / 2.0, y0 + (1.0 + eta) * eb / 2.0);
                let n = shape(xi, eta);
                for (k, &d) in self.element_dofs(e).iter().enumerate() {
                    f[d] += n[k / 2] * load[k % 2] * ea * eb / 4.0;
                }
            }
        }
        Tensor::from_vec(f, &[self.dofs()])
    }

    /// Consistent nodal loads `Fᵢ = ∫_edge Nᵢ t ds` of a traction `t(x, y) = (tₓ, tᵧ)` (force per
    /// unit length) on one edge, by 2-point Gauss quadrature per segment; `[dofs]`.
    pub fn edge_traction(&self, edge: Edge, t: impl Fn(f64, f64) -> [f64; 2]) -> Tensor {
        let nodes = self.edge_nodes(edge);
        let mut f = vec![0.0; self.dofs()];
        let g = 1.0 / 3f64.sqrt();
        for w in nodes.windows(2) {
            let (p, q) = (self.coords(w[0]), self.coords(w[1]));
            let len = ((q.0 - p.0).powi(2) + (q.1 - p.1).powi(2)).sqrt();
            for s in [-g, g] {
                let (n0, n1) = ((1.0 - s) / 2.0, (1.0 + s) / 2.0);
                let load = t(n0 * p.0 + n1 * q.0, n0 * p.1 + n1 * q.1);
                for c in 0..2 {
                    f[2 * w[0] + c] += n0 * load[c] * len / 2.0;
                    f[2 * w[1] + c] += n1 * load[c] * len / 2.0;
                }
            }
        }
        Tensor::from_vec(f, &[self.dofs()])
    }
}
