//! First- and second-order gradient checks of every layer, with respect to inputs and
//! parameters, and of the new `erf` primitive.

use physgrad::nn::{Activation, FourierMlp, Linear, MlpConfig, Module, ParamStore, Sequential};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Tape, Tensor, Var};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::rc::Rc;

/// Checks `module` at first and second order with respect to the input and every parameter.
fn check_module(store: &ParamStore, module: Rc<dyn Module>, x: Tensor) -> Result<(), String> {
    let mut inputs = vec![x];
    inputs.extend(store.values().iter().cloned());
    let cfg = GradCheck::default();
    let (s1, m1) = (store.clone(), module.clone());
    let f1 = hr(move |_, v| m1.forward(&s1.bind_vars(&v[1..]), v[0]));
    check_grad(f1, &inputs, &cfg).map_err(|e| format!("first order: {e}"))?;
    let (s2, m2) = (store.clone(), module);
    let f2 = hr(move |_, v| m2.forward(&s2.bind_vars(&v[1..]), v[0]));
    check_grad2(f2, &inputs, &cfg).map_err(|e| format!("second order: {e}"))?;
    Ok(())
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: super::cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

const ACTIVATIONS: [Activation; 9] = [
    Activation::Identity,
    Activation::Tanh,
    Activation::Relu,
    Activation::LeakyRelu(0.1),
    Activation::Softplus,
    Activation::Sigmoid,
    Activation::Sin,
    Activation::Silu,
    Activation::Gelu,
];

#[test]
fn linear_with_every_activation_passes_gradcheck() {
    let strategy = (
        1usize..5,
        1usize..5,
        1usize..5,
        0usize..ACTIVATIONS.len(),
        any::<u64>(),
    );
    runner()
        .run(&strategy, |(n, i, o, a, seed)| {
            let act = ACTIVATIONS[a];
            let mut store = ParamStore::new(seed);
            // Non-zero bias so that ReLU kinks are not hit at 0 exactly.
            let lin = Linear::with(&mut store, "l", i, o, physgrad::nn::Init::GLOROT, act);
            let b = lin.bias.unwrap();
            store.set(b, Tensor::rand_uniform(&[o], -0.5, 0.5, seed ^ 1));
            let x = Tensor::rand_uniform(&[n, i], -1.5, 1.5, seed ^ 2);
            if matches!(act, Activation::Relu | Activation::LeakyRelu(_)) {
                // Skip draws within the finite-difference step of a kink.
                let tape = Tape::new();
                let p = store.bind(&tape);
                let pre = tape.constant(x.clone()).matmul(p.var(lin.weight)) + p.var(b);
                prop_assume!(pre.value().data().iter().all(|v| v.abs() > 1e-3));
            }
            check_module(&store, Rc::new(lin), x)
                .map_err(|e| TestCaseError::fail(format!("{act:?}: {e}")))
        })
        .unwrap();
}

#[test]
fn mlp_plain_and_residual_pass_gradcheck() {
    let strategy = (
        1usize..4,
        1usize..4,
        2usize..5,
        1usize..3,
        any::<bool>(),
        any::<u64>(),
    );
    runner()
        .run(&strategy, |(n, d, h, out, residual, seed)| {
            let mut store = ParamStore::new(seed);
            let net = MlpConfig::new(&[d, h, h, out])
                .residual(residual)
                .build(&mut store, "net");
            let x = Tensor::rand_uniform(&[n, d], -1.0, 1.0, seed);
            check_module(&store, Rc::new(net), x).map_err(TestCaseError::fail)
        })
        .unwrap();
}

#[test]
fn residual_mlp_adds_the_skip_connection() {
    let mut store = ParamStore::new(3);
    let net = MlpConfig::new(&[2, 3, 3, 1])
        .residual(true)
        .build(&mut store, "r");
    let plain = MlpConfig::new(&[2, 3, 3, 1]).build(&mut store, "p");
    for (a, b) in store.select("r.").into_iter().zip(store.select("p.")) {
        let v = store.get(a).clone();
        store.set(b, v);
    }
    let tape = Tape::new();
    let p = store.bind(&tape);
    let x = tape.constant(Tensor::rand_uniform(&[4, 2], -1.0, 1.0, 0));
    let h0 = net.layers[0].forward(&p, x);
    let want = net.layers[2].forward(&p, h0 + net.layers[1].forward(&p, h0));
    assert_eq!(net.forward(&p, x).value().data(), want.value().data());
    assert_ne!(plain.forward(&p, x).value().data(), want.value().data());
}

#[test]
fn zero_last_layer_starts_at_zero() {
    let mut store = ParamStore::new(0);
    let net = MlpConfig::new(&[3, 8, 2])
        .zero_last(true)
        .build(&mut store, "drift");
    let tape = Tape::new();
    let y = net.forward(&store.bind(&tape), tape.constant(Tensor::randn(&[5, 3], 1)));
    assert!(y.value().data().iter().all(|&v| v == 0.0));
}

#[test]
fn fourier_mlp_passes_gradcheck_and_has_the_sampler_shape() {
    let mut store = ParamStore::new(11);
    let net = FourierMlp::new(&mut store, "f", 2, 4, 2, 2, false);
    assert_eq!(store.get(store.id("f.time.phase").unwrap()).shape(), &[4]);
    assert_eq!(
        store.get(store.id("f.time_in.weight").unwrap()).shape(),
        &[8, 4]
    );
    // Scale the frequencies down so finite differences resolve the sines at eps = 1e-6.
    let mut net = net;
    net.embedding.freqs = Tensor::linspace(0.1, 3.0, 4);
    let xt = Tensor::rand_uniform(&[3, 3], -1.0, 1.0, 5);
    check_module(&store, Rc::new(net), xt).unwrap();
}

#[test]
fn sequential_and_reshape_layers_pass_gradcheck() {
    let mut store = ParamStore::new(2);
    let seq = Sequential::new()
        .add(Linear::new(&mut store, "a", 4, 6))
        .add(Activation::Gelu)
        .add(physgrad::nn::Reshape { shape: vec![2, 3] })
        .add(physgrad::nn::Flatten)
        .add(Linear::new(&mut store, "b", 6, 2));
    assert_eq!(seq.len(), 5);
    check_module(&store, Rc::new(seq), Tensor::randn(&[3, 4], 9)).unwrap();
}

#[test]
fn erf_and_gelu_pass_gradcheck_over_random_tensors() {
    let strategy = physgrad::testing::strategies::tensor(3, 4, -4.0, 4.0);
    runner()
        .run(&strategy, |x| {
            let cfg = GradCheck::default();
            let xs = std::slice::from_ref(&x);
            let fail = |e: physgrad::testing::GradCheckFailure| TestCaseError::fail(e.to_string());
            check_grad(hr(|_, v| v[0].erf()), xs, &cfg).map_err(fail)?;
            check_grad2(hr(|_, v| v[0].erf()), xs, &cfg).map_err(fail)?;
            check_grad(hr(|_, v| v[0].gelu()), xs, &cfg).map_err(fail)?;
            check_grad2(hr(|_, v| v[0].gelu()), xs, &cfg).map_err(fail)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn gelu_matches_its_definition_and_third_derivative_of_erf() {
    let tape = Tape::new();
    let x = tape.var(Tensor::scalar(0.7));
    // Φ(0.7) from the C library's erf: ½(1 + erf(0.7/√2)).
    let phi = 0.5 * (1.0 + 0.5160726955538539_f64);
    assert!((x.gelu().item() - 0.7 * phi).abs() < 1e-15);
    // d³/dx³ erf = (2/√π)(4x² − 2)e^{−x²}.
    let d1 = tape.grad(&[x.erf()], &[x])[0];
    let d2 = tape.grad(&[d1], &[x])[0];
    let d3 = tape.grad(&[d2], &[x])[0];
    let want = std::f64::consts::FRAC_2_SQRT_PI * (4.0 * 0.49 - 2.0) * (-0.49f64).exp();
    assert!((d3.item() - want).abs() < 1e-14);
}

#[test]
fn gelu_derivatives_agree_with_the_erf_composition_to_sixth_order() {
    // Independent route: `½x(1 + erf(x/√2))` built from `erf` and arithmetic, differentiated by
    // the tape n times, against the fused `gelu_derivative(n)` (Hermite closed forms).
    for &x0 in &[-9.0, -3.3, -0.7, 0.0, 0.4, 1.9, 5.0] {
        let tape = Tape::new();
        let x = tape.var(Tensor::scalar(x0));
        let mut composed = x * ((x * std::f64::consts::FRAC_1_SQRT_2).erf() + 1.0) * 0.5;
        for n in 0..=6u32 {
            let fused = x.gelu_derivative(n).item();
            let want = composed.item();
            assert!(
                (fused - want).abs() <= 1e-13 * (1.0 + want.abs()),
                "gelu^({n})({x0}): fused {fused:e}, composed {want:e}"
            );
            composed = tape.grad(&[composed], &[x])[0];
        }
    }
    // The far tails: φ underflows and every derivative above the first is exactly 0.
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![-40.0, 40.0], &[2]));
    assert_eq!(x.gelu_derivative(3).value().data(), &[0.0, 0.0]);
    assert_eq!(x.gelu_derivative(1).value().data(), &[0.0, 1.0]);
}

#[test]
fn sin_cos_is_sin_then_cos_along_the_last_axis() {
    let tape = Tape::new();
    let a = tape.var(Tensor::randn(&[3, 2, 5], 4));
    let want = Var::concat(&[a.sin(), a.cos()], 2);
    assert_eq!(a.sin_cos().value().data(), want.value().data());
    assert_eq!(a.sin_cos().shape().as_slice(), &[3, 2, 10]);
}

#[test]
fn gradient_penalty_through_a_bound_critic_passes_gradcheck() {
    // WGAN-GP: gp(θ) = mean((‖∇ₓ D(x; θ)‖ − 1)²), a gradient of a gradient. Checked in θ at
    // first order (and so `Bound::gradients` on such a loss is right).
    let mut store = ParamStore::new(4);
    let critic = MlpConfig::new(&[3, 5, 5, 1])
        .activation(Activation::Softplus)
        .build(&mut store, "critic");
    let x0 = Tensor::randn(&[4, 3], 8);
    let s = store.clone();
    let gp = hr(move |tape, v| {
        let p = s.bind_vars(v);
        let x = tape.var(x0.clone());
        let d = critic.forward(&p, x).sum();
        let gx = tape.grad(&[d], &[x])[0];
        (gx.square().sum_axes(&[1], false).sqrt() - 1.0)
            .square()
            .mean()
    });
    check_grad(gp, store.values(), &GradCheck::default()).unwrap();
    // The same loss through bind + gradients matches the checker's sweep.
    let tape = Tape::new();
    let p = store.bind(&tape);
    let x = tape.var(Tensor::randn(&[4, 3], 8));
    let crit2 = MlpConfig::new(&[3, 5, 5, 1])
        .activation(Activation::Softplus)
        .build(&mut ParamStore::new(4), "critic");
    let d = crit2.forward(&p, x).sum();
    let gx = tape.grad(&[d], &[x])[0];
    let loss = (gx.square().sum_axes(&[1], false).sqrt() - 1.0)
        .square()
        .mean();
    let g = p.gradients(loss);
    let direct = tape.gradients(&[loss], None, &p.trainable_vars());
    for (a, b) in g.tensors.iter().zip(&direct) {
        assert_eq!(a.data(), b.data());
    }
    assert_eq!(g.ids.len(), store.len());
    assert!(g.norm() > 0.0);
}

#[test]
fn fourier_embedding_is_sin_and_cos_of_frequency_times_time_plus_phase() {
    let mut store = ParamStore::new(0);
    let emb = physgrad::nn::FourierEmbedding::new(&mut store, "t", 3);
    assert_eq!(emb.freqs.len(), 3);
    assert!((emb.freqs.data()[1] - 50.05).abs() < 1e-12 && emb.freqs.data()[2] == 100.0);
    let phase = store.get(emb.phase).data().to_vec();
    let tape = Tape::new();
    let e = emb.forward(
        &store.bind(&tape),
        tape.constant(Tensor::from_vec(vec![0.3, -1.0], &[2, 1])),
    );
    assert_eq!(e.shape().as_slice(), &[2, 6]);
    for (row, t) in [0.3, -1.0].into_iter().enumerate() {
        for (k, (&c, &phi)) in emb.freqs.data().iter().zip(&phase).enumerate() {
            let arg = t * c + phi;
            assert!((e.value().at(&[row, k]) - arg.sin()).abs() < 1e-15);
            assert!((e.value().at(&[row, 3 + k]) - arg.cos()).abs() < 1e-15);
        }
    }
}
