//! Experiment 3's outputs: the summary table, CSV files and SVG plots.

use super::{gap_mass, mean_std, upper_mass, w1_params, Kind, Law, Run};
use physgrad::nn::CsvLog;
use physgrad::report::{panels, Hist2d, Output, Plot, Table};
use physgrad::Result;

/// True per-element samples `(E, ν)` of each law.
pub type Truths = [(Law, (Vec<f64>, Vec<f64>))];

fn truth_of(truths: &Truths, law: Law) -> &(Vec<f64>, Vec<f64>) {
    &truths
        .iter()
        .find(|t| t.0 == law)
        .expect("every law has a truth")
        .1
}

/// Groups runs by (law, generator), keeping the first-seen order.
fn groups(runs: &[Run]) -> Vec<(Law, Kind, Vec<&Run>)> {
    let mut g: Vec<(Law, Kind, Vec<&Run>)> = Vec::new();
    for r in runs {
        match g.iter_mut().find(|x| x.0 == r.law && x.1 == r.kind) {
            Some(x) => x.2.push(r),
            None => g.push((r.law, r.kind, vec![r])),
        }
    }
    g
}

/// One row per (law, generator), averaged over seeds: final validation loss (mean over seeds
/// ± standard deviation over seeds), the spread over the 100 batches (mean over seeds), the
/// exact W₁ of 1,000 learned to 1,000 true per-element `(E, ν)`, mean/std of `E` and `ν`, for
/// law (a) the mass above `E = 1.5` and in the gap `(1.4, 1.6)`, and the time per run. A
/// truth row per law gives the sampling floor of W₁ (two true samples).
///
/// # Errors
/// From the W₁ computations.
pub fn summary_table(runs: &[Run], truths: &Truths) -> Result<Table> {
    let mut t = Table::new(&[
        "law",
        "generator",
        "seeds",
        "val loss",
        "± seeds",
        "batch spread",
        "W1 (E,nu)",
        "mean E",
        "std E",
        "mean nu",
        "std nu",
        "E>1.5",
        "gap",
        "time s",
    ]);
    let mut last_law = None;
    for (law, kind, rs) in groups(runs) {
        let truth = truth_of(truths, law);
        if last_law != Some(law) {
            last_law = Some(law);
            let half = truth.0.len() / 2;
            let a = (truth.0[..half].to_vec(), truth.1[..half].to_vec());
            let b = (truth.0[half..].to_vec(), truth.1[half..].to_vec());
            t.row(&row(
                law,
                "truth",
                "-",
                None,
                w1_params(&a, &b, 1000)?,
                truth,
                "-",
            ));
        }
        let finals: Vec<f64> = rs
            .iter()
            .map(|r| r.validation.last().expect("validated").1)
            .collect();
        let spread = rs
            .iter()
            .map(|r| r.validation.last().expect("validated").2)
            .sum::<f64>()
            / rs.len() as f64;
        let w: Vec<f64> = rs
            .iter()
            .map(|r| w1_params(&r.learned, truth, 1000))
            .collect::<Result<_>>()?;
        let secs = rs.iter().map(|r| r.seconds).sum::<f64>() / rs.len() as f64;
        let (vm, vs) = mean_std(&finals);
        t.row(&row(
            law,
            &kind.label(),
            &rs.len().to_string(),
            Some((vm, vs, spread)),
            mean_std(&w).0,
            &rs[0].learned,
            &format!("{secs:.1}"),
        ));
    }
    Ok(t)
}

fn row(
    law: Law,
    name: &str,
    seeds: &str,
    val: Option<(f64, f64, f64)>,
    w1: f64,
    s: &(Vec<f64>, Vec<f64>),
    secs: &str,
) -> Vec<String> {
    let (me, se) = mean_std(&s.0);
    let (mn, sn) = mean_std(&s.1);
    let f = |v: f64| format!("{v:.4}");
    let (v0, v1, v2) = match val {
        Some((a, b, c)) => (format!("{a:.5}"), format!("{b:.5}"), format!("{c:.5}")),
        None => ("-".into(), "-".into(), "-".into()),
    };
    let (up, gap) = if law == Law::A {
        (f(upper_mass(&s.0)), f(gap_mass(&s.0)))
    } else {
        ("-".into(), "-".into())
    };
    vec![
        law.name().into(),
        name.into(),
        seeds.into(),
        v0,
        v1,
        v2,
        f(w1),
        f(me),
        f(se),
        f(mn),
        f(sn),
        up,
        gap,
        secs.into(),
    ]
}

fn kind_code(k: Kind) -> f64 {
    match k {
        Kind::PhysGnn(d) => d as f64,
        Kind::Gaussian => 0.0,
    }
}

