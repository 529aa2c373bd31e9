//! Experiment 1's baseline: a WGAN with weight clipping whose generator output passes through
//! the same solver (Arjovsky et al. 2017: RMSProp, critic weights clipped after every step,
//! several critic steps per generator step).

use super::{
    finish_run, new_run, observe, observed_batch, record_curve, Config, Generator, MethodRun,
    Probe, N,
};
use physgrad::nn::{Mlp, MlpConfig, Module, ParamStore, Progress};
use physgrad::optim::{Optimizer, RmsProp, RmsPropConfig};
use physgrad::{Result, Tape, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// The critic's mean output on a batch of solutions.
fn critic_mean<'t>(critic: &Mlp, p: &physgrad::nn::Bound<'t>, u: Var<'t>) -> Var<'t> {
    critic.forward(p, u).mean()
}

/// Trains the WGAN baseline (weight clipping) on the observed solutions `data [M, N]`.
pub fn train_wgan(cfg: &Config, data: &Tensor, probe_truth: &[[f64; 2]]) -> Result<MethodRun> {
    let start = Instant::now();
    let mut store = ParamStore::new(cfg.seed);
    let gen = Generator::new(&mut store, "gen", cfg.latent, &cfg.hidden);
    let mut widths = vec![N];
    widths.extend_from_slice(&cfg.hidden);
    widths.push(1);
    let critic = MlpConfig::new(&widths).build(&mut store, "critic");
    clip_critic(&mut store, cfg.clip);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x9e37);
    let probe = Probe {
        z: gen.latent(
            cfg.curve_samples,
            &mut ChaCha8Rng::seed_from_u64(cfg.seed + 7),
        ),
        truth: probe_truth.to_vec(),
    };
    let rms = RmsPropConfig {
        lr: cfg.wgan_lr,
        ..RmsPropConfig::default()
    };
    let (mut opt_d, mut opt_g) = (RmsProp::new(rms.clone()), RmsProp::new(rms));
    let mut run = new_run("WGAN", cfg);
    let mut progress = Progress::new(cfg.iterations).quiet(!cfg.verbose);
    run.curve.push((0, probe.w1(&gen, &store)?));
    for it in 0..cfg.iterations {
        let mut estimate = 0.0;
        for _ in 0..cfg.critic_steps {
            let (z, y) = (
                gen.latent(cfg.batch, &mut rng),
                observed_batch(data, cfg.batch, &mut rng),
            );
            estimate = critic_step(&mut store, &mut opt_d, &gen, &critic, z, y)?;
            clip_critic(&mut store, cfg.clip);
        }
        let z = gen.latent(cfg.batch, &mut rng);
        let grads = {
            let tape = Tape::new();
            let p = store.bind_only(&tape, "gen.");
            let u = observe(gen.forward(&p, z))?;
            p.gradients(-critic_mean(&critic, &p, u))
        };
        opt_g.step(&mut store, &grads)?;
        run.losses.push(estimate);
        progress.update(it, estimate);
        record_curve(&mut run, cfg, it, || probe.w1(&gen, &store))?;
    }
    progress.finish();
    finish_run(run, &gen, &store, cfg, start)
}

/// One critic update: minimise `mean D(u_gen) − mean D(u_obs)`; returns the estimate
/// `mean D(u_obs) − mean D(u_gen)` of the Wasserstein distance (up to the Lipschitz scale).
fn critic_step(
    store: &mut ParamStore,
    opt: &mut RmsProp,
    gen: &Generator,
    critic: &Mlp,
    z: Tensor,
    y: Tensor,
) -> Result<f64> {
    let (estimate, grads) = {
        let tape = Tape::new();
        let p = store.bind_only(&tape, "critic.");
        let u = observe(gen.forward(&p, z))?;
        let loss = critic_mean(critic, &p, u) - critic_mean(critic, &p, tape.constant(y));
        (-loss.item(), p.gradients(loss))
    };
    opt.step(store, &grads)?;
    Ok(estimate)
}

fn clip_critic(store: &mut ParamStore, clip: f64) {
    for id in store.select("critic.") {
        store
            .get_mut(id)
            .data_mut()
            .iter_mut()
            .for_each(|v| *v = v.clamp(-clip, clip));
    }
}
