//! Parameters live off the tape in a [`ParamStore`]; each step binds them to a fresh tape.
//!
//! The store is an insertion-ordered list of named tensors (`"gen.layer0.weight"`), so a
//! checkpoint lists them in a stable order. A parameter can be **frozen**: binding then puts it
//! on the tape as a constant, and no gradient is formed for it. [`ParamStore::bind`] gives a
//! [`Bound`] view (one [`Var`] per parameter); after the loss is built,
//! [`Bound::gradients`] runs the first-order sweep and returns [`Grads`] for the trainable
//! parameters, in store order, ready for an optimiser.

use super::init::{param_seed, Fans, Init};
use crate::autodiff::{Tape, Var};
use crate::optim::Optimizer;
use crate::tensor::Tensor;
use std::collections::HashMap;

/// The index of a parameter in its [`ParamStore`] (stable: parameters are never removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub usize);

/// Insertion-ordered named parameters with freezing, seeded initialisation and prefix selection.
#[derive(Clone, Debug)]
pub struct ParamStore {
    seed: u64,
    names: Vec<String>,
    values: Vec<Tensor>,
    frozen: Vec<bool>,
    index: HashMap<String, usize>,
}

impl ParamStore {
    /// An empty store; `seed` determines every initialiser (see [`param_seed`]).
    pub fn new(seed: u64) -> ParamStore {
        ParamStore {
            seed,
            names: Vec::new(),
            values: Vec::new(),
            frozen: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The store seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Adds a parameter initialised by `init` with the given fans, seeded by the store seed and
    /// `name`.
    ///
    /// # Panics
    /// If `name` is already taken.
    #[track_caller]
    pub fn add(&mut self, name: &str, shape: &[usize], init: Init, fans: Fans) -> ParamId {
        let value = init.sample(shape, fans, param_seed(self.seed, name));
        self.add_tensor(name, value)
    }

    /// Adds a parameter with a given value.
    ///
    /// # Panics
    /// If `name` is already taken.
    #[track_caller]
    pub fn add_tensor(&mut self, name: &str, value: Tensor) -> ParamId {
        assert!(
            !self.index.contains_key(name),
            "ParamStore::add: a parameter named {name:?} already exists"
        );
        let id = self.names.len();
        self.index.insert(name.to_string(), id);
        self.names.push(name.to_string());
        self.values.push(value);
        self.frozen.push(false);
        ParamId(id)
    }

    /// Number of parameters (tensors).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Total number of scalar entries.
    pub fn numel(&self) -> usize {
        self.values.iter().map(Tensor::len).sum()
    }

    /// The id of the parameter called `name`.
    pub fn id(&self, name: &str) -> Option<ParamId> {
        self.index.get(name).map(|&i| ParamId(i))
    }

    /// The name of a parameter.
    pub fn name(&self, id: ParamId) -> &str {
        &self.names[id.0]
    }

    /// All names, in insertion order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The value of a parameter.
    pub fn get(&self, id: ParamId) -> &Tensor {
        &self.values[id.0]
    }

    /// Mutable access to a parameter's value (copy-on-write if a tape still shares it).
    pub fn get_mut(&mut self, id: ParamId) -> &mut Tensor {
        &mut self.values[id.0]
    }

    /// Replaces a parameter's value.
    ///
    /// # Panics
    /// If the shape differs.
    #[track_caller]
    pub fn set(&mut self, id: ParamId, value: Tensor) {
        assert_eq!(
            value.shape(),
            self.values[id.0].shape(),
            "ParamStore::set: shape of {:?}",
            self.names[id.0]
        );
        self.values[id.0] = value;
    }

    /// All ids, in insertion order.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> {
        (0..self.names.len()).map(ParamId)
    }

    /// Ids of the parameters whose name starts with `prefix` (a group such as `"critic."`).
    pub fn select(&self, prefix: &str) -> Vec<ParamId> {
        self.ids()
            .filter(|id| self.names[id.0].starts_with(prefix))
            .collect()
    }

    /// Freezes (or unfreezes) every parameter whose name starts with `prefix`; returns how many
    /// matched. Frozen parameters are bound as constants and receive no gradient.
    pub fn set_frozen(&mut self, prefix: &str, frozen: bool) -> usize {
        let ids = self.select(prefix);
        for id in &ids {
            self.frozen[id.0] = frozen;
        }
        ids.len()
    }

    /// Whether a parameter is frozen.
    pub fn is_frozen(&self, id: ParamId) -> bool {
        self.frozen[id.0]
    }

    /// Puts every parameter on `tape`: trainable ones as leaves, frozen ones as constants.
    pub fn bind<'t>(&self, tape: &'t Tape) -> Bound<'t> {
        self.bind_where(tape, |_| true)
    }

    /// Like [`ParamStore::bind`], training only the unfrozen parameters whose name starts with
    /// `prefix`; all others are constants (one InvNet phase: `store.bind_only(&tape, "gen.")`).
    pub fn bind_only<'t>(&self, tape: &'t Tape, prefix: &str) -> Bound<'t> {
        self.bind_where(tape, |name| name.starts_with(prefix))
    }

    /// Binds given `Var`s, one per parameter in store order, all counted as trainable: for
    /// checking a model's gradients with respect to its parameters
    /// ([`check_grad`](crate::testing::check_grad) passes its inputs as `Var`s).
    ///
    /// # Panics
    /// If the count or a shape does not match the store.
    #[track_caller]
    pub fn bind_vars<'t>(&self, vars: &[Var<'t>]) -> Bound<'t> {
        assert_eq!(
            vars.len(),
            self.len(),
            "ParamStore::bind_vars: {} vars for {} parameters",
            vars.len(),
            self.len()
        );
        for (v, t) in vars.iter().zip(&self.values) {
            assert_eq!(
                v.shape().as_slice(),
                t.shape(),
                "ParamStore::bind_vars: shape mismatch"
            );
        }
        Bound {
            vars: vars.to_vec(),
            trainable: self.ids().collect(),
        }
    }

    /// The parameter values in store order (cheap handles).
    pub fn values(&self) -> &[Tensor] {
        &self.values
    }

    fn bind_where<'t>(&self, tape: &'t Tape, train: impl Fn(&str) -> bool) -> Bound<'t> {
        let mut vars = Vec::with_capacity(self.len());
        let mut trainable = Vec::new();
        for (i, v) in self.values.iter().enumerate() {
            if !self.frozen[i] && train(&self.names[i]) {
                trainable.push(ParamId(i));
                vars.push(tape.var(v.clone()));
            } else {
                vars.push(tape.constant(v.clone()));
            }
        }
        Bound { vars, trainable }
    }

    /// One training step: binds the store to a fresh tape, builds the loss with `loss`, takes
    /// the gradients of the trainable parameters, drops the tape and lets `opt` update the
    /// store. Returns the loss value.
    ///
    /// ```
    /// use physgrad::nn::{MlpConfig, Module, ParamStore};
    /// use physgrad::optim::{Sgd, SgdConfig};
    /// use physgrad::Tensor;
    ///
    /// let mut store = ParamStore::new(1);
    /// let net = MlpConfig::new(&[2, 8, 1]).build(&mut store, "net");
    /// let (x, y) = (Tensor::randn(&[16, 2], 0), Tensor::randn(&[16, 1], 1));
    /// let mut opt = Sgd::new(SgdConfig { lr: 0.05, ..SgdConfig::default() });
    /// let first = store.step(&mut opt, |tape, p| {
    ///     net.forward(p, tape.constant(x.clone())).mse(tape.constant(y.clone()))
    /// }).unwrap();
    /// # let mut last = first;
    /// # for _ in 0..50 {
    /// #     last = store.step(&mut opt, |tape, p| {
    /// #         net.forward(p, tape.constant(x.clone())).mse(tape.constant(y.clone()))
    /// #     }).unwrap();
    /// # }
    /// # assert!(last < first);
    /// ```
    ///
    /// # Errors
    /// `NonFinite` if the loss is NaN or infinite (nothing is updated), or the optimiser's error.
    pub fn step<F>(&mut self, opt: &mut dyn Optimizer, loss: F) -> crate::Result<f64>
    where
        F: for<'t> FnOnce(&'t Tape, &Bound<'t>) -> Var<'t>,
    {
        let (value, grads) = {
            let tape = Tape::new();
            let p = self.bind(&tape);
            let l = loss(&tape, &p).check_finite("loss")?;
            (l.value().sum_all(), p.gradients(l))
        };
        opt.step(self, &grads)?;
        Ok(value)
    }

    /// One data-parallel optimiser step: shard `k` of `weights.len()` evaluates
    /// `loss(k, tape, p)` on its own thread and tape; the step uses `Σₖ wₖ Lₖ` and its gradient
    /// `Σₖ wₖ ∇Lₖ`. With the batch split in shards of `nₖ` rows and `wₖ = nₖ/n`, a mean loss gives
    /// the same value and gradient as [`ParamStore::step`] on the whole batch (up to rounding),
    /// in about `1/shards` of the time on as many free cores. Returns the weighted loss.
    ///
    /// # Errors
    /// `NonFinite` if a shard's loss is NaN or infinite (nothing is updated), or the optimiser's
    /// error.
    ///
    /// # Panics
    /// If `weights` is empty, or if a shard's closure panics.
    #[track_caller]
    pub fn step_sharded<F>(
        &mut self,
        opt: &mut dyn Optimizer,
        weights: &[f64],
        loss: F,
    ) -> crate::Result<f64>
    where
        F: for<'t> Fn(usize, &'t Tape, &Bound<'t>) -> Var<'t> + Sync,
    {
        self.step_sharded_on(opt, weights, weights.len(), loss)
    }

    /// [`ParamStore::step_sharded`] with the shards dealt to at most `threads` threads (shard
    /// `k` on thread `k mod threads`; 1 runs them one after the other on the calling thread).
    /// More shards than threads is micro-batching: each shard's tape holds only its rows, so a
    /// large batch's intermediates stay in cache (and peak memory falls) for the same value and
    /// gradient up to rounding.
    ///
    /// # Errors
    /// As [`ParamStore::step_sharded`].
    ///
    /// # Panics
    /// If `weights` is empty, or if a shard's closure panics.
    #[track_caller]
    pub fn step_sharded_on<F>(
        &mut self,
        opt: &mut dyn Optimizer,
        weights: &[f64],
        threads: usize,
        loss: F,
    ) -> crate::Result<f64>
    where
        F: for<'t> Fn(usize, &'t Tape, &Bound<'t>) -> Var<'t> + Sync,
    {
        assert!(
            !weights.is_empty(),
            "ParamStore::step_sharded: no shards (weights is empty)"
        );
        let this = &*self;
        let shard = |k: usize| -> crate::Result<(f64, Grads)> {
            let tape = Tape::new();
            let p = this.bind(&tape);
            let l = loss(k, &tape, &p).check_finite("loss")?;
            Ok((l.value().sum_all(), p.gradients(l)))
        };
        // Shard 0 on the calling thread.
        let results =
            crate::parallel::ordered_map("ParamStore::step_sharded", weights.len(), threads, shard);
        let mut value = 0.0;
        let mut total: Option<Grads> = None;
        for (r, &w) in results.into_iter().zip(weights) {
            let (v, mut g) = r?;
            value += w * v;
            match &mut total {
                None => {
                    g.scale(w);
                    total = Some(g);
                }
                Some(t) => t.add_scaled(&g, w),
            }
        }
        opt.step(self, &total.expect("at least one shard"))?;
        Ok(value)
    }

    /// Flattens the given parameters into one vector (in the order of `ids`).
    pub fn flat(&self, ids: &[ParamId]) -> Vec<f64> {
        let mut out = Vec::new();
        for id in ids {
            out.extend_from_slice(self.values[id.0].data());
        }
        out
    }

    /// Writes a flat vector (as produced by [`ParamStore::flat`]) back into the parameters.
    ///
    /// # Panics
    /// If the length does not match.
    #[track_caller]
    pub fn set_flat(&mut self, ids: &[ParamId], flat: &[f64]) {
        let total: usize = ids.iter().map(|id| self.values[id.0].len()).sum();
        assert_eq!(total, flat.len(), "ParamStore::set_flat: length mismatch");
        let mut at = 0;
        for id in ids {
            let dst = self.values[id.0].data_mut();
            let n = dst.len();
            dst.copy_from_slice(&flat[at..at + n]);
            at += n;
        }
    }
}

