//! Convolutions: values against a direct loop, the transposed convolution as the exact adjoint,
//! and first/second-order gradient checks over random shapes, strides and paddings.

use physgrad::nn::{conv2d, conv_transpose2d, ConvGeometry};
use physgrad::testing::{check_grad, check_grad2, hr, GradCheck};
use physgrad::{Tape, Tensor};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// `y[n,o,i,j] = b[o] + Σ w[o,c,u,v] x[n,c,s i + u − p, s j + v − p]` by direct summation.
fn conv_reference(x: &Tensor, w: &Tensor, b: &Tensor, s: usize, p: usize) -> Tensor {
    let (xs, ws) = (x.shape(), w.shape());
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]);
    let (o, kh, kw) = (ws[0], ws[2], ws[3]);
    let oh = (h + 2 * p - kh) / s + 1;
    let ow = (wd + 2 * p - kw) / s + 1;
    let mut out = vec![0.0; n * o * oh * ow];
    for ni in 0..n {
        for oi in 0..o {
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc = b.data()[oi];
                    for ci in 0..c {
                        for u in 0..kh {
                            for v in 0..kw {
                                let (r, q) = (
                                    (s * i + u) as isize - p as isize,
                                    (s * j + v) as isize - p as isize,
                                );
                                if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < wd {
                                    acc += w.at(&[oi, ci, u, v])
                                        * x.at(&[ni, ci, r as usize, q as usize]);
                                }
                            }
                        }
                    }
                    out[((ni * o + oi) * oh + i) * ow + j] = acc;
                }
            }
        }
    }
    Tensor::from_vec(out, &[n, o, oh, ow])
}

/// Random problem: batch, in/out channels, image size, kernel, stride, padding.
fn geometry() -> impl Strategy<Value = (usize, usize, usize, usize, usize, usize, usize, u64)> {
    (
        1usize..3,
        1usize..3,
        1usize..3,
        1usize..4,
        1usize..4,
        0usize..2,
        any::<u64>(),
    )
        .prop_flat_map(|(n, c, o, k, s, p, seed)| {
            (
                Just(n),
                Just(c),
                Just(o),
                (k.max(2 * p + 1).max(s)..7),
                Just(k),
                Just(s),
                Just(p),
                Just(seed),
            )
        })
        .prop_map(|(n, c, o, h, k, s, p, seed)| (n, c, o, h, k, s, p, seed))
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: super::cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn conv2d_matches_direct_summation() {
    runner()
        .run(&geometry(), |(n, c, o, h, k, s, p, seed)| {
            prop_assume!(h + 2 * p >= k);
            let x = Tensor::randn(&[n, c, h, h + 1], seed);
            let w = Tensor::randn(&[o, c, k, k], seed ^ 1);
            let b = Tensor::randn(&[o], seed ^ 2);
            let tape = Tape::new();
            let g = ConvGeometry {
                stride: s,
                padding: p,
                output_padding: 0,
            };
            let y = conv2d(
                tape.constant(x.clone()),
                tape.constant(w.clone()),
                Some(tape.constant(b.clone())),
                g,
            );
            let want = conv_reference(&x, &w, &b, s, p);
            let shape = y.shape();
            prop_assert_eq!(shape.as_slice(), want.shape());
            prop_assert!(y.value().max_abs_diff(&want) < 1e-12);
            Ok(())
        })
        .unwrap();
}

#[test]
fn conv_transpose2d_is_the_adjoint_of_conv2d() {
    // ⟨conv(x; w), y⟩ = ⟨x, convᵀ(y; w)⟩ when convᵀ restores the input size.
    runner()
        .run(&geometry(), |(n, c, o, h, k, s, p, seed)| {
            prop_assume!(h + 2 * p >= k);
            let oh = (h + 2 * p - k) / s + 1;
            let ow = (h + 1 + 2 * p - k) / s + 1;
            let op_h = h + 2 * p - k - (oh - 1) * s;
            let op_w = h + 1 + 2 * p - k - (ow - 1) * s;
            prop_assume!(op_h == op_w && op_h < s.max(1) || (op_h == 0 && op_w == 0));
            let x = Tensor::randn(&[n, c, h, h + 1], seed);
            let w = Tensor::randn(&[o, c, k, k], seed ^ 1);
            let y = Tensor::randn(&[n, o, oh, ow], seed ^ 2);
            let tape = Tape::new();
            let cx = conv2d(
                tape.constant(x.clone()),
                tape.constant(w.clone()),
                None,
                ConvGeometry {
                    stride: s,
                    padding: p,
                    output_padding: 0,
                },
            );
            let g = ConvGeometry {
                stride: s,
                padding: p,
                output_padding: op_h,
            };
            let ty = conv_transpose2d(tape.constant(y.clone()), tape.constant(w.clone()), None, g);
            let shape = ty.shape();
            prop_assert_eq!(shape.as_slice(), x.shape());
            let (lhs, rhs) = (cx.value().dot(&y), x.dot(&ty.value()));
            prop_assert!(
                (lhs - rhs).abs() < 1e-10 * (1.0 + lhs.abs()),
                "{} vs {}",
                lhs,
                rhs
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn conv_layers_pass_first_and_second_order_gradcheck() {
    runner()
        .run(&geometry(), |(n, c, o, h, k, s, p, seed)| {
            prop_assume!(h + 2 * p >= k);
            let g = ConvGeometry {
                stride: s,
                padding: p,
                output_padding: 0,
            };
            let cfg = GradCheck::default();
            let conv = hr(move |_, v| conv2d(v[0], v[1], Some(v[2]), g).tanh());
            let xs = [
                Tensor::randn(&[n, c, h, h], seed),
                Tensor::randn(&[o, c, k, k], seed ^ 1),
                Tensor::randn(&[o], seed ^ 2),
            ];
            check_grad(conv, &xs, &cfg).map_err(|e| TestCaseError::fail(format!("conv: {e}")))?;
            check_grad2(conv, &xs, &cfg)
                .map_err(|e| TestCaseError::fail(format!("conv 2nd: {e}")))?;
            let gt = ConvGeometry {
                output_padding: (seed % s as u64) as usize,
                ..g
            };
            prop_assume!((h - 1) * s + k + gt.output_padding > 2 * p);
            let convt = hr(move |_, v| conv_transpose2d(v[0], v[1], Some(v[2]), gt).tanh());
            let ts = [
                Tensor::randn(&[n, c, h, h], seed ^ 3),
                Tensor::randn(&[c, o, k, k], seed ^ 4),
                Tensor::randn(&[o], seed ^ 5),
            ];
            check_grad(convt, &ts, &cfg).map_err(|e| TestCaseError::fail(format!("convT: {e}")))?;
            check_grad2(convt, &ts, &cfg)
                .map_err(|e| TestCaseError::fail(format!("convT 2nd: {e}")))?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn dcgan_style_upsampling_doubles_the_image() {
    let tape = Tape::new();
    let x = tape.constant(Tensor::randn(&[2, 3, 8, 8], 0));
    let w = tape.constant(Tensor::randn(&[3, 5, 4, 4], 1));
    let g = ConvGeometry {
        stride: 2,
        padding: 1,
        output_padding: 0,
    };
    assert_eq!(
        conv_transpose2d(x, w, None, g).shape().as_slice(),
        &[2, 5, 16, 16]
    );
    let down = conv2d(
        tape.constant(Tensor::randn(&[2, 5, 16, 16], 2)),
        tape.constant(Tensor::randn(&[7, 5, 4, 4], 3)),
        None,
        g,
    );
    assert_eq!(down.shape().as_slice(), &[2, 7, 8, 8]);
}
