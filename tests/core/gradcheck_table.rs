//! Every primitive (and every composition) checked against finite differences at first and
//! second order, over random shapes (broadcasting included) and values.

use physgrad::testing::strategies::{broadcast_pair, shape, tensor_away_from, tensor_of};
use physgrad::testing::{check_grad, check_grad2, GradCheck};
use physgrad::{Tape, Tensor, Var};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::fmt;
use std::rc::Rc;

type Fun = Rc<dyn for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>>;

/// One random instance of an op: its inputs and the function under test.
#[derive(Clone)]
struct Trial {
    desc: String,
    inputs: Vec<Tensor>,
    f: Fun,
}

impl fmt::Debug for Trial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on ", self.desc)?;
        f.debug_list().entries(&self.inputs).finish()
    }
}

fn trial(
    desc: impl Into<String>,
    inputs: Vec<Tensor>,
    f: impl for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t> + 'static,
) -> Trial {
    Trial {
        desc: desc.into(),
        inputs,
        f: Rc::new(f),
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32)
}

/// Runs first- and second-order checks on every trial the strategy generates.
fn run(strategy: impl Strategy<Value = Trial>) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let cfg = GradCheck::default();
    let result = runner.run(&strategy, |t| {
        let f = t.f.clone();
        check_grad(move |tape, v| f(tape, v), &t.inputs, &cfg)
            .map_err(|e| TestCaseError::fail(format!("first order: {e}")))?;
        let f = t.f.clone();
        check_grad2(move |tape, v| f(tape, v), &t.inputs, &cfg)
            .map_err(|e| TestCaseError::fail(format!("second order: {e}")))?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

const R: usize = 3; // max rank
const D: usize = 4; // max axis length

fn unary(
    name: &'static str,
    low: f64,
    high: f64,
    kinks: Vec<f64>,
    f: for<'t> fn(Var<'t>) -> Var<'t>,
) {
    let s = shape(R, D).prop_flat_map(move |s| tensor_away_from(s, low, high, kinks.clone(), 0.05));
    run(s.prop_map(move |x| trial(name, vec![x], move |_, v| f(v[0]))));
}

fn binary(
    name: &'static str,
    a: (f64, f64),
    b: (f64, f64),
    b_kinks: Vec<f64>,
    f: for<'t> fn(Var<'t>, Var<'t>) -> Var<'t>,
) {
    let s = broadcast_pair(R, D).prop_flat_map(move |(sa, sb)| {
        (
            tensor_of(sa, a.0, a.1),
            tensor_away_from(sb, b.0, b.1, b_kinks.clone(), 0.3),
        )
    });
    run(s.prop_map(move |(x, y)| trial(name, vec![x, y], move |_, v| f(v[0], v[1]))));
}

#[test]
fn add() {
    binary("add", (-2.0, 2.0), (-2.0, 2.0), vec![], |a, b| a + b);
}
#[test]
fn sub() {
    binary("sub", (-2.0, 2.0), (-2.0, 2.0), vec![], |a, b| a - b);
}
#[test]
fn mul() {
    binary("mul", (-2.0, 2.0), (-2.0, 2.0), vec![], |a, b| a * b);
}
#[test]
fn div() {
    binary("div", (-2.0, 2.0), (-2.0, 2.0), vec![0.0], |a, b| a / b);
}
#[test]
fn pow() {
    binary("pow", (0.5, 2.0), (-2.0, 2.0), vec![], |a, b| a.pow(b));
}
#[test]
fn powf_negative_base_integer_exponent() {
    unary("powf", -2.0, 2.0, vec![], |a| a.powf(3.0));
}
#[test]
fn maximum() {
    // Operands drawn from disjoint-looking ranges still interleave; the margin keeps FD off ties.
    binary("maximum", (-2.0, 2.0), (-2.0, 2.0), vec![], |a, b| {
        a.maximum(b * 1.5 + 0.1)
    });
}
#[test]
fn minimum() {
    binary("minimum", (-2.0, 2.0), (-2.0, 2.0), vec![], |a, b| {
        a.minimum(b * 1.5 + 0.1)
    });
}
#[test]
fn neg() {
    unary("neg", -2.0, 2.0, vec![], |a| -a);
}
#[test]
fn exp() {
    unary("exp", -3.0, 3.0, vec![], |a| a.exp());
}
#[test]
fn log() {
    unary("log", 0.2, 3.0, vec![], |a| a.ln());
}
#[test]
fn sin() {
    unary("sin", -4.0, 4.0, vec![], |a| a.sin());
}
#[test]
fn cos() {
    unary("cos", -4.0, 4.0, vec![], |a| a.cos());
}
#[test]
fn tanh() {
    unary("tanh", -3.0, 3.0, vec![], |a| a.tanh());
}
#[test]
fn tanh_third_order() {
    // check_grad2 of a function that already takes a gradient: third derivatives of tanh, so
    // the VJP of the fused tanh_backward's VJP is exercised too.
    unary("d tanh", -2.0, 2.0, vec![], |a| {
        let tape = a.tape();
        tape.grad(&[a.tanh()], &[a])[0]
    });
}
/// `a` with at least one axis (`sin_cos` stacks along the last one).
fn lift(a: Var<'_>) -> Var<'_> {
    if a.ndim() == 0 {
        a.reshape(&[1])
    } else {
        a
    }
}
#[test]
fn sin_cos() {
    unary("sin_cos", -4.0, 4.0, vec![], |a| lift(a).sin_cos());
}
#[test]
fn sin_cos_third_order() {
    // The gradient is `rot_dot(w, [sin, cos])`; its second derivatives exercise `rot_scale` and
    // the VJPs of both bilinear ops.
    unary("d sin_cos", -4.0, 4.0, vec![], |a| {
        let tape = a.tape();
        let y = lift(a).sin_cos();
        let w = tape.constant(Tensor::linspace(-1.0, 2.0, y.len()).reshape(&y.shape()));
        tape.grad(&[(y * w).sum()], &[a])[0]
    });
}
#[test]
fn gelu_derivatives() {
    unary("gelu'", -4.0, 4.0, vec![], |a| a.gelu_derivative(1));
    unary("gelu''", -4.0, 4.0, vec![], |a| a.gelu_derivative(2));
    unary("gelu'''", -4.0, 4.0, vec![], |a| a.gelu_derivative(3));
    unary("gelu⁽⁵⁾", -4.0, 4.0, vec![], |a| a.gelu_derivative(5));
}
#[test]
fn gelu_shared_derivatives() {
    // The three orders of one evaluation, as a forward jet uses them, in one function.
    unary("gelu jet", -4.0, 4.0, vec![], |a| {
        let g = a.gelu_derivatives(&[0, 1, 2]);
        g[0] * g[1] + g[2]
    });
    // Its gradient, checked to second order: the VJPs of the scaled parts (`g·gelu⁽ⁿ⁾`, the
    // gradient of a part), in both the argument and the factor, to the fourth derivative.
    unary("d gelu jet", -4.0, 4.0, vec![], |a| {
        let tape = a.tape();
        let g = lift(a).gelu_derivatives(&[0, 1, 2]);
        let y = g[0] * g[1] + g[2];
        let w = tape.constant(Tensor::linspace(-1.0, 2.0, y.len()).reshape(&y.shape()));
        tape.grad(&[(y * w).sum()], &[a])[0]
    });
}
#[test]
fn add_tanh() {
    // The bias is the second operand of a broadcast pair whose first operand has the full shape.
    let s = broadcast_pair(R, D).prop_flat_map(|(sa, sb)| {
        let full = physgrad::tensor::broadcast_shapes(&sa, &sb)
            .unwrap()
            .to_vec();
        (tensor_of(full, -2.0, 2.0), tensor_of(sb, -1.0, 1.0))
    });
    run(s.prop_map(|(h, b)| trial("add_tanh", vec![h, b], |_, v| v[0].add_tanh(v[1]))));
}
#[test]
fn sqrt() {
    unary("sqrt", 0.3, 3.0, vec![], |a| a.sqrt());
}
#[test]
fn abs() {
    unary("abs", -2.0, 2.0, vec![0.0], |a| a.abs());
}
#[test]
fn select() {
    let s = broadcast_pair(R, D).prop_flat_map(|(sa, sb)| {
        let sc = sa.clone();
        (
            tensor_of(sa, -2.0, 2.0),
            tensor_of(sb, -2.0, 2.0),
            tensor_of(sc, -1.0, 1.0),
        )
    });
    run(s.prop_map(|(a, b, c)| {
        let cond = c.map(|v| if v > 0.0 { 1.0 } else { 0.0 });
        trial("select", vec![a, b], move |_, v| {
            Var::select(&cond, v[0] * v[0], v[1].sin())
        })
    }));
}

/// A random subset of the axes of a rank-`n` shape.
fn axes_of(s: &[usize]) -> impl Strategy<Value = Vec<usize>> {
    let n = s.len();
    proptest::collection::vec(any::<bool>(), n).prop_map(|m| {
        m.iter()
            .enumerate()
            .filter(|(_, &b)| b)
            .map(|(i, _)| i)
            .collect()
    })
}

#[test]
fn sum_axes_keepdim_or_not() {
    let s = shape(R, D)
        .prop_flat_map(|s| (tensor_of(s.clone(), -2.0, 2.0), axes_of(&s), any::<bool>()));
    run(s.prop_map(|(x, axes, keep)| {
        trial(
            format!("sum_axes({axes:?}, {keep})"),
            vec![x],
            move |_, v| (v[0] * v[0]).sum_axes(&axes, keep),
        )
    }));
}
#[test]
fn mean_axes() {
    let s = shape(R, D).prop_flat_map(|s| (tensor_of(s.clone(), -2.0, 2.0), axes_of(&s)));
    run(s.prop_map(|(x, axes)| {
        trial(format!("mean_axes({axes:?})"), vec![x], move |_, v| {
            v[0].sin().mean_axes(&axes, false)
        })
    }));
}
#[test]
fn sum_to_and_broadcast_to() {
    let s = broadcast_pair(R, D).prop_flat_map(|(sa, sb)| {
        let full = physgrad::tensor::broadcast_shapes(&sa, &sb)
            .unwrap()
            .to_vec();
        (tensor_of(full, -2.0, 2.0), Just(sa))
    });
    run(s.prop_map(|(x, target)| {
        let t2 = target.clone();
        trial(
            format!("sum_to({target:?})"),
            vec![x.clone()],
            move |_, v| {
                let full = v[0].shape();
                (v[0] * v[0]).sum_to(&t2).broadcast_to(&full).sin()
            },
        )
    }));
}
#[test]
fn max_axes() {
    let s = shape(R, D).prop_flat_map(|s| (tensor_of(s.clone(), -2.0, 2.0), axes_of(&s)));
    run(s.prop_map(|(x, axes)| {
        trial(format!("max_axes({axes:?})"), vec![x], move |_, v| {
            (v[0] * v[0]).max_axes(&axes, true) * 2.0
        })
    }));
}
#[test]
fn reshape_and_flatten() {
    let s = shape(R, D).prop_flat_map(|s| tensor_of(s, -2.0, 2.0));
    run(s.prop_map(|x| {
        let n = x.len();
        trial("reshape", vec![x], move |_, v| {
            v[0].reshape(&[1, n]).sin().flatten() * v[0].flatten()
        })
    }));
}
#[test]
fn permute() {
    let s = shape(R, D).prop_flat_map(|s| {
        let n = s.len();
        (
            tensor_of(s, -2.0, 2.0),
            Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
        )
    });
    run(s.prop_map(|(x, perm)| {
        trial(format!("permute({perm:?})"), vec![x], move |_, v| {
            v[0].permute(&perm) * v[0].permute(&perm)
        })
    }));
}
#[test]
fn slice_and_pad() {
    let s = shape(R, D)
        .prop_filter("rank ≥ 1", |s| !s.is_empty())
        .prop_flat_map(|s| {
            let n = s.len();
            (Just(s.clone()), 0..n)
        })
        .prop_flat_map(|(s, axis)| {
            let len = s[axis];
            (
                tensor_of(s, -2.0, 2.0),
                Just(axis),
                0..=len,
                0..=len,
                0..3usize,
                0..3usize,
            )
        });
    run(s.prop_map(|(x, axis, i, j, before, after)| {
        let (lo, hi) = (i.min(j), i.max(j));
        trial(
            format!("slice/pad axis {axis} {lo}..{hi} +{before}+{after}"),
            vec![x],
            move |_, v| {
                let s = v[0].slice(axis, lo..hi);
                (s * s).pad(axis, before, after).exp()
            },
        )
    }));
}
#[test]
fn concat() {
    let s = shape(R, D)
        .prop_filter("rank ≥ 1", |s| !s.is_empty())
        .prop_flat_map(|s| {
            let n = s.len();
            (Just(s), 0..n, 1..4usize)
        })
        .prop_flat_map(|(s, axis, extra)| {
            let mut s2 = s.clone();
            s2[axis] = extra;
            (
                tensor_of(s, -2.0, 2.0),
                tensor_of(s2, -2.0, 2.0),
                Just(axis),
            )
        });
    run(s.prop_map(|(a, b, axis)| {
        trial(format!("concat axis {axis}"), vec![a, b], move |_, v| {
            Var::concat(&[v[0], v[1].sin(), v[0]], axis).square()
        })
    }));
}
#[test]
fn gather_and_scatter_add() {
    let s = shape(R, D)
        .prop_filter("rank ≥ 1", |s| !s.is_empty())
        .prop_flat_map(|s| {
            let n = s.len();
            (Just(s), 0..n)
        })
        .prop_flat_map(|(s, axis)| {
            let len = s[axis];
            (
                tensor_of(s, -2.0, 2.0),
                Just(axis),
                proptest::collection::vec(0..len, 1..6),
            )
        });
    run(s.prop_map(|(x, axis, idx)| {
        trial(
            format!("gather/scatter axis {axis} {idx:?}"),
            vec![x],
            move |_, v| {
                let size = v[0].shape()[axis] + 1;
                let g = v[0].gather(axis, &idx);
                (g * g).scatter_add(axis, &idx, size).sin()
            },
        )
    }));
}
#[test]
fn matmul_2d_batched_and_vectors() {
    let dims = (1..5usize, 1..5usize, 1..5usize, 0..6usize);
    let s = dims.prop_flat_map(|(m, k, n, kind)| {
        let (sa, sb) = match kind {
            0 => (vec![m, k], vec![k, n]),
            1 => (vec![2, m, k], vec![2, k, n]),
            2 => (vec![3, m, k], vec![k, n]),
            3 => (vec![k], vec![1, k, n]),
            4 => (vec![k], vec![k]),
            _ => (vec![m, k], vec![k]),
        };
        (tensor_of(sa, -2.0, 2.0), tensor_of(sb, -2.0, 2.0))
    });
    run(s.prop_map(|(a, b)| trial("matmul", vec![a, b], |_, v| v[0].matmul(v[1]))));
}
#[test]
fn matmul_transposed_operands() {
    let s = (1..5usize, 1..5usize, 1..5usize).prop_flat_map(|(m, k, n)| {
        (
            tensor_of(vec![k, m], -2.0, 2.0),
            tensor_of(vec![n, k], -2.0, 2.0),
        )
    });
    run(s.prop_map(|(a, b)| {
        trial("matmul of transposes", vec![a, b], |_, v| {
            v[0].t().matmul(v[1].t()).tanh()
        })
    }));
}

// Compositions: no derivative code of their own, checked all the same.
#[test]
fn sigmoid() {
    unary("sigmoid", -5.0, 5.0, vec![], |a| a.sigmoid());
}
#[test]
fn softplus() {
    unary("softplus", -5.0, 5.0, vec![0.0], |a| a.softplus());
}
#[test]
fn relu() {
    unary("relu", -2.0, 2.0, vec![0.0], |a| a.relu() * a);
}
#[test]
fn leaky_relu() {
    unary("leaky_relu", -2.0, 2.0, vec![0.0], |a| {
        a.leaky_relu(0.1) * a
    });
}
#[test]
fn silu() {
    unary("silu", -3.0, 3.0, vec![], |a| a.silu());
}
#[test]
fn logsumexp_and_softmax() {
    let s = shape(R, D).prop_flat_map(|s| (tensor_of(s.clone(), -3.0, 3.0), axes_of(&s)));
    run(s.prop_map(|(x, axes)| {
        trial(format!("logsumexp({axes:?})"), vec![x], move |_, v| {
            v[0].logsumexp(&axes, true) * v[0].softmax(&axes)
        })
    }));
}
#[test]
fn mse_norm_dot() {
    let s =
        shape(R, D).prop_flat_map(|s| (tensor_of(s.clone(), -2.0, 2.0), tensor_of(s, 0.5, 2.0)));
    run(s.prop_map(|(a, b)| {
        trial("mse + norm + dot", vec![a, b], |_, v| {
            v[0].mse(v[1]) + v[1].norm() + v[0].dot(v[1])
        })
    }));
}
#[test]
fn tanh_mlp_end_to_end() {
    let s = (
        tensor_of(vec![5, 3], -1.0, 1.0),
        tensor_of(vec![3, 4], -1.0, 1.0),
        tensor_of(vec![4], -0.5, 0.5),
        tensor_of(vec![4, 1], -1.0, 1.0),
    );
    run(s.prop_map(|(x, w1, b1, w2)| {
        trial("mlp", vec![x, w1, b1, w2], |_, v| {
            (v[0].matmul(v[1]) + v[2])
                .tanh()
                .matmul(v[3])
                .square()
                .mean()
        })
    }));
}
