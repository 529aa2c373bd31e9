//! The reverse sweep: first-order gradients into tensors ([`Var::backward`],
//! [`Tape::gradients`]) and gradients recorded on the tape ([`Tape::grad`]), which can be
//! differentiated again.
//!
//! Both walk the same plan. A node takes part only if it lies on a path from a requested input to
//! a requested output; for every other node no VJP runs, and a VJP is told which of its inputs
//! need a gradient (`needs`), so a matmul against constant data never forms the data's gradient.
//!
//! The first-order sweep turns recording off and runs each VJP on the same tape, reads the
//! resulting tensors and truncates the tape back, so it leaves nothing behind and keeps only the
//! gradients still to be propagated.

use super::op::VjpArgs;
use super::tape::{RecordingGuard, Tape, Var};
use crate::tensor::{kernels, Tensor};
use smallvec::SmallVec;
use std::rc::Rc;

/// First-order gradients from [`Var::backward`], looked up by the `Var` they belong to.
pub struct Gradients {
    grads: Vec<Option<Tensor>>,
}

impl Gradients {
    /// The gradient with respect to `v`, or `None` if no path leads from `v` to the output.
    pub fn get(&self, v: Var<'_>) -> Option<&Tensor> {
        self.grads.get(v.id).and_then(|g| g.as_ref())
    }

    /// The gradient with respect to `v`, zeros of its shape if no path leads from `v`.
    pub fn wrt(&self, v: Var<'_>) -> Tensor {
        self.get(v)
            .cloned()
            .unwrap_or_else(|| Tensor::zeros(&v.shape()))
    }

    /// Returns `Err(NonFinite)` if any gradient holds NaN or ±∞.
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) naming the first offending node.
    pub fn check_finite(&self) -> crate::Result<()> {
        match self
            .grads
            .iter()
            .position(|g| g.as_ref().is_some_and(|t| t.has_non_finite()))
        {
            Some(id) => Err(crate::Error::NonFinite {
                op: "backward".into(),
                what: format!("the gradient of node %{id}"),
            }),
            None => Ok(()),
        }
    }
}

/// Which nodes the sweep visits.
struct Plan {
    /// `reach[i]`: node `i` depends on a requested input (or is one).
    reach: Vec<bool>,
    /// `active[i]`: node `i` also leads to a requested output.
    active: Vec<bool>,
    lo: usize,
}

impl Tape {
    fn plan(&self, outputs: &[usize], inputs: Option<&[usize]>) -> Plan {
        let nodes = self.nodes.borrow();
        let hi = outputs.iter().copied().max().map_or(0, |m| m + 1);
        let mut reach = vec![false; hi];
        let lo = match inputs {
            Some(ids) => {
                for &i in ids.iter().filter(|&&i| i < hi) {
                    reach[i] = true;
                }
                ids.iter().copied().min().unwrap_or(hi)
            }
            None => 0,
        };
        for i in lo..hi {
            let n = &nodes[i];
            reach[i] = reach[i]
                || match inputs {
                    None => n.requires_grad,
                    Some(_) => n.op.is_some() && n.parents.iter().any(|&p| reach[p]),
                };
        }
        let mut active = vec![false; hi];
        for &o in outputs {
            active[o] = reach[o];
        }
        for i in (lo..hi).rev() {
            if active[i] && nodes[i].op.is_some() {
                for &p in &nodes[i].parents {
                    active[p] |= reach[p];
                }
            }
        }
        Plan { reach, active, lo }
    }

