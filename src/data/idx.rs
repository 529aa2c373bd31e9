//! The IDX format (LeCun and Cortes' MNIST files: `train-images-idx3-ubyte`, …).
//!
//! ```text
//! 0x00 0x00 | type code | rank k | k × u32 big-endian sizes | data, row-major, big-endian
//! type codes: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//! ```
//!
//! MNIST images are `u8` of rank 3 (`[count, 28, 28]`, values 0–255), labels `u8` of rank 1.
//! The files are distributed gzip-compressed; decompress them first (`gunzip`): a gzip stream
//! is recognised and refused with that advice.

use crate::error::{Error, Result};
use crate::nn::checkpoint::write_atomic;
use crate::tensor::Tensor;
use std::path::Path;

const OP: &str = "idx";

/// The element type of an IDX file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdxType {
    /// Unsigned byte (code 0x08).
    U8,
    /// Signed byte (0x09).
    I8,
    /// Big-endian 16-bit integer (0x0B).
    I16,
    /// Big-endian 32-bit integer (0x0C).
    I32,
    /// Big-endian IEEE single (0x0D).
    F32,
    /// Big-endian IEEE double (0x0E).
    F64,
}

impl IdxType {
    /// The type of a code byte, if it is one.
    pub fn from_code(code: u8) -> Option<IdxType> {
        Some(match code {
            0x08 => IdxType::U8,
            0x09 => IdxType::I8,
            0x0B => IdxType::I16,
            0x0C => IdxType::I32,
            0x0D => IdxType::F32,
            0x0E => IdxType::F64,
            _ => return None,
        })
    }

    /// The code byte.
    pub fn code(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }

    /// Decodes one big-endian element.
    fn decode(self, b: &[u8]) -> f64 {
        match self {
            IdxType::U8 => f64::from(b[0]),
            IdxType::I8 => f64::from(b[0] as i8),
            IdxType::I16 => f64::from(i16::from_be_bytes([b[0], b[1]])),
            IdxType::I32 => f64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            IdxType::F32 => f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            IdxType::F64 => f64::from_be_bytes(b.try_into().expect("8 bytes")),
        }
    }
}

fn bad(detail: String) -> Error {
    Error::InvalidInput {
        op: OP.into(),
        detail,
    }
}

/// Decodes IDX bytes into a tensor of the file's shape (rank 0 gives a scalar).
///
/// # Errors
/// [`Error::InvalidInput`] for a gzip stream, a wrong magic, an unknown type code, a header or
/// data shorter than declared, trailing bytes, or a size product that overflows.
pub fn parse_idx(bytes: &[u8]) -> Result<Tensor> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(bad(
            "gzip-compressed data: decompress the file first (gunzip)".into(),
        ));
    }
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(
            "not an IDX file (the first two bytes must be zero)".into()
        ));
    }
    let ty = IdxType::from_code(bytes[2])
        .ok_or_else(|| bad(format!("unknown element type code 0x{:02X}", bytes[2])))?;
    let rank = usize::from(bytes[3]);
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(bad(format!(
            "header truncated: rank {rank} needs {header} bytes, the file has {}",
            bytes.len()
        )));
    }
    let shape: Vec<usize> = bytes[4..header]
        .chunks(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(format!("sizes {shape:?} overflow")))?;
    let want = count
        .checked_mul(ty.size())
        .and_then(|n| n.checked_add(header))
        .ok_or_else(|| bad(format!("sizes {shape:?} overflow")))?;
    if bytes.len() != want {
        return Err(bad(format!(
            "shape {shape:?} of {ty:?} needs {want} bytes, the file has {}",
            bytes.len()
        )));
    }
    let data = bytes[header..]
        .chunks(ty.size())
        .map(|c| ty.decode(c))
        .collect();
    Ok(Tensor::from_vec(data, &shape))
}

/// Reads an IDX file (see [`parse_idx`]).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; otherwise as [`parse_idx`], with the path named.
pub fn read_idx(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_idx(&bytes).map_err(|e| match e {
        Error::InvalidInput { detail, .. } => bad(format!("{}: {detail}", path.display())),
        other => other,
    })
}

/// The IDX encoding of `t` with element type `ty`.
///
/// # Errors
/// [`Error::InvalidInput`] if the rank exceeds 255, a size exceeds `u32`, or a value is not
/// representable in `ty` (non-integer or out of range for an integer type; non-finite for any).
pub fn encode_idx(t: &Tensor, ty: IdxType) -> Result<Vec<u8>> {
    let rank = u8::try_from(t.ndim()).map_err(|_| bad(format!("rank {} > 255", t.ndim())))?;
    let mut out = vec![0, 0, ty.code(), rank];
    for &d in t.shape() {
        let d = u32::try_from(d).map_err(|_| bad(format!("size {d} exceeds u32")))?;
        out.extend(d.to_be_bytes());
    }
    let (lo, hi) = match ty {
        IdxType::U8 => (0.0, 255.0),
        IdxType::I8 => (-128.0, 127.0),
        IdxType::I16 => (-32768.0, 32767.0),
        IdxType::I32 => (-2147483648.0, 2147483647.0),
        IdxType::F32 | IdxType::F64 => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let integral = !matches!(ty, IdxType::F32 | IdxType::F64);
    for (k, &v) in t.data().iter().enumerate() {
        if !v.is_finite() || v < lo || v > hi || (integral && v.fract() != 0.0) {
            return Err(bad(format!(
                "value {v} at {k} is not representable as {ty:?}"
            )));
        }
        match ty {
            IdxType::U8 => out.push(v as u8),
            IdxType::I8 => out.push(v as i8 as u8),
            IdxType::I16 => out.extend((v as i16).to_be_bytes()),
            IdxType::I32 => out.extend((v as i32).to_be_bytes()),
            IdxType::F32 => out.extend((v as f32).to_be_bytes()),
            IdxType::F64 => out.extend(v.to_be_bytes()),
        }
    }
    Ok(out)
}

/// Writes `t` as an IDX file of element type `ty`, atomically (temporary file, then rename).
///
/// # Errors
/// As [`encode_idx`]; [`Error::Io`] if writing fails.
pub fn write_idx(path: impl AsRef<Path>, t: &Tensor, ty: IdxType) -> Result<()> {
    write_atomic(path.as_ref(), &encode_idx(t, ty)?)
}
