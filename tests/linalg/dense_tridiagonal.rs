//! Dense and tridiagonal solves: against the matrix, against each other, gradient checks.

use super::common::*;
use physgrad::linalg::{
    dense_solve, dense_solve_transpose, tridiagonal_solve, tridiagonal_solve_transpose,
    Factorization,
};
use physgrad::{Tape, Tensor, Var};
use rand::Rng;

/// `[b, n, n]` matrices with entries in [−1, 1] plus `(n + 1)·I`.
fn dominant(batch: usize, n: usize, r: &mut rand_chacha::ChaCha8Rng) -> Tensor {
    let mut a = Tensor::rand_uniform(&[batch, n, n], -1.0, 1.0, r.random());
    for e in 0..batch {
        for i in 0..n {
            a.data_mut()[e * n * n + i * n + i] += n as f64 + 1.0;
        }
    }
    a
}

fn dense_matvec(a: &[f64], u: &[f64], n: usize, transpose: bool) -> Vec<f64> {
    (0..n)
        .map(|i| {
            (0..n).map(|j| if transpose { a[j * n + i] } else { a[i * n + j] } * u[j]).sum()
        })
        .collect()
}

#[test]
fn dense_solution_satisfies_the_system() {
    for_seeds(|seed| {
        let mut r = rng(seed);
        let (batch, n) = (r.random_range(1..=3), r.random_range(1..=7));
        let transpose = r.random_bool(0.5);
        // Not diagonally dominant: exercises pivoting (well conditioned with high probability).
        let a = Tensor::randn(&[batch, n, n], r.random());
        let b = randn(&[batch, n], &mut r);
        let tape = Tape::new();
        let (av, bv) = (tape.constant(a.clone()), tape.constant(b.clone()));
        let u = if transpose {
            dense_solve_transpose(av, bv, Factorization::Lu)
        } else {
            dense_solve(av, bv, Factorization::Lu)
        };
        let Ok(u) = u else { return Ok(()) }; // a numerically singular draw
        for e in 0..batch {
            let ae = &a.data()[e * n * n..(e + 1) * n * n];
            let au = dense_matvec(ae, &u.value().data()[e * n..(e + 1) * n], n, transpose);
            let scale = ae.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let unorm = u.value().data().iter().fold(1.0f64, |m, v| m.max(v.abs()));
            close(&au, &b.data()[e * n..(e + 1) * n], 1e-12 * scale * unorm)?;
        }
        Ok(())
    });
}

#[test]
fn dense_gradients_first_and_second_order() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 11);
        let (batch, n) = (r.random_range(1..=2), r.random_range(1..=4));
        let transpose = r.random_bool(0.5);
        let batched = r.random_bool(0.5);
        let (a, b) = if batched {
            (dominant(batch, n, &mut r), randn(&[batch, n], &mut r))
        } else {
            (
                dominant(1, n, &mut r).reshape(&[n, n]),
                randn(&[batch, n], &mut r),
            )
        };
        check_both(
            move |_t, v| {
                if transpose {
                    dense_solve_transpose(v[0], v[1], Factorization::Lu).unwrap()
                } else {
                    dense_solve(v[0], v[1], Factorization::Lu).unwrap()
                }
            },
            &[a, b],
        )
    });
}

fn spd(v: Var<'_>, n: usize) -> Var<'_> {
    let eye = (0..n * n)
        .map(|k| {
            if k % (n + 1) == 0 {
                2.0 * (n as f64 + 1.0)
            } else {
                0.0
            }
        })
        .collect();
    v + v.t() + v.tape().constant(Tensor::from_vec(eye, &[n, n]))
}

/// Cholesky on `A = S + Sᵀ + 2(n+1)I` (SPD), parametrised by any `S`.
#[test]
fn dense_cholesky_gradients_and_agreement_with_lu() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 12);
        let n = r.random_range(1..=4);
        let s = Tensor::rand_uniform(&[n, n], -1.0, 1.0, r.random());
        let b = randn(&[n], &mut r);
        let tape = Tape::new();
        let a = spd(tape.constant(s.clone()), n);
        let bv = tape.constant(b.clone());
        let u1 = dense_solve(a, bv, Factorization::Cholesky).unwrap().value();
        let u2 = dense_solve(a, bv, Factorization::Lu).unwrap().value();
        close(u1.data(), u2.data(), 1e-13)?;
        check_both(
            move |_t, v| dense_solve(spd(v[0], n), v[1], Factorization::Cholesky).unwrap(),
            &[s, b],
        )
    });
}

/// Random bands (no dominance, so rows get swapped) against the dense solve. Batches up to 9
/// cover the four-systems-at-once substitution and its remainder.
#[test]
fn tridiagonal_matches_dense_with_pivoting() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 13);
        let (batch, n) = (r.random_range(1..=9), r.random_range(1..=9));
        let transpose = r.random_bool(0.5);
        let lo = Tensor::randn(&[batch, n - 1], r.random());
        let mut di = Tensor::randn(&[batch, n], r.random());
        if r.random_bool(0.3) {
            di.data_mut()[0] = 0.0; // needs a row swap at step 0
        }
        let up = Tensor::randn(&[batch, n - 1], r.random());
        let b = randn(&[batch, n], &mut r);
        let mut dense = vec![0.0; batch * n * n];
        for e in 0..batch {
            for i in 0..n {
                dense[e * n * n + i * n + i] = di.data()[e * n + i];
                if i + 1 < n {
                    dense[e * n * n + (i + 1) * n + i] = lo.data()[e * (n - 1) + i];
                    dense[e * n * n + i * n + i + 1] = up.data()[e * (n - 1) + i];
                }
            }
        }
        let tape = Tape::new();
        let c = |t: &Tensor| tape.constant(t.clone());
        let dv = c(&Tensor::from_vec(dense, &[batch, n, n]));
        let reference = if transpose {
            dense_solve_transpose(dv, c(&b), Factorization::Lu)
        } else {
            dense_solve(dv, c(&b), Factorization::Lu)
        };
        let Ok(reference) = reference else {
            return Ok(());
        };
        let u = if transpose {
            tridiagonal_solve_transpose(c(&lo), c(&di), c(&up), c(&b))
        } else {
            tridiagonal_solve(c(&lo), c(&di), c(&up), c(&b))
        }
        .unwrap();
        let scale = reference
            .value()
            .data()
            .iter()
            .fold(1.0f64, |m, v| m.max(v.abs()));
        close(u.value().data(), reference.value().data(), 1e-11 * scale)
    });
}

