//! Checkpoints: named tensors in a versioned, checksummed binary file, written atomically.
//!
//! File layout (all integers little-endian):
//!
//! ```text
//! magic     8 bytes  "PGCKPT\r\n"
//! version   u32      1
//! count     u64      number of entries
//! entry ×count:
//!   name    u32 length + UTF-8 bytes
//!   shape   u32 rank + u64 per axis
//!   data    f64 bit patterns, row-major
//! checksum  u64      CRC-64/XZ of every byte before it
//! ```
//!
//! Values are stored as their exact bit patterns, so a round trip is bitwise. Reading checks the
//! length, magic, version and checksum before parsing, and every length against the bytes left,
//! so a truncated or corrupted file is an error and nothing is loaded. Writing goes to a
//! temporary file in the same directory, which is synced and then renamed over the target: a
//! crash leaves either the old file or the new one.
//!
//! Parameters are stored as `param:{name}`, optimiser state as `optim:{kind}:…`
//! ([`Optimizer::save_state`]), the step as `meta:step`.

use super::params::ParamStore;
use crate::error::{Error, Result};
use crate::optim::Optimizer;
use crate::tensor::{numel, Tensor};
use std::io::Write;
use std::path::Path;

const MAGIC: &[u8; 8] = b"PGCKPT\r\n";
const VERSION: u32 = 1;

/// An ordered list of named tensors (see the [module docs](self) for the file format).
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    entries: Vec<(String, Tensor)>,
}

/// CRC-64/XZ (reflected ECMA-182 polynomial, initial and final XOR all ones).
fn crc64(bytes: &[u8]) -> u64 {
    const POLY: u64 = 0xC96C_5795_D787_0F42;
    static TABLE: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u64; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u64;
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            }
            *slot = c;
        }
        t
    });
    let mut crc = u64::MAX;
    for &b in bytes {
        crc = table[((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

fn corrupt(path: &Path, detail: impl Into<String>) -> Error {
    Error::InvalidInput {
        op: format!("checkpoint {}", path.display()),
        detail: detail.into(),
    }
}

/// A cursor over the file's bytes that fails instead of reading past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len())?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    }
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new() -> Checkpoint {
        Checkpoint::default()
    }

    /// Adds or replaces an entry (a replaced entry keeps its position).
    pub fn insert(&mut self, name: &str, value: Tensor) {
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name.to_string(), value)),
        }
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The entry names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The file contents (see the [module docs](self)).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for (name, t) in &self.entries {
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(t.ndim() as u32).to_le_bytes());
            for &d in t.shape() {
                out.extend_from_slice(&(d as u64).to_le_bytes());
            }
            for &v in t.data() {
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
        let crc = crc64(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses file contents; `path` only names the file in errors.
    ///
    /// # Errors
    /// `InvalidInput` for a short, truncated, corrupted or unknown-version file.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Checkpoint> {
        if bytes.len() < MAGIC.len() + 4 + 8 + 8 || &bytes[..8] != MAGIC {
            return Err(corrupt(
                path,
                "not a physgrad checkpoint (bad magic or too short)",
            ));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        if crc64(body) != u64::from_le_bytes(tail.try_into().unwrap()) {
            return Err(corrupt(
                path,
                "checksum mismatch (truncated or corrupted file)",
            ));
        }
        let mut r = Reader { bytes: body, at: 8 };
        let version = r.u32().unwrap_or(0);
        if version != VERSION {
            return Err(corrupt(
                path,
                format!("unsupported version {version} (this build reads {VERSION})"),
            ));
        }
        let count = r
            .u64()
            .ok_or_else(|| corrupt(path, "missing entry count"))?;
        let mut ckpt = Checkpoint::new();
        for k in 0..count {
            let (name, t) = read_entry(&mut r)
                .ok_or_else(|| corrupt(path, format!("entry {k} is malformed")))?;
            ckpt.entries.push((name, t));
        }
        if r.left() != 0 {
            return Err(corrupt(
                path,
                format!("{} bytes after the last entry", r.left()),
            ));
        }
        Ok(ckpt)
    }

    /// Writes the checkpoint to `path` atomically (temporary file in the same directory, fsync,
    /// rename).
    ///
    /// # Errors
    /// `Io` if any file operation fails; the target is then untouched.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), &self.to_bytes())
    }

    /// Reads a checkpoint written by [`Checkpoint::save`].
    ///
    /// # Errors
    /// `Io` if the file cannot be read; `InvalidInput` if it is not a valid checkpoint.
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Checkpoint::from_bytes(&bytes, path)
    }

    /// Adds every parameter of `store` as `param:{name}`.
    pub fn insert_params(&mut self, store: &ParamStore) {
        for id in store.ids() {
            self.insert(&format!("param:{}", store.name(id)), store.get(id).clone());
        }
    }

    /// The values for every parameter of `store`, checked: each must be present with the
    /// parameter's shape, and no other `param:` entry may exist.
    ///
    /// # Errors
    /// `InvalidInput` naming the first missing, extra or mis-shaped parameter.
    pub fn params_for(&self, store: &ParamStore) -> Result<Vec<Tensor>> {
        let bad = |detail: String| Error::InvalidInput {
            op: "checkpoint params".into(),
            detail,
        };
        let mut out = Vec::with_capacity(store.len());
        for id in store.ids() {
            let name = store.name(id);
            let t = self
                .get(&format!("param:{name}"))
                .ok_or_else(|| bad(format!("missing parameter {name:?}")))?;
            if t.shape() != store.get(id).shape() {
                return Err(bad(format!(
                    "parameter {name:?} has shape {:?} in the file, {:?} in the store",
                    t.shape(),
                    store.get(id).shape()
                )));
            }
            out.push(t.clone());
        }
        let stored = self.names().filter(|n| n.starts_with("param:")).count();
        if stored != store.len() {
            let extra = self.names().find(|n| {
                n.strip_prefix("param:")
                    .is_some_and(|p| store.id(p).is_none())
            });
            return Err(bad(format!(
                "the file has parameters the store lacks, e.g. {extra:?}"
            )));
        }
        Ok(out)
    }

    /// Sets every parameter of `store` from this checkpoint, all or nothing.
    ///
    /// # Errors
    /// As [`Checkpoint::params_for`]; the store is unchanged then.
    pub fn load_params(&self, store: &mut ParamStore) -> Result<()> {
        let values = self.params_for(store)?;
        for (id, v) in store.ids().collect::<Vec<_>>().into_iter().zip(values) {
            store.set(id, v);
        }
        Ok(())
    }
}

fn read_entry(r: &mut Reader<'_>) -> Option<(String, Tensor)> {
    let len = r.u32()? as usize;
    let name = String::from_utf8(r.take(len)?.to_vec()).ok()?;
    let rank = r.u32()? as usize;
    if rank.checked_mul(8)? > r.left() {
        return None;
    }
    let shape: Vec<usize> = (0..rank)
        .map(|_| r.u64().map(|d| d as usize))
        .collect::<Option<_>>()?;
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    if n.checked_mul(8)? > r.left() || n != numel(&shape) {
        return None;
    }
    let data = r
        .take(n * 8)?
        .chunks_exact(8)
        .map(|b| f64::from_bits(u64::from_le_bytes(b.try_into().unwrap())))
        .collect();
    Some((name, Tensor::from_vec(data, &shape)))
}

/// Writes `bytes` to a temporary file next to `path`, syncs it and renames it over `path`.
///
/// # Errors
/// `Io` naming the path of the failing operation.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| Error::Io { path: p, source }
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io(path))?;
        // Make the rename itself durable where directories can be synced (best effort).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A checkpoint holding the parameters, the optimiser state and the step count; add your own
