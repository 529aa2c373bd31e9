//! `--time-step`: the speed of one training step on given weights and points, for the side-by-side
//! comparison with PyTorch and JAX in `benches/peers/pinn_peers.py`.
//!
//! `pinn_sampling --time-step TARGET LOSS WEIGHTS.bin POINTS.bin REPS [SHARD_POINTS]` reads
//! little-endian f64 files: every parameter of the loss's networks in store order (for the ODE
//! and SDE losses `w.time.phase`, `w.time_in.weight` `[2C, C]`, `w.time_in.bias`,
//! `w.time_out.*`, `w.input.*`, `w.block0.*` … `w.output.*`, then the same for `mu`, then
//! `logz`; each weight `[in, out]` row-major), and the collocation points `[B, d + 1]` (`x`, then `t`). It evaluates the loss and
//! the squared norm of its weight gradient on those numbers (the correctness gate), then runs
//! `REPS + 1` steps of [`train_step`] — the function [`super::model::train`] calls for every step:
//! loss, gradient, one Adam step at the default rate — and prints one JSON line with the loss, the
//! squared gradient norm, the squared norm of the first Adam update and the median seconds of the
//! last `REPS` steps (the first one is the warm-up). The steps split the points in tapes of at
//! most `SHARD_POINTS` points (default [`shard_points`]; 0 is one tape), dealt to rayon's thread
//! count (`RAYON_NUM_THREADS`, by default the cores) as `train` deals them to `--threads`; the
//! gate's loss and gradient are on one tape, and the first update's norm checks the split step
//! against the peers.

use super::losses::{problem, LossKind, LossParams};
use super::model::{shard_points, train_step, NetConfig, Nets};
use physgrad::nn::ParamStore;
use physgrad::optim::{Adam, AdamConfig};
use physgrad::problem::Collocation;
use physgrad::sampling::Target;
use physgrad::{Result, Tape, Tensor};
use std::sync::Arc;
use std::time::Instant;

/// Little-endian f64 values of a file.
fn read_f64(path: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        bytes.len().is_multiple_of(8),
        "{path}: not a whole number of f64"
    );
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// Sum of squares of every entry of `ts`.
fn sum_sq<'a>(ts: impl IntoIterator<Item = &'a Tensor>) -> f64 {
    ts.into_iter()
        .flat_map(|t| t.data().iter())
        .map(|v| v * v)
        .sum()
}

/// Runs the `--time-step` mode with its arguments (`TARGET LOSS WEIGHTS POINTS REPS`).
pub fn time_step(args: &[String]) -> Result<()> {
    assert!(
        args.len() == 5 || args.len() == 6,
        "usage: --time-step TARGET LOSS WEIGHTS.bin POINTS.bin REPS [SHARD_POINTS]"
    );
    let target = Arc::new(Target::by_name(&args[0])?);
    let kind = LossKind::parse(&args[1]).unwrap_or_else(|| panic!("unknown loss {}", args[1]));
    let reps: usize = args[4].parse().expect("REPS");
    let d = target.dim();
    let shard_points: usize = args
        .get(5)
        .map_or(shard_points(kind, d), |a| a.parse().expect("SHARD_POINTS"));
    let pb = problem(kind, &target, LossParams::default());
    let threads = rayon::current_num_threads();
    let mut store = ParamStore::new(0);
    let nets = Nets::new(&mut store, kind, d, NetConfig::default());
    let flat = read_f64(&args[2]);
    assert_eq!(
        flat.len(),
        store.numel(),
        "{}: {} weights, the networks have {}",
        args[2],
        flat.len(),
        store.numel()
    );
    let ids: Vec<_> = store.ids().collect();
    store.set_flat(&ids, &flat);
    let xs = read_f64(&args[3]);
    let b = xs.len() / (d + 1);
    assert_eq!(b * (d + 1), xs.len(), "{}: not [B, {}]", args[3], d + 1);
    let pts = Collocation {
        interior: Tensor::from_vec(xs, &[b, d + 1]),
        regions: vec![],
    };

    // The gate: loss and weight gradient on the given numbers (the same `Nets::loss` as training).
    let (loss, grad_sq) = {
        let tape = Tape::new();
        let p = store.bind(&tape);
        let l = nets.loss(&pb, &tape, &p, &pts)?.total;
        (l.value().sum_all(), sum_sq(&p.gradients(l).tensors))
    };
    let mut opt = Adam::new(AdamConfig::default());
    let step = |store: &mut ParamStore, opt: &mut Adam| {
        train_step(&pb, &nets, store, opt, &pts, d, threads, shard_points)
    };
    let before = store.values().to_vec();
    step(&mut store, &mut opt)?;
    let step_sq: f64 = before
        .iter()
        .zip(store.values())
        .flat_map(|(a, b)| a.data().iter().zip(b.data()))
        .map(|(a, b)| (a - b) * (a - b))
        .sum();

    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        step(&mut store, &mut opt)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "{{\"lib\": \"physgrad\", \"target\": \"{}\", \"loss_kind\": \"{}\", \"d\": {d}, \"batch\": {b}, \"params\": {}, \"threads\": {}, \"seconds\": {median:.6e}, \"loss\": {loss:.17e}, \"grad_sq\": {grad_sq:.17e}, \"step_sq\": {step_sq:.17e}}}",
        target.name,
        kind.name(),
        store.numel(),
        rayon::current_num_threads(),
    );
    Ok(())
}
