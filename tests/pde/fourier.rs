//! Forward jets through `FourierMlp` (a field on `(x, t)`, time last) against nested reverse
//! mode: values, gradients (including ∂ₜ), Laplacians, diffusion traces, divergences, and the
//! weight gradients of a jet loss.

use super::jets::{close, compare, requests, residual_loss, runner};
use physgrad::nn::{FourierMlp, Module, ParamStore};
use physgrad::pde::{jet, neural};
use physgrad::testing::{check_grad, hr, GradCheck};
use physgrad::{Tape, Tensor};

/// A random Fourier MLP with non-zero biases (so every GELU is exercised off zero).
fn build(
    d: usize,
    channels: usize,
    blocks: usize,
    out: usize,
    seed: u64,
) -> (ParamStore, FourierMlp) {
    let mut store = ParamStore::new(seed);
    let net = FourierMlp::new(&mut store, "f", d, channels, blocks, out, false);
    for id in store.select("f.") {
        if store.name(id).ends_with("bias") {
            let n = store.get(id).len();
            store.set(id, Tensor::randn(&[n], seed ^ (id.0 as u64 + 11)));
        }
    }
    (store, net)
}

#[test]
fn fourier_jets_match_nested() {
    let strategy = (1usize..4, 1usize..5, 0usize..3, 1usize..4, 0u64..1000);
    runner()
        .run(&strategy, |(d, c, blocks, batch, seed)| {
            let (store, net) = build(d, c, blocks, 1, seed);
            // times in [0, 1] as in the sampler; frequencies up to 100 make large derivatives
            let xs = Tensor::randn(&[batch, d + 1], seed + 1);
            for req in requests(d + 1, seed + 2)
                .into_iter()
                .chain(time_sparse_requests(d, seed + 3))
            {
                let tape = Tape::new();
                let p = store.bind(&tape);
                let x = tape.var(xs.clone());
                let nested = neural::scalar(x, |x| net.forward(&p, x), &req);
                let jets = jet::fourier_scalar(&net, &p, x, &req);
                compare(&jets, &nested)?;
            }
            Ok(())
        })
        .unwrap();
}

/// Requests whose directions move `t` in only some of them, which the jet's time branch
/// exploits: none (a diffusion in `x` alone), and two that are not adjacent (a three-column
/// diffusion whose middle column has no `t` component, so the branch's derivatives are
/// scattered back).
fn time_sparse_requests(d: usize, seed: u64) -> Vec<physgrad::pde::Request> {
    use physgrad::pde::{operators::time_sigma, Request};
    let mut gapped = Tensor::randn(&[d + 1, 3], seed);
    let mut v = gapped.data().to_vec();
    v[d * 3 + 1] = 0.0;
    gapped = Tensor::from_vec(v, &[d + 1, 3]);
    vec![
        Request::diffusion(time_sigma(&Tensor::randn(&[d, 2], seed + 1))),
        Request::diffusion(gapped.clone()),
        Request::diffusion(gapped).with_gradient(),
    ]
}

#[test]
fn fourier_divergence_matches_nested() {
    let strategy = (1usize..4, 1usize..5, 0usize..3, 0u64..1000);
    runner()
        .run(&strategy, |(d, c, blocks, seed)| {
            let (store, net) = build(d, c, blocks, d, seed);
            let tape = Tape::new();
            let p = store.bind(&tape);
            let x = tape.var(Tensor::randn(&[3, d + 1], seed + 1));
            let coords: Vec<usize> = (0..d).collect();
            let (u, div) = jet::fourier_divergence(&net, &p, x, &coords);
            let u_ref = net.forward(&p, x);
            close(&u.value(), &u_ref.value(), "field")?;
            let want = neural::divergence(x, u_ref, &coords).value();
            close(&div.value(), &want, "divergence")?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn fourier_jet_loss_weight_gradients() {
    let sigma = physgrad::pde::operators::time_sigma(&Tensor::randn(&[2, 2], 7));
    weight_gradients(physgrad::pde::Request::diffusion(sigma).with_gradient());
    // The time branch's derivatives along non-adjacent directions, scattered back (the loss
    // needs the gradient: directions `e_t` and the two gapped columns that move `t`).
    for req in time_sparse_requests(2, 8).into_iter().skip(1) {
        weight_gradients(req.with_gradient());
    }
}

/// The weight gradients of a jet residual loss against nested reverse mode, and checked by
/// finite differences.
fn weight_gradients(req: physgrad::pde::Request) {
    let (store, net) = build(2, 3, 1, 1, 5);
    let xs = Tensor::randn(&[3, 3], 6).map(|v| 0.05 * v);
    let tape = Tape::new();
    let p = store.bind(&tape);
    let x = tape.var(xs.clone());
    let lj = residual_loss(&jet::fourier_scalar(&net, &p, x, &req));
    let ln = residual_loss(&neural::scalar(x, |x| net.forward(&p, x), &req));
    assert!((lj.item() - ln.item()).abs() <= 1e-10 * (1.0 + ln.item().abs()));
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
        residual_loss(&jet::fourier_scalar(&n, &p, x, &r))
    });
    check_grad(f, store.values(), &GradCheck::default()).unwrap();
}

#[test]
fn fourier_divergence_matches_nested_at_the_sampler_width() {
    // d = 50, 64 channels, 4 blocks: the Many-Well d = 50 drift (more directions than the
    // property test's small widths; the time branch sees none of them).
    let (store, net) = build(50, 64, 4, 50, 3);
    let tape = Tape::new();
    let p = store.bind(&tape);
    let mut xs = Tensor::randn(&[4, 51], 4);
    let mut v = xs.data().to_vec();
    for r in 0..4 {
        v[r * 51 + 50] = 0.25 * r as f64; // times in [0, 1]
    }
    xs = Tensor::from_vec(v, &[4, 51]);
    let x = tape.var(xs);
    let coords: Vec<usize> = (0..50).collect();
    let (u, div) = jet::fourier_divergence(&net, &p, x, &coords);
    let u_ref = net.forward(&p, x);
    close(&u.value(), &u_ref.value(), "field").unwrap();
    close(
        &div.value(),
        &neural::divergence(x, u_ref, &coords).value(),
        "divergence",
    )
    .unwrap();
}
