//! Finite-difference Poisson problems with variable coefficients, assembled from the
//! coefficients with tape ops and solved by the adjoint-differentiated solves of
//! [`crate::linalg`].
//!
//! **1-D** ([`poisson_1d`]): `−(a(x) u′(x))′ = f(x)` on `(0, 1)`, `u(0) = g₀`, `u(1) = g₁`.
//! `n` interior nodes `xᵢ = (i + 1) h`, `h = 1/(n + 1)`; the coefficient lives on the `n + 1`
//! cell faces (midpoints) `x_{i−½} = (i + ½) h`, `i = 0..=n`. Row `i`:
//!
//! ```text
//! (−a_i u_{i−1} + (a_i + a_{i+1}) u_i − a_{i+1} u_{i+1}) / h² = f_i,
//! ```
//!
//! with `u_{−1} = g₀`, `u_n = g₁` moved to the right-hand side. Second order for smooth `a`, `u`.
//!
//! **2-D** ([`Poisson2d`]): `∇·(κ∇u) = f` on the unit square, `u = g` on the boundary, solved as
//! the SPD system `−∇_h·(κ∇_h u) = −f`. See the type for the grid and ordering.

use crate::autodiff::Var;
use crate::error::{Error, Result};
use crate::linalg::{sparse_solve, tridiagonal_solve, Factorization, SparsePattern};
use crate::tensor::Tensor;

/// Solves `−(a u′)′ = f` on `(0, 1)` with `u(0) = g.0`, `u(1) = g.1` on a uniform grid of `n`
/// interior nodes (`h = 1/(n + 1)`), coefficients on the `n + 1` faces.
///
/// `a` is `[n + 1]` or `[B, n + 1]` (face `i` sits at `(i + ½) h`), `f` is `[n]` or `[B, n]`
/// (node `i` at `(i + 1) h`); the result `u` has the shape of `f`. The tridiagonal matrix
/// `lower_i = upper_i = −a_{i+1}/h²`, `diag_i = (a_i + a_{i+1})/h²` and the boundary terms
/// `a_0 g₀/h²`, `a_n g₁/h²` on the right-hand side are tape ops, so `u` is differentiable
/// (to any order) in `a` and `f`. With `B` samples the systems are factorised in parallel.
///
/// This is the discretisation PhysGNN uses with `n = 100`, `h = 1/101`, `a` at the 101
/// midpoints.
///
/// # Errors
/// [`Error::NonFinite`] for NaN/∞ in `a` or `f`; [`Error::InvalidInput`] when some `a_i ≤ 0`
/// (the operator is then not elliptic); [`Error::Singular`] from the solve.
///
/// # Panics
/// If the shapes do not fit (`a` one longer than `f` on the last axis, equal leading axes).
///
/// ```
/// use physgrad::physics::poisson::poisson_1d;
/// use physgrad::{Tape, Tensor};
/// // a = 1, f = 2: u = x (1 − x), which the scheme reproduces exactly.
/// let tape = Tape::new();
/// let n = 9;
/// let a = tape.var(Tensor::ones(&[n + 1]));
/// let f = tape.constant(Tensor::full(&[n], 2.0));
/// let u = poisson_1d(a, f, (0.0, 0.0)).unwrap();
/// let x = 5.0 / 10.0;
/// assert!((u.value().data()[4] - x * (1.0 - x)).abs() < 1e-12);
/// ```
#[track_caller]
pub fn poisson_1d<'t>(a: Var<'t>, f: Var<'t>, g: (f64, f64)) -> Result<Var<'t>> {
    const OP: &str = "poisson_1d";
    let (sa, sf) = (a.shape(), f.shape());
    let nd = sf.len();
    assert!(
        (nd == 1 || nd == 2)
            && sa.len() == nd
            && sa[nd - 1] == sf[nd - 1] + 1
            && sf[nd - 1] > 0
            && sa[..nd - 1] == sf[..nd - 1],
        "{OP}: coefficients {:?} and source {:?} do not fit (want [n + 1] and [n], n ≥ 1, \
         optionally with a common leading batch axis)",
        sa.as_slice(),
        sf.as_slice()
    );
    let (av, fv) = (a.value(), f.value());
    if av.has_non_finite() {
        return Err(non_finite(OP, "coefficient a"));
    }
    if fv.has_non_finite() || !g.0.is_finite() || !g.1.is_finite() {
        return Err(non_finite(OP, "source f or boundary value"));
    }
    if let Some(k) = av.data().iter().position(|&v| v <= 0.0) {
        return Err(Error::InvalidInput {
            op: OP.into(),
            detail: format!("coefficient entry {k} is {} (must be > 0)", av.data()[k]),
        });
    }
    let n = sf[nd - 1];
    let ax = nd - 1;
    let inv_h2 = ((n + 1) * (n + 1)) as f64;
    let left = a.slice(ax, 0..n);
    let right = a.slice(ax, 1..n + 1);
    let diag = (left + right) * inv_h2;
    let off = a.slice(ax, 1..n) * (-inv_h2);
    let mut rhs = f;
    if g.0 != 0.0 {
        rhs = rhs + (a.slice(ax, 0..1) * (g.0 * inv_h2)).pad(ax, 0, n - 1);
    }
    if g.1 != 0.0 {
        rhs = rhs + (a.slice(ax, n..n + 1) * (g.1 * inv_h2)).pad(ax, n - 1, 0);
    }
    tridiagonal_solve(off, diag, off, rhs)
}

