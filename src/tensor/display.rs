//! `Display` and `Debug` for tensors: nested brackets as numpy prints them, with long axes
//! elided in the middle.

use super::Tensor;
use std::fmt;

/// Axes longer than this print their first and last three entries only.
const EDGE: usize = 3;
const MAX_FULL: usize = 8;

fn write_axis(
    f: &mut fmt::Formatter<'_>,
    t: &Tensor,
    axis: usize,
    offset: usize,
    stride: &[usize],
) -> fmt::Result {
    let n = t.shape()[axis];
    let indices: Vec<Option<usize>> = if n > MAX_FULL {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    write!(f, "[")?;
    for (pos, idx) in indices.iter().enumerate() {
        if pos > 0 {
            if axis + 1 == t.ndim() {
                write!(f, ", ")?;
            } else {
                write!(f, ",\n{}", " ".repeat(axis + 1))?;
            }
        }
        match idx {
            None => write!(f, "…")?,
            Some(i) if axis + 1 == t.ndim() => write_value(f, t.data()[offset + i])?,
            Some(i) => write_axis(f, t, axis + 1, offset + i * stride[axis], stride)?,
        }
    }
    write!(f, "]")
}

fn write_value(f: &mut fmt::Formatter<'_>, v: f64) -> fmt::Result {
    match f.precision() {
        Some(p) => write!(f, "{v:.p$}"),
        None => write!(f, "{v:.6}"),
    }
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ndim() == 0 {
            return write_value(f, self.data()[0]);
        }
        let stride = super::strides_of(self.shape());
        write_axis(f, self, 0, 0, &stride)
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor{:?} ", self.shape())?;
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_nested_and_elided() {
        let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        assert_eq!(format!("{t:.1}"), "[[1.0, 2.0],\n [3.0, 4.0]]");
        let long = Tensor::linspace(0.0, 9.0, 10);
        assert_eq!(format!("{long:.0}"), "[0, 1, 2, …, 7, 8, 9]");
        assert_eq!(format!("{:?}", Tensor::scalar(2.5)), "Tensor[] 2.500000");
    }
}
