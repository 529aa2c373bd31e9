//! The tape: an append-only arena of nodes, and [`Var`], a `Copy` handle to one node.

use super::op::Op;
use crate::error::Result;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

/// One recorded value. Leaves and constants have no op.
pub(crate) struct Node {
    pub(crate) value: Tensor,
    pub(crate) op: Option<Rc<dyn Op>>,
    pub(crate) parents: SmallVec<[usize; 2]>,
    /// True for trainable leaves and for every op node with a parent that requires grad.
    pub(crate) requires_grad: bool,
}

/// An append-only record of a computation, from which gradients of any order are taken.
///
/// Nodes are only ever appended; a node's value never changes after it is recorded. A [`Var`]
/// borrows the tape, so [`Tape::clear`] (which needs `&mut self`) cannot leave a dangling `Var`.
///
/// ```
/// use physgrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let w = tape.var(Tensor::from_vec(vec![1.0, -2.0], &[2]));
/// let loss = (w * w).sum();               // ‖w‖²
/// let grads = loss.backward();
/// assert_eq!(grads.wrt(w).data(), &[2.0, -4.0]);
/// ```
pub struct Tape {
    pub(crate) nodes: RefCell<Vec<Node>>,
    recording: Cell<bool>,
}

impl Default for Tape {
    fn default() -> Self {
        Tape::new()
    }
}

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes = self.nodes.borrow();
        writeln!(f, "Tape ({} nodes)", nodes.len())?;
        for (i, n) in nodes.iter().enumerate() {
            let kind = match (&n.op, n.requires_grad) {
                (Some(op), _) => op.name().to_string(),
                (None, true) => "var".to_string(),
                (None, false) => "const".to_string(),
            };
            writeln!(
                f,
                "  %{i} = {kind}{:?} {:?}",
                n.parents.as_slice(),
                n.value.shape()
            )?;
        }
        Ok(())
    }
}

/// A handle to one value on a [`Tape`]: `Copy`, so expressions read like the maths.
#[derive(Clone, Copy)]
pub struct Var<'t> {
    pub(crate) tape: &'t Tape,
    pub(crate) id: usize,
}

impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var(%{}) {:?}", self.id, self.value())
    }
}

impl Tape {
    /// An empty tape, recording.
    pub fn new() -> Tape {
        Tape {
            nodes: RefCell::new(Vec::with_capacity(256)),
            recording: Cell::new(true),
        }
    }

    /// The number of recorded nodes.
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every node, keeping the allocation; no `Var` can outlive this (it borrows the tape).
    pub fn clear(&mut self) {
        self.nodes.get_mut().clear();
        self.recording.set(true);
    }

    /// Whether ops currently record their inputs (false inside [`Tape::no_grad`]).
    pub fn is_recording(&self) -> bool {
        self.recording.get()
    }

