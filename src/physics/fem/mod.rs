//! Plane-stress linear elasticity with bilinear quadrilaterals on structured rectangular
//! meshes, differentiable in the per-element (or per-Gauss-point) Young's modulus and Poisson's
//! ratio.
//!
//! `−∇·σ(u) = b` in `Ω = [0, Lx] × [0, Ly]`, `σ = D ε(u)` (plane stress, unit thickness),
//! `u = 0` on fixed dofs, `σ n = t` on loaded edges. Weak form `∫ ε(v)ᵀ D ε(u) = ∫ v·b + ∫ v·t`
//! discretised with Q4 elements and 2×2 Gauss quadrature:
//!
//! * [`mesh`] — nodes, elements, dof numbering, consistent body-force and traction loads;
//! * [`q4`] — shape functions and the element stiffness split `K_e = Σ_g c₀ K₀^g + c₁ K₁^g`;
//! * [`assemble`] — the tape assembly on a fixed sparse pattern, the solve, observations.
//!
//! ```
//! use physgrad::physics::fem::{Edge, Q4Elasticity, RectMesh};
//! use physgrad::{Tape, Tensor};
//! // A 2 × 1 bar clamped (uₓ = 0) on the left, uᵧ = 0 at the lower-left node, pulled with
//! // unit traction on the right: uₓ(x) = x / E.
//! let mesh = RectMesh::new(4, 2, 2.0, 1.0).unwrap();
//! let mut fixed: Vec<usize> = mesh.edge_nodes(Edge::Left).iter().map(|n| 2 * n).collect();
//! fixed.push(1);
//! let model = Q4Elasticity::new(mesh.clone(), &fixed).unwrap();
//! let tape = Tape::new();
//! let e = tape.var(Tensor::full(&[8], 10.0));
//! let nu = tape.var(Tensor::full(&[8], 0.3));
//! let load = tape.constant(mesh.edge_traction(Edge::Right, |_, _| [1.0, 0.0]));
//! let u = model.solve(e, nu, load).unwrap();
//! assert!((u.value().data()[2 * mesh.node(4, 1)] - 0.2).abs() < 1e-12);
//! ```

pub mod assemble;
pub mod mesh;
pub mod q4;

pub use assemble::{node_displacement, point_displacement, Q4Elasticity};
pub use mesh::{Edge, RectMesh};
