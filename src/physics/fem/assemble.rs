//! Differentiable assembly and solve of plane-stress Q4 elasticity on a [`RectMesh`].
//!
//! The global stiffness `K = Σ_e Σ_g c₀(e, g) K₀^g + c₁(e, g) K₁^g` (see [`super::q4`]) is
//! recorded as tape ops of the material parameters: `c₀ = E/(1 − ν²)`, `c₁ = E ν/(1 − ν²)` per
//! element (or Gauss point), one `matmul` with the fixed `[4, 64]` Gauss-point blocks, then a
//! `gather`/`scatter_add` onto the values of a fixed [`SparsePattern`] holding the lower
//! triangle of the free–free block. Fixed dofs are eliminated (homogeneous Dirichlet,
//! `u = 0` there); the reduced matrix is symmetric positive definite once rigid motions are
//! suppressed, and is solved by sparse Cholesky with the adjoint VJP.

use super::mesh::RectMesh;
use super::q4::{shape, split_stiffness};
use crate::autodiff::Var;
use crate::error::{Error, Result};
use crate::linalg::{sparse_solve, Factorization, SparsePattern};
use crate::tensor::Tensor;
use std::collections::HashMap;

const OP: &str = "Q4Elasticity";

/// Plane-stress linear elasticity with Q4 elements, zero displacement on a set of fixed dofs.
pub struct Q4Elasticity {
    mesh: RectMesh,
    /// Reduced index of each global dof, `None` when fixed.
    reduced: Vec<Option<usize>>,
    /// Global dof of each reduced index.
    free: Vec<usize>,
    pattern: SparsePattern,
    /// `K₀^g`, `K₁^g` as `[4, 64]`.
    k0: Tensor,
    k1: Tensor,
    /// Index into the `[elements · 64]` element values, and its pattern slot.
    src: Vec<usize>,
    slot: Vec<usize>,
    /// Prescribed values of all dofs (zero on free dofs).
    prescribed: Tensor,
    /// Free–fixed couplings with a non-zero prescribed value: element-value index, reduced
    /// row, prescribed value.
    coupling: Vec<(usize, usize, f64)>,
}

/// Index layout of the assembly: pattern entries, (element-value index, slot) pairs, and the
/// free–fixed couplings `(element-value index, reduced row, prescribed value)`.
type Layout = (
    Vec<(usize, usize)>,
    Vec<usize>,
    Vec<usize>,
    Vec<(usize, usize, f64)>,
);

impl Q4Elasticity {
    /// Builds the pattern of the free–free stiffness block (lower triangle) and its symbolic
    /// Cholesky analysis. `fixed` lists global dofs held at zero (duplicates allowed).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a dof out of range, when every dof is fixed, or when the
    /// fixed dofs do not suppress all three rigid motions (the stiffness would be singular).
    pub fn new(mesh: RectMesh, fixed: &[usize]) -> Result<Self> {
        let zeros: Vec<(usize, f64)> = fixed.iter().map(|&d| (d, 0.0)).collect();
        Self::with_displacements(mesh, &zeros)
    }