/// A [`ParamStore`] bound to one tape: one [`Var`] per parameter.
pub struct Bound<'t> {
    vars: Vec<Var<'t>>,
    trainable: Vec<ParamId>,
}

impl<'t> Bound<'t> {
    /// The `Var` of a parameter.
    pub fn var(&self, id: ParamId) -> Var<'t> {
        self.vars[id.0]
    }

    /// The trainable parameters of this binding, in store order.
    pub fn trainable(&self) -> &[ParamId] {
        &self.trainable
    }

    /// The trainable parameters' `Var`s, in store order (for [`Tape::grad`] when a gradient
    /// penalty or another higher-order term is needed).
    pub fn trainable_vars(&self) -> Vec<Var<'t>> {
        self.trainable.iter().map(|id| self.vars[id.0]).collect()
    }

    /// First-order gradients of `loss` (summed if not scalar) with respect to every trainable
    /// parameter; nothing is left on the tape.
    pub fn gradients(&self, loss: Var<'t>) -> Grads {
        let vars = self.trainable_vars();
        let tensors = loss.tape().gradients(&[loss], None, &vars);
        Grads {
            ids: self.trainable.clone(),
            tensors,
        }
    }
}

/// Gradients of a loss with respect to some parameters of a store, in store order.
#[derive(Clone, Debug)]
pub struct Grads {
    /// The parameters.
    pub ids: Vec<ParamId>,
    /// `∂L/∂pᵢ` for each `ids[i]`, with that parameter's shape.
    pub tensors: Vec<Tensor>,
}

