//! Dense `f64` tensors: contiguous row-major storage behind an [`Arc`], a shape of any rank,
//! numpy-style broadcasting and the raw kernels every op is built from.
//!
//! Nothing in this module knows about the tape. Values are immutable once shared: the storage is
//! copied on write ([`Tensor::data_mut`]) only when another handle still refers to it.

mod display;
pub mod fastmath;
pub mod kernels;
pub mod pool;
mod shape;

pub use shape::{broadcast_shapes, numel, strides_of, Shape};

use pool::Buffer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};
use std::sync::Arc;

/// A dense, contiguous, row-major tensor of `f64`.
///
/// Cloning is cheap (the storage is reference counted). A rank-0 tensor (shape `[]`) is a scalar.
///
/// ```
/// use physgrad::Tensor;
/// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
/// assert_eq!(a.shape(), &[2, 2]);
/// assert_eq!(a.at(&[1, 0]), 3.0);
/// ```
#[derive(Clone)]
pub struct Tensor {
    data: Arc<Buffer>,
    shape: Shape,
}

impl Tensor {
    /// Wraps `data` (row-major) with the given shape.
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape`.
    #[track_caller]
    pub fn from_vec(data: Vec<f64>, shape: &[usize]) -> Tensor {
        assert_eq!(
            data.len(),
            numel(shape),
            "Tensor::from_vec: {} values cannot have shape {:?}",
            data.len(),
            shape
        );
        Tensor {
            data: Arc::new(Buffer(data)),
            shape: Shape::from_slice(shape),
        }
    }

    /// A rank-0 tensor holding `value`.
    pub fn scalar(value: f64) -> Tensor {
        Tensor::from_vec(vec![value], &[])
    }

    /// A tensor filled with `value`.
    pub fn full(shape: &[usize], value: f64) -> Tensor {
        Tensor::from_vec(pool::filled(numel(shape), value), shape)
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// `n` evenly spaced values from `start` to `end` inclusive, shape `[n]`.
    pub fn linspace(start: f64, end: f64, n: usize) -> Tensor {
        let step = if n > 1 {
            (end - start) / (n - 1) as f64
        } else {
            0.0
        };
        Tensor::from_vec((0..n).map(|i| start + step * i as f64).collect(), &[n])
    }

    /// Standard normal samples from a seeded ChaCha8 generator: the same seed gives the same
    /// values on every platform.
    pub fn randn(shape: &[usize], seed: u64) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = (0..numel(shape))
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        Tensor::from_vec(data, shape)
    }

    /// Uniform samples on `[low, high)` from a seeded ChaCha8 generator.
    ///
    /// # Panics
    /// If `low >= high` or either bound is not finite.
    #[track_caller]
    pub fn rand_uniform(shape: &[usize], low: f64, high: f64, seed: u64) -> Tensor {
        let dist = Uniform::new(low, high).unwrap_or_else(|e| {
            panic!("Tensor::rand_uniform: invalid bounds [{low}, {high}): {e}")
        });
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = (0..numel(shape)).map(|_| dist.sample(&mut rng)).collect();
        Tensor::from_vec(data, shape)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data().len()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data().is_empty()
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f64] {
        &self.data.0
    }

    /// Mutable access to the elements; copies the storage first if it is shared.
    pub fn data_mut(&mut self) -> &mut [f64] {
        Arc::make_mut(&mut self.data).0.as_mut_slice()
    }

    /// Mutable access to the elements if no other handle shares the storage (no copy), else
    /// `None`.
    pub fn unique_data_mut(&mut self) -> Option<&mut [f64]> {
        Arc::get_mut(&mut self.data).map(|b| b.0.as_mut_slice())
    }

    /// The elements as an owned vector (no copy if this is the only handle).
    pub fn into_vec(self) -> Vec<f64> {
        match Arc::try_unwrap(self.data) {
            Ok(mut b) => std::mem::take(&mut b.0),
            Err(shared) => shared.0.clone(),
        }
    }

    /// The single element of a tensor with one element.
    ///
    /// # Panics
    /// If the tensor does not have exactly one element.
    #[track_caller]
    pub fn item(&self) -> f64 {
        assert_eq!(
            self.len(),
            1,
            "Tensor::item: tensor of shape {:?} has {} elements, not 1",
            self.shape(),
            self.len()
        );
        self.data()[0]
    }

    /// The element at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong rank or is out of bounds.
    #[track_caller]
    pub fn at(&self, index: &[usize]) -> f64 {
        assert_eq!(
            index.len(),
            self.ndim(),
            "Tensor::at: index {index:?} for shape {:?}",
            self.shape()
        );
        let mut offset = 0;
        for (&i, &n) in index.iter().zip(self.shape.iter()) {
            assert!(
                i < n,
                "Tensor::at: index {index:?} out of bounds for shape {:?}",
                self.shape()
            );
            offset = offset * n + i;
        }
        self.data()[offset]
    }

    /// The same data with another shape of equal size.
    ///
    /// # Panics
    /// If the sizes differ.
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        assert_eq!(
            numel(shape),
            self.len(),
            "reshape: cannot reshape {:?} into {:?}",
            self.shape(),
            shape
        );
        Tensor {
            data: Arc::clone(&self.data),
            shape: Shape::from_slice(shape),
        }
    }

    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Tensor {
        clear_upper_simd_state();
        Tensor::from_vec(
            pool::collect(self.len(), self.data().iter().map(|&x| f(x))),
            &self.shape,
        )
    }

    /// Combines two tensors elementwise with numpy broadcasting.
    ///
    /// # Panics
    /// If the shapes do not broadcast.
    #[track_caller]
    pub fn zip_with(&self, other: &Tensor, f: impl Fn(f64, f64) -> f64 + Sync) -> Tensor {
        kernels::binary("zip_with", self, other, f)
    }

    /// Whether any element is NaN or infinite.
    pub fn has_non_finite(&self) -> bool {
        self.data().iter().any(|x| !x.is_finite())
    }

    /// The largest absolute elementwise difference (broadcasting); `NaN` anywhere gives `NaN`.
    #[track_caller]
    pub fn max_abs_diff(&self, other: &Tensor) -> f64 {
        let d = self.zip_with(other, |a, b| (a - b).abs());
        d.data().iter().fold(
            0.0,
            |m: f64, &x| if x.is_nan() { f64::NAN } else { m.max(x) },
        )
    }

    /// Elementwise `|a − b| ≤ atol + rtol·|b|` with identical shapes (NaN never compares equal).
    pub fn approx_eq(&self, other: &Tensor, rtol: f64, atol: f64) -> bool {
        self.shape == other.shape
            && self
                .data()
                .iter()
                .zip(other.data().iter())
                .all(|(&a, &b)| (a - b).abs() <= atol + rtol * b.abs())
    }

    /// The sum of all elements.
    pub fn sum_all(&self) -> f64 {
        self.data().iter().sum()
    }

    /// The dot product of the flattened elements.
    ///
    /// # Panics
    /// If the element counts differ.
    #[track_caller]
    pub fn dot(&self, other: &Tensor) -> f64 {
        assert_eq!(
            self.len(),
            other.len(),
            "Tensor::dot: shapes {:?} and {:?}",
            self.shape(),
            other.shape()
        );
        self.data()
            .iter()
            .zip(other.data().iter())
            .map(|(a, b)| a * b)
            .sum()
    }

    /// Euclidean norm of the flattened elements.
    pub fn norm(&self) -> f64 {
        self.dot(self).sqrt()
    }
}

impl PartialEq for Tensor {
    fn eq(&self, other: &Tensor) -> bool {
        self.shape == other.shape && self.data() == other.data()
    }
}

impl From<f64> for Tensor {
    fn from(value: f64) -> Tensor {
        Tensor::scalar(value)
    }
}

/// Clears the upper halves of the x86 vector registers (`vzeroupper`) when the CPU has AVX.
///
/// Wide-vector kernels (the matrix products) can leave them marked in use. Scalar code compiled
/// for baseline x86-64 (SSE) that then calls the C library's `exp` (VEX-encoded) pays a state
/// transition on every call while they are: measured, it made `exp` about ten times slower
/// inside elementwise maps such as `erf`, and a forward pass of the PINN-sampling drift
/// network six times slower (`docs/benchmarks.md`). One instruction before each map avoids it.
#[inline]
pub(crate) fn clear_upper_simd_state() {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx")]
        fn zero_upper() {
            std::arch::x86_64::_mm256_zeroupper();
        }
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX, the only requirement of `zero_upper`.
            unsafe { zero_upper() }
        }
    }
}
