//! Experiment 3's summary table and files: `summary.{csv,md}`, `curves.csv` (per iteration:
//! critic estimate, penalty, invariance loss), `motif.csv`, `curves.svg` (motif error, log-y,
//! and critic loss for both critics), `samples_{plain,complement}.pgm` (a 4 × 8 grid).

use super::{Outcome, Run};
use physgrad::nn::checkpoint::write_atomic;
use physgrad::report::{panels, Output, Plot, Table};
use physgrad::{Result, Tensor};

/// Mean of the last tenth of a column.
fn tail_mean(v: &[f64]) -> f64 {
    let k = (v.len() / 10).max(1);
    v[v.len() - k..].iter().sum::<f64>() / k as f64
}

/// Rows: the data (motif error of the real images, W₂ floor), then each critic variant.
pub fn summary_table(o: &Outcome) -> Table {
    let mut t = Table::new(&[
        "run",
        "seconds",
        "motif RMS start",
        "motif RMS end",
        "critic estimate (last 10 %)",
        "penalty (last 10 %)",
        "W₂ off motif to data",
    ]);
    t.row(&[
        "real digits (no motif)".into(),
        "–".into(),
        format!("{:.4}", o.data_motif),
        format!("{:.4}", o.data_motif),
        "–".into(),
        "–".into(),
        format!("{:.4} (real vs real)", o.floor),
    ]);
    for r in &o.runs {
        let est: Vec<f64> = r.losses.iter().map(|l| l.0).collect();
        let gp: Vec<f64> = r.losses.iter().map(|l| l.1).collect();
        t.row(&[
            r.name.to_string(),
            format!("{:.1}", r.seconds),
            format!("{:.4}", r.motif[0].1),
            format!("{:.4}", r.motif[r.motif.len() - 1].1),
            format!("{:.4}", tail_mean(&est)),
            format!("{:.4}", tail_mean(&gp)),
            format!("{:.4}", r.w2),
        ]);
    }
    t
}

/// A P5 PGM grid (`rows × cols`, each image upscaled ×4, 2-pixel grey gaps), values in `[0, 1]`.
fn grid(images: &Tensor, rows: usize, cols: usize) -> Vec<u8> {
    let (s, up, gap) = (images.shape()[1], 4, 2);
    let cell = s * up + gap;
    let (w, h) = (cols * cell, rows * cell);
    let mut pix = vec![128u8; w * h];
    for k in 0..(rows * cols).min(images.shape()[0]) {
        let (gy, gx) = (k / cols * cell, k % cols * cell);
        for y in 0..s * up {
            for x in 0..s * up {
                let v = images.data()[(k * s + y / up) * s + x / up];
                pix[(gy + y) * w + gx + x] = (255.0 * v.clamp(0.0, 1.0)).round() as u8;
            }
        }
    }
    let mut out = format!("P5\n{w} {h}\n255\n").into_bytes();
    out.extend(pix);
    out
}

fn curve_plots(runs: &[Run]) -> String {
    let mut motif = Plot::new("Motif RMS error on Ω (500 fixed latents)")
        .xlabel("iteration")
        .ylabel("RMS(P_Ω G(z) − M)")
        .log_y();
    let mut critic = Plot::new("Critic loss: estimate E D(x) − E D(G(z))")
        .xlabel("iteration")
        .ylabel("estimate");
    for r in runs {
        let xs: Vec<f64> = r.motif.iter().map(|p| p.0 as f64).collect();
        let ys: Vec<f64> = r.motif.iter().map(|p| p.1).collect();
        motif = motif.line(r.name, &xs, &ys);
        // Mean over windows of 25 iterations, so the two curves stay readable.
        let est: Vec<f64> = r.losses.iter().map(|l| l.0).collect();
        let (mx, my): (Vec<f64>, Vec<f64>) = est
            .chunks(25)
            .enumerate()
            .map(|(k, c)| {
                (
                    (k * 25 + c.len()) as f64,
                    c.iter().sum::<f64>() / c.len() as f64,
                )
            })
            .unzip();
        critic = critic.line(r.name, &mx, &my);
    }
    panels(&[motif, critic], 2)
}

/// Writes every file of the experiment.
pub fn write_outputs(out: &Output, o: &Outcome, table: &Table) -> Result<()> {
    out.write("summary.csv", &table.to_csv())?;
    out.write("summary.md", &table.to_markdown())?;
    let mut csv = String::from("critic,iteration,estimate,penalty,invariance_loss\n");
    let mut motif = String::from("critic,iteration,motif_rms\n");
    for r in &o.runs {
        for (k, (e, g, l)) in r.losses.iter().enumerate() {
            csv.push_str(&format!("{},{},{e:?},{g:?},{l:?}\n", r.name, k + 1));
        }
        for (k, m) in &r.motif {
            motif.push_str(&format!("{},{k},{m:?}\n", r.name));
        }
        let tag = r.name.split(' ').next().unwrap_or("run");
        write_atomic(
            &out.path(&format!("samples_{tag}.pgm")),
            &grid(&r.images, 4, 8),
        )?;
    }
    out.write("curves.csv", &csv)?;
    out.write("motif.csv", &motif)?;
    out.write("curves.svg", &curve_plots(&o.runs))?;
    Ok(())
}