fn non_finite(op: &str, what: &str) -> Error {
    Error::NonFinite {
        op: op.into(),
        what: what.into(),
    }
}

/// The 5-point discretisation of `∇·(κ∇u) = f` on the unit square with Dirichlet data, on an
/// `m × m` grid of interior nodes, `h = 1/(m + 1)`, built once per grid size (the sparse
/// pattern and its symbolic Cholesky analysis are reused by every solve).
///
/// **Grid and ordering.** Node `(i, j)`, `i, j ∈ 0..m`, sits at `x = (i + 1) h`, `y = (j + 1) h`
/// and is unknown `k = j·m + i` (x fastest). Boundary nodes extend the indices to `−1` and `m`.
///
/// **Coefficient on faces.** `kx` `[m, m + 1]`: `kx[j, i]` is κ on the face between nodes
/// `(i − 1, j)` and `(i, j)`, at `(x, y) = ((i + ½) h, (j + 1) h)`; `ky` `[m + 1, m]`: `ky[j, i]`
/// is κ between `(i, j − 1)` and `(i, j)`, at `((i + 1) h, (j + ½) h)`. A field given at the
/// nodes becomes face values with [`harmonic_faces`]; a scalar by broadcasting.
///
/// **System.** With `F` any face between nodes `p`, `q` (one may be a boundary node),
///
/// ```text
/// (A u)_p = Σ_{faces F of p} κ_F (u_p − u_q) / h²,    A u = −f + Σ_{boundary faces} κ_F g_q / h²,
/// ```
///
/// i.e. `A = −∇_h·(κ∇_h)`, symmetric positive definite for `κ > 0`, solved by sparse Cholesky.
/// Second order for smooth `κ` and `u`.
pub struct Poisson2d {
    m: usize,
    pattern: SparsePattern,
    /// Face index (into `[kx.flatten(), ky.flatten()]`) of each diagonal contribution.
    diag_src: Vec<usize>,
    /// Face index of each off-diagonal contribution (interior faces, lower triangle).
    off_src: Vec<usize>,
    /// Pattern slot of each contribution, diagonal ones first.
    slots: Vec<usize>,
    /// Boundary faces: face index, interior node, boundary node `(bi, bj)` in `0..m + 2`.
    boundary: Vec<(usize, usize, (usize, usize))>,
}

impl Poisson2d {
    /// Builds the pattern (`m²` diagonal entries and one lower entry per interior face) and its
    /// symbolic analysis.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `m = 0`.
    pub fn new(m: usize) -> Result<Self> {
        if m == 0 {
            return Err(Error::InvalidInput {
                op: "Poisson2d::new".into(),
                detail: "the grid needs at least one interior node".into(),
            });
        }
        let node = |i: usize, j: usize| j * m + i;
        let faces = grid_faces(m);
        let interior = |(pi, pj): (usize, usize)| (1..=m).contains(&pi) && (1..=m).contains(&pj);
        let mut entries: Vec<(usize, usize)> = (0..m * m).map(|k| (k, k)).collect();
        let (mut diag_src, mut diag_slot, mut off_src, mut off_slot) =
            (vec![], vec![], vec![], vec![]);
        let mut boundary = Vec::new();
        for &(fi, p, q) in &faces {
            let idx = |(a, b): (usize, usize)| node(a - 1, b - 1);
            match (interior(p), interior(q)) {
                (true, true) => {
                    let (kp, kq) = (idx(p), idx(q));
                    diag_src.extend([fi, fi]);
                    diag_slot.extend([kp, kq]);
                    off_src.push(fi);
                    off_slot.push(entries.len());
                    entries.push((kp.max(kq), kp.min(kq)));
                }
                (true, false) => {
                    diag_src.push(fi);
                    diag_slot.push(idx(p));
                    boundary.push((fi, idx(p), q));
                }
                (false, true) => {
                    diag_src.push(fi);
                    diag_slot.push(idx(q));
                    boundary.push((fi, idx(q), p));
                }
                (false, false) => unreachable!("every face touches an interior node"),
            }
        }
        let pattern = SparsePattern::new(m * m, &entries, Factorization::Cholesky)?;
        diag_slot.extend(off_slot);
        Ok(Poisson2d {
            m,
            pattern,
            diag_src,
            off_src,
            slots: diag_slot,
            boundary,
        })
    }

