//! Collocation points: uniform in the domains, on the faces of conditions, paired for periodicity.

use super::declare::TermKind;
use super::{Domain, ParamKind, Problem, Region, Side};
use crate::tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The point sets of one neural evaluation, each `[n, input_dim]` in the layout of
/// [`Problem::input_dim`].
#[derive(Clone, Debug)]
pub struct Collocation {
    /// Points for the residuals and invariances.
    pub interior: Tensor,
    /// One point set per condition / periodic term, in declaration order of those terms. A
    /// periodic term's set holds its `lo`-face points; the paired `hi` points are the same with
    /// the coordinate set to `hi`.
    pub regions: Vec<Tensor>,
}

impl Problem {
    /// Uniform samples from the domains (`Real(d)` coordinates: `N(0, I)` unless a box is given
    /// via [`Problem::sample_box`]; `Input` params uniform on `[lo, hi]`), seeded (ChaCha8).
    /// Conditions sample on their region: a face fixes its column to `lo`/`hi`; `AllFacesExcept`
    /// spreads the points evenly over its faces (point `i` on face `i mod n_faces`). Periodic
    /// terms sample their `lo` face.
    pub fn sample(&self, interior: usize, per_condition: usize, seed: u64) -> Collocation {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let interior = self.sample_interior(interior, &mut rng);
        let mut regions = Vec::new();
        for t in &self.terms {
            let region = match &t.kind {
                TermKind::Condition(r) => r.clone(),
                TermKind::Periodic(c) => Region::Face(*c, Side::Lo),
                _ => continue,
            };
            let mut pts = self.sample_interior(per_condition, &mut rng);
            self.place_on_faces(&mut pts, &region);
            regions.push(pts);
        }
        Collocation { interior, regions }
    }

    fn sample_interior(&self, n: usize, rng: &mut ChaCha8Rng) -> Tensor {
        let d = self.input_dim();
        let mut data = vec![0.0; n * d];
        for row in data.chunks_mut(d.max(1)).take(n) {
            for c in &self.coords {
                for i in 0..c.dim() {
                    row[c.col + i] = match (&c.domain, &c.sample_box) {
                        (Domain::Real(_), None) => StandardNormal.sample(rng),
                        (Domain::Real(_), Some(b)) => rng.random_range(b[i].0..=b[i].1),
                        _ => {
                            let (lo, hi) = c.bounds(i).expect("bounded coordinate");
                            rng.random_range(lo..=hi)
                        }
                    };
                }
            }
            for (k, p) in self.params.iter().enumerate() {
                if let ParamKind::Input { lo, hi } = p.kind {
                    let col = self.param_col(super::ParamId(k)).expect("input column");
                    row[col] = if lo < hi {
                        rng.random_range(lo..=hi)
                    } else {
                        lo
                    };
                }
            }
        }
        Tensor::from_vec(data, &[n, d])
    }

    /// Moves the points onto the faces of `region`.
    pub(crate) fn place_on_faces(&self, pts: &mut Tensor, region: &Region) {
        let faces = self.faces(region);
        let d = pts.shape()[1];
        for (r, row) in pts.data_mut().chunks_mut(d.max(1)).enumerate() {
            let (c, i, side) = faces[r % faces.len()];
            let (lo, hi) = self.coords[c.0].bounds(i).expect("bounded face");
            row[self.col(c, i)] = if side == Side::Lo { lo } else { hi };
        }
    }
}