    /// As [`Self::new`] with prescribed displacements `(dof, value)`: the fixed dofs are
    /// eliminated and `K_fc g` moves to the right-hand side (`K_ff u_f = F_f − K_fc g`, a tape
    /// op of `(E, ν)` too); the solution holds `g` on the fixed dofs.
    ///
    /// # Errors
    /// As [`Self::new`]; also [`Error::InvalidInput`] for a dof given two different values and
    /// [`Error::NonFinite`] for a non-finite value.
    pub fn with_displacements(mesh: RectMesh, prescribed: &[(usize, f64)]) -> Result<Self> {
        let ndof = mesh.dofs();
        let mut g: Vec<Option<f64>> = vec![None; ndof];
        for &(d, v) in prescribed {
            if d >= ndof {
                return Err(invalid(format!("fixed dof {d} ≥ {ndof}")));
            }
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    op: OP.into(),
                    what: format!("prescribed displacement of dof {d}"),
                });
            }
            if g[d].is_some_and(|old| old != v) {
                return Err(invalid(format!(
                    "dof {d} prescribed twice with different values"
                )));
            }
            g[d] = Some(v);
        }
        let is_fixed: Vec<bool> = g.iter().map(Option::is_some).collect();
        let free: Vec<usize> = (0..ndof).filter(|&d| !is_fixed[d]).collect();
        if free.is_empty() {
            return Err(invalid("every dof is fixed".into()));
        }
        if !suppresses_rigid_motions(&mesh, &is_fixed) {
            return Err(invalid(
                "the fixed dofs leave a rigid motion (translation or rotation) free".into(),
            ));
        }
        let mut reduced = vec![None; ndof];
        for (r, &d) in free.iter().enumerate() {
            reduced[d] = Some(r);
        }
        let (entries, src, slot, coupling) = layout(&mesh, &reduced, &g);
        let pattern = SparsePattern::new(free.len(), &entries, Factorization::Cholesky)?;
        let (a, b) = mesh.element_size();
        let (k0, k1) = split_stiffness(a, b);
        let flat = |k: [[f64; 64]; 4]| Tensor::from_vec(k.concat(), &[4, 64]);
        let prescribed = Tensor::from_vec(g.iter().map(|v| v.unwrap_or(0.0)).collect(), &[ndof]);
        Ok(Q4Elasticity {
            mesh,
            reduced,
            free,
            pattern,
            k0: flat(k0),
            k1: flat(k1),
            src,
            slot,
            prescribed,
            coupling,
        })
    }

    /// The mesh.
    pub fn mesh(&self) -> &RectMesh {
        &self.mesh
    }

    /// The pattern of the reduced stiffness (free dofs in increasing global order; lower
    /// triangle).
    pub fn pattern(&self) -> &SparsePattern {
        &self.pattern
    }

    /// Global dof of each reduced unknown.
    pub fn free_dofs(&self) -> &[usize] {
        &self.free
    }

    /// Values of the reduced stiffness on [`Self::pattern`] `[nnz]`, as tape ops of Young's
    /// modulus `e` and Poisson's ratio `nu`: both `[elements]` (per element) or both
    /// `[elements, 4]` (per Gauss point, in [`super::q4::gauss_points`] order).
    ///
    /// # Panics
    /// If the shapes do not fit the mesh.
    #[track_caller]
    pub fn stiffness_values<'t>(&self, e: Var<'t>, nu: Var<'t>) -> Var<'t> {
        self.values(e, nu, &[])
    }

    /// Solves `K u = F` on the free dofs; returns the full displacement `[dofs]` (the
    /// prescribed values, zero by default, on the fixed dofs). `load` `[dofs]` holds nodal forces (e.g. [`RectMesh::body_force`] plus
    /// [`RectMesh::edge_traction`]); its entries on fixed dofs (reactions) are ignored.
    /// Differentiable in `e`, `nu` (shapes as in [`Self::stiffness_values`]) and `load`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN/∞ parameters or loads; [`Error::InvalidInput`] for `E ≤ 0`
    /// or `ν ∉ (−1, ½)`; [`Error::Singular`] from the factorisation.
    ///
    /// # Panics
    /// If the shapes do not fit the mesh.
    #[track_caller]
    pub fn solve<'t>(&self, e: Var<'t>, nu: Var<'t>, load: Var<'t>) -> Result<Var<'t>> {
        self.solve_impl(e, nu, load, &[])
    }

    /// [`Self::solve`] for `B` independent samples on the same mesh and constraints:
    /// `e`, `nu` `[B, elements]` or `[B, elements, 4]`, `load` `[B, dofs]`; returns
    /// `[B, dofs]`. The `B` systems share the pattern and are factorised in parallel.
    ///
    /// # Errors
    /// As [`Self::solve`]; a failing sample is named in the error.
    ///
    /// # Panics
    /// If the shapes do not fit the mesh.
    #[track_caller]
    pub fn solve_batch<'t>(&self, e: Var<'t>, nu: Var<'t>, load: Var<'t>) -> Result<Var<'t>> {
        let b = load.shape()[0];
        self.solve_impl(e, nu, load, &[b])
    }

    #[track_caller]
    fn solve_impl<'t>(
        &self,
        e: Var<'t>,
        nu: Var<'t>,
        load: Var<'t>,
        batch: &[usize],
    ) -> Result<Var<'t>> {
        let ndof = self.mesh.dofs();
        let want: Vec<usize> = batch.iter().copied().chain([ndof]).collect();
        assert_eq!(load.shape().as_slice(), want.as_slice(), "{OP}: load shape");
        let (ev, nv) = (e.value(), nu.value());
        if ev.has_non_finite() || nv.has_non_finite() || load.value().has_non_finite() {
            return Err(Error::NonFinite {
                op: OP.into(),
                what: "E, ν or the load".into(),
            });
        }
        if ev.data().iter().any(|&x| x <= 0.0) || nv.data().iter().any(|&x| x <= -1.0 || x >= 0.5) {
            return Err(invalid("need E > 0 and −1 < ν < ½".into()));
        }
        let blocks = self.blocks(e, nu, batch);
        let ax = batch.len();
        let values = blocks
            .gather(ax, &self.src)
            .scatter_add(ax, &self.slot, self.pattern.nnz());
        let mut rhs = load.gather(ax, &self.free);
        let tape = load.tape();
        if !self.coupling.is_empty() {
            let idx: Vec<usize> = self.coupling.iter().map(|c| c.0).collect();
            let rows: Vec<usize> = self.coupling.iter().map(|c| c.1).collect();
            let g = Tensor::from_vec(self.coupling.iter().map(|c| c.2).collect(), &[idx.len()]);
            let kg = (blocks.gather(ax, &idx) * tape.constant(g)).scatter_add(
                ax,
                &rows,
                self.free.len(),
            );
            rhs = rhs - kg;
        }
        let u = sparse_solve(&self.pattern, values, rhs)?;
        Ok(u.scatter_add(ax, &self.free, ndof) + tape.constant(self.prescribed.clone()))
    }

    /// The assembly behind [`Self::stiffness_values`], with optional leading batch axes.
    #[track_caller]
    fn values<'t>(&self, e: Var<'t>, nu: Var<'t>, batch: &[usize]) -> Var<'t> {
        self.blocks(e, nu, batch)
            .gather(batch.len(), &self.src)
            .scatter_add(batch.len(), &self.slot, self.pattern.nnz())
    }

    /// All element matrices `[.., elements · 64]` (row-major 8 × 8 each) as tape ops.
    #[track_caller]
    fn blocks<'t>(&self, e: Var<'t>, nu: Var<'t>, batch: &[usize]) -> Var<'t> {
        let nel = self.mesh.elements();
        let (se, sn) = (e.shape(), nu.shape());
        let per_el: Vec<usize> = batch.iter().copied().chain([nel]).collect();
        let per_gp: Vec<usize> = batch.iter().copied().chain([nel, 4]).collect();
        assert!(
            se == sn && (se.as_slice() == per_el.as_slice() || se.as_slice() == per_gp.as_slice()),
            "{OP}: E {:?} and ν {:?} must both be {per_el:?} or {per_gp:?}",
            se.as_slice(),
            sn.as_slice()
        );
        let (e, nu) = if se.as_slice() == per_el.as_slice() {
            let mut col = per_el.clone();
            col.push(1);
            let per = |v: Var<'t>| v.reshape(&col).broadcast_to(&per_gp);
            (per(e), per(nu))
        } else {
            (e, nu)
        };
        let c0 = e / (1.0 - nu.square());
        let c1 = c0 * nu;
        let tape = e.tape();
        let blocks =
            c0.matmul(tape.constant(self.k0.clone())) + c1.matmul(tape.constant(self.k1.clone()));
        let flat: Vec<usize> = batch.iter().copied().chain([nel * 64]).collect();
        blocks.reshape(&flat)
    }

    /// Whether global dof `d` is free.
    pub fn is_free(&self, d: usize) -> bool {
        self.reduced[d].is_some()
    }
}