    /// Interior nodes per side.
    pub fn m(&self) -> usize {
        self.m
    }

    /// Grid spacing `h = 1/(m + 1)`.
    pub fn h(&self) -> f64 {
        1.0 / (self.m + 1) as f64
    }

    /// The pattern the matrix values live on (lower triangle, Cholesky).
    pub fn pattern(&self) -> &SparsePattern {
        &self.pattern
    }

    /// The matrix values `A = −∇_h·(κ∇_h)` on [`Self::pattern`], as tape ops of the face
    /// coefficients: `[nnz]`, or `[B, nnz]` for batched `kx [B, m, m + 1]`, `ky [B, m + 1, m]`.
    ///
    /// # Panics
    /// If the shapes do not fit the grid.
    #[track_caller]
    pub fn assemble<'t>(&self, kx: Var<'t>, ky: Var<'t>) -> Var<'t> {
        let faces = self.faces(kx, ky);
        let ax = faces.shape().len() - 1;
        let inv_h2 = ((self.m + 1) * (self.m + 1)) as f64;
        let parts = [
            faces.gather(ax, &self.diag_src),
            -faces.gather(ax, &self.off_src),
        ];
        Var::concat(&parts, ax).scatter_add(ax, &self.slots, self.pattern.nnz()) * inv_h2
    }

    /// Solves `∇·(κ∇u) = f` with `u = g` on the boundary; returns `u` `[m, m]` (`u[j, i]` at
    /// node `(i, j)`), or `[B, m, m]` for a batch.
    ///
    /// `f` is `[m, m]` or `[B, m, m]` (same layout as `u`); `g`, if given, is a constant
    /// `[m + 2, m + 2]` grid of boundary values (`g[j, i]` at `(i h, j h)`; only its border is
    /// read), `None` meaning `g = 0`. Differentiable in `kx`, `ky` and `f`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN/∞ in the inputs; [`Error::InvalidInput`] for a coefficient
    /// `≤ 0`; [`Error::Singular`] from the solve.
    ///
    /// # Panics
    /// If the shapes do not fit the grid.
    #[track_caller]
    pub fn solve<'t>(
        &self,
        kx: Var<'t>,
        ky: Var<'t>,
        f: Var<'t>,
        g: Option<&Tensor>,
    ) -> Result<Var<'t>> {
        const OP: &str = "Poisson2d::solve";
        let m = self.m;
        let faces = self.faces(kx, ky);
        let batch = &faces.shape()[..faces.shape().len() - 1].to_vec();
        let mut fshape = batch.clone();
        fshape.extend([m, m]);
        assert_eq!(
            f.shape().as_slice(),
            fshape.as_slice(),
            "{OP}: source shape"
        );
        let fv = faces.value();
        if fv.has_non_finite() {
            return Err(non_finite(OP, "coefficient κ"));
        }
        if let Some(k) = fv.data().iter().position(|&v| v <= 0.0) {
            return Err(Error::InvalidInput {
                op: OP.into(),
                detail: format!("face coefficient {k} is {} (must be > 0)", fv.data()[k]),
            });
        }
        if f.value().has_non_finite() {
            return Err(non_finite(OP, "source f"));
        }
        let mut bshape = batch.clone();
        bshape.push(m * m);
        let mut rhs = -f.reshape(&bshape);
        if let Some(g) = g {
            assert_eq!(g.shape(), &[m + 2, m + 2], "{OP}: boundary grid shape");
            if g.has_non_finite() {
                return Err(non_finite(OP, "boundary value g"));
            }
            rhs = rhs + self.boundary_rhs(faces, g);
        }
        let values = self.assemble(kx, ky);
        let mut ushape = batch.clone();
        ushape.extend([m, m]);
        Ok(sparse_solve(&self.pattern, values, rhs)?.reshape(&ushape))
    }

    /// `Σ_{boundary faces} κ_F g_q / h²` scattered onto the interior node of each face.
    fn boundary_rhs<'t>(&self, faces: Var<'t>, g: &Tensor) -> Var<'t> {
        let ax = faces.shape().len() - 1;
        let inv_h2 = ((self.m + 1) * (self.m + 1)) as f64;
        let src: Vec<usize> = self.boundary.iter().map(|b| b.0).collect();
        let dst: Vec<usize> = self.boundary.iter().map(|b| b.1).collect();
        let gv: Vec<f64> = self
            .boundary
            .iter()
            .map(|&(_, _, (bi, bj))| g.at(&[bj, bi]) * inv_h2)
            .collect();
        let gv = faces.tape().constant(Tensor::from_vec(gv, &[src.len()]));
        (faces.gather(ax, &src) * gv).scatter_add(ax, &dst, self.m * self.m)
    }

    /// `[kx.flatten(), ky.flatten()]` along the last axis, after checking the shapes.
    #[track_caller]
    fn faces<'t>(&self, kx: Var<'t>, ky: Var<'t>) -> Var<'t> {
        let m = self.m;
        let (sx, sy) = (kx.shape(), ky.shape());
        let nd = sx.len();
        assert!(
            (nd == 2 || nd == 3)
                && sy.len() == nd
                && sx[nd - 2..] == [m, m + 1]
                && sy[nd - 2..] == [m + 1, m]
                && sx[..nd - 2] == sy[..nd - 2],
            "Poisson2d: face coefficients kx {:?}, ky {:?} do not fit m = {m} (want [m, m + 1] \
             and [m + 1, m], optionally with a common batch axis)",
            sx.as_slice(),
            sy.as_slice()
        );
        let mut flat = sx[..nd - 2].to_vec();
        flat.push(m * (m + 1));
        Var::concat(&[kx.reshape(&flat), ky.reshape(&flat)], nd - 2)
    }
}

