//! The PhysGNN experiments' reduced configurations (issue 9): each example is compiled into the
//! test binary and run small, asserting that training lowers the loss and moves the learned
//! statistics toward the truth, plus checks of the pieces (forward models, gradients, the
//! MCMC baseline's likelihood).

mod elasticity;
mod grf;
mod invnet_burgers;
mod invnet_linear_game;
mod invnet_microstructures;
mod invnet_motif;
mod jumps;
mod pinn_sampling;
mod poisson1d;
mod poisson2d;
