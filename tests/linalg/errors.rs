//! Bad numbers give typed errors naming the op (and nothing is recorded); shape misuse panics.

use physgrad::linalg::{
    dense_solve, sparse_solve, tridiagonal_solve, Factorization, SparsePattern,
};
use physgrad::{Error, Tape, Tensor};

fn t(v: &[f64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()])
}

const FULL2: [(usize, usize); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];

fn solve2(fact: Factorization, values: &[f64], rhs: &[f64]) -> physgrad::Result<Tensor> {
    let p = SparsePattern::new(2, &FULL2, fact).unwrap();
    let tape = Tape::new();
    let before = tape.len();
    let r = sparse_solve(&p, tape.var(t(values)), tape.var(t(rhs))).map(|u| u.value());
    if r.is_err() {
        assert_eq!(tape.len(), before + 2, "a failed solve records nothing");
    }
    r
}

#[test]
fn singular_matrices_are_typed_errors() {
    let e = solve2(Factorization::Lu, &[1.0, 2.0, 2.0, 4.0], &[1.0, 1.0]).unwrap_err();
    assert!(
        matches!(&e, Error::Singular { op, .. } if op == "sparse_solve"),
        "{e}"
    );
    let e = solve2(Factorization::Lu, &[0.0, 0.0, 0.0, 0.0], &[1.0, 1.0]).unwrap_err();
    assert!(matches!(e, Error::Singular { .. }), "{e}");
    // Symmetric but indefinite: Cholesky refuses.
    let e = solve2(Factorization::Cholesky, &[1.0, 2.0, 2.0, 1.0], &[1.0, 1.0]).unwrap_err();
    assert!(matches!(e, Error::Singular { .. }), "{e}");
    let tape = Tape::new();
    let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 2.0, 4.0], &[2, 2]));
    let e = dense_solve(a, tape.var(t(&[1.0, 1.0])), Factorization::Lu).unwrap_err();
    assert!(
        matches!(&e, Error::Singular { op, .. } if op == "dense_solve"),
        "{e}"
    );
    let e = dense_solve(a, tape.var(t(&[1.0, 1.0])), Factorization::Cholesky).unwrap_err();
    assert!(matches!(e, Error::Singular { .. }), "{e}");
    // [[1, 1], [1, 1]] as a tridiagonal matrix.
    let one = tape.var(t(&[1.0]));
    let e = tridiagonal_solve(one, tape.var(t(&[1.0, 1.0])), one, tape.var(t(&[1.0, 1.0])))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Singular { op, .. } if op == "tridiagonal_solve"),
        "{e}"
    );
}

#[test]
fn non_finite_inputs_are_typed_errors() {
    let e = solve2(Factorization::Lu, &[1.0, f64::NAN, 0.0, 1.0], &[1.0, 1.0]).unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
    let e = solve2(
        Factorization::Lu,
        &[1.0, 0.0, 0.0, 1.0],
        &[f64::INFINITY, 1.0],
    )
    .unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
    let tape = Tape::new();
    let a = tape.var(Tensor::from_vec(vec![1.0, 0.0, 0.0, f64::NAN], &[2, 2]));
    let e = dense_solve(a, tape.var(t(&[1.0, 1.0])), Factorization::Lu).unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
}

#[test]
fn cholesky_rejects_a_non_symmetric_matrix() {
    let e = solve2(Factorization::Cholesky, &[4.0, 1.0, 2.0, 4.0], &[1.0, 1.0]).unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
}

#[test]
fn batch_errors_name_the_element() {
    let p = SparsePattern::new(2, &FULL2, Factorization::Lu).unwrap();
    let tape = Tape::new();
    let v = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0], &[2, 4]);
    let e = sparse_solve(&p, tape.var(v), tape.var(Tensor::ones(&[2, 2]))).unwrap_err();
    assert!(e.to_string().contains("batch element 1"), "{e}");
}

/// A singular matrix inside a four-system group and in the remainder after the groups.
#[test]
fn tridiagonal_batch_errors_name_the_element() {
    let (batch, n) = (7, 5);
    for bad in [2, 5, 6] {
        let tape = Tape::new();
        let lower = tape.constant(Tensor::ones(&[batch, n - 1]));
        let mut up = Tensor::ones(&[batch, n - 1]);
        let mut d = Tensor::full(&[batch, n], 3.0);
        // Rows 0 and 1 both [1 1 0 …]: the matrix is singular.
        d.data_mut()[bad * n] = 1.0;
        d.data_mut()[bad * n + 1] = 1.0;
        up.data_mut()[bad * (n - 1) + 1] = 0.0;
        let upper = tape.constant(up);
        let rhs = tape.constant(Tensor::ones(&[batch, n]));
        let e =
            physgrad::linalg::tridiagonal_solve(lower, tape.constant(d), upper, rhs).unwrap_err();
        assert!(matches!(e, Error::Singular { .. }), "{e}");
        assert!(
            e.to_string().contains(&format!("batch element {bad}")),
            "{e}"
        );
    }
}

