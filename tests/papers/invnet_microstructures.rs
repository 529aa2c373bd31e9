//! InvNet experiment 2 (microstructures with statistical invariances), reduced: 32 × 32
//! images, a few iterations; asserts that the invariance loss trains the data-free generator
//! toward the targets and that the WGAN-GP + invariance loop runs and stays finite.

#[allow(dead_code)]
#[path = "../../examples/invnet_microstructures.rs"]
mod example;

use example::{image_stats, mean, run, train_invariance_only, Config, Targets};
use physgrad::physics::cahn_hilliard::{microstructures, CahnHilliardConfig};
use physgrad::{Tape, Tensor};

fn small() -> Config {
    let base = Config::quick();
    Config {
        ch: CahnHilliardConfig { n: 32, ..base.ch },
        max_r: 8,
        train_images: 16,
        eval_sim_images: 8,
        eval_images: 64,
        batch: 8,
        iterations_a: 400,
        iterations_b: 2,
        verbose: false,
        ..base
    }
}

#[test]
fn targets_of_binary_images_have_p2_at_zero_equal_to_p1() {
    let cfg = small();
    let data = microstructures(&cfg.ch, 4).unwrap();
    let t = Targets::of(&data, cfg.max_r);
    assert!((t.p2[0] - t.p1).abs() < 1e-14);
    // m = −0.3: the phase c > 0 fills roughly (1 + m)/2 = 0.35 of the image.
    assert!((t.p1 - 0.35).abs() < 0.1, "p₁* = {}", t.p1);
    // Correlation decays from p₁ toward p₁² with distance.
    assert!(t.p2[cfg.max_r] < 0.8 * t.p2[0]);
    // The loss of the training images themselves against their own mean statistics is small,
    // and that of a constant grey image is not.
    let tape = Tape::new();
    let own = t.loss(tape.constant(data), cfg.max_r, cfg.lambda).item();
    let grey = t
        .loss(
            tape.constant(Tensor::full(&[2, 32, 32], 0.5)),
            cfg.max_r,
            cfg.lambda,
        )
        .item();
    assert!(own < 0.05 * grey, "own {own} grey {grey}");
}

#[test]
fn data_free_generator_learns_the_statistics() {
    let cfg = small();
    let data = microstructures(&cfg.ch, cfg.train_images).unwrap();
    let t = Targets::of(&data, cfg.max_r);
    let a = train_invariance_only(&cfg, &t).unwrap();
    let first = mean(&a.losses[..5].iter().map(|p| p.0).collect::<Vec<_>>());
    let last = mean(
        &a.losses[a.losses.len() - 10..]
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
    );
    assert!(last < 0.25 * first, "loss {first} → {last}");
    let (p1, _) = image_stats(&a.images, cfg.max_r);
    assert!(
        (mean(&p1) - t.p1).abs() < 0.05,
        "p₁ {} vs {}",
        mean(&p1),
        t.p1
    );
    assert_eq!(a.images.shape(), &[cfg.eval_images, 32, 32]);
    assert!(a.images.data().iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn wgan_gp_with_invariance_runs_and_reports() {
    let cfg = Config {
        iterations_a: 2,
        ..small()
    };
    let o = run(&cfg).unwrap();
    assert_eq!(o.runs.len(), 2);
    let b = &o.runs[1];
    assert_eq!(b.losses.len(), cfg.iterations_b);
    assert!(b.losses.iter().all(|(l, w)| l.is_finite() && w.is_finite()));
    assert!(o.sim_seconds_per_image > 0.0 && b.seconds_per_image > 0.0);
}