/// Writes `summary.{md,csv}`, `validation.csv` (law 0/1/2, latent dimension or 0 for the
/// Gaussian, seed, iteration, mean, std), `loss_<law>.csv` (training losses of seed 0),
/// `samples_<law>.csv` (learned `(E, ν)` of seed 0 per generator), and per law
/// `validation_<law>.svg` (validation curves, seed 0) and `params_<law>.svg` (histograms of the
/// per-element `E` and `ν` and 2-D heat maps: truth, each generator).
///
/// # Errors
/// `Io` if a file cannot be written.
pub fn write_outputs(out: &Output, runs: &[Run], truths: &Truths, table: &Table) -> Result<()> {
    out.write("summary.md", &table.to_markdown())?;
    out.write("summary.csv", &table.to_csv())?;
    let mut val = CsvLog::new(
        out.path("validation.csv"),
        &["law", "latent", "seed", "iteration", "mean", "std"],
    );
    for r in runs {
        let l = Law::ALL.iter().position(|&x| x == r.law).expect("law") as f64;
        for &(i, m, s) in &r.validation {
            val.push(&[l, kind_code(r.kind), r.seed as f64, i as f64, m, s]);
        }
    }
    val.flush()?;
    for law in Law::ALL {
        let first: Vec<&Run> = runs
            .iter()
            .filter(|r| r.law == law && r.seed == 0)
            .collect();
        if first.is_empty() {
            continue;
        }
        write_law(out, law, &first, truth_of(truths, law))?;
    }
    Ok(())
}

fn write_law(out: &Output, law: Law, rs: &[&Run], truth: &(Vec<f64>, Vec<f64>)) -> Result<()> {
    let n = law.name();
    let mut cols = vec!["iteration".to_string()];
    cols.extend(rs.iter().map(|r| r.kind.label()));
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut loss = CsvLog::new(out.path(&format!("loss_{n}.csv")), &cols);
    for i in 0..rs[0].losses.len() {
        let mut row = vec![(i + 1) as f64];
        row.extend(rs.iter().map(|r| r.losses[i]));
        loss.push(&row);
    }
    loss.flush()?;
    let mut cols = vec!["truth_E".to_string(), "truth_nu".to_string()];
    for r in rs {
        cols.push(format!("{} E", r.kind.label()));
        cols.push(format!("{} nu", r.kind.label()));
    }
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut samples = CsvLog::new(out.path(&format!("samples_{n}.csv")), &cols);
    for i in 0..truth.0.len() {
        let mut row = vec![truth.0[i], truth.1[i]];
        for r in rs {
            row.push(r.learned.0[i]);
            row.push(r.learned.1[i]);
        }
        samples.push(&row);
    }
    samples.flush()?;
    let mut curves = Plot::new(&format!(
        "law ({n}): validation loss (100 fixed batches), seed 0"
    ))
    .xlabel("iteration")
    .ylabel("exact W (L1 ground cost)")
    .log_y();
    for r in rs {
        let it: Vec<f64> = r.validation.iter().map(|v| v.0 as f64).collect();
        let m: Vec<f64> = r.validation.iter().map(|v| v.1).collect();
        curves = curves.line(&r.kind.label(), &it, &m);
    }
    out.write(&format!("validation_{n}.svg"), &curves.to_svg())?;
    out.write(&format!("params_{n}.svg"), &params_svg(law, rs, truth))?;
    Ok(())
}

fn params_svg(law: Law, rs: &[&Run], truth: &(Vec<f64>, Vec<f64>)) -> String {
    let n = law.name();
    let (er, nr) = ((0.8, 2.2), (0.0, 0.5));
    let mut e = Plot::new(&format!("law ({n}): per-element E"))
        .xlabel("E")
        .ylabel("density");
    let mut nu = Plot::new(&format!("law ({n}): per-element nu"))
        .xlabel("nu")
        .ylabel("density");
    e = e.histogram("truth", &truth.0, 70, er);
    nu = nu.histogram("truth", &truth.1, 50, nr);
    for r in rs {
        e = e.histogram(&r.kind.label(), &r.learned.0, 70, er);
        nu = nu.histogram(&r.kind.label(), &r.learned.1, 50, nr);
    }
    let heat = |name: &str, s: &(Vec<f64>, Vec<f64>)| {
        Plot::new(&format!("law ({n}): {name}"))
            .xlabel("E")
            .ylabel("nu")
            .heatmap(Hist2d::new(&s.0, &s.1, 50, 50, er, nr))
    };
    let mut plots = vec![e, nu, heat("truth", truth)];
    plots.extend(rs.iter().map(|r| heat(&r.kind.label(), &r.learned)));
    panels(&plots, 4)
}
