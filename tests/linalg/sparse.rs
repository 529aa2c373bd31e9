//! Sparse solves: A·u = b on random patterns (LU and Cholesky, single, multiple right-hand
//! sides, batched, transposed), gradient checks, factorisation reuse.

use super::common::*;
use physgrad::linalg::{sparse_solve, sparse_solve_transpose, Factorization, SparsePattern};
use physgrad::{Tape, Tensor};
use rand::Rng;

/// A random problem: pattern, `batch` value sets, right-hand sides.
struct Problem {
    n: usize,
    entries: Vec<(usize, usize)>,
    pattern: SparsePattern,
    values: Vec<Vec<f64>>,
}

fn problem(seed: u64, max_n: usize, batch: usize, fact: Factorization) -> Problem {
    let mut r = rng(seed);
    let n = r.random_range(1..=max_n);
    let sym = fact == Factorization::Cholesky;
    let entries = random_pattern(n, r.random_range(0.1..0.7), sym, &mut r);
    let pattern = SparsePattern::new(n, &entries, fact).unwrap();
    let values = (0..batch)
        .map(|_| dominant_values(n, &entries, sym, &mut r))
        .collect();
    Problem {
        n,
        entries,
        pattern,
        values,
    }
}

fn residual_check(fact: Factorization, transpose: bool) {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 1);
        let batch = r.random_range(1..=3);
        let p = problem(seed, 12, batch, fact);
        let nnz = p.entries.len();
        let tape = Tape::new();
        let flat: Vec<f64> = p.values.concat();
        let b = randn(&[batch, p.n], &mut r);
        let values = tape.constant(Tensor::from_vec(flat, &[batch, nnz]));
        let rhs = tape.constant(b.clone());
        let u = if transpose {
            sparse_solve_transpose(&p.pattern, values, rhs)
        } else {
            sparse_solve(&p.pattern, values, rhs)
        }
        .unwrap()
        .value();
        for e in 0..batch {
            let ue = &u.data()[e * p.n..(e + 1) * p.n];
            let au = matvec(p.n, &p.entries, &p.values[e], ue, transpose);
            close(&au, &b.data()[e * p.n..(e + 1) * p.n], 1e-11)?;
        }
        Ok(())
    });
}

#[test]
fn lu_solution_satisfies_the_system() {
    residual_check(Factorization::Lu, false);
}

#[test]
fn lu_transposed_solution_satisfies_the_transposed_system() {
    residual_check(Factorization::Lu, true);
}

#[test]
fn cholesky_solution_satisfies_the_system() {
    residual_check(Factorization::Cholesky, false);
}

#[test]
fn multiple_right_hand_sides_match_single_solves() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 2);
        let p = problem(seed, 8, 1, Factorization::Lu);
        let k = r.random_range(1..=4);
        let tape = Tape::new();
        let values = tape.constant(Tensor::from_vec(p.values[0].clone(), &[p.entries.len()]));
        let b = randn(&[k, p.n], &mut r);
        let u = sparse_solve(&p.pattern, values, tape.constant(b.clone()))
            .unwrap()
            .value();
        for j in 0..k {
            let bj = Tensor::from_vec(b.data()[j * p.n..(j + 1) * p.n].to_vec(), &[p.n]);
            let uj = sparse_solve(&p.pattern, values, tape.constant(bj))
                .unwrap()
                .value();
            close(&u.data()[j * p.n..(j + 1) * p.n], uj.data(), 1e-13)?;
        }
        Ok(())
    });
}

/// First and second order w.r.t. values and rhs: single, `k` right-hand sides, batched; plain
/// and transposed.
fn gradcheck_lu(transpose: bool) {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 3);
        let mode = r.random_range(0..3);
        let batch = r.random_range(1..=3);
        let p = problem(seed, 5, batch, Factorization::Lu);
        let nnz = p.entries.len();
        let (values, rhs) = match mode {
            0 => (
                Tensor::from_vec(p.values[0].clone(), &[nnz]),
                randn(&[p.n], &mut r),
            ),
            1 => (
                Tensor::from_vec(p.values[0].clone(), &[nnz]),
                randn(&[batch, p.n], &mut r),
            ),
            _ => (
                Tensor::from_vec(p.values.concat(), &[batch, nnz]),
                randn(&[batch, p.n], &mut r),
            ),
        };
        let pat = p.pattern.clone();
        check_both(
            move |_t, v| {
                let u = if transpose {
                    sparse_solve_transpose(&pat, v[0], v[1])
                } else {
                    sparse_solve(&pat, v[0], v[1])
                };
                u.unwrap()
            },
            &[values, rhs],
        )
    });
}

