//! Neural-network layers on the tape, their parameters, checkpoints and training utilities.
//!
//! Parameters live off the tape in a [`ParamStore`]; each training step creates a tape, binds
//! the store to it, builds the loss, collects the gradients and lets an optimiser
//! ([`crate::optim`]) update the store:
//!
//! ```
//! use physgrad::nn::{MlpConfig, Module, ParamStore};
//! use physgrad::optim::{Adam, AdamConfig, Optimizer};
//! use physgrad::{Tape, Tensor};
//!
//! let mut store = ParamStore::new(0);
//! let net = MlpConfig::new(&[1, 16, 1]).build(&mut store, "net");
//! let mut opt = Adam::new(AdamConfig { lr: 3e-2, ..AdamConfig::default() });
//! let x = Tensor::linspace(-1.0, 1.0, 32).reshape(&[32, 1]);
//! let y = x.map(|v| v * v);
//! let mut first = None;
//! for _ in 0..300 {
//!     let grads = {
//!         let tape = Tape::new();
//!         let p = store.bind(&tape);
//!         let loss = net.forward(&p, tape.constant(x.clone())).mse(tape.constant(y.clone()));
//!         first.get_or_insert(loss.item());
//!         p.gradients(loss)
//!     }; // the tape is dropped here, so the update writes into the parameters in place
//!     opt.step(&mut store, &grads).unwrap();
//! }
//! # let tape = Tape::new();
//! # let p = store.bind(&tape);
//! # let last = net.forward(&p, tape.constant(x.clone())).mse(tape.constant(y.clone())).item();
//! # assert!(last < 0.1 * first.unwrap());
//! ```

pub mod checkpoint;
pub mod conv;
pub mod fourier;
pub mod init;
pub mod linear;
pub mod mlp;
pub mod module;
pub mod params;
pub mod train;

pub use checkpoint::{
    load_training, restore_training, save_training, training_checkpoint, Checkpoint,
};
pub use conv::{conv2d, conv_transpose2d, Conv2d, ConvGeometry, ConvTranspose2d};
pub use fourier::{FourierEmbedding, FourierMlp};
pub use init::{param_seed, Fans, Init};
pub use linear::Linear;
pub use mlp::{Mlp, MlpConfig};
pub use module::{Activation, Flatten, Module, Reshape, Sequential};
pub use params::{Bound, Grads, ParamId, ParamStore};
pub use train::{BestTracker, CsvLog, Progress};
