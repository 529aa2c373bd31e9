//! Shape primitives: reshape, permute, slice/pad, concat, gather/scatter-add. Each pair is the
//! other's adjoint: the VJP of `slice` is `pad`, of `gather` is `scatter_add`, of `concat` a set
//! of slices, of `permute` the inverse permutation.

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::tensor::{kernels, numel, Shape, Tensor};
use std::ops::Range;

struct Reshape {
    shape: Shape,
}
impl Op for Reshape {
    fn name(&self) -> &str {
        "reshape"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(x[0].reshape(&self.shape))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let shape = args.inputs[0].shape();
        vec![args.needs(0).then(|| args.grad.reshape(&shape))]
    }
}

struct Permute {
    perm: Shape,
}
impl Op for Permute {
    fn name(&self) -> &str {
        "permute"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::permute(x[0], &self.perm))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let mut inverse = vec![0; self.perm.len()];
        for (i, &p) in self.perm.iter().enumerate() {
            inverse[p] = i;
        }
        vec![args.needs(0).then(|| args.grad.permute(&inverse))]
    }
}

struct Slice {
    axis: usize,
    range: Range<usize>,
}
impl Op for Slice {
    fn name(&self) -> &str {
        "slice"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::slice(
            x[0],
            self.axis,
            self.range.start,
            self.range.end,
        ))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let len = args.inputs[0].shape()[self.axis];
        let after = len - self.range.end;
        vec![args
            .needs(0)
            .then(|| args.grad.pad(self.axis, self.range.start, after))]
    }
}

struct Pad {
    axis: usize,
    before: usize,
    after: usize,
}
impl Op for Pad {
    fn name(&self) -> &str {
        "pad"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::pad(x[0], self.axis, self.before, self.after))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let len = args.inputs[0].shape()[self.axis];
        let range = self.before..self.before + len;
        vec![args.needs(0).then(|| args.grad.slice(self.axis, range))]
    }
}

struct Concat {
    axis: usize,
}
impl Op for Concat {
    fn name(&self) -> &str {
        "concat"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::concat(x, self.axis))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let mut start = 0;
        args.inputs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let len = v.shape()[self.axis];
                let range = start..start + len;
                start += len;
                args.needs(i).then(|| args.grad.slice(self.axis, range))
            })
            .collect()
    }
}

struct Gather {
    axis: usize,
    indices: Vec<usize>,
}
impl Op for Gather {
    fn name(&self) -> &str {
        "gather"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::gather(x[0], self.axis, &self.indices))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let size = args.inputs[0].shape()[self.axis];
        vec![args
            .needs(0)
            .then(|| args.grad.scatter_add(self.axis, &self.indices, size))]
    }
}

struct ScatterAdd {
    axis: usize,
    indices: Vec<usize>,
    size: usize,
}
impl Op for ScatterAdd {
    fn name(&self) -> &str {
        "scatter_add"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::scatter_add(
            x[0],
            self.axis,
            &self.indices,
            self.size,
        ))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        vec![args
            .needs(0)
            .then(|| args.grad.gather(self.axis, &self.indices))]
    }
}

#[track_caller]
fn check_axis(op: &str, axis: usize, shape: &[usize]) {
    assert!(
        axis < shape.len(),
        "{op}: axis {axis} out of range for shape {shape:?}"
    );
}

