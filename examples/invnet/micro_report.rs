//! Experiment 2's summary table and files: `summary.{csv,md}`, `p1.svg` (histograms of the
//! volume fraction), `p2.svg` (mean radial two-point correlations), `losses.{csv,svg}`,
//! `p2.csv`, and sample images `samples_{sim,a,b}.pgm` (8 images side by side).

use super::{image_stats, mean, mean_curve, Config, Outcome};
use physgrad::nn::checkpoint::write_atomic;
use physgrad::report::{panels, Output, Plot, Table};
use physgrad::{Result, Tensor};

/// Mean and standard deviation.
fn mean_std(v: &[f64]) -> (f64, f64) {
    let m = mean(v);
    (
        m,
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt(),
    )
}

/// Images thresholded at ½.
fn binarise(x: &Tensor) -> Tensor {
    x.map(|v| f64::from(u8::from(v > 0.5)))
}

/// `max_r |a(r) − b(r)|`.
fn max_gap(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The rows: the simulator, then (a) and (b) — p₁ soft and binarised (mean ± std), the largest
/// gap of the mean p₂ curve to the target (soft and binarised), seconds per image, and the
/// speed-up over the simulator.
pub fn summary_table(cfg: &Config, o: &Outcome) -> Table {
    let mut t = Table::new(&[
        "images",
        "train s",
        "p₁ (soft)",
        "p₁ (binarised)",
        "max|p₂ − p₂*| soft",
        "max|p₂ − p₂*| bin.",
        "ms / image",
        "speed-up vs simulator",
    ]);
    let (p1, p2) = image_stats(&o.simulated, cfg.max_r);
    let (m, s) = mean_std(&p1);
    let gap = max_gap(&mean_curve(&p2), &o.targets.p2);
    t.row(&[
        format!("Cahn–Hilliard ({}, p₁* = {:.4})", p1.len(), o.targets.p1),
        "–".into(),
        format!("{m:.4} ± {s:.4}"),
        format!("{m:.4} ± {s:.4}"),
        format!("{gap:.4}"),
        format!("{gap:.4}"),
        format!("{:.3}", 1e3 * o.sim_seconds_per_image),
        "1".into(),
    ]);
    for r in &o.runs {
        let (p1, p2) = image_stats(&r.images, cfg.max_r);
        let (b1, b2) = image_stats(&binarise(&r.images), cfg.max_r);
        let ((m, s), (mb, sb)) = (mean_std(&p1), mean_std(&b1));
        t.row(&[
            format!("{} ({})", r.name, p1.len()),
            format!("{:.1}", r.seconds),
            format!("{m:.4} ± {s:.4}"),
            format!("{mb:.4} ± {sb:.4}"),
            format!("{:.4}", max_gap(&mean_curve(&p2), &o.targets.p2)),
            format!("{:.4}", max_gap(&mean_curve(&b2), &o.targets.p2)),
            format!("{:.3}", 1e3 * r.seconds_per_image),
            format!("{:.0}×", o.sim_seconds_per_image / r.seconds_per_image),
        ]);
    }
    t
}

/// A P5 PGM of the first `k` images side by side (a 2-pixel gap), values in `[0, 1]`.
fn strip(images: &Tensor, k: usize) -> Vec<u8> {
    let (n, s) = (images.shape()[0].min(k), images.shape()[1]);
    let w = n * (s + 2);
    let mut out = format!("P5\n{w} {s}\n255\n").into_bytes();
    for i in 0..s {
        for m in 0..n {
            let row = &images.data()[(m * s + i) * s..(m * s + i + 1) * s];
            out.extend(
                row.iter()
                    .map(|v| (255.0 * v.clamp(0.0, 1.0)).round() as u8),
            );
            out.extend([128, 128]);
        }
    }
    out
}

/// Writes every file of the experiment.
pub fn write_outputs(out: &Output, cfg: &Config, o: &Outcome, table: &Table) -> Result<()> {
    out.write("summary.csv", &table.to_csv())?;
    out.write("summary.md", &table.to_markdown())?;
    let (sp1, sp2) = image_stats(&o.simulated, cfg.max_r);
    let r: Vec<f64> = (0..=cfg.max_r).map(|k| k as f64).collect();
    let mut hist = Plot::new("Volume fraction p₁ of 1,000 generated images (binarised at ½)")
        .xlabel("p₁")
        .ylabel("density")
        .histogram("Cahn–Hilliard", &sp1, 40, (0.0, 1.0));
    let mut curves = Plot::new("Radially averaged two-point correlation (mean over images)")
        .xlabel("r (pixels)")
        .ylabel("p₂(r)")
        .dashed("target p₂*", &r, &o.targets.p2)
        .line("Cahn–Hilliard (eval)", &r, &mean_curve(&sp2));
    let mut csv = String::from("r,target,simulated");
    let mut cols = vec![o.targets.p2.clone(), mean_curve(&sp2)];
    for run in &o.runs {
        let (b1, b2) = image_stats(&binarise(&run.images), cfg.max_r);
        let (_, s2) = image_stats(&run.images, cfg.max_r);
        hist = hist.histogram(run.name, &b1, 40, (0.0, 1.0));
        curves = curves
            .line(&format!("{} soft", run.name), &r, &mean_curve(&s2))
            .line(&format!("{} binarised", run.name), &r, &mean_curve(&b2));
        csv.push_str(&format!(",{} soft,{} binarised", run.name, run.name));
        cols.push(mean_curve(&s2));
        cols.push(mean_curve(&b2));
    }
    csv.push('\n');
    for k in 0..=cfg.max_r {
        let cells: Vec<String> = cols.iter().map(|c| format!("{:?}", c[k])).collect();
        csv.push_str(&format!("{k},{}\n", cells.join(",")));
    }
    out.write("p1.svg", &hist.to_svg())?;
    out.write("p2.svg", &curves.to_svg())?;
    out.write("p2.csv", &csv)?;
    write_losses(out, o)?;
    write_atomic(&out.path("samples_sim.pgm"), &strip(&o.simulated, 8))?;
    for (run, tag) in o.runs.iter().zip(["a", "b"]) {
        write_atomic(
            &out.path(&format!("samples_{tag}.pgm")),
            &strip(&run.images, 8),
        )?;
    }
    Ok(())
}

fn write_losses(out: &Output, o: &Outcome) -> Result<()> {
    let mut csv = String::from("method,iteration,invariance_loss,critic_estimate\n");
    let mut plots = Vec::new();
    for run in &o.runs {
        for (k, (l, w)) in run.losses.iter().enumerate() {
            csv.push_str(&format!("{},{k},{l:?},{w:?}\n", run.name));
        }
        let it: Vec<f64> = (0..run.losses.len()).map(|k| k as f64).collect();
        let inv: Vec<f64> = run.losses.iter().map(|p| p.0).collect();
        plots.push(
            Plot::new(&format!("{}: invariance loss", run.name))
                .xlabel("iteration")
                .ylabel("L_inv")
                .log_y()
                .line("L_inv", &it, &inv),
        );
        if run.losses.iter().any(|p| p.1.is_finite()) {
            let w: Vec<f64> = run.losses.iter().map(|p| p.1).collect();
            plots.push(
                Plot::new(&format!("{}: critic estimate E D(x) − E D(G(z))", run.name))
                    .xlabel("iteration")
                    .ylabel("estimate")
                    .line("critic", &it, &w),
            );
        }
    }
    out.write("losses.csv", &csv)?;
    out.write("losses.svg", &panels(&plots, plots.len()))?;
    Ok(())
}