/// Displacement `(uₓ, uᵧ)` `[2]` of one node of a full displacement vector `u` `[dofs]`.
///
/// # Panics
/// If the node is out of range.
pub fn node_displacement<'t>(mesh: &RectMesh, u: Var<'t>, node: usize) -> Var<'t> {
    assert!(
        node < mesh.nodes(),
        "node_displacement: node {node} ≥ {}",
        mesh.nodes()
    );
    u.gather(0, &[2 * node, 2 * node + 1])
}

/// Displacement `(uₓ, uᵧ)` `[2]` at a point by bilinear interpolation in its element,
/// `u(x, y) = Σ_a N_a(ξ, η) u_a`.
///
/// # Errors
/// [`Error::InvalidInput`] if the point is outside the mesh.
pub fn point_displacement<'t>(mesh: &RectMesh, u: Var<'t>, x: f64, y: f64) -> Result<Var<'t>> {
    let (e, xi, eta) = mesh.locate(x, y)?;
    let dofs = mesh.element_dofs(e);
    let n = shape(xi, eta);
    let w: Vec<f64> = (0..8).map(|k| n[k / 2]).collect();
    let w = u.tape().constant(Tensor::from_vec(w, &[4, 2]));
    Ok((u.gather(0, &dofs).reshape(&[4, 2]) * w).sum_axes(&[0], false))
}

