//! Exactness: brute force over permutations, an independent Hungarian solver, a brute force over
//! the vertices of the transport polytope, and the closed form on the line.

use super::{close, clouds, solve, solve_both, weights};
use physgrad::ot::{pairwise_cost_tensor, uniform_weights, wasserstein_1d, Ground};
use physgrad::Tensor;

/// `min over permutations σ of (1/n) Σ C_{i σ(i)}` by Heap's algorithm.
fn brute_force_assignment(c: &Tensor) -> f64 {
    let n = c.shape()[0];
    let mut perm: Vec<usize> = (0..n).collect();
    let eval = |p: &[usize]| {
        p.iter()
            .enumerate()
            .map(|(i, &j)| c.at(&[i, j]))
            .sum::<f64>()
    };
    let mut best = eval(&perm);
    let mut stack = vec![0usize; n];
    let mut i = 1;
    while i < n {
        if stack[i] < i {
            let k = if i % 2 == 0 { 0 } else { stack[i] };
            perm.swap(k, i);
            best = best.min(eval(&perm));
            stack[i] += 1;
            i = 1;
        } else {
            stack[i] = 0;
            i += 1;
        }
    }
    best / n as f64
}

/// The Hungarian method with potentials (shortest augmenting paths, O(n³)), written here
/// independently of the library: returns `min Σ C_{i σ(i)}`.
fn hungarian(c: &Tensor) -> f64 {
    let n = c.shape()[0];
    let cost = |i: usize, j: usize| c.at(&[i - 1, j - 1]);
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let mut owner = vec![0usize; n + 1]; // owner[j]: row matched to column j (1-based, 0 = none)
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        owner[0] = i;
        let mut j0 = 0;
        let mut minv = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=n {
                if !used[j] {
                    let cur = cost(i0, j) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    (1..=n).map(|j| cost(owner[j], j)).sum()
}

#[test]
fn matches_brute_force_over_permutations() {
    for n in 1..=7 {
        for (seed, ground) in [(1, Ground::L1), (2, Ground::L2), (3, Ground::SqL2)] {
            let (_, _, c) = clouds(n, n, 3, ground, 100 * n as u64 + seed);
            let u = uniform_weights(n);
            let want = brute_force_assignment(&c);
            for t in solve_both(&u, &u, &c) {
                assert!(close(t.cost, want, 1e-12), "n = {n}: {} vs {want}", t.cost);
            }
        }
    }
}

#[test]
fn matches_hungarian_on_assignment_problems() {
    for (k, n) in [8, 13, 20, 35, 50].into_iter().enumerate() {
        for d in [2, 10] {
            let (_, _, c) = clouds(n, n, d, Ground::L1, 7 + k as u64 * 31 + d as u64);
            let u = uniform_weights(n);
            let want = hungarian(&c) / n as f64;
            for t in solve_both(&u, &u, &c) {
                assert!(
                    close(t.cost, want, 1e-11),
                    "n = {n}, d = {d}: {} vs {want}",
                    t.cost
                );
                // An assignment: every row sends all its mass to a single column.
                let p = t.dense_plan();
                for i in 0..n {
                    let row: Vec<f64> = (0..n)
                        .map(|j| p.at(&[i, j]))
                        .filter(|&x| x > 1e-14)
                        .collect();
                    assert_eq!(row.len(), 1, "row {i} of the plan is split: {row:?}");
                }
            }
        }
    }
}

/// All vertices of the transport polytope of a tiny problem: choose n + m − 1 cells, solve the
/// square marginal system on them (Gaussian elimination), keep the non-negative solutions.
fn brute_force_vertices(a: &[f64], b: &[f64], c: &Tensor) -> f64 {
    let (n, m) = (a.len(), b.len());
    let k = n + m - 1;
    let cells: Vec<usize> = (0..n * m).collect();
    let mut best = f64::INFINITY;
    let mut choose = vec![0usize; k];
    fn rec(
        start: usize,
        depth: usize,
        cells: &[usize],
        choose: &mut Vec<usize>,
        f: &mut dyn FnMut(&[usize]),
    ) {
        if depth == choose.len() {
            f(choose);
            return;
        }
        for s in start..cells.len() {
            choose[depth] = cells[s];
            rec(s + 1, depth + 1, cells, choose, f);
        }
    }
    let mut eval = |sel: &[usize]| {
        // Equations: rows 0..n (row sums) and columns 0..m-1 (the last is implied).
        let mut mat = vec![vec![0.0; k + 1]; k];
        for (v, &cell) in sel.iter().enumerate() {
            let (i, j) = (cell / m, cell % m);
            mat[i][v] = 1.0;
            if j + 1 < m {
                mat[n + j][v] = 1.0;
            }
        }
        for i in 0..n {
            mat[i][k] = a[i];
        }
        for j in 0..m - 1 {
            mat[n + j][k] = b[j];
        }
        if let Some(x) = gauss(mat) {
            if x.iter().all(|&v| v >= -1e-12) {
                let cost: f64 = sel
                    .iter()
                    .zip(&x)
                    .map(|(&cell, v)| v * c.data()[cell])
                    .sum();
                best = best.min(cost);
            }
        }
    };
    rec(0, 0, &cells, &mut choose, &mut eval);
    best
}

fn gauss(mut mat: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let k = mat.len();
    for col in 0..k {
        let piv = (col..k).max_by(|&r, &s| mat[r][col].abs().total_cmp(&mat[s][col].abs()))?;
        if mat[piv][col].abs() < 1e-12 {
            return None;
        }
        mat.swap(col, piv);
        for r in 0..k {
            if r != col {
                let f = mat[r][col] / mat[col][col];
                for q in col..=k {
                    mat[r][q] -= f * mat[col][q];
                }
            }
        }
    }
    Some((0..k).map(|r| mat[r][k] / mat[r][r]).collect())
}

#[test]
fn matches_polytope_vertices_for_general_weights() {
    for (n, m) in [(1, 1), (1, 4), (3, 2), (2, 4), (3, 3), (4, 3)] {
        for seed in 0..4u64 {
            let (_, _, c) = clouds(n, m, 2, Ground::L2, seed * 17 + n as u64);
            let (a, b) = (weights(n, seed + 1), weights(m, seed + 99));
            let t = solve(&a, &b, &c);
            let want = brute_force_vertices(&a, &b, &c);
            assert!(
                close(t.cost, want, 1e-10),
                "{n}×{m} seed {seed}: {} vs {want}",
                t.cost
            );
            assert!(t.plan.len() < n + m);
        }
    }
}

#[test]
fn matches_the_closed_form_on_the_line() {
    for (n, m, seed) in [(1, 1, 0), (5, 9, 1), (40, 25, 2), (200, 150, 3)] {
        let x = Tensor::randn(&[n, 1], seed);
        let y = Tensor::randn(&[m, 1], seed + 50);
        let (a, b) = (weights(n, seed + 5), weights(m, seed + 6));
        for (p, ground) in [(1.0, Ground::L1), (2.0, Ground::SqL2)] {
            let c = pairwise_cost_tensor(&x, &y, ground);
            let exact = solve(&a, &b, &c).cost;
            let line = wasserstein_1d(x.data(), &a, y.data(), &b, p).unwrap();
            assert!(
                close(exact, line.cost, 1e-11),
                "p = {p}, {n}×{m}: {exact} vs {}",
                line.cost
            );
            assert!(line.plan.len() < n + m);
        }
    }
}

#[test]
fn closed_form_on_the_line_is_analytic_for_translations() {
    // W_p(μ, μ + s) = |s| for any weights.
    let x = [0.3, -1.0, 2.5, 0.7];
    let a = [0.1, 0.4, 0.3, 0.2];
    let y: Vec<f64> = x.iter().map(|v| v + 0.25).collect();
    for p in [1.0, 2.0, 3.0] {
        let t = wasserstein_1d(&x, &a, &y, &a, p).unwrap();
        assert!(close(t.cost, 0.25f64.powf(p), 1e-14), "p = {p}: {}", t.cost);
    }
}

/// Random small problems full of ties and degeneracy: integer costs in {0, 1, 2}, integer weights
/// in {0, 1, 2} (zeros included) normalised, against the polytope's vertices.
#[test]
fn random_degenerate_instances_match_polytope_vertices() {
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let strategy = (1usize..=4, 1usize..=4).prop_flat_map(|(n, m)| {
        (
            vec(0u8..3, n * m),
            vec(0u8..3, n),
            vec(0u8..3, m),
            Just((n, m)),
        )
    });
    let mut runner = TestRunner::new(Config {
        cases: super::cases() * 4,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |(c, wa, wb, (n, m))| {
        let norm = |w: &[u8]| -> Option<Vec<f64>> {
            let s: f64 = w.iter().map(|&x| x as f64).sum();
            (s > 0.0).then(|| w.iter().map(|&x| x as f64 / s).collect())
        };
        let (Some(a), Some(b)) = (norm(&wa), norm(&wb)) else {
            return Ok(());
        };
        let c = Tensor::from_vec(c.iter().map(|&x| x as f64).collect(), &[n, m]);
        let t = solve(&a, &b, &c);
        let want = brute_force_vertices(&a, &b, &c);
        if !close(t.cost, want, 1e-12) {
            return Err(TestCaseError::fail(format!(
                "{} vs {want} for {c:?}, {a:?}, {b:?}",
                t.cost
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn matches_hungarian_with_tied_integer_costs() {
    for (k, n) in [10, 25, 50].into_iter().enumerate() {
        let c = Tensor::rand_uniform(&[n, n], 0.0, 4.0, 500 + k as u64).map(f64::floor);
        let u = uniform_weights(n);
        let want = hungarian(&c) / n as f64;
        for t in solve_both(&u, &u, &c) {
            assert!(close(t.cost, want, 1e-12), "n = {n}: {} vs {want}", t.cost);
        }
    }
}
