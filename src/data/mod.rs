//! Data sets on disk: the IDX format of MNIST (read and write) and the small handwritten-digits
//! set shipped with the repository.
//!
//! Files are decoded to [`Tensor`](crate::Tensor)s of `f64`; every malformed input (wrong magic,
//! unknown element type, truncated or over-long data) is an
//! [`Error::InvalidInput`](crate::Error::InvalidInput), a missing file an
//! [`Error::Io`](crate::Error::Io).

pub mod idx;

pub use idx::{encode_idx, parse_idx, read_idx, write_idx, IdxType};