/// The pattern entries (lower triangle of the free–free block), the element-value index and
/// slot of each contribution, and the couplings to non-zero prescribed dofs.
fn layout(mesh: &RectMesh, reduced: &[Option<usize>], g: &[Option<f64>]) -> Layout {
    let mut slots: HashMap<(usize, usize), usize> = HashMap::new();
    let mut entries = Vec::new();
    let (mut src, mut slot, mut coupling) = (Vec::new(), Vec::new(), Vec::new());
    for e in 0..mesh.elements() {
        let dofs = mesh.element_dofs(e);
        for p in 0..8 {
            let Some(r) = reduced[dofs[p]] else { continue };
            for q in 0..8 {
                let k = e * 64 + p * 8 + q;
                let c = match (reduced[dofs[q]], g[dofs[q]]) {
                    (Some(c), _) => c,
                    (None, Some(v)) if v != 0.0 => {
                        coupling.push((k, r, v));
                        continue;
                    }
                    _ => continue,
                };
                if r < c {
                    continue;
                }
                let s = *slots.entry((r, c)).or_insert_with(|| {
                    entries.push((r, c));
                    entries.len() - 1
                });
                src.push(k);
                slot.push(s);
            }
        }
    }
    (entries, src, slot, coupling)
}

/// Whether the rigid motions `(1, 0)`, `(0, 1)`, `(−(y − ȳ), x − x̄)` restricted to the fixed
/// dofs are linearly independent (Gram–Schmidt, relative tolerance `1e-10`). The 2×2-Gauss Q4
/// stiffness of a connected mesh has exactly these three null vectors, so this is equivalent to
/// the reduced stiffness being positive definite. (The sparse Cholesky does not flag the tiny
/// pivots of a semi-definite matrix, so this is checked here, exactly, up front.)
fn suppresses_rigid_motions(mesh: &RectMesh, is_fixed: &[bool]) -> bool {
    let (cx, cy) = (mesh.lx / 2.0, mesh.ly / 2.0);
    let dofs: Vec<usize> = (0..is_fixed.len()).filter(|&d| is_fixed[d]).collect();
    let mode = |m: usize, d: usize| -> f64 {
        let (x, y) = mesh.coords(d / 2);
        match (m, d % 2) {
            (0, 0) | (1, 1) => 1.0,
            (2, 0) => -(y - cy),
            (2, 1) => x - cx,
            _ => 0.0,
        }
    };
    let scale = 1.0 + cx.max(cy);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for m in 0..3 {
        let mut v: Vec<f64> = dofs.iter().map(|&d| mode(m, d)).collect();
        for b in &basis {
            let p: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm <= 1e-10 * scale {
            return false;
        }
        basis.push(v.iter().map(|x| x / norm).collect());
    }
    true
}

fn invalid(detail: String) -> Error {
    Error::InvalidInput {
        op: OP.into(),
        detail,
    }
}
