//! The one error type for failures that depend on data rather than on how the API was called.
//!
//! Programmer errors that the type system cannot catch (a shape mismatch in an op, an axis out of
//! range) panic at the caller's line with the op name and both shapes. Everything a correct
//! program can still run into — a singular matrix, marginals that do not balance, an iteration
//! that does not converge, a NaN in a loss, a file that does not parse — is an [`Error`].

use std::fmt;

/// A data-dependent failure, naming the operation that hit it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An input or result contains NaN or ±∞ where finite values are required.
    NonFinite {
        /// The operation that found the value.
        op: String,
        /// Which input or result it was.
        what: String,
    },
    /// A matrix is singular (or numerically so) and a solve cannot proceed.
    Singular {
        /// The operation.
        op: String,
        /// Detail, e.g. the pivot that vanished.
        detail: String,
    },
    /// Inputs are well-formed but inconsistent, e.g. marginals with different totals.
    InvalidInput {
        /// The operation.
        op: String,
        /// What is wrong.
        detail: String,
    },
    /// An iterative method stopped without meeting its tolerance.
    NotConverged {
        /// The operation.
        op: String,
        /// Iterations performed.
        iterations: usize,
        /// The residual (or other criterion) reached.
        residual: f64,
    },
    /// Reading or writing a file failed.
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NonFinite { op, what } => write!(f, "{op}: {what} is not finite"),
            Error::Singular { op, detail } => write!(f, "{op}: singular matrix ({detail})"),
            Error::InvalidInput { op, detail } => write!(f, "{op}: {detail}"),
            Error::NotConverged {
                op,
                iterations,
                residual,
            } => write!(
                f,
                "{op}: did not converge in {iterations} iterations (residual {residual:e})"
            ),
            Error::Io { path, source } => write!(f, "{path}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
