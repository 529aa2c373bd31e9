//! End to end: a diffusion operator assembled from parameters with ordinary tape ops, solved,
//! and differentiated with respect to the parameters (first and second order), as PhysGNN does.

use super::common::*;
use physgrad::linalg::{sparse_solve, Factorization, SparsePattern};
use physgrad::{Tape, Tensor, Var};
use rand::Rng;

/// `A(θ) = Σₑ κₑ (e_i − e_j)(e_i − e_j)ᵀ + I` on a `g × g` grid with edge conductances
/// `κₑ = exp(θₑ)`: SPD. Returns the pattern and, for the assembly, the slot of each of the
/// `4E + n` contributions `[κ (i,i), κ (j,j), −κ (i,j), −κ (j,i), 1 (k,k)]`.
fn diffusion(g: usize) -> (SparsePattern, Vec<usize>, usize) {
    let n = g * g;
    let mut edges = Vec::new();
    for i in 0..g {
        for j in 0..g {
            let k = i * g + j;
            if j + 1 < g {
                edges.push((k, k + 1));
            }
            if i + 1 < g {
                edges.push((k, k + g));
            }
        }
    }
    let mut entries: Vec<(usize, usize)> = (0..n).map(|k| (k, k)).collect();
    for &(a, b) in &edges {
        entries.push((a, b));
        entries.push((b, a));
    }
    let slot = |e: (usize, usize)| entries.iter().position(|&x| x == e).unwrap();
    let mut slots = Vec::new();
    slots.extend(edges.iter().map(|&(a, _)| slot((a, a))));
    slots.extend(edges.iter().map(|&(_, b)| slot((b, b))));
    slots.extend(edges.iter().map(|&(a, b)| slot((a, b))));
    slots.extend(edges.iter().map(|&(a, b)| slot((b, a))));
    slots.extend(0..n);
    let p = SparsePattern::new(n, &entries, Factorization::Cholesky).unwrap();
    (p, slots, edges.len())
}

fn assemble<'t>(theta: Var<'t>, slots: &[usize], nnz: usize, n: usize) -> Var<'t> {
    let kappa = theta.exp();
    let ones = theta.tape().constant(Tensor::ones(&[n]));
    Var::concat(&[kappa, kappa, -kappa, -kappa, ones], 0).scatter_add(0, slots, nnz)
}

#[test]
fn parameters_to_solution_gradients_first_and_second_order() {
    for_seeds(|seed| {
        let mut r = rng(seed ^ 41);
        let g = r.random_range(2..=4);
        let (p, slots, edges) = diffusion(g);
        let (n, nnz) = (p.n(), p.nnz());
        let theta = Tensor::rand_uniform(&[edges], -1.0, 1.0, r.random());
        let f = Tensor::randn(&[n], r.random());
        // loss = ½‖u‖² (a scalar, like a training loss), u = A(θ)⁻¹ f
        check_both(
            move |_t, v| {
                let u = sparse_solve(&p, assemble(v[0], &slots, nnz, n), v[1]).unwrap();
                u.square().sum() * 0.5
            },
            &[theta, f],
        )
    });
}

/// Against the closed form for one edge between two nodes:
/// `A = [[κ+1, −κ], [−κ, κ+1]]`, `f = (1, 0)`: `u₀ = (κ+1)/((κ+1)² − κ²) = (κ+1)/(2κ+1)`,
/// `du₀/dθ = κ · d/dκ[(κ+1)/(2κ+1)] = −κ/(2κ+1)²`.
#[test]
fn one_edge_matches_the_closed_form() {
    let entries = [(0, 0), (1, 1), (0, 1), (1, 0)];
    let p = SparsePattern::new(2, &entries, Factorization::Cholesky).unwrap();
    // [κ → (0,0), κ → (1,1), −κ → (0,1), −κ → (1,0), 1 → (0,0), 1 → (1,1)]
    let slots2 = [0, 1, 2, 3, 0, 1];
    for theta0 in [-1.0f64, 0.0, 0.7] {
        let tape = Tape::new();
        let theta = tape.var(Tensor::from_vec(vec![theta0], &[1]));
        let f = tape.constant(Tensor::from_vec(vec![1.0, 0.0], &[2]));
        let values = assemble(theta, &slots2, 4, 2);
        let u = sparse_solve(&p, values, f).unwrap();
        let k = theta0.exp();
        let u0 = u.value().data()[0];
        assert!((u0 - (k + 1.0) / (2.0 * k + 1.0)).abs() < 1e-14);
        let du = tape.grad(&[u.slice(0, 0..1).sum()], &[theta])[0].item();
        assert!((du + k / (2.0 * k + 1.0).powi(2)).abs() < 1e-14, "{du}");
    }
}
