//! Physics: discretisations against manufactured solutions with measured orders, gradients of
//! every assembly at first and second order, random-field covariance against the kernel.

mod common;
mod fem;
mod poisson;
mod random_field;
