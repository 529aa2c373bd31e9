//! Reductions. The primitives are [`Var::sum_to`] (the adjoint of broadcasting),
//! [`Var::broadcast_to`] (the adjoint of summation) and [`Var::max_axes`]; sums and means over
//! axes, with or without `keepdim`, are compositions of these with a reshape.

use crate::autodiff::{Op, Var, VjpArgs};
use crate::error::Result;
use crate::tensor::{broadcast_shapes, kernels, numel, Shape, Tensor};

/// Sums a broadcast value back to `shape`.
struct SumTo {
    shape: Shape,
}
impl Op for SumTo {
    fn name(&self) -> &str {
        "sum_to"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::sum_to(x[0], &self.shape))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let shape = args.inputs[0].shape();
        vec![args.needs(0).then(|| args.grad.broadcast_to(&shape))]
    }
}

/// Repeats a value along broadcast axes.
struct BroadcastTo {
    shape: Shape,
}
impl Op for BroadcastTo {
    fn name(&self) -> &str {
        "broadcast_to"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::broadcast_to(x[0], &self.shape))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let shape = args.inputs[0].shape();
        vec![args.needs(0).then(|| args.grad.sum_to(&shape))]
    }
}

/// The maximum over the axes where `keep` has length 1 (rank kept). The gradient goes to the
/// maximal entries, split equally among ties.
struct MaxTo {
    keep: Shape,
}
impl Op for MaxTo {
    fn name(&self) -> &str {
        "max"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(kernels::max_to(x[0], &self.keep))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        let (x, out) = (args.inputs[0].value(), args.output.value());
        let hit = kernels::binary("max", &x, &out, |v, m| if v == m { 1.0 } else { 0.0 });
        let count = kernels::sum_to(&hit, &self.keep);
        let count = kernels::broadcast_to(&count, x.shape());
        let weight = kernels::binary("max", &hit, &count, |h, c| h / c);
        let w = args.grad.tape().constant(weight);
        vec![args.needs(0).then(|| args.grad.broadcast_to(x.shape()) * w)]
    }
}

/// The shape with the listed axes set to 1; panics naming `op` on a bad axis.
#[track_caller]
fn keepdim_shape(op: &str, shape: &[usize], axes: &[usize]) -> Shape {
    let mut keep = Shape::from_slice(shape);
    for &a in axes {
        assert!(
            a < shape.len(),
            "{op}: axis {a} out of range for shape {shape:?}"
        );
        keep[a] = 1;
    }
    keep
}

fn drop_axes(shape: &[usize], axes: &[usize]) -> Shape {
    shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect()
}

impl<'t> Var<'t> {
    /// Sums down to `shape`, which must broadcast to `self`'s shape: the adjoint of
    /// [`Var::broadcast_to`].
    ///
    /// # Panics
    /// If `shape` does not broadcast to `self`'s shape.
    #[track_caller]
    pub fn sum_to(self, shape: &[usize]) -> Var<'t> {
        let own = self.shape();
        assert!(
            shape.len() <= own.len()
                && broadcast_shapes(shape, &own).as_deref() == Some(own.as_slice()),
            "sum_to: {shape:?} does not broadcast to {:?}",
            own.as_slice()
        );
        if own.as_slice() == shape {
            return self;
        }
        self.tape.record(
            SumTo {
                shape: Shape::from_slice(shape),
            },
            &[self],
        )
    }

    /// Repeats along axes of length 1 (and new leading axes) to reach `shape`.
    ///
    /// # Panics
    /// If `self`'s shape does not broadcast to `shape`.
    #[track_caller]
    pub fn broadcast_to(self, shape: &[usize]) -> Var<'t> {
        let own = self.shape();
        assert!(
            broadcast_shapes(&own, shape).as_deref() == Some(shape),
            "broadcast_to: {:?} does not broadcast to {shape:?}",
            own.as_slice()
        );
        if own.as_slice() == shape {
            return self;
        }
        self.tape.record(
            BroadcastTo {
                shape: Shape::from_slice(shape),
            },
            &[self],
        )
    }

    /// The sum of all elements, shape `[]`.
    pub fn sum(self) -> Var<'t> {
        self.sum_to(&[])
    }

    /// The sum over `axes`; with `keepdim` the reduced axes stay with length 1.
    ///
    /// # Panics
    /// If an axis is out of range.
    #[track_caller]
    pub fn sum_axes(self, axes: &[usize], keepdim: bool) -> Var<'t> {
        let shape = self.shape();
        let keep = keepdim_shape("sum_axes", &shape, axes);
        let s = self.sum_to(&keep);
        if keepdim {
            s
        } else {
            s.reshape(&drop_axes(&shape, axes))
        }
    }

    /// The mean of all elements, shape `[]`.
    pub fn mean(self) -> Var<'t> {
        let n = self.len().max(1) as f64;
        self.sum() / n
    }

    /// The mean over `axes` (see [`Var::sum_axes`]).
    ///
    /// # Panics
    /// If an axis is out of range.
    #[track_caller]
    pub fn mean_axes(self, axes: &[usize], keepdim: bool) -> Var<'t> {
        let shape = self.shape();
        let count: usize = axes
            .iter()
            .map(|&a| shape.get(a).copied().unwrap_or(1))
            .product();
        self.sum_axes(axes, keepdim) / count.max(1) as f64
    }

    /// The maximum over `axes`; the gradient is shared equally by tied maxima.
    ///
    /// # Panics
    /// If an axis is out of range or a reduced axis is empty.
    #[track_caller]
    pub fn max_axes(self, axes: &[usize], keepdim: bool) -> Var<'t> {
        let shape = self.shape();
        let keep = keepdim_shape("max_axes", &shape, axes);
        assert!(
            numel(&shape) > 0,
            "max_axes: empty tensor of shape {:?}",
            shape.as_slice()
        );
        let m = self.tape.record(MaxTo { keep: keep.clone() }, &[self]);
        if keepdim {
            m
        } else {
            m.reshape(&drop_axes(&shape, axes))
        }
    }

    /// The maximum of all elements, shape `[]`.
    pub fn max(self) -> Var<'t> {
        let axes: Vec<usize> = (0..self.ndim()).collect();
        self.max_axes(&axes, false)
    }
}