impl Grads {
    /// The gradient of parameter `id`, if it is among these gradients.
    pub fn get(&self, id: ParamId) -> Option<&Tensor> {
        self.ids
            .iter()
            .position(|&i| i == id)
            .map(|k| &self.tensors[k])
    }

    /// The global Euclidean norm `√(Σᵢ ‖gᵢ‖²)`.
    pub fn norm(&self) -> f64 {
        self.tensors
            .iter()
            .map(|t| t.data().iter().map(|v| v * v).sum::<f64>())
            .sum::<f64>()
            .sqrt()
    }

    /// Returns `Err(NonFinite)` if any gradient holds NaN or ±∞.
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) naming the first offending parameter id.
    pub fn check_finite(&self) -> crate::Result<()> {
        match self.tensors.iter().position(Tensor::has_non_finite) {
            Some(k) => Err(crate::Error::NonFinite {
                op: "gradients".into(),
                what: format!("the gradient of parameter #{}", self.ids[k].0),
            }),
            None => Ok(()),
        }
    }

    /// Multiplies every gradient by `s` in place.
    pub fn scale(&mut self, s: f64) {
        for t in &mut self.tensors {
            t.data_mut().iter_mut().for_each(|v| *v *= s);
        }
    }

    /// Adds `s · other` in place: the gradient of `L + s·M` from those of `L` (self) and `M`.
    ///
    /// # Panics
    /// If `other` is over different parameters or shapes (gradients of another store or
    /// another set of trainable parameters).
    #[track_caller]
    pub fn add_scaled(&mut self, other: &Grads, s: f64) {
        assert_eq!(
            self.ids, other.ids,
            "Grads::add_scaled: the gradients are over different parameters"
        );
        for (a, b) in self.tensors.iter_mut().zip(&other.tensors) {
            assert_eq!(
                a.shape(),
                b.shape(),
                "Grads::add_scaled: shapes {:?} and {:?} differ",
                a.shape(),
                b.shape()
            );
            a.data_mut()
                .iter_mut()
                .zip(b.data())
                .for_each(|(x, y)| *x += s * y);
        }
    }
}
