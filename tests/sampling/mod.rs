//! Issue 11 (PINN-based sampling): the factorised targets against quadrature truth, the flow
//! sampler and its scores on Gaussian cases whose flow and scores are known in closed form.

mod flow;
mod targets;