    /// Runs the VJP of node `id` with upstream gradient `grad`; returns `(parent, gradient)` pairs.
    fn node_vjp<'t>(
        &'t self,
        id: usize,
        grad: Var<'t>,
        reach: &[bool],
    ) -> SmallVec<[(usize, Var<'t>); 2]> {
        let (op, parents) = {
            let nodes = self.nodes.borrow();
            let n = &nodes[id];
            match &n.op {
                Some(op) => (Rc::clone(op), n.parents.clone()),
                None => return SmallVec::new(),
            }
        };
        let inputs: SmallVec<[Var<'t>; 3]> =
            parents.iter().map(|&p| Var { tape: self, id: p }).collect();
        let needs: SmallVec<[bool; 3]> = parents.iter().map(|&p| reach[p]).collect();
        let args = VjpArgs {
            inputs: &inputs,
            output: Var { tape: self, id },
            grad,
            needs: &needs,
        };
        let result = op.vjp(&args);
        assert_eq!(
            result.len(),
            parents.len(),
            "{}: VJP returned {} gradients for {} inputs",
            op.name(),
            result.len(),
            parents.len()
        );
        let mut out = SmallVec::new();
        for ((g, &p), &need) in result.into_iter().zip(&parents).zip(&needs) {
            if let (Some(g), true) = (g, need) {
                let nodes = self.nodes.borrow();
                let (gs, ps) = (nodes[g.id].value.shape(), nodes[p].value.shape());
                assert!(
                    gs == ps,
                    "{}: VJP gave a gradient of shape {gs:?} for an input of shape {ps:?}",
                    op.name()
                );
                out.push((p, g));
            }
        }
        out
    }

    /// First-order gradients of `Σ seedᵢ·outputᵢ` with respect to `inputs` (or, if `None`, every
    /// trainable leaf), as tensors. Seeds default to ones.
    fn sweep_tensors(
        &self,
        outputs: &[Var<'_>],
        seeds: Option<&[Tensor]>,
        inputs: Option<&[usize]>,
    ) -> Vec<Option<Tensor>> {
        let out_ids: Vec<usize> = outputs.iter().map(|v| v.id).collect();
        let plan = self.plan(&out_ids, inputs);
        let mut grads: Vec<Option<Tensor>> = vec![None; plan.reach.len()];
        for (k, v) in outputs.iter().enumerate() {
            let seed = match seeds {
                Some(s) => s[k].clone(),
                None => Tensor::ones(&v.shape()),
            };
            accumulate_tensor(&mut grads[v.id], seed);
        }
        let keep: Vec<bool> = match inputs {
            Some(ids) => {
                let mut keep = vec![false; grads.len()];
                for &i in ids.iter().filter(|&&i| i < grads.len()) {
                    keep[i] = true;
                }
                keep
            }
            None => {
                let nodes = self.nodes.borrow();
                (0..grads.len())
                    .map(|i| plan.reach[i] && nodes[i].op.is_none())
                    .collect()
            }
        };
        let _guard = RecordingGuard::set(self, false);
        let mark = self.len();
        for id in (plan.lo..grads.len()).rev() {
            if !plan.active[id] {
                continue;
            }
            let Some(g) = (if keep[id] {
                grads[id].clone()
            } else {
                grads[id].take()
            }) else {
                continue;
            };
            let gvar = self.constant(g);
            for (p, gp) in self.node_vjp(id, gvar, &plan.reach) {
                let t = gp.value();
                accumulate_tensor(&mut grads[p], t);
            }
            self.truncate(mark);
        }
        grads
    }

    /// First-order gradients of `Σ outputs` (or `Σ seedᵢ·outputᵢ`) with respect to `inputs`, as
    /// tensors; nothing is left on the tape. Inputs that no output depends on get zeros.
    ///
    /// # Panics
    /// If `seeds` is given with a different count or shapes than `outputs`.
    #[track_caller]
    pub fn gradients(
        &self,
        outputs: &[Var<'_>],
        seeds: Option<&[Tensor]>,
        inputs: &[Var<'_>],
    ) -> Vec<Tensor> {
        check_seeds(
            outputs,
            seeds.map(|s| s.iter().map(|t| t.shape().to_vec()).collect()),
        );
        let ids: Vec<usize> = inputs.iter().map(|v| v.id).collect();
        let grads = self.sweep_tensors(outputs, seeds, Some(&ids));
        inputs
            .iter()
            .map(|v| {
                grads
                    .get(v.id)
                    .and_then(|g| g.clone())
                    .unwrap_or_else(|| Tensor::zeros(&v.shape()))
            })
            .collect()
    }

    /// Gradients of `Σ outputs` with respect to `inputs`, **recorded on the tape**: the results
    /// are `Var`s that can be used in further computation and differentiated again (Hessian–
    /// vector products, gradient penalties, PDE residuals).
    ///
    /// ```
    /// use physgrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::scalar(0.5));
    /// let y = x.sin() * x;                       // y = x sin x
    /// let dy = tape.grad(&[y], &[x])[0];         // sin x + x cos x
    /// let d2y = tape.grad(&[dy], &[x])[0];       // 2 cos x − x sin x
    /// assert!((d2y.item() - (2.0 * 0.5f64.cos() - 0.5 * 0.5f64.sin())).abs() < 1e-15);
    /// ```
    pub fn grad<'t>(&'t self, outputs: &[Var<'t>], inputs: &[Var<'t>]) -> Vec<Var<'t>> {
        let seeds: Vec<Var<'t>> = outputs
            .iter()
            .map(|v| self.constant(Tensor::ones(&v.shape())))
            .collect();
        self.grad_with_seeds(outputs, &seeds, inputs)
    }

    /// Like [`Tape::grad`] for `Σ ⟨seedᵢ, outputᵢ⟩`. Seeds may themselves be on the tape, which
    /// makes the result differentiable with respect to them (a JVP by the transpose trick).
    ///
    /// # Panics
    /// If the seeds do not match the outputs in count and shapes.
    #[track_caller]
    pub fn grad_with_seeds<'t>(
        &'t self,
        outputs: &[Var<'t>],
        seeds: &[Var<'t>],
        inputs: &[Var<'t>],
    ) -> Vec<Var<'t>> {
        check_seeds(
            outputs,
            Some(seeds.iter().map(|s| s.shape().to_vec()).collect()),
        );
        let out_ids: Vec<usize> = outputs.iter().map(|v| v.id).collect();
        let in_ids: Vec<usize> = inputs.iter().map(|v| v.id).collect();
        let plan = self.plan(&out_ids, Some(&in_ids));
        let mut grads: Vec<Option<Var<'t>>> = vec![None; plan.reach.len()];
        for (v, &s) in outputs.iter().zip(seeds) {
            accumulate_var(&mut grads[v.id], s);
        }
        for id in (plan.lo..grads.len()).rev() {
            if !plan.active[id] {
                continue;
            }
            if let Some(g) = grads[id] {
                for (p, gp) in self.node_vjp(id, g, &plan.reach) {
                    accumulate_var(&mut grads[p], gp);
                }
            }
        }
        inputs
            .iter()
            .map(|v| {
                grads
                    .get(v.id)
                    .copied()
                    .flatten()
                    .unwrap_or_else(|| self.constant(Tensor::zeros(&v.shape())))
            })
            .collect()
    }
}

impl<'t> Var<'t> {
    /// First-order gradients of `Σ self` (the value itself for a scalar loss) with respect to
    /// every trainable leaf that it depends on. Records nothing on the tape.
    pub fn backward(self) -> Gradients {
        Gradients {
            grads: self.tape.sweep_tensors(&[self], None, None),
        }
    }
}

#[track_caller]
fn check_seeds(outputs: &[Var<'_>], seeds: Option<Vec<Vec<usize>>>) {
    if let Some(shapes) = seeds {
        assert_eq!(
            shapes.len(),
            outputs.len(),
            "grad: {} seeds for {} outputs",
            shapes.len(),
            outputs.len()
        );
        for (o, s) in outputs.iter().zip(&shapes) {
            assert!(
                o.shape().as_slice() == s.as_slice(),
                "grad: seed of shape {s:?} for an output of shape {:?}",
                o.shape().as_slice()
            );
        }
    }
}

/// `slot += g`, in place in whichever operand is not shared with another handle (a VJP often
/// passes its upstream gradient on unchanged, so the stored one may also be a tape value);
/// a new buffer when both are.
fn accumulate_tensor(slot: &mut Option<Tensor>, mut g: Tensor) {
    let Some(acc) = slot else {
        *slot = Some(g);
        return;
    };
    if let Some(a) = acc.unique_data_mut() {
        for (a, b) in a.iter_mut().zip(g.data()) {
            *a += b;
        }
    } else if let Some(b) = g.unique_data_mut() {
        // Floating-point addition commutes: the same bits as accumulating into `acc`.
        for (b, a) in b.iter_mut().zip(acc.data()) {
            *b += a;
        }
        *acc = g;
    } else {
        *acc = kernels::binary("accumulate", acc, &g, |a, b| a + b);
    }
}

fn accumulate_var<'t>(slot: &mut Option<Var<'t>>, g: Var<'t>) {
    *slot = Some(match *slot {
        None => g,
        Some(acc) => acc + g,
    });
}
