//! InvNet experiment 1 (Burgers, data-free conditional generator), reduced: the stated problem
//! is consistent with the reference solver, and short trainings of the generator and of the
//! PINN lower their loss terms and the error against the reference.

#[allow(dead_code)]
#[path = "../../examples/invnet_burgers.rs"]
mod example;

use example::{
    draw, grid, initial, problem, reference_field, rel_l2, train_generator, train_pinn, Arch,
    Config, Generator, NT, NX,
};
use physgrad::nn::ParamStore;
use physgrad::{Tape, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn small() -> Config {
    Config {
        iterations: 1200,
        batch: 4,
        arch: Arch::Mlp(vec![16, 64]),
        fine_cells: 256,
        curve_every: 100,
        pinn_iterations: 600,
        pinn_points: 128,
        verbose: false,
        ..Config::default()
    }
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

/// The means of `pick` over the first and the last `k` entries of a loss curve.
fn first_last(
    l: &[(usize, f64, f64)],
    k: usize,
    pick: fn(&(usize, f64, f64)) -> f64,
) -> (f64, f64) {
    (
        mean(l[..k].iter().map(pick)),
        mean(l[l.len() - k..].iter().map(pick)),
    )
}

/// The fine reference starts at the initial condition, the 64-cell and 256-cell solutions are
/// close for a smooth viscous case, and the stated grid problem holds on the reference: the
/// initial-condition term vanishes and the Sobel residual is small next to that of a field
/// frozen at the initial condition.
#[test]
fn the_stated_problem_holds_on_the_reference() {
    let (c, nu) = (4.0, 0.03);
    let fine = reference_field(c, nu, 256).unwrap();
    let ic = initial(c);
    for i in 0..NX {
        assert!((fine[i * NT] - ic[i]).abs() < 1e-12);
    }
    let coarse = reference_field(c, nu, NX).unwrap();
    assert!(rel_l2(&coarse, &fine) < 0.05);
    assert!(reference_field(c, nu, 100).is_err());
    let pb = problem();
    let frozen: Vec<f64> = (0..NX).flat_map(|i| vec![ic[i]; NT]).collect();
    let terms = |field: Vec<f64>| {
        let tape = Tape::new();
        let u = tape.constant(Tensor::from_vec(field, &[1, NX, NT]));
        let given = [
            (
                pb.param_id("c"),
                tape.constant(Tensor::from_vec(vec![c], &[1])),
            ),
            (
                pb.param_id("nu"),
                tape.constant(Tensor::from_vec(vec![nu], &[1])),
            ),
        ];
        let loss = pb
            .loss_grid(&tape, &[(pb.field_id("u"), u)], &grid(), &given)
            .unwrap();
        (loss.terms[0].value.item(), loss.terms[1].value.item())
    };
    let (r_ref, ic_ref) = terms(fine);
    let (r_frozen, ic_frozen) = terms(frozen);
    eprintln!("residual: reference {r_ref:.3e}, frozen {r_frozen:.3e}");
    assert!(ic_ref < 1e-24 && ic_frozen < 1e-24);
    assert!(r_ref < 0.05 * r_frozen, "{r_ref} vs {r_frozen}");
}

/// Draws stay in the training ranges; ν is spread over the decades.
#[test]
fn draws_cover_the_training_ranges() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (cs, nus) = draw(&mut rng, 2000, true);
    assert!(cs.iter().all(|c| (3.0..6.0).contains(c)));
    assert!(nus.iter().all(|n| (0.001..0.05).contains(n)));
    let below = nus
        .iter()
        .filter(|n| **n < (0.001f64 * 0.05).sqrt())
        .count();
    assert!(
        (850..1150).contains(&below),
        "{below} of 2000 below the log-midpoint"
    );
    let (_, zero) = draw(&mut rng, 10, false);
    assert!(zero.iter().all(|n| *n == 0.0));
}

/// A short alternating training lowers the residual and the initial-condition terms and the
/// error against the reference on the probe cases.
#[test]
fn generator_lowers_both_terms_and_the_error() {
    let cfg = small();
    let probes: Vec<(f64, f64, Vec<f64>)> = [(4.0, 0.02), (5.5, 0.03)]
        .iter()
        .map(|&(c, nu)| (c, nu, reference_field(c, nu, cfg.fine_cells).unwrap()))
        .collect();
    let run = train_generator(&cfg, true, &probes).unwrap();
    let l = &run.losses;
    let (r0, r1) = first_last(l, 20, |v| v.1);
    let (i0, i1) = first_last(l, 20, |v| v.2);
    let (e0, e1) = (run.curve[0].1, run.curve.last().unwrap().1);
    eprintln!("residual {r0:.3e} -> {r1:.3e}, ic {i0:.3e} -> {i1:.3e}, error {e0:.3} -> {e1:.3}");
    assert!(r1 < 0.5 * r0 && i1 < 0.8 * i0);
    assert!(e1 < 0.9 * e0, "error {e0} -> {e1}");
}

/// Both stepper generators start as the initial profile held in time, keep the
/// initial-condition term at zero by construction, and a short training lowers the residual and
/// the error on the probe cases — including c = 2, below the training range.
#[test]
fn steppers_hold_the_initial_condition_and_learn() {
    for arch in [Arch::Stepper(vec![16, 16]), Arch::Flux(vec![16, 16])] {
        let name = arch.name();
        let cfg = Config {
            iterations: 150,
            arch,
            ..small()
        };
        let mut store = ParamStore::new(0);
        let gen = Generator::new(&mut store, "gen", &cfg.arch, true);
        let u = gen.sample(&store, &[4.0, 2.5], &[0.02, 0.001]);
        for (k, c) in [4.0, 2.5].into_iter().enumerate() {
            let ic = initial(c);
            for i in 0..NX {
                for j in 0..NT {
                    assert_eq!(u[k][i * NT + j], ic[i], "untrained {name} at ({i}, {j})");
                }
            }
        }
        let probes: Vec<(f64, f64, Vec<f64>)> = [(4.0, 0.02), (2.0, 0.03)]
            .iter()
            .map(|&(c, nu)| (c, nu, reference_field(c, nu, cfg.fine_cells).unwrap()))
            .collect();
        let run = train_generator(&cfg, true, &probes).unwrap();
        let l = &run.losses;
        let (r0, r1) = first_last(l, 10, |v| v.1);
        assert!(l.iter().all(|v| v.2 < 1e-24), "{name}: ic term not zero");
        let (e0, e1) = (run.curve[0].1, run.curve.last().unwrap().1);
        eprintln!("{name}: residual {r0:.3e} -> {r1:.3e}, error {e0:.3} -> {e1:.3}");
        assert!(r1 < 0.5 * r0, "{name}: residual {r0} -> {r1}");
        assert!(e1 < 0.8 * e0, "{name}: error {e0} -> {e1}");
    }
}

/// The flux form is conservative: with any weights, a spatially constant field (c = 0 gives
/// u ≡ 0) has the same flux through every interface and stays constant, while the pointwise
/// stepper with the same kind of weights moves it.
#[test]
fn flux_form_keeps_a_constant_field() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for arch in [Arch::Flux(vec![8, 8]), Arch::Stepper(vec![8, 8])] {
        let mut store = ParamStore::new(1);
        let gen = Generator::new(&mut store, "gen", &arch, true);
        let ids: Vec<_> = store.ids().collect();
        let n = store.flat(&ids).len();
        let w: Vec<f64> = (0..n).map(|_| rng.random_range(-0.5..0.5)).collect();
        store.set_flat(&ids, &w);
        let u = gen.sample(&store, &[0.0], &[0.01]);
        let moved = u[0].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        match arch {
            Arch::Flux(_) => assert!(moved < 1e-12, "flux form moved a constant by {moved}"),
            _ => assert!(moved > 1e-3, "pointwise stepper kept a constant ({moved})"),
        }
    }
}

/// The PINN on one case lowers its initial-condition term (its residual starts near zero: the
/// network starts near a constant) and ends within 0.6 of the reference.
#[test]
fn pinn_lowers_both_terms() {
    let cfg = small();
    let fine = reference_field(4.0, 0.03, cfg.fine_cells).unwrap();
    let run = train_pinn(&cfg, 4.0, 0.03, &fine).unwrap();
    let l = &run.losses;
    let (r0, r1) = first_last(l, 10, |v| v.1);
    let (i0, i1) = first_last(l, 10, |v| v.2);
    eprintln!(
        "PINN residual {r0:.3e} -> {r1:.3e}, ic {i0:.3e} -> {i1:.3e}, error {:.3}",
        run.error
    );
    assert!(i1 < 0.8 * i0);
    assert!(run.error.is_finite() && run.error < 0.6);
}
