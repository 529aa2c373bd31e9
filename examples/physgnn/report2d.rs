//! Experiment 2's outputs: the summary table, CSV files and SVG plots.

use super::{folded_moments, mean_std, w1, SeedResult};
use physgrad::nn::CsvLog;
use physgrad::report::{panels, Output, Plot, Table};
use physgrad::Result;

/// The statistics of one method on one seed.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// Mean of κ.
    pub mean: f64,
    /// Standard deviation of κ.
    pub std: f64,
    /// W₁ to the fresh true sample.
    pub w1: f64,
}

/// Mean, std and W₁ to `truth` of `samples`.
pub fn stats(samples: &[f64], truth: &[f64]) -> Result<Stats> {
    let (mean, std) = mean_std(samples);
    Ok(Stats {
        mean,
        std,
        w1: w1(samples, truth)?,
    })
}

fn cells(seed: &str, method: &str, row: [f64; 6]) -> Vec<String> {
    let mut c = vec![seed.to_string(), method.to_string()];
    c.extend(row[..5].iter().map(|v| format!("{v:.4}")));
    c.push(format!("{:.2}", row[5]));
    c
}

/// Per seed: mean and std of κ, their absolute errors against the true `|v|` moments, W₁ to
/// fresh true draws (the truth row: the sampling floor, W₁ between two true samples, averaged
/// over seeds), wall-clock time; then the average of each column over the seeds (the
/// error columns average the per-seed absolute errors).
///
/// # Panics
/// If a W₁ computation fails (it cannot for non-empty finite samples).
pub fn summary_table(results: &[SeedResult], law: (f64, f64)) -> Table {
    let truth = folded_moments(law);
    let floor = results.iter().map(|r| r.floor).sum::<f64>() / results.len().max(1) as f64;
    let mut t = Table::new(&[
        "seed",
        "method",
        "mean kappa",
        "std kappa",
        "mean err",
        "std err",
        "W1 to truth",
        "time s",
    ]);
    t.row(&[
        "-".into(),
        format!("truth: abs(v), v ~ N({}, {}^2)", law.0, law.1),
        format!("{:.5}", truth.0),
        format!("{:.5}", truth.1),
        "0".into(),
        "0".into(),
        format!("{floor:.4}"),
        "-".into(),
    ]);
    let mut avg = [[0.0; 6]; 2];
    for r in results {
        let runs = [
            (&r.physgnn.samples, r.physgnn.seconds),
            (&r.mcmc.samples, r.mcmc.seconds),
        ];
        for (k, (samples, secs)) in runs.into_iter().enumerate() {
            let s = stats(samples, &r.truth).expect("W1 of finite samples");
            let row = [
                s.mean,
                s.std,
                (s.mean - truth.0).abs(),
                (s.std - truth.1).abs(),
                s.w1,
                secs,
            ];
            t.row(&cells(&r.seed.to_string(), ["PhysGNN", "MCMC"][k], row));
            for (a, v) in avg[k].iter_mut().zip(row) {
                *a += v / results.len() as f64;
            }
        }
    }
    if results.len() > 1 {
        for (k, name) in ["PhysGNN", "MCMC"].into_iter().enumerate() {
            t.row(&cells("average", name, avg[k]));
        }
    }
    t
}

/// Writes `summary.{md,csv}` and per seed `loss_seed*.csv`, `moments_seed*.csv`,
/// `samples_seed*.csv`, `mcmc_chain_seed*.csv`, `training_seed*.svg` (loss, learned moments,
/// MCMC trace) and `kappa_hist_seed*.svg` (histograms of κ: truth, PhysGNN, MCMC).
///
/// # Errors
/// `Io` if a file cannot be written.
pub fn write_outputs(
    out: &Output,
    results: &[SeedResult],
    law: (f64, f64),
    table: &Table,
) -> Result<()> {
    out.write("summary.md", &table.to_markdown())?;
    out.write("summary.csv", &table.to_csv())?;
    for r in results {
        let s = r.seed;
        write_csvs(out, r)?;
        out.write(&format!("training_seed{s}.svg"), &training_svg(r, law))?;
        out.write(&format!("kappa_hist_seed{s}.svg"), &hist_svg(r))?;
    }
    Ok(())
}