/// Face coefficients from a field at the nodes of the full grid, `kappa` `[m + 2, m + 2]` (or
/// `[B, m + 2, m + 2]`; `kappa[j, i]` at `(i h, j h)`, boundary included), by the harmonic mean
/// of the two nodes of each face, `κ_F = 2 κ_p κ_q / (κ_p + κ_q)` (the series conductance, exact
/// for a piecewise-constant κ across the face). Returns `(kx [m, m + 1], ky [m + 1, m])` for
/// [`Poisson2d::solve`]; the corner nodes are not used.
///
/// # Panics
/// If `kappa` is not square with side `≥ 3`.
#[track_caller]
pub fn harmonic_faces(kappa: Var<'_>) -> (Var<'_>, Var<'_>) {
    let s = kappa.shape();
    let nd = s.len();
    assert!(
        (nd == 2 || nd == 3) && s[nd - 1] == s[nd - 2] && s[nd - 1] >= 3,
        "harmonic_faces: kappa {:?} is not a square grid [m + 2, m + 2] with m ≥ 1",
        s.as_slice()
    );
    let m = s[nd - 1] - 2;
    let (ay, ax) = (nd - 2, nd - 1);
    let hm = |p, q| harmonic(p, q);
    let rows = kappa.slice(ay, 1..m + 1);
    let kx = hm(rows.slice(ax, 0..m + 1), rows.slice(ax, 1..m + 2));
    let cols = kappa.slice(ax, 1..m + 1);
    let ky = hm(cols.slice(ay, 0..m + 1), cols.slice(ay, 1..m + 2));
    (kx, ky)
}

/// A face: its index, and its two nodes in padded grid coordinates.
type Face = (usize, (usize, usize), (usize, usize));

/// Every face of the `m × m` grid as `(face index, node p, node q)`, nodes in padded
/// coordinates `0..m + 2` (x-faces first, then y-faces, each row by row).
fn grid_faces(m: usize) -> Vec<Face> {
    let nx = m * (m + 1);
    let mut faces = Vec::with_capacity(2 * nx);
    for j in 0..m {
        for i in 0..=m {
            faces.push((j * (m + 1) + i, (i, j + 1), (i + 1, j + 1)));
        }
    }
    for j in 0..=m {
        for i in 0..m {
            faces.push((nx + j * m + i, (i + 1, j), (i + 1, j + 1)));
        }
    }
    faces
}

/// `2pq / (p + q)`.
fn harmonic<'t>(p: Var<'t>, q: Var<'t>) -> Var<'t> {
    (p * q * 2.0) / (p + q)
}
