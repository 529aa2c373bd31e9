//! Functions built from the primitives, with no derivative code of their own: their gradients
//! (of every order) follow from the primitives' VJPs.

use crate::autodiff::Var;

impl<'t> Var<'t> {
    /// `x²`.
    pub fn square(self) -> Var<'t> {
        self * self
    }

    /// The logistic function `1/(1 + e⁻ˣ)`, computed as `½(1 + tanh(x/2))`, which neither
    /// overflows nor loses its derivative for large `|x|`.
    pub fn sigmoid(self) -> Var<'t> {
        ((self * 0.5).tanh() + 1.0) * 0.5
    }

    /// `ln(1 + eˣ)`, computed as `max(x, 0) + ln(1 + e^{−|x|})` so it is exact for large `|x|`.
    pub fn softplus(self) -> Var<'t> {
        let zero = self.tape.scalar(0.0);
        self.maximum(zero) + ((-self.abs()).exp() + 1.0).ln()
    }

    /// `max(x, 0)`, with derivative 0 at `x = 0`.
    pub fn relu(self) -> Var<'t> {
        let zero = self.tape.scalar(0.0);
        Var::select(&self.gt(zero), self, zero)
    }

    /// `x` for `x > 0`, `slope·x` otherwise.
    pub fn leaky_relu(self, slope: f64) -> Var<'t> {
        let zero = self.tape.scalar(0.0);
        Var::select(&self.gt(zero), self, self * slope)
    }

    /// `x·σ(x)` (the swish / SiLU activation).
    pub fn silu(self) -> Var<'t> {
        self * self.sigmoid()
    }

    /// `ln Σ exp(x)` over `axes`, shifted by the (detached) maximum for stability; the shift
    /// cancels exactly, so the gradient is the softmax.
    #[track_caller]
    pub fn logsumexp(self, axes: &[usize], keepdim: bool) -> Var<'t> {
        let m = self.max_axes(axes, true).detach();
        let s = (self - m).exp().sum_axes(axes, true).ln() + m;
        if keepdim {
            s
        } else {
            let shape: Vec<usize> = self
                .shape()
                .iter()
                .enumerate()
                .filter(|(i, _)| !axes.contains(i))
                .map(|(_, &d)| d)
                .collect();
            s.reshape(&shape)
        }
    }

    /// `softmax` over `axes`: `exp(x − logsumexp(x))`.
    #[track_caller]
    pub fn softmax(self, axes: &[usize]) -> Var<'t> {
        (self - self.logsumexp(axes, true)).exp()
    }

    /// The mean squared error `mean((self − target)²)`, shape `[]`.
    #[track_caller]
    pub fn mse(self, target: Var<'t>) -> Var<'t> {
        (self - target).square().mean()
    }

    /// The Euclidean norm of all elements, shape `[]` (its gradient is undefined at zero).
    pub fn norm(self) -> Var<'t> {
        self.square().sum().sqrt()
    }

    /// `Σ self ⊙ other` over all elements, shape `[]`.
    #[track_caller]
    pub fn dot(self, other: Var<'t>) -> Var<'t> {
        (self * other).sum()
    }
}