fn write_csvs(out: &Output, r: &SeedResult) -> Result<()> {
    let s = r.seed;
    let mut loss = CsvLog::new(
        out.path(&format!("loss_seed{s}.csv")),
        &["iteration", "wasserstein"],
    );
    for (i, l) in r.physgnn.losses.iter().enumerate() {
        loss.push(&[(i + 1) as f64, *l]);
    }
    loss.flush()?;
    let mut mom = CsvLog::new(
        out.path(&format!("moments_seed{s}.csv")),
        &["iteration", "mean_kappa", "std_kappa"],
    );
    for &(i, m, sd) in &r.physgnn.moments {
        mom.push(&[i as f64, m, sd]);
    }
    mom.flush()?;
    let mut samples = CsvLog::new(
        out.path(&format!("samples_seed{s}.csv")),
        &["truth", "physgnn", "mcmc"],
    );
    for ((t, p), m) in r.truth.iter().zip(&r.physgnn.samples).zip(&r.mcmc.samples) {
        samples.push(&[*t, *p, *m]);
    }
    samples.flush()?;
    let mut chain = CsvLog::new(
        out.path(&format!("mcmc_chain_seed{s}.csv")),
        &["step", "kappa"],
    );
    for (i, k) in r.mcmc.chain.iter().enumerate() {
        chain.push(&[(i + 1) as f64, *k]);
    }
    chain.flush()
}

fn training_svg(r: &SeedResult, law: (f64, f64)) -> String {
    let truth = folded_moments(law);
    let xs: Vec<f64> = (1..=r.physgnn.losses.len()).map(|i| i as f64).collect();
    let smooth = moving_average(&r.physgnn.losses, 20);
    let loss = Plot::new("PhysGNN: exact W between u(0.8, 0.8) batches (moving average of 20)")
        .xlabel("iteration")
        .ylabel("W")
        .log_y()
        .line("PhysGNN", &xs, &smooth);
    let it: Vec<f64> = r.physgnn.moments.iter().map(|m| m.0 as f64).collect();
    let mean: Vec<f64> = r.physgnn.moments.iter().map(|m| m.1).collect();
    let std: Vec<f64> = r.physgnn.moments.iter().map(|m| m.2).collect();
    let ends = [0.0, *it.last().unwrap_or(&1.0)];
    let moments = Plot::new("PhysGNN: mean and std of kappa")
        .xlabel("iteration")
        .line("mean", &it, &mean)
        .line("std", &it, &std)
        .dashed("true mean", &ends, &[truth.0; 2])
        .dashed("true std", &ends, &[truth.1; 2]);
    let steps: Vec<f64> = (1..=r.mcmc.chain.len()).map(|i| i as f64).collect();
    let trace = Plot::new(&format!("MCMC trace (acceptance {:.2})", r.mcmc.acceptance))
        .xlabel("step")
        .ylabel("kappa")
        .line("chain", &steps, &r.mcmc.chain);
    panels(&[loss, moments, trace], 3)
}

fn hist_svg(r: &SeedResult) -> String {
    Plot::new(&format!("kappa, seed {}", r.seed))
        .xlabel("kappa")
        .ylabel("density")
        .histogram("truth", &r.truth, 60, (0.0, 2.5))
        .histogram("PhysGNN", &r.physgnn.samples, 60, (0.0, 2.5))
        .histogram("MCMC", &r.mcmc.samples, 60, (0.0, 2.5))
        .to_svg()
}

/// `k`-point trailing moving average.
fn moving_average(v: &[f64], k: usize) -> Vec<f64> {
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
