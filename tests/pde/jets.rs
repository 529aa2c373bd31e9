//! Forward jets against nested reverse mode on random MLPs: values, gradients, Laplacians over
//! coordinate subsets, diffusion traces, divergences, and the weight gradients of jet losses.

use physgrad::nn::{Activation, Mlp, MlpConfig, Module, ParamStore};
use physgrad::pde::{jet, neural, Derivatives, Request};
use physgrad::testing::{check_grad, hr, GradCheck};
use physgrad::{Tape, Tensor};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const ACTS: [Activation; 8] = [
    Activation::Tanh,
    Activation::Sin,
    Activation::Softplus,
    Activation::Gelu,
    Activation::Silu,
    Activation::Sigmoid,
    Activation::Identity,
    Activation::Relu,
];

pub(super) fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: super::cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

pub(super) fn close(a: &Tensor, b: &Tensor, what: &str) -> Result<(), TestCaseError> {
    let scale = 1.0 + b.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = a.max_abs_diff(b);
    prop_assert!(
        err <= 1e-10 * scale,
        "{what}: jet vs nested differ by {err:e} (scale {scale})"
    );
    Ok(())
}

pub(super) fn compare(a: &Derivatives<'_>, b: &Derivatives<'_>) -> Result<(), TestCaseError> {
    close(&a.value.value(), &b.value.value(), "value")?;
    match (a.gradient, b.gradient) {
        (Some(x), Some(y)) => close(&x.value(), &y.value(), "gradient")?,
        (None, None) => {}
        _ => prop_assert!(false, "gradient presence differs"),
    }
    match (a.second, b.second) {
        (Some(x), Some(y)) => close(&x.value(), &y.value(), "second order")?,
        (None, None) => {}
        _ => prop_assert!(false, "second-order presence differs"),
    }
    Ok(())
}

fn build(widths: &[usize], act: Activation, residual: bool, seed: u64) -> (ParamStore, Mlp) {
    let mut store = ParamStore::new(seed);
    let net = MlpConfig::new(widths)
        .activation(act)
        .residual(residual)
        .build(&mut store, "net");
    // non-zero biases so that every activation is exercised off its symmetric point
    for id in store.select("net.") {
        if store.name(id).ends_with("bias") {
            let n = store.get(id).len();
            store.set(id, Tensor::randn(&[n], seed ^ id_seed(store.name(id))));
        }
    }
    (store, net)
}

fn id_seed(name: &str) -> u64 {
    name.bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
}

/// The requests exercised: gradient, Laplacians over subsets with and without the gradient,
/// diffusion traces with and without the gradient.
pub(super) fn requests(d: usize, seed: u64) -> Vec<Request> {
    let subset: Vec<usize> = (0..d).filter(|i| i % 2 == 0).collect();
    let scattered: Vec<usize> = (0..d).rev().step_by(2).collect();
    let sigma = Tensor::randn(&[d, 2], seed);
    vec![
        Request::gradient(),
        Request::laplacian((0..d).collect()),
        Request::laplacian(subset).with_gradient(),
        Request::laplacian(scattered),
        Request::diffusion(sigma.clone()),
        Request::diffusion(sigma).with_gradient(),
    ]
}

#[test]
fn jets_match_nested_on_random_mlps() {
    let strategy = (
        1usize..5,
        1usize..7,
        1usize..4,
        0usize..ACTS.len(),
        any::<bool>(),
        0u64..1000,
    );
    runner()
        .run(&strategy, |(d, h, batch, a, residual, seed)| {
            let (store, net) = build(&[d, h, h, 1], ACTS[a], residual, seed);
            let xs = Tensor::randn(&[batch, d], seed + 1);
            for req in requests(d, seed + 2) {
                let tape = Tape::new();
                let p = store.bind(&tape);
                let x = tape.var(xs.clone());
                let nested = neural::scalar(x, |x| net.forward(&p, x), &req);
                let jets = jet::mlp_scalar(&net, &p, x, &req);
                compare(&jets, &nested)?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn jet_divergence_matches_nested() {
    let strategy = (1usize..5, 1usize..6, 0usize..ACTS.len(), 0u64..1000);
    runner()
        .run(&strategy, |(d, h, a, seed)| {
            let (store, net) = build(&[d + 1, h, h, d], ACTS[a], false, seed);
            let xs = Tensor::randn(&[3, d + 1], seed + 1);
            let tape = Tape::new();
            let p = store.bind(&tape);
            let x = tape.var(xs);
            let coords: Vec<usize> = (0..d).collect();
            let (u, div) = jet::mlp_divergence(&net, &p, x, &coords);
            let u_ref = net.forward(&p, x);
            close(&u.value(), &u_ref.value(), "field")?;
            close(
                &div.value(),
                &neural::divergence(x, u_ref, &coords).value(),
                "divergence",
            )?;
            Ok(())
        })
        .unwrap();
}

/// `mean((∂ₜv + Δₓv − ½‖∇ₓv‖²)²)`-type loss from either method.
pub(super) fn residual_loss<'t>(r: &Derivatives<'t>) -> physgrad::Var<'t> {
    let g = r.gradient.unwrap();
    (r.second.unwrap() - 0.5 * g.square().sum_axes(&[1], false) + r.derivative(0))
        .square()
        .mean()
}

/// The weight gradients of a jet loss equal those of the nested loss, and pass a first-order
/// finite-difference check.
#[test]
fn weight_gradients_of_jet_loss() {
    for (k, act) in [Activation::Tanh, Activation::Gelu, Activation::Sin]
        .into_iter()
        .enumerate()
    {
        let (store, net) = build(&[3, 5, 5, 1], act, false, 40 + k as u64);
        let xs = Tensor::randn(&[4, 3], 41);
        let sigma = Tensor::randn(&[3, 2], 42);
        let req = Request::diffusion(sigma).with_gradient();
        let tape = Tape::new();
        let p = store.bind(&tape);
        let x = tape.var(xs.clone());
        let lj = residual_loss(&jet::mlp_scalar(&net, &p, x, &req));
        let ln = residual_loss(&neural::scalar(x, |x| net.forward(&p, x), &req));
        let (gj, gn) = (p.gradients(lj), p.gradients(ln));
        for id in store.ids() {
            let (a, b) = (gj.get(id).unwrap(), gn.get(id).unwrap());
            assert!(
                a.max_abs_diff(b) < 1e-10 * (1.0 + b.norm()),
                "{}",
                store.name(id)
            );
        }
        let (s, n, r) = (store.clone(), net.clone(), req.clone());
        let f = hr(move |tape, w| {
            let p = s.bind_vars(w);
            let x = tape.constant(xs.clone());
            residual_loss(&jet::mlp_scalar(&n, &p, x, &r))
        });
        check_grad(f, store.values(), &GradCheck::default()).unwrap();
    }
}