    /// A trainable leaf: gradients are taken with respect to it.
    pub fn var(&self, value: Tensor) -> Var<'_> {
        self.push(value, None, SmallVec::new(), true)
    }

    /// A constant: no gradient flows into it.
    pub fn constant(&self, value: Tensor) -> Var<'_> {
        self.push(value, None, SmallVec::new(), false)
    }

    /// A rank-0 constant.
    pub fn scalar(&self, value: f64) -> Var<'_> {
        self.constant(Tensor::scalar(value))
    }

    /// Runs `f` with recording off: every value it computes is a constant. Nests; the previous
    /// state is restored even if `f` panics.
    pub fn no_grad<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = RecordingGuard::set(self, false);
        f()
    }

    /// Records a custom op applied to `inputs` (see [`Op`] for an example).
    ///
    /// # Errors
    /// Whatever the op's forward returns.
    ///
    /// # Panics
    /// If an input belongs to another tape.
    #[track_caller]
    pub fn apply<'t>(&'t self, op: impl Op, inputs: &[Var<'t>]) -> Result<Var<'t>> {
        self.check_inputs(&op, inputs);
        let (value, requires_grad) = self.run_forward(&op, inputs)?;
        Ok(self.push_result(op, inputs, value, requires_grad))
    }

    /// Panics (at the caller's line) if an input lives on another tape.
    #[track_caller]
    fn check_inputs(&self, op: &dyn Op, inputs: &[Var<'_>]) {
        for v in inputs {
            assert!(
                std::ptr::eq(v.tape, self),
                "{}: input %{} belongs to another tape",
                op.name(),
                v.id
            );
        }
    }

    /// The op's output and whether it requires grad. The forward sees the input values in
    /// place: it receives only tensors, so it cannot touch this tape while the borrow is held.
    fn run_forward(&self, op: &dyn Op, inputs: &[Var<'_>]) -> Result<(Tensor, bool)> {
        let nodes = self.nodes.borrow();
        let refs: SmallVec<[&Tensor; 3]> = inputs.iter().map(|v| &nodes[v.id].value).collect();
        let value = op.forward(&refs)?;
        let requires_grad =
            self.recording.get() && inputs.iter().any(|v| nodes[v.id].requires_grad);
        Ok((value, requires_grad))
    }

    /// Appends the node for `op`'s output; the op is kept only if gradients can flow through it.
    fn push_result<'t>(
        &'t self,
        op: impl Op,
        inputs: &[Var<'t>],
        value: Tensor,
        requires_grad: bool,
    ) -> Var<'t> {
        if requires_grad {
            let parents: SmallVec<[usize; 2]> = inputs.iter().map(|v| v.id).collect();
            self.push(value, Some(Rc::new(op)), parents, true)
        } else {
            self.push(value, None, SmallVec::new(), false)
        }
    }

    /// Records a built-in op, whose forward cannot fail on data.
    #[track_caller]
    pub(crate) fn record<'t>(&'t self, op: impl Op, inputs: &[Var<'t>]) -> Var<'t> {
        self.check_inputs(&op, inputs);
        let (value, requires_grad) = self
            .run_forward(&op, inputs)
            .unwrap_or_else(|e| panic!("built-in op {} failed: {e}", op.name()));
        self.push_result(op, inputs, value, requires_grad)
    }

    fn push(
        &self,
        value: Tensor,
        op: Option<Rc<dyn Op>>,
        parents: SmallVec<[usize; 2]>,
        requires_grad: bool,
    ) -> Var<'_> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node {
            value,
            op,
            parents,
            requires_grad,
        });
        Var {
            tape: self,
            id: nodes.len() - 1,
        }
    }

    pub(crate) fn set_recording(&self, on: bool) -> bool {
        self.recording.replace(on)
    }

    pub(crate) fn truncate(&self, len: usize) {
        self.nodes.borrow_mut().truncate(len);
    }
}

/// Sets the recording flag and restores the previous one when dropped.
pub(crate) struct RecordingGuard<'t> {
    tape: &'t Tape,
    previous: bool,
}

impl<'t> RecordingGuard<'t> {
    pub(crate) fn set(tape: &'t Tape, on: bool) -> Self {
        let previous = tape.set_recording(on);
        RecordingGuard { tape, previous }
    }
}

impl Drop for RecordingGuard<'_> {
    fn drop(&mut self) {
        self.tape.set_recording(self.previous);
    }
}

impl<'t> Var<'t> {
    /// The tape this value lives on.
    pub fn tape(self) -> &'t Tape {
        self.tape
    }

    /// The node index on the tape.
    pub fn id(self) -> usize {
        self.id
    }

    /// The value (a cheap reference-counted handle).
    pub fn value(self) -> Tensor {
        self.tape.nodes.borrow()[self.id].value.clone()
    }

    /// The shape of the value.
    pub fn shape(self) -> crate::tensor::Shape {
        crate::tensor::Shape::from_slice(self.tape.nodes.borrow()[self.id].value.shape())
    }

    /// The number of axes.
    pub fn ndim(self) -> usize {
        self.tape.nodes.borrow()[self.id].value.ndim()
    }

    /// The number of elements.
    pub fn len(self) -> usize {
        self.tape.nodes.borrow()[self.id].value.len()
    }

    /// Whether the value has no elements.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The single element of a one-element value.
    ///
    /// # Panics
    /// If the value does not have exactly one element.
    #[track_caller]
    pub fn item(self) -> f64 {
        self.value().item()
    }

    /// Whether gradients can flow into this value.
    pub fn requires_grad(self) -> bool {
        self.tape.nodes.borrow()[self.id].requires_grad
    }

    /// The same value as a constant: gradients stop here.
    pub fn detach(self) -> Var<'t> {
        self.tape.constant(self.value())
    }

    /// Applies a custom op with `self` as its only input (see [`Op`]).
    ///
    /// # Errors
    /// Whatever the op's forward returns.
    pub fn apply(self, op: impl Op) -> Result<Var<'t>> {
        self.tape.apply(op, &[self])
    }

    /// Returns `Err(NonFinite)` naming `what` if the value holds NaN or ±∞: a guard for losses.
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) if any element is NaN or infinite.
    pub fn check_finite(self, what: &str) -> Result<Var<'t>> {
        if self.value().has_non_finite() {
            return Err(crate::Error::NonFinite {
                op: "check_finite".into(),
                what: what.into(),
            });
        }
        Ok(self)
    }
}
