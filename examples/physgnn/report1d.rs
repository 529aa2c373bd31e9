//! Experiment 1's outputs: the summary table, CSV files and SVG plots.

use super::{moments, CaseResult, MethodRun};
use physgrad::nn::CsvLog;
use physgrad::report::{panels, Hist2d, Output, Plot, Table};
use physgrad::Result;

/// A short name for a Dirichlet concentration, e.g. `dir123`.
pub fn case_name(alpha: [f64; 3]) -> String {
    let digits: String = alpha.iter().map(|a| format!("{a}")).collect();
    format!("dir{digits}")
}

fn law(alpha: [f64; 3]) -> String {
    format!("Dirichlet({}, {}, {})", alpha[0], alpha[1], alpha[2])
}

fn tail_mean(v: &[f64], n: usize) -> f64 {
    let t = &v[v.len().saturating_sub(n)..];
    t.iter().sum::<f64>() / t.len().max(1) as f64
}

/// One row per law and method: W₁ to the truth, moments of `(μ, σ)`, the final training loss
/// and the wall-clock time. The truth row's W₁ is the sampling floor (a second true sample).
pub fn summary_table(cases: &[CaseResult]) -> Table {
    let mut t = Table::new(&[
        "law",
        "method",
        "W1 to truth",
        "mean mu",
        "std mu",
        "mean sigma",
        "std sigma",
        "final loss",
        "time s",
    ]);
    for c in cases {
        let [mu, sigma] = moments(&c.truth);
        t.row(&[
            law(c.alpha),
            "truth (2nd sample)".into(),
            format!("{:.4}", c.floor),
            format!("{:.4}", mu.0),
            format!("{:.4}", mu.1),
            format!("{:.4}", sigma.0),
            format!("{:.4}", sigma.1),
            "-".into(),
            "-".into(),
        ]);
        for r in [&c.physgnn, &c.wgan] {
            let [mu, sigma] = moments(&r.samples);
            t.row(&[
                law(c.alpha),
                r.name.into(),
                format!("{:.4}", r.w1),
                format!("{:.4}", mu.0),
                format!("{:.4}", mu.1),
                format!("{:.4}", sigma.0),
                format!("{:.4}", sigma.1),
                format!("{:.3e}", tail_mean(&r.losses, 100)),
                format!("{:.1}", r.seconds),
            ]);
        }
    }
    t
}

/// `k`-point trailing moving average (for noisy per-iteration losses).
pub fn moving_average(v: &[f64], k: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(v.len());
    let mut sum = 0.0;
    for i in 0..v.len() {
        sum += v[i];
        if i >= k {
            sum -= v[i - k];
        }
        out.push(sum / (i + 1).min(k) as f64);
    }
    out
}

/// Writes `summary.{md,csv}` and, per law, `loss_*.csv`, `w1_curve_*.csv`, `samples_*.csv`,
/// `training_*.svg` (loss and W₁ curves) and `hist2d_*.svg` (truth, PhysGNN, WGAN side by side).
///
/// # Errors
/// `Io` if a file cannot be written.
pub fn write_outputs(out: &Output, cases: &[CaseResult], table: &Table) -> Result<()> {
    out.write("summary.md", &table.to_markdown())?;
    out.write("summary.csv", &table.to_csv())?;
    for c in cases {
        let name = case_name(c.alpha);
        write_csvs(out, &name, c)?;
        out.write(&format!("training_{name}.svg"), &training_svg(c))?;
        out.write(&format!("hist2d_{name}.svg"), &hist_svg(c))?;
    }
    Ok(())
}

fn write_csvs(out: &Output, name: &str, c: &CaseResult) -> Result<()> {
    let mut loss = CsvLog::new(
        out.path(&format!("loss_{name}.csv")),
        &["iteration", "physgnn_wasserstein", "wgan_critic_estimate"],
    );
    for (i, (p, w)) in c.physgnn.losses.iter().zip(&c.wgan.losses).enumerate() {
        loss.push(&[(i + 1) as f64, *p, *w]);
    }
    loss.flush()?;
    let mut curve = CsvLog::new(
        out.path(&format!("w1_curve_{name}.csv")),
        &["iteration", "physgnn_w1", "wgan_w1"],
    );
    for (p, w) in c.physgnn.curve.iter().zip(&c.wgan.curve) {
        curve.push(&[p.0 as f64, p.1, w.1]);
    }
    curve.flush()?;
    let mut samples = CsvLog::new(
        out.path(&format!("samples_{name}.csv")),
        &[
            "true_mu",
            "true_sigma",
            "physgnn_mu",
            "physgnn_sigma",
            "wgan_mu",
            "wgan_sigma",
        ],
    );
    for ((t, p), w) in c.truth.iter().zip(&c.physgnn.samples).zip(&c.wgan.samples) {
        samples.push(&[t[0], t[1], p[0], p[1], w[0], w[1]]);
    }
    samples.flush()
}

fn training_svg(c: &CaseResult) -> String {
    let xs = |r: &MethodRun| (1..=r.losses.len()).map(|i| i as f64).collect::<Vec<_>>();
    let loss = Plot::new("PhysGNN: exact Wasserstein loss (moving average of 50)")
        .xlabel("iteration")
        .ylabel("W(u_gen, u_obs)")
        .log_y()
        .line(
            "PhysGNN",
            &xs(&c.physgnn),
            &moving_average(&c.physgnn.losses, 50),
        );
    let critic = Plot::new("WGAN: critic estimate (moving average of 50)")
        .xlabel("iteration")
        .ylabel("mean D(obs) − mean D(gen)")
        .line("WGAN", &xs(&c.wgan), &moving_average(&c.wgan.losses, 50));
    let curve = |r: &MethodRun| -> (Vec<f64>, Vec<f64>) {
        r.curve.iter().map(|&(i, w)| (i as f64, w)).unzip()
    };
    let (px, py) = curve(&c.physgnn);
    let (wx, wy) = curve(&c.wgan);
    let w1 = Plot::new("W1 of learned to true (mu, sigma)")
        .xlabel("iteration")
        .ylabel("W1")
        .log_y()
        .line("PhysGNN", &px, &py)
        .line("WGAN", &wx, &wy);
    panels(&[loss, critic, w1], 3)
}

fn hist_svg(c: &CaseResult) -> String {
    let heat = |title: &str, s: &[[f64; 2]]| {
        let mu: Vec<f64> = s.iter().map(|p| p[0]).collect();
        let sigma: Vec<f64> = s.iter().map(|p| p[1]).collect();
        Plot::new(title)
            .xlabel("mu")
            .ylabel("sigma")
            .heatmap(Hist2d::new(&mu, &sigma, 40, 40, (0.0, 1.0), (0.0, 1.0)))
    };
    panels(
        &[
            heat(&format!("truth: {}", law(c.alpha)), &c.truth),
            heat(
                &format!("PhysGNN (W1 {:.4})", c.physgnn.w1),
                &c.physgnn.samples,
            ),
            heat(&format!("WGAN (W1 {:.4})", c.wgan.w1), &c.wgan.samples),
        ],
        3,
    )
}