#[test]
fn lu_gradients_first_and_second_order() {
    gradcheck_lu(false);
}

#[test]
fn lu_transposed_gradients_first_and_second_order() {
    gradcheck_lu(true);
}

/// Cholesky, through a symmetric parametrisation: one parameter per lower entry, gathered onto
/// both triangles (a lower-only pattern is exercised too).
#[test]
fn cholesky_gradients_first_and_second_order() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 4);
        let batch = r.random_range(1..=2);
        let p = problem(seed, 5, batch, Factorization::Cholesky);
        let lower_only = r.random_bool(0.5);
        let entries: Vec<(usize, usize)> = if lower_only {
            p.entries.iter().copied().filter(|&(i, j)| i >= j).collect()
        } else {
            p.entries.clone()
        };
        let params_at: Vec<(usize, usize)> =
            entries.iter().copied().filter(|&(i, j)| i >= j).collect();
        let map: Vec<usize> = entries
            .iter()
            .map(|&(i, j)| {
                params_at
                    .iter()
                    .position(|&e| e == (i.max(j), i.min(j)))
                    .unwrap()
            })
            .collect();
        let pattern = SparsePattern::new(p.n, &entries, Factorization::Cholesky).unwrap();
        let params: Vec<f64> = p
            .values
            .iter()
            .flat_map(|v| {
                params_at
                    .iter()
                    .map(|e| v[p.entries.iter().position(|x| x == e).unwrap()])
            })
            .collect();
        let params = Tensor::from_vec(params, &[batch, params_at.len()]);
        let rhs = randn(&[batch, p.n], &mut r);
        check_both(
            move |_t, v| sparse_solve(&pattern, v[0].gather(1, &map), v[1]).unwrap(),
            &[params, rhs],
        )
    });
}

/// Cholesky and LU agree on SPD matrices, values and gradients.
#[test]
fn cholesky_matches_lu() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 5);
        let p = problem(seed, 10, 1, Factorization::Cholesky);
        let lu = SparsePattern::new(p.n, &p.entries, Factorization::Lu).unwrap();
        let b = randn(&[p.n], &mut r);
        let w = randn(&[p.n], &mut r);
        let run = |pat: &SparsePattern| {
            let tape = Tape::new();
            let v = tape.var(Tensor::from_vec(p.values[0].clone(), &[p.entries.len()]));
            let rhs = tape.var(b.clone());
            let u = sparse_solve(pat, v, rhs).unwrap();
            let g = tape.gradients(&[u], Some(std::slice::from_ref(&w)), &[v, rhs]);
            (u.value(), g)
        };
        let (u1, g1) = run(&p.pattern);
        let (u2, g2) = run(&lu);
        close(u1.data(), u2.data(), 1e-12)?;
        close(g1[1].data(), g2[1].data(), 1e-12)?;
        // Symmetric perturbations see the same derivative: compare g(i,j) + g(j,i).
        let sym = |g: &Tensor| -> Vec<f64> {
            p.entries
                .iter()
                .map(|&(i, j)| {
                    let m = p.entries.iter().position(|&e| e == (j, i)).unwrap();
                    let k = p.entries.iter().position(|&e| e == (i, j)).unwrap();
                    if i == j {
                        g.data()[k]
                    } else {
                        g.data()[k] + g.data()[m]
                    }
                })
                .collect()
        };
        close(&sym(&g1[0]), &sym(&g2[0]), 1e-12)
    });
}