impl<'t> Var<'t> {
    /// The same values with another shape of equal size (row-major order is kept).
    ///
    /// # Panics
    /// If the sizes differ.
    #[track_caller]
    pub fn reshape(self, shape: &[usize]) -> Var<'t> {
        let own = self.shape();
        assert_eq!(
            numel(shape),
            numel(&own),
            "reshape: cannot reshape {:?} into {shape:?}",
            own.as_slice()
        );
        if own.as_slice() == shape {
            return self;
        }
        self.tape.record(
            Reshape {
                shape: Shape::from_slice(shape),
            },
            &[self],
        )
    }

    /// All elements as a vector.
    pub fn flatten(self) -> Var<'t> {
        let n = self.len();
        self.reshape(&[n])
    }

    /// Reorders axes: output axis `i` is input axis `perm[i]`.
    ///
    /// # Panics
    /// If `perm` is not a permutation of the axes.
    #[track_caller]
    pub fn permute(self, perm: &[usize]) -> Var<'t> {
        let n = self.ndim();
        let mut seen = vec![false; n];
        let valid = perm.len() == n
            && perm
                .iter()
                .all(|&p| p < n && !std::mem::replace(&mut seen[p], true));
        assert!(
            valid,
            "permute: {perm:?} is not a permutation of the axes of {:?}",
            self.shape().as_slice()
        );
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return self;
        }
        self.tape.record(
            Permute {
                perm: Shape::from_slice(perm),
            },
            &[self],
        )
    }

    /// Swaps the last two axes (the matrix transpose, batched).
    ///
    /// # Panics
    /// If the rank is below 2.
    #[track_caller]
    pub fn t(self) -> Var<'t> {
        let n = self.ndim();
        assert!(
            n >= 2,
            "t: transpose needs rank ≥ 2, got shape {:?}",
            self.shape().as_slice()
        );
        let mut perm: Vec<usize> = (0..n).collect();
        perm.swap(n - 2, n - 1);
        self.permute(&perm)
    }

    /// The elements `range` along `axis`.
    ///
    /// # Panics
    /// If the axis or range is out of bounds.
    #[track_caller]
    pub fn slice(self, axis: usize, range: Range<usize>) -> Var<'t> {
        let shape = self.shape();
        check_axis("slice", axis, &shape);
        assert!(
            range.start <= range.end && range.end <= shape[axis],
            "slice: range {range:?} out of bounds for axis {axis} of shape {:?}",
            shape.as_slice()
        );
        self.tape.record(Slice { axis, range }, &[self])
    }

    /// Zero padding along `axis`: `before` zeros, the values, `after` zeros.
    ///
    /// # Panics
    /// If the axis is out of range.
    #[track_caller]
    pub fn pad(self, axis: usize, before: usize, after: usize) -> Var<'t> {
        check_axis("pad", axis, &self.shape());
        self.tape.record(
            Pad {
                axis,
                before,
                after,
            },
            &[self],
        )
    }

    /// Concatenation along `axis`.
    ///
    /// # Panics
    /// If `parts` is empty or the shapes differ off `axis`.
    #[track_caller]
    pub fn concat(parts: &[Var<'t>], axis: usize) -> Var<'t> {
        assert!(!parts.is_empty(), "concat: no tensors to concatenate");
        let first = parts[0].shape();
        check_axis("concat", axis, &first);
        for p in &parts[1..] {
            let s = p.shape();
            let same = s.len() == first.len()
                && s.iter()
                    .zip(&first)
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            assert!(
                same,
                "concat: shapes {:?} and {:?} differ off axis {axis}",
                first.as_slice(),
                s.as_slice()
            );
        }
        parts[0].tape.record(Concat { axis }, parts)
    }

    /// Index-select along `axis`: position `i` of the result is position `indices[i]` of `self`.
    /// Indices may repeat; the VJP is [`Var::scatter_add`].
    ///
    /// # Panics
    /// If the axis or an index is out of range.
    #[track_caller]
    pub fn gather(self, axis: usize, indices: &[usize]) -> Var<'t> {
        let shape = self.shape();
        check_axis("gather", axis, &shape);
        if let Some(bad) = indices.iter().find(|&&i| i >= shape[axis]) {
            panic!(
                "gather: index {bad} out of range for axis {axis} of shape {:?}",
                shape.as_slice()
            );
        }
        self.tape.record(
            Gather {
                axis,
                indices: indices.to_vec(),
            },
            &[self],
        )
    }

    /// Scatter-add along `axis` into `size` positions: position `indices[i]` accumulates
    /// position `i` of `self`. The adjoint of [`Var::gather`].
    ///
    /// # Panics
    /// If the axis is out of range, `indices` does not match the axis length, or an index is
    /// not below `size`.
    #[track_caller]
    pub fn scatter_add(self, axis: usize, indices: &[usize], size: usize) -> Var<'t> {
        let shape = self.shape();
        check_axis("scatter_add", axis, &shape);
        assert_eq!(
            shape[axis],
            indices.len(),
            "scatter_add: {} indices for axis {axis} of shape {:?}",
            indices.len(),
            shape.as_slice()
        );
        if let Some(bad) = indices.iter().find(|&&i| i >= size) {
            panic!("scatter_add: index {bad} out of range for size {size}");
        }
        self.tape.record(
            ScatterAdd {
                axis,
                indices: indices.to_vec(),
                size,
            },
            &[self],
        )
    }
}
