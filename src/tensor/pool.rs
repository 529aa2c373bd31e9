//! A per-thread pool of large `f64` buffers.
//!
//! A training step allocates the same large buffers again and again. Through the system
//! allocator each one is fresh memory from the kernel, and its first touch page-faults: measured
//! on this project's 2-core VM, a 4096×64 bias add took 1.3 ms with fresh buffers and 0.13 ms
//! with reused ones, and a 4096×64·64×64 matmul 2.4 ms against 0.7 ms. Buffers of at least
//! [`MIN_POOLED`] elements are therefore returned here when their tensor is dropped and handed
//! out again for the next allocation of the same length.
//!
//! Smaller tensors are pooled too, from [`MIN_POOLED`] = 512 elements (4 KiB): a training step on
//! a batch of 32 samples × 101 grid values allocates dozens of 26 KB buffers, and from the
//! system allocator each one went through `malloc`/`free` and was zeroed by `calloc` first
//! ([`scratch`]). In PhysGNN experiment 1's iteration that zeroing was 16 % of the instructions
//! callgrind counts (it counts each byte of `rep stos`), ≈ 3 % of the time in a `perf` profile.
//!
//! The pool is bounded ([`MAX_PER_LENGTH`] buffers per length, [`MAX_BYTES`] in all per thread);
//! beyond that, buffers go back to the system allocator.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Buffers shorter than this (4 KiB) come from the system allocator, which is fast for them.
pub const MIN_POOLED: usize = 512;
/// At most this many idle buffers are kept per length. A tape holds hundreds of intermediates
/// of one length (a micro-batched PINN step: 256 points × 64 channels, again and again); with
/// 32 kept, the rest went back to `malloc` when the tape dropped and the next tape's were
/// zeroed by `calloc` again, 5.7 % of the d = 2 step in a `perf` profile. [`MAX_BYTES`] is the
/// bound that matters.
pub const MAX_PER_LENGTH: usize = 4096;
/// At most this many bytes are kept idle per thread.
pub const MAX_BYTES: usize = 512 << 20;

/// Hashes a buffer length by one multiplication (Fibonacci hashing): the keys are a handful of
/// lengths, and the default SipHash costs more than the allocation it saves for small buffers.
#[derive(Default)]
struct LengthHasher(u64);

impl Hasher for LengthHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        let h = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // The table indexes by the low bits: fold the well-mixed high half into them.
        self.0 = h ^ (h >> 32);
    }
}

#[derive(Default)]
struct Pool {
    free: HashMap<usize, Vec<Vec<f64>>, BuildHasherDefault<LengthHasher>>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// A recycled buffer of exactly `n` elements, holding whatever values it last held.
fn take(n: usize) -> Option<Vec<f64>> {
    if n < MIN_POOLED {
        return None;
    }
    POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        let v = p.free.get_mut(&n).and_then(|list| list.pop());
        if v.is_some() {
            p.bytes -= n * 8;
        }
        v
    })
    .ok()
    .flatten()
}

/// An empty vector with capacity for `n` elements, reused if one is idle.
pub fn with_capacity(n: usize) -> Vec<f64> {
    match take(n) {
        Some(mut v) => {
            v.clear();
            v
        }
        None => Vec::with_capacity(n),
    }
}

/// A vector of length `n` whose contents are unspecified (stale values from a reused buffer, or
/// zeros): for kernels that overwrite every element.
pub fn scratch(n: usize) -> Vec<f64> {
    take(n).unwrap_or_else(|| vec![0.0; n])
}

/// A vector of `n` copies of `value`.
pub fn filled(n: usize, value: f64) -> Vec<f64> {
    let mut v = with_capacity(n);
    v.resize(n, value);
    v
}

/// Collects `n` values from an iterator into a pooled vector.
pub fn collect(n: usize, values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v = with_capacity(n);
    v.extend(values);
    v
}

/// Gives a buffer back; kept if it is large, full (length = capacity) and the limits allow.
pub fn recycle(v: Vec<f64>) {
    let n = v.len();
    // Only full buffers are kept, so a reused one has `n` values in place (see `scratch`).
    if n < MIN_POOLED || v.capacity() != n {
        return;
    }
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.bytes + n * 8 > MAX_BYTES {
            return;
        }
        let list = p.free.entry(n).or_default();
        if list.len() < MAX_PER_LENGTH {
            list.push(v);
            p.bytes += n * 8;
        }
    });
}

/// Storage of a tensor: a vector that returns to the pool when dropped.
#[derive(Default)]
pub(crate) struct Buffer(pub(crate) Vec<f64>);

impl Clone for Buffer {
    fn clone(&self) -> Buffer {
        let mut v = with_capacity(self.0.len());
        v.extend_from_slice(&self.0);
        Buffer(v)
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        recycle(std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_are_reused_small_ones_are_not() {
        let v = filled(MIN_POOLED, 1.0);
        let ptr = v.as_ptr();
        recycle(v);
        let w = with_capacity(MIN_POOLED);
        assert_eq!(w.as_ptr(), ptr);
        assert!(w.is_empty());
        let mut w = w;
        w.resize(MIN_POOLED, 2.0);
        recycle(w);
        let s = scratch(MIN_POOLED);
        assert_eq!((s.as_ptr(), s.len(), s[0]), (ptr, MIN_POOLED, 2.0));
        let mut partial = Vec::with_capacity(2 * MIN_POOLED);
        partial.resize(MIN_POOLED, 0.0);
        recycle(partial);
        assert_eq!(
            scratch(2 * MIN_POOLED)[0],
            0.0,
            "partly filled buffers are not pooled"
        );
        let small = filled(8, 0.0);
        recycle(small);
        assert_eq!(with_capacity(8).capacity(), 8);
    }
}
