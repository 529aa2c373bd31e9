//! The [`Op`] trait shared by built-in and custom operations.

use super::Var;
use crate::error::Result;
use crate::tensor::Tensor;

/// One operation on the tape: a forward map on tensors and its vector–Jacobian product.
///
/// The VJP is written with [`Var`] operations. When gradients are requested with
/// [`Tape::grad`](super::Tape::grad) those operations are recorded, so the gradient is itself
/// differentiable and higher derivatives need no further rules. When only first derivatives are
/// needed ([`Var::backward`]) the same rule runs without recording anything.
///
/// Built-in ops implement this trait exactly as a user's custom op does.
///
/// # Example: a custom op `y = x³` whose VJP is `ḡ·3x²`
///
/// ```
/// use physgrad::{Op, Tape, Tensor, Var, VjpArgs, Result};
///
/// struct Cube;
/// impl Op for Cube {
///     fn name(&self) -> &str { "cube" }
///     fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
///         Ok(inputs[0].map(|x| x * x * x))
///     }
///     fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
///         let x = args.inputs[0];
///         vec![Some(args.grad * x * x * 3.0)]
///     }
/// }
///
/// let tape = Tape::new();
/// let x = tape.var(Tensor::scalar(2.0));
/// let y = tape.apply(Cube, &[x]).unwrap();
/// let dy = tape.grad(&[y], &[x])[0];          // 3x² = 12, itself on the tape
/// let d2y = tape.grad(&[dy], &[x])[0];        // 6x = 12
/// assert_eq!((dy.item(), d2y.item()), (12.0, 12.0));
/// ```
pub trait Op: 'static {
    /// A short name used in error messages and tape dumps.
    fn name(&self) -> &str;

    /// Computes the output from the input values. Called once, when the op is recorded; an op may
    /// keep state computed here (a factorisation, say) for its VJP.
    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor>;

    /// The vector–Jacobian product: given `ḡ = ∂L/∂output`, returns `∂L/∂inputᵢ` for each input,
    /// each with that input's shape. Entry `i` may be `None` when `args.needs[i]` is false (the
    /// input does not lead to anything requested) or when the input has no derivative.
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>>;
}

/// What a VJP rule receives.
pub struct VjpArgs<'a, 't> {
    /// The op's inputs, on the tape the rule must compute with.
    pub inputs: &'a [Var<'t>],
    /// The op's output value.
    pub output: Var<'t>,
    /// The upstream gradient `ḡ`, with the output's shape.
    pub grad: Var<'t>,
    /// `needs[i]` is true when the gradient of input `i` is wanted.
    pub needs: &'a [bool],
}

impl VjpArgs<'_, '_> {
    /// Whether the gradient of input `i` is wanted.
    pub fn needs(&self, i: usize) -> bool {
        self.needs[i]
    }
}
