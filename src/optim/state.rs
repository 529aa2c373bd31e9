//! Per-parameter optimiser state (a step count and named buffers of the parameter's size), and
//! its exact round trip through a checkpoint.

use crate::error::{Error, Result};
use crate::nn::{Checkpoint, Grads, ParamId, ParamStore};
use crate::tensor::Tensor;

/// The state of one parameter.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Updates applied so far.
    pub(crate) step: u64,
    /// One buffer per slot, each with the parameter's length.
    pub(crate) bufs: Vec<Vec<f64>>,
}

/// Per-parameter state indexed by [`ParamId`], with fixed slot names.
#[derive(Clone, Debug)]
pub(crate) struct Slots {
    kind: &'static str,
    names: &'static [&'static str],
    per: Vec<Option<Entry>>,
}

impl Slots {
    pub(crate) fn new(kind: &'static str, names: &'static [&'static str]) -> Slots {
        Slots {
            kind,
            names,
            per: Vec::new(),
        }
    }

    /// The state of `id`, created with zero buffers of length `len` on first use.
    pub(crate) fn entry(&mut self, id: ParamId, len: usize) -> &mut Entry {
        if self.per.len() <= id.0 {
            self.per.resize(id.0 + 1, None);
        }
        let k = self.names.len();
        self.per[id.0].get_or_insert_with(|| Entry {
            step: 0,
            bufs: vec![vec![0.0; len]; k],
        })
    }

    fn key(&self, param: &str, slot: &str) -> String {
        format!("optim:{}:{}:{}", self.kind, param, slot)
    }

    /// Writes `optim:{kind}:{param}:step` and one entry per slot, plus `optim:{kind}:lr`.
    pub(crate) fn save(&self, store: &ParamStore, lr: f64, ckpt: &mut Checkpoint) {
        ckpt.insert(&format!("optim:{}:lr", self.kind), Tensor::scalar(lr));
        for (i, e) in self.per.iter().enumerate() {
            let Some(e) = e else { continue };
            let id = ParamId(i);
            let name = store.name(id);
            ckpt.insert(&self.key(name, "step"), Tensor::scalar(e.step as f64));
            let shape = store.get(id).shape();
            for (slot, buf) in self.names.iter().zip(&e.bufs) {
                ckpt.insert(&self.key(name, slot), Tensor::from_vec(buf.clone(), shape));
            }
        }
    }

    /// Reads what [`Slots::save`] wrote; returns the learning rate. All or nothing.
    pub(crate) fn load(&mut self, store: &ParamStore, ckpt: &Checkpoint) -> Result<f64> {
        let bad = |detail: String| Error::InvalidInput {
            op: format!("{} load_state", self.kind),
            detail,
        };
        let lr_key = format!("optim:{}:lr", self.kind);
        let lr = ckpt
            .get(&lr_key)
            .filter(|t| t.len() == 1)
            .ok_or_else(|| bad(format!("missing {lr_key}")))?
            .item();
        let mut per = vec![None; store.len()];
        let mut used = 1;
        for id in store.ids() {
            let name = store.name(id);
            let Some(step) = ckpt.get(&self.key(name, "step")) else {
                continue;
            };
            if step.len() != 1 {
                return Err(bad(format!("the step count of {name} is not a scalar")));
            }
            used += 1;
            let shape = store.get(id).shape();
            let mut bufs = Vec::new();
            for slot in self.names {
                let key = self.key(name, slot);
                let t = ckpt
                    .get(&key)
                    .ok_or_else(|| bad(format!("missing {key}")))?;
                if t.shape() != shape {
                    return Err(bad(format!(
                        "{key} has shape {:?}, parameter {:?}",
                        t.shape(),
                        shape
                    )));
                }
                bufs.push(t.data().to_vec());
                used += 1;
            }
            per[id.0] = Some(Entry {
                step: step.item() as u64,
                bufs,
            });
        }
        let prefix = format!("optim:{}:", self.kind);
        let total = ckpt.names().filter(|n| n.starts_with(&prefix)).count();
        if total != used {
            return Err(bad(format!(
                "{} state entries for parameters not in the store",
                total - used
            )));
        }
        self.per = per;
        Ok(lr)
    }
}

/// Checks that gradients are finite and match the store's shapes.
///
/// # Panics
/// If a gradient's shape differs from its parameter's (a programmer error).
pub(crate) fn check_grads(op: &str, store: &ParamStore, grads: &Grads) -> Result<()> {
    for (id, g) in grads.ids.iter().zip(&grads.tensors) {
        assert_eq!(
            g.shape(),
            store.get(*id).shape(),
            "{op}: gradient shape for {:?}",
            store.name(*id)
        );
        if g.has_non_finite() {
            return Err(Error::NonFinite {
                op: op.into(),
                what: format!("the gradient of {}", store.name(*id)),
            });
        }
    }
    Ok(())
}