/// The VJP reuses the forward factorisation: one numeric factorisation per batch element,
/// however many (first- or second-order) gradients are taken.
#[test]
fn vjp_reuses_the_factorisation() {
    let p = problem(7, 10, 3, Factorization::Lu);
    let nnz = p.entries.len();
    let tape = Tape::new();
    let v = tape.var(Tensor::from_vec(p.values.concat(), &[3, nnz]));
    let b = tape.var(Tensor::ones(&[3, p.n]));
    let u = sparse_solve(&p.pattern, v, b).unwrap();
    assert_eq!(p.pattern.factorizations(), 3);
    let loss = u.square().sum();
    let _ = loss.backward();
    let g = tape.grad(&[loss], &[v, b]);
    let h = tape.grad(&[g[0].sum() + g[1].sum()], &[v, b]);
    assert!(h[0].value().data().iter().all(|x| x.is_finite()));
    assert_eq!(p.pattern.factorizations(), 3);
}

#[test]
fn csc_and_csr_constructors_agree_with_pairs() {
    // [[4, 1, 0], [0, 3, 2], [1, 0, 5]]
    let csc =
        SparsePattern::from_csc(3, &[0, 2, 4, 6], &[0, 2, 0, 1, 1, 2], Factorization::Lu).unwrap();
    let csr =
        SparsePattern::from_csr(3, &[0, 2, 4, 6], &[0, 1, 1, 2, 0, 2], Factorization::Lu).unwrap();
    assert_eq!(csc.rows(), &[0, 2, 0, 1, 1, 2]);
    assert_eq!(csc.cols(), &[0, 0, 1, 1, 2, 2]);
    assert_eq!(csr.rows(), &[0, 0, 1, 1, 2, 2]);
    let tape = Tape::new();
    let b = tape.constant(Tensor::from_vec(vec![5.0, 5.0, 6.0], &[3]));
    let u1 = sparse_solve(
        &csc,
        tape.constant(Tensor::from_vec(vec![4.0, 1.0, 1.0, 3.0, 2.0, 5.0], &[6])),
        b,
    );
    let u2 = sparse_solve(
        &csr,
        tape.constant(Tensor::from_vec(vec![4.0, 1.0, 3.0, 2.0, 1.0, 5.0], &[6])),
        b,
    );
    let one = Tensor::ones(&[3]);
    assert!(u1.unwrap().value().approx_eq(&one, 1e-14, 1e-14));
    assert!(u2.unwrap().value().approx_eq(&one, 1e-14, 1e-14));
}

/// Larger random systems (supernodes, real fill), LU plain and transposed and Cholesky.
#[test]
fn large_random_systems_satisfy_the_system() {
    for seed in 0..4u64 {
        let mut r = rng(seed ^ 99);
        let n = 300 + r.random_range(0..200);
        for fact in [Factorization::Lu, Factorization::Cholesky] {
            let sym = fact == Factorization::Cholesky;
            let entries = random_pattern(n, 0.01, sym, &mut r);
            let values = dominant_values(n, &entries, sym, &mut r);
            let p = SparsePattern::new(n, &entries, fact).unwrap();
            let b = randn(&[n], &mut r);
            let tape = Tape::new();
            let v = tape.constant(Tensor::from_vec(values.clone(), &[entries.len()]));
            for transpose in [false, true] {
                let u = if transpose {
                    sparse_solve_transpose(&p, v, tape.constant(b.clone()))
                } else {
                    sparse_solve(&p, v, tape.constant(b.clone()))
                };
                let au = matvec(n, &entries, &values, u.unwrap().value().data(), transpose);
                close(&au, b.data(), 1e-11).unwrap();
            }
        }
    }
}

/// A pattern (with its symbolic analysis) can be shared across threads, e.g. one tape per worker.
#[test]
fn patterns_are_send_and_sync() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<SparsePattern>();
    let p = problem(3, 6, 1, Factorization::Lu);
    let values = Tensor::from_vec(p.values[0].clone(), &[p.entries.len()]);
    let results: Vec<Tensor> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let tape = Tape::new();
                    let b = tape.constant(Tensor::ones(&[p.n]));
                    sparse_solve(&p.pattern, tape.constant(values.clone()), b)
                        .unwrap()
                        .value()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results[0].data(), results[1].data());
}
