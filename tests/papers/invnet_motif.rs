//! InvNet experiment 3 (motif planting on the shipped digits), reduced: the motif mask, the
//! loader, the motif loss and metric, the gradient penalty of a linear critic against its closed
//! form, and a short training of both critics.

#[allow(dead_code)]
#[path = "../../examples/invnet_motif.rs"]
mod example;

use example::{load_images, motif_loss, motif_rms, plus, run_all, Config};
use physgrad::nn::{Module, ParamStore};
use physgrad::{Tape, Tensor};

#[test]
fn plus_is_nine_pixels_through_the_centre() {
    let m = plus(8);
    let on: Vec<(usize, usize)> = (0..64)
        .filter(|&p| m.data()[p] > 0.5)
        .map(|p| (p / 8, p % 8))
        .collect();
    assert_eq!(on.len(), 9);
    assert!(on.iter().all(|&(i, j)| i == 3 || j == 3));
    assert!(
        on.contains(&(1, 3))
            && on.contains(&(5, 3))
            && on.contains(&(3, 1))
            && on.contains(&(3, 5))
    );
}

#[test]
fn motif_loss_and_rms_agree_with_direct_sums() {
    let om = plus(8);
    let x = Tensor::rand_uniform(&[3, 8, 8], 0.0, 1.0, 4);
    let mut want = 0.0;
    for (k, v) in x.data().iter().enumerate() {
        want += om.data()[k % 64] * (v - 1.0).powi(2);
    }
    let tape = Tape::new();
    let l = motif_loss(tape.constant(x.clone()), &om).item();
    assert!((l - want / 3.0).abs() < 1e-12);
    assert!((motif_rms(&x, &om) - (want / 27.0).sqrt()).abs() < 1e-12);
    let planted = x.zip_with(
        &om.reshape(&[1, 8, 8]),
        |v, m| if m > 0.5 { 1.0 } else { v },
    );
    assert_eq!(motif_rms(&planted, &om), 0.0);
}

#[test]
fn loader_scales_the_digits_to_unit_range() {
    let d = load_images(&Config::default().images).unwrap();
    assert_eq!(d.shape(), &[1797, 8, 8]);
    assert!(d.data().iter().all(|v| (0.0..=1.0).contains(v)));
    // The real digits do not carry the motif: its RMS error is large.
    assert!(motif_rms(&d, &plus(8)) > 0.4);
}

#[test]
fn input_gradient_of_a_linear_critic_is_its_weight() {
    // D(x) = ⟨a, x⟩ + b has ∇ₓD = a at every sample: the gradient the penalty γ(‖∇ₓD‖ − 1)²
    // is built from, recorded on the tape.
    let mut store = ParamStore::new(3);
    let critic = example::FlatMlp::critic(&mut store, &[], 8);
    let tape = Tape::new();
    let p = store.bind(&tape);
    let a = store.get(store.id("critic.layer0.weight").unwrap()).clone();
    let x = tape.var(Tensor::rand_uniform(&[5, 8, 8], 0.0, 1.0, 1));
    let g = tape.grad(&[critic.forward(&p, x).sum()], &[x])[0].value();
    for k in 0..5 {
        for q in 0..64 {
            assert!((g.data()[k * 64 + q] - a.data()[q]).abs() < 1e-14);
        }
    }
}

#[test]
fn both_critics_train_and_the_complement_critic_plants_the_motif() {
    let cfg = Config {
        iterations: 150,
        batch: 32,
        hidden: vec![32, 32],
        curve_every: 50,
        eval_samples: 100,
        verbose: false,
        lr: 1e-3,
        ..Config::default()
    };
    let o = run_all(&cfg).unwrap();
    assert_eq!(o.runs.len(), 2);
    for r in &o.runs {
        assert_eq!(r.losses.len(), 150);
        assert!(r
            .losses
            .iter()
            .all(|l| l.0.is_finite() && l.1.is_finite() && l.2.is_finite()));
        assert_eq!(r.motif.len(), 4);
        assert!(r.w2.is_finite() && r.w2 > 0.0);
    }
    // The invariance steps plant the motif with either critic; the plain critic sees it (real
    // digits never carry it) and reports a larger Wasserstein estimate than the complement one.
    let end = |r: &example::Run| r.motif[r.motif.len() - 1].1;
    let late = |r: &example::Run| r.losses[75..].iter().map(|l| l.0).sum::<f64>() / 75.0;
    for r in &o.runs {
        assert!(end(r) < 0.1 * r.motif[0].1, "{}: {:?}", r.name, r.motif);
    }
    let (plain, comp) = (late(&o.runs[0]), late(&o.runs[1]));
    assert!(
        plain > 1.5 * comp,
        "estimates: plain {plain}, complement {comp}"
    );
}
