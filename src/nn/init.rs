//! Seeded initialisers, reproducible across runs and platforms.
//!
//! Each parameter draws from its own ChaCha8 stream seeded by `mix(store seed, FNV-1a(name))`,
//! so a parameter's initial value depends only on the store seed, its name, its shape and the
//! initialiser — not on how many parameters were created before it.
//!
//! Fan-in and fan-out follow PyTorch's convention: for a shape `[a, b, k…]` the receptive field
//! is `r = Πk`, `fan_in = b·r` and `fan_out = a·r`, except for our dense weights, which are stored
//! `[fan_in, fan_out]` (`x·W`) and say so with [`Fans`].

use crate::tensor::{numel, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// The fan-in and fan-out a scaled initialiser uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fans {
    /// Inputs feeding each output unit.
    pub fan_in: usize,
    /// Outputs each input unit feeds.
    pub fan_out: usize,
}

impl Fans {
    /// Fans of a dense weight stored `[fan_in, fan_out]`.
    pub fn dense(fan_in: usize, fan_out: usize) -> Fans {
        Fans { fan_in, fan_out }
    }

    /// Fans of a convolution kernel `[out_ch, in_ch, kh, kw]`: `fan_in = in_ch·kh·kw`,
    /// `fan_out = out_ch·kh·kw`.
    pub fn conv(shape: &[usize]) -> Fans {
        let r: usize = shape[2..].iter().product();
        Fans {
            fan_in: shape[1] * r,
            fan_out: shape[0] * r,
        }
    }
}

/// How a parameter is initialised. `gain` multiplies the standard deviation / bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// Every entry equal to the value.
    Constant(f64),
    /// Glorot/Xavier uniform: `U(−a, a)`, `a = gain·√(6/(fan_in + fan_out))`.
    GlorotUniform {
        /// Gain (1 for linear/tanh-agnostic; PyTorch's tanh gain is 5/3).
        gain: f64,
    },
    /// Glorot/Xavier normal: `N(0, σ²)`, `σ = gain·√(2/(fan_in + fan_out))`.
    GlorotNormal {
        /// Gain.
        gain: f64,
    },
    /// He/Kaiming normal (fan-in mode): `N(0, σ²)`, `σ = gain/√fan_in` (gain √2 for ReLU).
    HeNormal {
        /// Gain.
        gain: f64,
    },
    /// He/Kaiming uniform (fan-in mode): `U(−a, a)`, `a = gain·√(3/fan_in)`.
    HeUniform {
        /// Gain.
        gain: f64,
    },
    /// `U(low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// `N(0, std²)`.
    Normal {
        /// Standard deviation.
        std: f64,
    },
}

impl Init {
    /// Glorot uniform with gain 1 (the dense-layer default).
    pub const GLOROT: Init = Init::GlorotUniform { gain: 1.0 };
    /// He normal with gain √2 (for ReLU layers).
    pub const HE: Init = Init::HeNormal {
        gain: std::f64::consts::SQRT_2,
    };

    /// A tensor of `shape` drawn with `seed` (see the [module docs](self) for the seeding).
    ///
    /// # Panics
    /// If a uniform range is empty or not finite.
    pub fn sample(&self, shape: &[usize], fans: Fans, seed: u64) -> Tensor {
        let n = numel(shape);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (fi, fo) = (fans.fan_in.max(1) as f64, fans.fan_out.max(1) as f64);
        let uniform = |rng: &mut ChaCha8Rng, a: f64, b: f64| -> Vec<f64> {
            let d = Uniform::new(a, b)
                .unwrap_or_else(|e| panic!("Init::sample: invalid range [{a}, {b}): {e}"));
            (0..n).map(|_| d.sample(rng)).collect()
        };
        let normal = |rng: &mut ChaCha8Rng, s: f64| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(rng);
                    s * z
                })
                .collect()
        };
        let data = match *self {
            Init::Zeros => vec![0.0; n],
            Init::Constant(c) => vec![c; n],
            Init::GlorotUniform { gain } => {
                let a = gain * (6.0 / (fi + fo)).sqrt();
                uniform(&mut rng, -a, a)
            }
            Init::GlorotNormal { gain } => normal(&mut rng, gain * (2.0 / (fi + fo)).sqrt()),
            Init::HeNormal { gain } => normal(&mut rng, gain / fi.sqrt()),
            Init::HeUniform { gain } => {
                let a = gain * (3.0 / fi).sqrt();
                uniform(&mut rng, -a, a)
            }
            Init::Uniform { low, high } => uniform(&mut rng, low, high),
            Init::Normal { std } => normal(&mut rng, std),
        };
        Tensor::from_vec(data, shape)
    }
}

/// The seed of parameter `name` in a store seeded with `store_seed`: SplitMix64 finalisation of
/// `store_seed ⊕ FNV-1a-64(name)`, identical on every platform.
pub fn param_seed(store_seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = store_seed ^ h;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
