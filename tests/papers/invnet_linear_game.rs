//! InvNet experiment 4 (the linear invariance game): simultaneous gradient descent diverges at
//! the predicted rate, extra-gradient converges to the predicted equilibria.

// Coordinate loops read like the formulas.
#![allow(clippy::needless_range_loop)]

#[allow(dead_code)]
#[path = "../../examples/invnet_linear_game.rs"]
mod example;

use example::{play, plus_mask, Config, Critic, Game, Method};
use physgrad::nn::ParamStore;
use physgrad::Tensor;

fn cfg(steps: usize) -> Config {
    Config {
        steps,
        verbose: false,
        ..Config::default()
    }
}

#[test]
fn plus_mask_is_the_centre_row_and_column() {
    let m = plus_mask(5);
    let on: Vec<usize> = (0..25).filter(|&k| m[k] > 0.5).collect();
    assert_eq!(on, vec![2, 7, 10, 11, 12, 13, 14, 17, 22]);
}

#[test]
fn field_from_the_tape_matches_the_closed_form() {
    let c = cfg(1);
    for critic in [Critic::Complement, Critic::Plain] {
        let game = Game::new(&c, critic);
        let d = game.mu.len();
        let theta: Vec<f64> = (0..d).map(|k| (k as f64 * 0.37).sin()).collect();
        let psi: Vec<f64> = (0..d).map(|k| (k as f64 * 0.71).cos()).collect();
        let mut store = ParamStore::new(0);
        let ids = [
            store.add_tensor("gen.theta", Tensor::from_vec(theta.clone(), &[d])),
            store.add_tensor("critic.psi", Tensor::from_vec(psi.clone(), &[d])),
        ];
        let g = game.field(&store, ids).unwrap();
        for k in 0..d {
            let view = if critic == Critic::Plain {
                1.0
            } else {
                1.0 - game.omega[k]
            };
            let gt = -view * psi[k] + 2.0 * c.lambda * game.omega[k] * (theta[k] - game.motif[k]);
            let gp = view * (theta[k] - game.mu[k]);
            assert!((g.tensors[0].data()[k] - gt).abs() < 1e-14, "θ {k}");
            assert!((g.tensors[1].data()[k] - gp).abs() < 1e-14, "ψ {k}");
        }
    }
}

#[test]
fn simultaneous_descent_diverges_at_the_predicted_rate() {
    let c = cfg(400);
    let t = play(&c, Critic::Complement, Method::Simultaneous).unwrap();
    let d = &t.distance;
    assert!(
        d.windows(2).skip(50).all(|w| w[1] > w[0]),
        "distance must grow"
    );
    // After the Ω part has contracted, the distance is the Ωᶜ rotation's, growing by exactly
    // √(1 + η²) per step.
    let rate = (d[400] / d[200]).powf(1.0 / 200.0);
    let want = (1.0 + c.lr * c.lr).sqrt();
    assert!((rate - want).abs() < 1e-9, "rate {rate} vs {want}");
    assert!(d[400] > 100.0 * d[0], "{} vs {}", d[400], d[0]);
}

#[test]
fn extragradient_converges_to_motif_on_omega_and_data_mean_elsewhere() {
    let c = cfg(800);
    let t = play(&c, Critic::Complement, Method::ExtraGradient).unwrap();
    let game = Game::new(&c, Critic::Complement);
    let (theta_star, _) = game.equilibrium();
    let d = &t.distance;
    assert!(d[800] < 1e-4 * d[0], "distance {} from {}", d[800], d[0]);
    for k in 0..theta_star.len() {
        assert!((t.theta[k] - theta_star[k]).abs() < 1e-4, "θ[{k}]");
        if game.omega[k] > 0.5 {
            assert!((t.theta[k] - 1.0).abs() < 1e-4, "motif at {k}");
        } else {
            assert!((t.theta[k] - game.mu[k]).abs() < 1e-4, "mean at {k}");
            assert!(t.psi[k].abs() < 1e-4, "critic off at {k}");
        }
    }
    assert!(t.motif_error[800] < 1e-4);
    // The predicted contraction √(1 − η² + η⁴) per step on Ωᶜ.
    let rate = (d[800] / d[400]).powf(1.0 / 400.0);
    let want = (1.0 - c.lr * c.lr + c.lr.powi(4)).sqrt();
    assert!((rate - want).abs() < 1e-6, "rate {rate} vs {want}");
}

#[test]
fn plain_critic_holds_the_generator_at_the_data_mean() {
    let c = cfg(800);
    let t = play(&c, Critic::Plain, Method::ExtraGradient).unwrap();
    let game = Game::new(&c, Critic::Plain);
    let (theta_star, psi_star) = game.equilibrium();
    for k in 0..theta_star.len() {
        assert!((t.theta[k] - game.mu[k]).abs() < 1e-4, "θ[{k}]");
        assert!((t.psi[k] - psi_star[k]).abs() < 1e-4, "ψ[{k}]");
    }
    let miss = game.motif_error(&game.mu);
    assert!(miss > 1.0, "the motif differs from the mean");
    assert!((t.motif_error[800] - miss).abs() < 1e-3);
    let s = play(&c, Critic::Plain, Method::Simultaneous).unwrap();
    assert!(s.distance.last().unwrap() > &s.distance[0]);
}
