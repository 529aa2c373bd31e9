//! Generates binary two-phase microstructures with the Cahn–Hilliard simulator and writes them
//! with their statistics: `out/microstructures/ch_XX.pgm` (binary images, white = phase
//! `c > 0`), `field_XX.pgm` (the continuous fields, `c ∈ [−1, 1]` mapped to grey),
//! `s2.svg` (the two-point correlation `S₂(r)` of every image, averaged over both axes, with the
//! levels `p₁` and `p₁²`) and `stats.csv`. All files are written atomically.
//!
//! Run: `cargo run --release --example microstructures [K] [mean]` (defaults `K = 8`, `m = 0`).

use physgrad::nn::checkpoint::write_atomic;
use physgrad::physics::cahn_hilliard::{
    characteristic_length, simulate_batch, threshold, CahnHilliardConfig,
};
use physgrad::physics::statistics::{two_point_correlation, volume_fraction};
use physgrad::report::Plot;
use physgrad::{Result, Tape, Tensor};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// A binary (P5) PGM of an `[N, N]` image with values mapped from `[lo, hi]` to `0..=255`.
fn pgm(img: &Tensor, lo: f64, hi: f64) -> Vec<u8> {
    let (h, w) = (img.shape()[0], img.shape()[1]);
    let mut out = format!("P5\n{w} {h}\n255\n").into_bytes();
    out.extend(
        img.data()
            .iter()
            .map(|v| (255.0 * ((v - lo) / (hi - lo)).clamp(0.0, 1.0)).round() as u8),
    );
    out
}

/// `(p₁, S₂(r) for r = 0..=N/2 averaged over both axes)` of a binary image.
fn stats(img: &Tensor) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let phi = tape.constant(img.clone());
    let half = img.shape()[0] / 2;
    let s0 = two_point_correlation(phi, 0, half).value().into_vec();
    let s1 = two_point_correlation(phi, 1, half).value().into_vec();
    let s2 = s0.iter().zip(&s1).map(|(a, b)| 0.5 * (a + b)).collect();
    (volume_fraction(phi).item(), s2)
}

/// The curves `S₂(r)` of every image with dashed reference lines at `p₁` and `p₁²`.
fn svg(curves: &[Vec<f64>], p1: f64) -> String {
    let r: Vec<f64> = (0..curves[0].len()).map(|i| i as f64).collect();
    let ends = [0.0, r[r.len() - 1]];
    let mut plot = Plot::new("Cahn–Hilliard microstructures: two-point correlation S₂(r)")
        .xlabel("r (pixels)")
        .ylabel("S₂(r)")
        .y_range(0.0, 1.05 * p1.max(1e-9))
        .dashed(&format!("p₁ = {p1:.3}"), &ends, &[p1, p1])
        .dashed(&format!("p₁² = {:.3}", p1 * p1), &ends, &[p1 * p1, p1 * p1]);
    for (i, c) in curves.iter().enumerate() {
        plot = plot.line(&format!("image {i}"), &r, c);
    }
    plot.to_svg()
}

/// `k` continuous fields, in chunks of two per thread, with a progress line per chunk.
fn generate(cfg: &CahnHilliardConfig, k: usize) -> Result<Vec<Tensor>> {
    let chunk = 2 * rayon::current_num_threads();
    let start = Instant::now();
    let mut fields = Vec::with_capacity(k);
    while fields.len() < k {
        let take = chunk.min(k - fields.len());
        let part = CahnHilliardConfig {
            seed: cfg.seed + fields.len() as u64,
            ..*cfg
        };
        let batch = simulate_batch(&part, take)?;
        let nn = cfg.n * cfg.n;
        for i in 0..take {
            let v = batch.data()[i * nn..(i + 1) * nn].to_vec();
            fields.push(Tensor::from_vec(v, &[cfg.n, cfg.n]));
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "  {}/{k} images  {:.1} s  ({:.1} ms/image)",
            fields.len(),
            secs,
            1e3 * secs / fields.len() as f64
        );
    }
    Ok(fields)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let k: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let mean: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0.0);
    let cfg = CahnHilliardConfig {
        mean,
        ..CahnHilliardConfig::default()
    };
    let dir = Path::new("out/microstructures");
    std::fs::create_dir_all(dir).map_err(|source| physgrad::Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    println!(
        "Cahn–Hilliard: {k} images of {n}×{n}, m = {mean}, κ = {}, Δt = {}, {} steps",
        cfg.kappa,
        cfg.dt,
        cfg.steps,
        n = cfg.n
    );
    let fields = generate(&cfg, k)?;
    let mut csv = String::from("image,seed,volume_fraction,s2_0,s2_half,length\n");
    let mut curves = Vec::with_capacity(k);
    let mut p1_mean = 0.0;
    for (i, c) in fields.iter().enumerate() {
        let img = threshold(c);
        write_atomic(&dir.join(format!("ch_{i:02}.pgm")), &pgm(&img, 0.0, 1.0))?;
        write_atomic(&dir.join(format!("field_{i:02}.pgm")), &pgm(c, -1.0, 1.0))?;
        let (p1, s2) = stats(&img);
        let len = characteristic_length(c, cfg.h);
        let _ = writeln!(
            csv,
            "{i},{},{p1:.5},{:.5},{:.5},{len:.3}",
            cfg.seed + i as u64,
            s2[0],
            s2[s2.len() - 1]
        );
        p1_mean += p1 / k as f64;
        curves.push(s2);
    }
    write_atomic(&dir.join("stats.csv"), csv.as_bytes())?;
    write_atomic(&dir.join("s2.svg"), svg(&curves, p1_mean).as_bytes())?;
    println!(
        "mean volume fraction {p1_mean:.4} (target {:.4}); wrote {}",
        cfg.target_volume_fraction(),
        dir.display()
    );
    Ok(())
}
