//! How the tape records: pruning, first-order sweeps that leave nothing behind, `no_grad`,
//! `detach`, custom ops, and errors.

use physgrad::{Error, Op, Result, Tape, Tensor, Var, VjpArgs};

#[test]
fn backward_records_nothing_and_grad_records_its_graph() {
    let tape = Tape::new();
    let x = tape.var(Tensor::randn(&[4, 3], 0));
    let y = (x.sin() * x).sum();
    let before = tape.len();
    let g = y.backward();
    assert_eq!(
        tape.len(),
        before,
        "first-order backward must leave the tape as it was"
    );
    let gs = tape.gradients(&[y], None, &[x]);
    assert_eq!(tape.len(), before);
    assert!(gs[0].approx_eq(&g.wrt(x), 0.0, 0.0));
    let recorded = tape.grad(&[y], &[x])[0];
    assert!(tape.len() > before);
    assert!(recorded.requires_grad());
    assert!(recorded.value().approx_eq(&gs[0], 1e-15, 0.0));
}

#[test]
fn unrelated_and_constant_inputs_get_zeros_and_are_pruned() {
    let tape = Tape::new();
    let x = tape.var(Tensor::randn(&[3], 1));
    let unused = tape.var(Tensor::randn(&[2, 2], 2));
    let c = tape.constant(Tensor::ones(&[3]));
    let y = (x * c).exp().sum();
    let g = y.backward();
    assert!(g.get(unused).is_none());
    assert_eq!(g.wrt(unused), Tensor::zeros(&[2, 2]));
    assert!(g.get(c).is_none(), "constants never receive gradients");
    // Ops whose inputs are all constant are recorded as constants.
    let k = c.exp();
    assert!(!k.requires_grad());
    let gs = tape.gradients(&[y], None, &[unused, x]);
    assert_eq!(gs[0], Tensor::zeros(&[2, 2]));
}

/// Counts VJP calls, to prove that nodes off the path to the requested inputs are skipped.
struct Counted(std::rc::Rc<std::cell::Cell<usize>>);
impl Op for Counted {
    fn name(&self) -> &str {
        "counted"
    }
    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        Ok(inputs[0].clone())
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        self.0.set(self.0.get() + 1);
        vec![Some(args.grad)]
    }
}

#[test]
fn nodes_not_leading_to_requested_inputs_are_skipped() {
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let tape = Tape::new();
    let a = tape.var(Tensor::scalar(1.0));
    let b = tape.var(Tensor::scalar(2.0));
    let a2 = tape.apply(Counted(calls.clone()), &[a]).unwrap();
    let b2 = tape.apply(Counted(calls.clone()), &[b]).unwrap();
    let y = a2 * b2;
    let g = tape.gradients(&[y], None, &[b]);
    assert_eq!(g[0].item(), 1.0);
    assert_eq!(calls.get(), 1, "only the branch through b runs its VJP");
}

#[test]
fn no_grad_and_detach_stop_gradients() {
    let tape = Tape::new();
    let x = tape.var(Tensor::scalar(3.0));
    let y = tape.no_grad(|| x * x);
    assert!(!y.requires_grad());
    assert!(tape.is_recording(), "no_grad restores recording");
    let z = x * x.detach();
    assert_eq!(z.backward().wrt(x).item(), 3.0);
    let nested = tape.no_grad(|| tape.no_grad(|| x.exp()));
    assert!(!nested.requires_grad());
}

#[test]
fn seeds_weight_the_outputs_and_can_be_differentiated() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![0.5, -1.0], &[2]));
    let y = x.exp();
    let g = tape.gradients(&[y], Some(&[Tensor::from_vec(vec![2.0, 3.0], &[2])]), &[x]);
    assert!(g[0].approx_eq(
        &Tensor::from_vec(vec![2.0 * 0.5f64.exp(), 3.0 * (-1.0f64).exp()], &[2]),
        1e-15,
        0.0
    ));
    // A seed on the tape: d/ds ⟨J(x)ᵀ s, v⟩ = J(x) v, a JVP through the transpose.
    let s = tape.var(Tensor::zeros(&[2]));
    let vjp = tape.grad_with_seeds(&[y], &[s], &[x])[0];
    let v = tape.constant(Tensor::from_vec(vec![1.0, 1.0], &[2]));
    let jvp = tape.grad(&[vjp.dot(v)], &[s])[0];
    assert!(jvp.value().approx_eq(&y.value(), 1e-15, 0.0));
}

/// A custom op with state kept from the forward: y = A⁻¹-free scaling by a stored factor.
struct ScaleByNorm {
    norm: std::cell::Cell<f64>,
}
impl Op for ScaleByNorm {
    fn name(&self) -> &str {
        "scale_by_norm"
    }
    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let n = inputs[0].norm();
        if n == 0.0 {
            return Err(Error::InvalidInput {
                op: "scale_by_norm".into(),
                detail: "zero vector".into(),
            });
        }
        self.norm.set(n);
        Ok(inputs[0].map(|v| v / n))
    }
    fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
        // y = x/‖x‖: x̄ = (ḡ − y⟨y, ḡ⟩)/‖x‖, in Var ops so second order works.
        let (y, g) = (args.output, args.grad);
        let x = args.inputs[0];
        let n = x.norm();
        vec![Some((g - y * (y * g).sum()) / n)]
    }
}

