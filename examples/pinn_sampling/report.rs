//! Outputs of the PINN sampling runs: the summary table, per-run CSV files and an SVG figure
//! (training loss; samples against exact samples).

use super::losses::LossKind;
use super::model::Trained;
use super::RunResult;
use physgrad::nn::CsvLog;
use physgrad::report::{panels, Hist2d, Output, Plot, Table};
use physgrad::Result;

/// One row per run: steps, wall-clock, the four scores (and the IS estimate of `log Z`).
pub fn summary(runs: &[RunResult]) -> Table {
    let mut t = Table::new(&[
        "target",
        "loss",
        "steps",
        "train s",
        "sample s",
        "final loss",
        "dlogZ",
        "dlogZ (IS)",
        "ESS",
        "dstd",
        "Sinkhorn",
        "diverged",
    ]);
    for r in runs {
        let m = &r.metrics;
        let l = &r.trained.losses;
        let tail = &l[l.len().saturating_sub(50)..];
        t.row(&[
            r.target.clone(),
            r.kind.name().into(),
            format!("{}", l.len()),
            format!("{:.0}", r.train_seconds),
            format!("{:.0}", r.sample_seconds),
            if tail.is_empty() {
                "-".into()
            } else {
                format!("{:.3e}", tail.iter().sum::<f64>() / tail.len() as f64)
            },
            fmt_score(m.delta_log_z),
            fmt_score(m.delta_log_z_is),
            fmt_score(m.ess),
            fmt_score(m.delta_std),
            m.sinkhorn.map_or("-".into(), fmt_score),
            format!("{}/{}", m.diverged, r.log_w.len()),
        ]);
    }
    t
}

/// A score with four decimals, or in scientific notation from 10⁴ on (a flow that carries
/// samples far out gives scores of 10³⁰ and more); `-` when it is undefined (NaN: every sample
/// diverged), as for a Sinkhorn distance that was not computed.
pub fn fmt_score(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v.abs() >= 1e4 {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// `summary.{txt,md,csv}`.
///
/// # Errors
/// `Io` if a file cannot be written.
pub fn write_summary(out: &Output, table: &Table) -> Result<()> {
    out.write("summary.txt", &table.to_text())?;
    out.write("summary.md", &table.to_markdown())?;
    out.write("summary.csv", &table.to_csv())?;
    Ok(())
}

/// `<target>_<loss>_loss.csv` (the loss per step) and `_weights.ckpt` (the trained weights, for
/// `--init`), written when training ends.
///
/// # Errors
/// `Io` if a file cannot be written.
pub fn write_training(out: &Output, target: &str, kind: LossKind, trained: &Trained) -> Result<()> {
    let name = format!("{target}_{}", kind.name());
    let mut log = CsvLog::new(out.path(&format!("{name}_loss.csv")), &["step", "loss"]);
    for (i, l) in trained.losses.iter().enumerate() {
        log.push(&[(i + 1) as f64, *l]);
    }
    log.flush()?;
    let mut ckpt = physgrad::nn::Checkpoint::new();
    ckpt.insert_params(&trained.store);
    ckpt.save(out.path(&format!("{name}_weights.ckpt")))
}

/// `<target>_<loss>_samples.csv` (samples + log-weights; a diverged sample is a row of NaN)
/// and `_plot.svg`, after [`write_training`]'s files.
///
/// # Errors
/// `Io` if a file cannot be written.
pub fn write_run(out: &Output, r: &RunResult) -> Result<()> {
    let name = format!("{}_{}", r.target, r.kind.name());
    out.write(
        &format!("{name}_samples.csv"),
        &physgrad::sampling::samples_csv(&r.x, &r.log_w),
    )?;
    out.write(&format!("{name}_plot.svg"), &figure(r))?;
    Ok(())
}

fn figure(r: &RunResult) -> String {
    let steps: Vec<f64> = (1..=r.trained.losses.len()).map(|i| i as f64).collect();
    let loss = Plot::new(&format!("{} / {}: training loss", r.target, r.kind.name()))
        .xlabel("step")
        .ylabel("loss")
        .log_y()
        .line("loss", &steps, &r.trained.losses);
    let d = r.x.shape()[1];
    // Diverged samples (NaN rows) are left out of the pictures.
    let rows =
        r.x.data()
            .chunks(d)
            .filter(|row| row.iter().all(|v| v.is_finite()));
    let x0: Vec<f64> = rows.clone().map(|row| row[0]).collect();
    let exact = physgrad::sampling::Target::by_name(&r.target)
        .map(|t| t.sample(x0.len(), 200_000, 3))
        .ok();
    let samples = if d == 2 {
        let x1: Vec<f64> = rows.map(|row| row[1]).collect();
        let lim = (-8.0, 8.0);
        Plot::new("flow samples (x0, x1)").heatmap(Hist2d::new(&x0, &x1, 60, 60, lim, lim))
    } else {
        let mut p =
            Plot::new("flow samples, x0 (histogram)").histogram("flow", &x0, 60, (-4.0, 4.0));
        if let Some(e) = &exact {
            let e0: Vec<f64> = e.data().iter().step_by(d).copied().collect();
            p = p.histogram("exact", &e0, 60, (-4.0, 4.0));
        }
        p
    };
    panels(&[loss, samples], 2)
}