/// entries (a data-shuffling seed, say) with [`Checkpoint::insert`] before saving.
pub fn training_checkpoint(store: &ParamStore, opt: &dyn Optimizer, step: u64) -> Checkpoint {
    let mut ckpt = Checkpoint::new();
    ckpt.insert("meta:step", Tensor::scalar(step as f64));
    ckpt.insert_params(store);
    opt.save_state(store, &mut ckpt);
    ckpt
}

/// Restores parameters and optimiser state from a checkpoint made by [`training_checkpoint`]
/// and returns the step count; all or nothing.
///
/// # Errors
/// `InvalidInput` for a missing step, mismatched names/shapes or missing optimiser state; store
/// and optimiser are unchanged then.
pub fn restore_training(
    ckpt: &Checkpoint,
    store: &mut ParamStore,
    opt: &mut dyn Optimizer,
) -> Result<u64> {
    let step = ckpt
        .get("meta:step")
        .filter(|t| t.len() == 1)
        .ok_or_else(|| Error::InvalidInput {
            op: "restore_training".into(),
            detail: "missing meta:step".into(),
        })?
        .item() as u64;
    let values = ckpt.params_for(store)?;
    opt.load_state(store, ckpt)?;
    for (id, v) in store.ids().collect::<Vec<_>>().into_iter().zip(values) {
        store.set(id, v);
    }
    Ok(step)
}

/// Saves [`training_checkpoint`] to `path` (atomically).
///
/// # Errors
/// `Io` if writing fails.
pub fn save_training(
    path: impl AsRef<Path>,
    store: &ParamStore,
    opt: &dyn Optimizer,
    step: u64,
) -> Result<()> {
    training_checkpoint(store, opt, step).save(path)
}

/// Loads `path` and [`restore_training`]s from it.
///
/// # Errors
/// `Io` if reading fails; `InvalidInput` for a corrupted file or mismatched names/shapes.
pub fn load_training(
    path: impl AsRef<Path>,
    store: &mut ParamStore,
    opt: &mut dyn Optimizer,
) -> Result<u64> {
    restore_training(&Checkpoint::load(path)?, store, opt)
}
