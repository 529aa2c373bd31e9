//! Experiment 4's outputs: the summary table, CSV files and SVG panels.

use super::Run;
use physgrad::nn::CsvLog;
use physgrad::report::{panels, Hist2d, Output, Plot, Table};
use physgrad::{Result, Tensor};

/// One row per law and recorded iteration: W₁ of the learned jumps and of the learned `X_T`
/// to the truth (1,000 samples each, Euclidean ground cost), the mean of the learned jumps, and
/// per law a floor row (W₁ between two true samples) with the true jump mean.
pub fn summary_table(runs: &[Run]) -> Table {
    let mut t = Table::new(&[
        "law",
        "iteration",
        "W1 jumps",
        "W1 X_T",
        "mean Y1",
        "mean Y2",
        "time s",
    ]);
    for r in runs {
        let (m1, m2) = mean2(&r.truth.0);
        t.row(&[
            r.law.name().into(),
            "truth (floor)".into(),
            format!("{:.4}", r.floor.0),
            format!("{:.4}", r.floor.1),
            format!("{m1:.4}"),
            format!("{m2:.4}"),
            "-".into(),
        ]);
        for (k, s) in r.snapshots.iter().enumerate() {
            let (m1, m2) = mean2(&s.jumps);
            let last = k + 1 == r.snapshots.len();
            t.row(&[
                r.law.name().into(),
                s.iteration.to_string(),
                format!("{:.4}", s.w1_jumps),
                format!("{:.4}", s.w1_paths),
                format!("{m1:.4}"),
                format!("{m2:.4}"),
                if last {
                    format!("{:.1}", r.seconds)
                } else {
                    "".into()
                },
            ]);
        }
    }
    t
}

/// Column means of an `[n, 2]` tensor.
pub fn mean2(x: &Tensor) -> (f64, f64) {
    let n = x.shape()[0].max(1) as f64;
    let d = x.data();
    (
        d.iter().step_by(2).sum::<f64>() / n,
        d.iter().skip(1).step_by(2).sum::<f64>() / n,
    )
}

/// Writes `summary.{md,csv}`, per law `loss_<law>.csv`, `w1_<law>.csv` (iteration, W₁ jumps,
/// W₁ `X_T`), `samples_<law>.csv` (true and final learned jumps and `X_T`) and
/// `laws_<law>.svg`: heat maps of the jumps (top row) and `X_T` (bottom row), truth first,
/// then the learned laws at the recorded iterations.
///
/// # Errors
/// `Io` if a file cannot be written.
pub fn write_outputs(out: &Output, runs: &[Run], table: &Table) -> Result<()> {
    out.write("summary.md", &table.to_markdown())?;
    out.write("summary.csv", &table.to_csv())?;
    for r in runs {
        let n = r.law.name();
        let mut loss = CsvLog::new(
            out.path(&format!("loss_{n}.csv")),
            &["iteration", "wasserstein"],
        );
        for (i, l) in r.losses.iter().enumerate() {
            loss.push(&[(i + 1) as f64, *l]);
        }
        loss.flush()?;
        let mut w = CsvLog::new(
            out.path(&format!("w1_{n}.csv")),
            &["iteration", "w1_jumps", "w1_xt"],
        );
        for s in &r.snapshots {
            w.push(&[s.iteration as f64, s.w1_jumps, s.w1_paths]);
        }
        w.flush()?;
        if let Some(last) = r.snapshots.last() {
            let mut s = CsvLog::new(
                out.path(&format!("samples_{n}.csv")),
                &[
                    "true_y1", "true_y2", "true_x1", "true_x2", "y1", "y2", "x1", "x2",
                ],
            );
            let rows = r.truth.0.shape()[0];
            for i in 0..rows {
                let g = |t: &Tensor, c: usize| t.data()[2 * i + c];
                s.push(&[
                    g(&r.truth.0, 0),
                    g(&r.truth.0, 1),
                    g(&r.truth.1, 0),
                    g(&r.truth.1, 1),
                    g(&last.jumps, 0),
                    g(&last.jumps, 1),
                    g(&last.paths, 0),
                    g(&last.paths, 1),
                ]);
            }
            s.flush()?;
        }
        out.write(&format!("laws_{n}.svg"), &laws_svg(r))?;
    }
    Ok(())
}

/// A range covering the truth with a margin: the 1st–99th percentiles widened by 30 %.
fn range(t: &Tensor, c: usize) -> (f64, f64) {
    let mut v: Vec<f64> = t.data().iter().skip(c).step_by(2).copied().collect();
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (v[v.len() / 100], v[v.len() * 99 / 100]);
    let pad = 0.3 * (hi - lo).max(1e-3);
    (lo - pad, hi + pad)
}

fn heat(title: &str, t: &Tensor, rx: (f64, f64), ry: (f64, f64)) -> Plot {
    let (x, y): (Vec<f64>, Vec<f64>) = t.data().chunks(2).map(|p| (p[0], p[1])).unzip();
    Plot::new(title)
        .xlabel("1st component")
        .ylabel("2nd component")
        .heatmap(Hist2d::new(&x, &y, 40, 40, rx, ry))
}

fn laws_svg(r: &Run) -> String {
    let n = r.law.name();
    let (yx, yy) = (range(&r.truth.0, 0), range(&r.truth.0, 1));
    let (xx, xy) = (range(&r.truth.1, 0), range(&r.truth.1, 1));
    let mut top = vec![heat(
        &format!("law ({n}) jumps Y: truth"),
        &r.truth.0,
        yx,
        yy,
    )];
    let mut bottom = vec![heat(&format!("law ({n}) X_T: truth"), &r.truth.1, xx, xy)];
    for s in &r.snapshots {
        let it = s.iteration;
        top.push(heat(
            &format!("Y, iteration {it} (W1 {:.3})", s.w1_jumps),
            &s.jumps,
            yx,
            yy,
        ));
        bottom.push(heat(
            &format!("X_T, iteration {it} (W1 {:.3})", s.w1_paths),
            &s.paths,
            xx,
            xy,
        ));
    }
    let columns = top.len();
    top.extend(bottom);
    panels(&top, columns)
}