#[test]
fn invalid_patterns_are_rejected() {
    let lu = Factorization::Lu;
    assert!(matches!(
        SparsePattern::new(2, &[(0, 0), (2, 1)], lu),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        SparsePattern::new(2, &[(0, 1), (0, 1)], lu),
        Err(Error::InvalidInput { .. })
    ));
    let chol = SparsePattern::new(2, &[(0, 0), (0, 1), (1, 1)], Factorization::Cholesky);
    assert!(
        matches!(chol, Err(Error::InvalidInput { .. })),
        "upper entry without a mirror"
    );
    assert!(SparsePattern::from_csc(2, &[0, 1], &[0], lu).is_err());
    assert!(SparsePattern::from_csr(2, &[0, 2, 1], &[0, 1], lu).is_err());
}

#[test]
#[should_panic(expected = "sparse_solve: values of shape [3]")]
fn wrong_values_length_panics_naming_the_op() {
    let p = SparsePattern::new(2, &FULL2, Factorization::Lu).unwrap();
    let tape = Tape::new();
    let _ = sparse_solve(&p, tape.var(t(&[1.0, 2.0, 3.0])), tape.var(t(&[1.0, 1.0])));
}

#[test]
#[should_panic(expected = "dense_solve: a of shape [2, 3]")]
fn dense_shape_misuse_panics() {
    let tape = Tape::new();
    let _ = dense_solve(
        tape.var(Tensor::zeros(&[2, 3])),
        tape.var(t(&[1.0, 1.0])),
        Factorization::Lu,
    );
}

#[test]
fn empty_systems_solve_to_empty() {
    for fact in [Factorization::Lu, Factorization::Cholesky] {
        let p = SparsePattern::new(0, &[], fact).unwrap();
        let tape = Tape::new();
        let u = sparse_solve(
            &p,
            tape.var(Tensor::zeros(&[0])),
            tape.var(Tensor::zeros(&[0])),
        );
        assert_eq!(u.unwrap().value().len(), 0);
        let a = tape.var(Tensor::zeros(&[0, 0]));
        let u = dense_solve(a, tape.var(Tensor::zeros(&[0])), fact).unwrap();
        assert_eq!(u.value().len(), 0);
    }
}

/// The 5-point Laplacian on an `m × m` grid with Neumann (no-flux) boundaries plus `shift·I`:
/// singular (constant null vector) for `shift = 0`, SPD for `shift > 0`. Entries, values.
fn neumann_laplacian(m: usize, shift: f64) -> (Vec<(usize, usize)>, Vec<f64>) {
    let (mut entries, mut values) = (Vec::new(), Vec::new());
    for i in 0..m {
        for j in 0..m {
            let p = i * m + j;
            let nbrs: Vec<usize> = [
                (i > 0).then(|| p - m),
                (i + 1 < m).then(|| p + m),
                (j > 0).then(|| p - 1),
                (j + 1 < m).then(|| p + 1),
            ]
            .into_iter()
            .flatten()
            .collect();
            entries.push((p, p));
            values.push(nbrs.len() as f64 + shift);
            for q in nbrs {
                entries.push((p, q));
                values.push(-1.0);
            }
        }
    }
    (entries, values)
}

#[test]
fn singular_neumann_laplacians_are_detected_by_both_factorisations() {
    for m in [2, 7, 16] {
        let n = m * m;
        let rhs = Tensor::from_vec((0..n).map(|k| (k as f64 * 0.37).sin()).collect(), &[n]);
        for fact in [Factorization::Lu, Factorization::Cholesky] {
            let (entries, values) = neumann_laplacian(m, 0.0);
            let p = SparsePattern::new(n, &entries, fact).unwrap();
            let tape = Tape::new();
            let r = sparse_solve(&p, tape.var(t(&values)), tape.constant(rhs.clone()));
            if let Err(Error::Singular { detail, .. }) = &r {
                eprintln!("m = {m}, {fact:?}: {detail}");
            }
            assert!(
                matches!(r, Err(Error::Singular { .. })),
                "m = {m}, {fact:?}: singular Neumann Laplacian gave {:?}",
                r.map(|u| u.value().data()[0])
            );
            // Shifted by 10⁻³: κ ≈ 8/10⁻³, well within range; the solution is accurate.
            let (_, shifted) = neumann_laplacian(m, 1e-3);
            let u = sparse_solve(&p, tape.var(t(&shifted)), tape.constant(rhs.clone()))
                .unwrap()
                .value();
            let mut res = 0.0f64;
            let mut au = vec![0.0; n];
            for (k, &(i, j)) in entries.iter().enumerate() {
                au[i] += shifted[k] * u.data()[j];
            }
            for (a, b) in au.iter().zip(rhs.data()) {
                res = res.max((a - b).abs());
            }
            assert!(res < 1e-9, "m = {m}, {fact:?}: residual {res:e}");
        }
    }
}
