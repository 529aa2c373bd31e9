//! Forward jets against nested reverse mode on random MLPs: values, gradients, Laplacians over
//! coordinate subsets, diffusion traces, divergences, and the weight gradients of jet losses.

use physgrad::nn::{Activation, Mlp, MlpConfig, Module, ParamStore};
use physgrad::pde::{jet, neural, Derivatives, Request};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
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

/// `Penultimate::entries` against the whole output jet: for random MLPs (identity last layer),
/// direction sets, traces and entry lists (repeated, out of order, empty), the values, the
/// second-order term and every requested entry `∂u_j/∂s_c` agree; an MLP whose last layer has
/// an activation has no penultimate form.
#[test]
fn penultimate_entries_match_the_whole_jacobian() {
    let strategy = (
        1usize..5,
        1usize..6,
        1usize..5,
        0usize..ACTS.len(),
        1usize..4,
        0u64..1000,
    );
    runner()
        .run(&strategy, |(d, h, n, a, layers, seed)| {
            let mut widths = vec![d];
            widths.extend(std::iter::repeat_n(h, layers - 1));
            widths.push(n);
            let (store, net) = build(&widths, ACTS[a], false, seed);
            let m = 1 + (seed as usize % 4);
            let dirs = Tensor::randn(&[d, m], seed + 2);
            let trace: Vec<usize> = (0..m)
                .filter(|c| (c + seed as usize).is_multiple_of(2))
                .collect();
            let xs = Tensor::randn(&[3, d], seed + 1);
            let tape = Tape::new();
            let p = store.bind(&tape);
            let x = tape.var(xs);
            let jet = jet::Jet::input(x, &dirs, trace);
            let full = jet.clone().mlp(&net, &p);
            let pen = jet.mlp_penultimate(&net, &p).expect("identity last layer");
            let k = (seed as usize) % 7;
            let pairs: Vec<(usize, usize)> = (0..k)
                .map(|i| ((i * 5 + seed as usize) % m, (i * 3 + 1) % n))
                .collect();
            let (u, e, second) = pen.entries(&pairs);
            close(&u.value(), &full.value.value(), "value")?;
            prop_assert!(
                e.shape().as_slice() == [3, k],
                "entries shape {:?}",
                e.shape()
            );
            match (second, full.second) {
                (Some(a), Some(b)) => close(&a.value(), &b.value(), "second order")?,
                (None, None) => {}
                _ => prop_assert!(false, "second-order presence differs"),
            }
            let jac = full.first.broadcast_to(&[3, m, n]).value();
            for (i, &(c, j)) in pairs.iter().enumerate() {
                for b in 0..3 {
                    let (got, want) =
                        (e.value().data()[b * k + i], jac.data()[(b * m + c) * n + j]);
                    prop_assert!(
                        (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
                        "entry ({c}, {j}) row {b}: {got} against {want}"
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    let (store, net) = build(&[2, 3, 2], Activation::Tanh, false, 1);
    let mut net = net;
    net.layers.last_mut().unwrap().activation = Activation::Tanh;
    let tape = Tape::new();
    let p = store.bind(&tape);
    let eye = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]);
    let jet = jet::Jet::input(tape.var(Tensor::randn(&[2, 2], 3)), &eye, vec![]);
    assert!(jet.mlp_penultimate(&net, &p).is_none());
}

/// The entries pass first- and second-order finite-difference checks in the points and in the
/// last layer's weights (the earlier layers' weights go through the same jet ops as before).
#[test]
fn penultimate_entries_gradient_checks() {
    let (store, net) = build(&[3, 4, 3], Activation::Gelu, false, 5);
    let last = net.layers.last().unwrap().clone();
    let xs = Tensor::randn(&[2, 3], 6);
    let inputs = [
        xs,
        store.get(last.weight).clone(),
        store.get(last.bias.unwrap()).clone(),
    ];
    let dirs = Tensor::randn(&[3, 2], 7);
    for pairs in [vec![(0, 0), (1, 1)], vec![(1, 2), (0, 0), (1, 2)], vec![]] {
        let (s, n, d) = (store.clone(), net.clone(), dirs.clone());
        let f = hr(move |_, v| {
            let p = s.bind_vars(
                &s.ids()
                    .map(|id| {
                        if id == last.weight {
                            v[1]
                        } else if Some(id) == last.bias {
                            v[2]
                        } else {
                            v[0].tape().constant(s.get(id).clone())
                        }
                    })
                    .collect::<Vec<_>>(),
            );
            let jet = jet::Jet::input(v[0], &d, vec![0, 1]);
            let (u, e, second) = jet.mlp_penultimate(&n, &p).unwrap().entries(&pairs);
            let l = second.unwrap();
            (u.square().sum() + (e.sum() * l.sum()).sin()).reshape(&[1])
        });
        let cfg = GradCheck::default();
        check_grad(&f, &inputs, &cfg).unwrap();
        check_grad2(&f, &inputs, &cfg).unwrap();
    }
}