#[test]
fn tridiagonal_gradients_first_and_second_order() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 14);
        let (batch, n) = (r.random_range(1..=5), r.random_range(1..=5));
        let transpose = r.random_bool(0.5);
        let batched = r.random_bool(0.5);
        let lead: Vec<usize> = if batched { vec![batch] } else { vec![] };
        let shape = |m: usize| [lead.as_slice(), &[m]].concat();
        // Either diagonally dominant, or with a subdiagonal larger than the diagonal (rows are
        // swapped at every step). There `upperᵢ·lowerᵢ < 0` keeps every leading minor away from
        // zero (the continuant recurrence fₖ = dₖ fₖ₋₁ − uₖ₋₁ lₖ₋₁ fₖ₋₂ only adds).
        let pivoting = r.random_bool(0.5);
        let (lo, di, up) = if pivoting {
            let lo = Tensor::rand_uniform(&shape(n - 1), -1.0, 1.0, r.random())
                .map(|x| x.signum() * (1.5 + x.abs()));
            let up = Tensor::rand_uniform(&shape(n - 1), 0.05, 0.5, r.random());
            let up = up.zip_with(&lo, |u, l| -u * l.signum());
            (
                lo,
                Tensor::rand_uniform(&shape(n), 0.5, 1.0, r.random()),
                up,
            )
        } else {
            (
                Tensor::rand_uniform(&shape(n - 1), -1.0, 1.0, r.random()),
                Tensor::rand_uniform(&shape(n), 3.0, 4.0, r.random()),
                Tensor::rand_uniform(&shape(n - 1), -1.0, 1.0, r.random()),
            )
        };
        let b = randn(&shape(n), &mut r);
        check_both(
            move |_t, v| {
                if transpose {
                    tridiagonal_solve_transpose(v[0], v[1], v[2], v[3]).unwrap()
                } else {
                    tridiagonal_solve(v[0], v[1], v[2], v[3]).unwrap()
                }
            },
            &[lo, di, up, b],
        )
    });
}

/// Batches whose systems of four (the lock-step groups of the batched substitution) are all
/// diagonally dominant (no row swapped: the path without interchange tests), mixed, or all
/// swapping rows at every step, with a remainder system: each solution satisfies its system.
#[test]
fn tridiagonal_batches_mixing_swapped_and_unswapped_systems() {
    let (batch, n) = (9, 7);
    let mut r = rng(21);
    for pattern in 0..3 {
        // System e swaps rows (subdiagonal larger than the diagonal) for pattern 2, for odd e
        // in pattern 1, never in pattern 0.
        let swaps = |e: usize| pattern == 2 || (pattern == 1 && e % 2 == 1);
        let (mut lo, mut di, mut up) = (vec![], vec![], vec![]);
        for e in 0..batch {
            for _ in 0..n - 1 {
                let l: f64 = r.random_range(-1.0..1.0);
                if swaps(e) {
                    let l = l.signum() * (1.5 + l.abs());
                    lo.push(l);
                    up.push(-r.random_range(0.05..0.5) * l.signum());
                } else {
                    lo.push(l);
                    up.push(r.random_range(-1.0..1.0));
                }
            }
            for _ in 0..n {
                di.push(if swaps(e) {
                    r.random_range(0.5..1.0)
                } else {
                    r.random_range(3.0..4.0)
                });
            }
        }
        let b = Tensor::randn(&[batch, n], r.random());
        let tape = Tape::new();
        let c = |v: &[f64], m: usize| tape.constant(Tensor::from_vec(v.to_vec(), &[batch, m]));
        for transpose in [false, true] {
            let (l, d, u, rhs) = (
                c(&lo, n - 1),
                c(&di, n),
                c(&up, n - 1),
                tape.constant(b.clone()),
            );
            let x = if transpose {
                tridiagonal_solve_transpose(l, d, u, rhs)
            } else {
                tridiagonal_solve(l, d, u, rhs)
            }
            .unwrap()
            .value();
            for e in 0..batch {
                let mut a = vec![0.0; n * n];
                for i in 0..n {
                    a[i * n + i] = di[e * n + i];
                    if i + 1 < n {
                        a[(i + 1) * n + i] = lo[e * (n - 1) + i];
                        a[i * n + i + 1] = up[e * (n - 1) + i];
                    }
                }
                let xe = &x.data()[e * n..(e + 1) * n];
                let ax = dense_matvec(&a, xe, n, transpose);
                for (i, (p, q)) in ax.iter().zip(&b.data()[e * n..(e + 1) * n]).enumerate() {
                    assert!(
                        (p - q).abs() <= 1e-12 * (1.0 + q.abs()),
                        "pattern {pattern}, transpose {transpose}, system {e}, row {i}: {p} vs {q}"
                    );
                }
            }
        }
    }
}
