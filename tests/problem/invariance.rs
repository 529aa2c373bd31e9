//! Invariances: whole-field constraints on grid images (volume fraction, second moment,
//! two-point correlation; a motif on a mask) and on a neural collocation batch.

use super::{closure_loss, func, sol};
use physgrad::physics::statistics::{two_point_correlation, volume_fraction};
use physgrad::problem::{Domain, Grid, Method, Need, Problem};
use physgrad::{Tape, Tensor, Var};

const N: usize = 24;

/// A binary image: stripes of width `w` along axis 0 plus a disc, shifted periodically by `s`.
fn image(w: usize, s: usize) -> Tensor {
    let mut d = vec![0.0; N * N];
    for i in 0..N {
        for j in 0..N {
            let (a, b) = ((i + s) % N, (j + s) % N);
            let disc = (i as f64 - 12.0).powi(2) + (j as f64 - 8.0).powi(2) < 20.0;
            d[a * N + b] = f64::from(u8::from((i / w).is_multiple_of(2) || disc));
        }
    }
    Tensor::from_vec(d, &[N, N])
}

fn moments_problem(target: &Tensor) -> Problem {
    let mut pb = Problem::new("microstructure");
    let _i = pb.coord("i", Domain::Interval(0.0, 1.0));
    let _j = pb.coord("j", Domain::Interval(0.0, 1.0));
    let phi = pb.scalar_field("phi");
    let v = [Need::Value(phi)];
    let val = Need::Value(phi);
    let tape = Tape::new();
    let t = tape.constant(target.clone());
    let p1 = volume_fraction(t).item();
    let p2 = (t.square()).mean().item();
    let s2 = two_point_correlation(t, 0, 6).value();
    pb.invariance("volume", 1.0, v.to_vec(), move |e| {
        volume_fraction(e.get(&Need::Value(phi))) - p1
    });
    pb.invariance("second_moment", 1.0, v.to_vec(), move |e| {
        e.get(&Need::Value(phi)).square().mean() - p2
    });
    pb.invariance("two_point", 10.0, v.to_vec(), move |e| {
        two_point_correlation(e.get(&val), 0, 6) - e.tape().constant(s2.clone())
    });
    pb
}

#[test]
fn microstructure_moments() {
    let target = image(3, 0);
    let pb = moments_problem(&target);
    let h = 1.0 / (N - 1) as f64;
    let grid = Grid::new(vec![h, h]);
    let tape = Tape::new();
    let phi = physgrad::problem::FieldId(0);
    // A periodic shift keeps every moment: loss 0 (to round-off).
    let shifted = tape.constant(image(3, 5));
    let loss = pb.loss_grid(&tape, &[(phi, shifted)], &grid, &[]).unwrap();
    assert!(loss.total.item() < 1e-28, "{:?}", loss.values());
    // Other stripes change the moments; the volume term is exactly (p₁' − p₁)².
    let other = image(4, 0);
    let loss = pb
        .loss_grid(&tape, &[(phi, tape.constant(other.clone()))], &grid, &[])
        .unwrap();
    let dp = other.sum_all() / (N * N) as f64 - target.sum_all() / (N * N) as f64;
    let v = loss.values();
    assert!(
        dp.abs() > 1e-3 && (v[0].1 - dp * dp).abs() < 1e-15,
        "{v:?} vs {}",
        dp * dp
    );
    assert!(v[2].1 > 1e-6);
    let weighted: f64 = loss.terms.iter().map(|t| t.weight * t.value.item()).sum();
    assert!((loss.total.item() - weighted).abs() < 1e-15);
}

/// A motif on a mask: `mask ⊙ (φ − motif) = 0` holds whatever φ does off the mask.
#[test]
fn motif_on_mask() {
    let mut mask = Tensor::zeros(&[N, N]);
    let mut motif = Tensor::zeros(&[N, N]);
    for i in 4..9 {
        for j in 10..15 {
            mask.data_mut()[i * N + j] = 1.0;
            motif.data_mut()[i * N + j] = f64::from(u8::from((i + j) % 2 == 0));
        }
    }
    let mut pb = Problem::new("motif");
    let _i = pb.coord("i", Domain::Interval(0.0, 1.0));
    let _j = pb.coord("j", Domain::Interval(0.0, 1.0));
    let phi = pb.scalar_field("phi");
    let (m, p) = (mask.clone(), motif.clone());
    pb.invariance("motif", 1.0, vec![Need::Value(phi)], move |e| {
        let t = e.tape();
        t.constant(m.clone()) * (e.get(&Need::Value(phi)) - t.constant(p.clone()))
    });
    let h = 1.0 / (N - 1) as f64;
    let grid = Grid::new(vec![h, h]);
    let tape = Tape::new();
    let mut img = image(3, 1);
    for k in 0..N * N {
        if mask.data()[k] == 1.0 {
            img.data_mut()[k] = motif.data()[k];
        }
    }
    let eval = |img: &Tensor| {
        pb.loss_grid(&tape, &[(phi, tape.constant(img.clone()))], &grid, &[])
            .unwrap()
            .total
            .item()
    };
    assert_eq!(eval(&img), 0.0);
    let mut off = img.clone();
    off.data_mut()[0] += 0.7; // off the mask
    assert_eq!(eval(&off), 0.0);
    let mut on = img.clone();
    on.data_mut()[5 * N + 11] += 0.5; // on the mask
    assert!((eval(&on) - 0.25 / (N * N) as f64).abs() < 1e-18);
}

/// On a neural field an invariance sees the whole collocation batch: `mean(u) = 0.4`.
#[test]
fn neural_mean_invariance() {
    let mut pb = Problem::new("mean");
    let _x = pb.coord("x", Domain::Interval(0.0, 1.0));
    let u = pb.scalar_field("u");
    pb.invariance("vf", 10.0, vec![Need::Value(u)], move |e| {
        e.get(&Need::Value(u)).mean() - 0.4
    });
    let tape = Tape::new();
    let pts = pb.sample(50, 0, 9);
    // u = x − mean(x) + 0.4 over this batch has mean exactly 0.4.
    let mx = pts.interior.sum_all() / 50.0;
    let f = sol(move |p: Var<'_>| p - mx + 0.4);
    let loss = closure_loss(&pb, &tape, &[(u, func(f, Method::Nested))], &[], &pts);
    assert!(loss.total.item() < 1e-28);
    let g = sol(move |p: Var<'_>| p - mx + 0.5);
    let loss = closure_loss(&pb, &tape, &[(u, func(g, Method::Nested))], &[], &pts);
    assert!((loss.total.item() - 10.0 * 0.01).abs() < 1e-12);
}
