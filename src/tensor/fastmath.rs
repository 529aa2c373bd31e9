//! Placeholder until the vectorised kernels land: defers to libm.

/// `out[i] = exp(x[i])`.
pub fn exp_into(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.exp();
    }
}
/// `out[i] = tanh(x[i])`.
pub fn tanh_into(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.tanh();
    }
}