#[test]
fn custom_ops_are_checked_like_built_ins_and_report_errors() {
    use physgrad::testing::{check_grad, check_grad2, GradCheck};
    let f = physgrad::testing::hr(|_, v| {
        v[0].apply(ScaleByNorm {
            norm: std::cell::Cell::new(0.0),
        })
        .unwrap()
        .sin()
    });
    let x = Tensor::rand_uniform(&[5], -1.0, 1.0, 3);
    check_grad(f, std::slice::from_ref(&x), &GradCheck::default()).unwrap();
    check_grad2(f, &[x], &GradCheck::default()).unwrap();
    let tape = Tape::new();
    let zero = tape.var(Tensor::zeros(&[3]));
    let err = zero
        .apply(ScaleByNorm {
            norm: std::cell::Cell::new(0.0),
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "scale_by_norm: zero vector");
    assert_eq!(tape.len(), 1, "a failed op records nothing");
}

#[test]
fn a_wrong_custom_vjp_is_caught_by_the_checker() {
    struct WrongSquare;
    impl Op for WrongSquare {
        fn name(&self) -> &str {
            "wrong_square"
        }
        fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
            Ok(inputs[0].map(|v| v * v))
        }
        fn vjp<'t>(&self, args: &VjpArgs<'_, 't>) -> Vec<Option<Var<'t>>> {
            vec![Some(args.grad * args.inputs[0] * 2.01)]
        }
    }
    let f = physgrad::testing::hr(|_, v| v[0].apply(WrongSquare).unwrap());
    let x = Tensor::rand_uniform(&[4], 0.5, 1.0, 1);
    let err = physgrad::testing::check_grad(f, &[x], &Default::default()).unwrap_err();
    assert!(err.to_string().contains("gradient check failed"), "{err}");
}

#[test]
fn non_finite_losses_and_gradients_are_errors() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![-1.0, 4.0], &[2]));
    let y = x.sqrt().sum();
    assert!(matches!(
        y.check_finite("loss"),
        Err(Error::NonFinite { .. })
    ));
    let x2 = tape.var(Tensor::from_vec(vec![0.0, 4.0], &[2]));
    let g = x2.sqrt().sum().backward();
    assert!(matches!(g.check_finite(), Err(Error::NonFinite { .. })));
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [4] do not broadcast")]
fn shape_misuse_panics_naming_op_and_shapes() {
    let tape = Tape::new();
    let a = tape.var(Tensor::zeros(&[2, 3]));
    let b = tape.var(Tensor::zeros(&[4]));
    let _ = a + b;
}

#[test]
#[should_panic(expected = "matmul: shapes [2, 3] and [2, 3] do not multiply")]
fn matmul_mismatch_panics_naming_shapes() {
    let tape = Tape::new();
    let a = tape.var(Tensor::zeros(&[2, 3]));
    let _ = a.matmul(a);
}

#[test]
fn panics_point_at_the_callers_line() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Option<(String, u32)>>> = Arc::default();
    let me = std::thread::current().id();
    let previous = std::panic::take_hook();
    let record = seen.clone();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == me {
            let loc = info.location().unwrap();
            *record.lock().unwrap() = Some((loc.file().to_string(), loc.line()));
        } else {
            previous(info);
        }
    }));
    let tape = Tape::new();
    let a = tape.var(Tensor::zeros(&[2]));
    let b = tape.var(Tensor::zeros(&[3]));
    let line = line!() + 1;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a * b));
    assert!(r.is_err());
    let (file, at) = seen.lock().unwrap().clone().expect("hook ran");
    assert!(
        file.ends_with("tape_behaviour.rs"),
        "panic located in {file}"
    );
    assert_eq!(at, line);
    assert_eq!(tape.len(), 2, "a panicking op records nothing");
}

/// Fan-out makes the backward sweep add gradients whose buffers are shared (an `add` passes its
/// upstream gradient on unchanged, to both operands) or not: the sums are exact here, and no
/// value on the tape changes.
#[test]
fn accumulated_gradients_are_right_and_leave_tape_values_alone() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let y = x * 2.0;
    let z = y + y + y * y + x; // ∂z/∂y = 2 + 2y, ∂z/∂x = 2·(2 + 2y) + 1
    let (yv, zv) = (y.value(), z.value());
    let g = z.backward();
    assert_eq!(g.wrt(x).data(), &[13.0, 21.0, 29.0]);
    assert_eq!(
        g.wrt(x).data(),
        &[13.0, 21.0, 29.0],
        "a second read is unchanged"
    );
    assert_eq!((y.value(), z.value()), (yv, zv));
}
