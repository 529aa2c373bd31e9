//! Experiment 1's evaluation (both generators, the error table, the PINN comparison) and its
//! outputs: CSV files and SVG plots in `out/invnet_burgers/`.

use super::{
    coarse_floor, reference_field, residual_of, train_generator, train_pinn, Config, GenRun,
    PinnRun, CASES_C, CASES_NU, NT, NX, T_END,
};
use physgrad::report::{panels, Hist2d, Output, Plot, Table};
use physgrad::Result;

/// `(iteration, residual term, initial-condition term)` per iteration.
type LossCurve = Vec<(usize, f64, f64)>;

/// One evaluated cell: `(c, ν)` (ν = 0: inviscid), the generator's and the 64-cell solver's
/// relative L2 errors against the fine reference.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Initial-condition frequency.
    pub c: f64,
    /// Viscosity (0 for the inviscid generator).
    pub nu: f64,
    /// The generator's relative L2 error.
    pub generator: f64,
    /// The 64-cell solver's relative L2 error.
    pub coarse: f64,
    /// The residual term of the generator's field.
    pub residual_generator: f64,
    /// The residual term of the reference sampled on the grid.
    pub residual_reference: f64,
}

/// Everything the outputs need.
pub struct Evaluation {
    /// The viscous generator.
    pub viscous: GenRun,
    /// The inviscid generator.
    pub inviscid: GenRun,
    /// The error table's cells (viscous rows, then the inviscid row).
    pub cells: Vec<Cell>,
    /// The PINN runs.
    pub pinn: Vec<PinnRun>,
    /// Fields for the heat maps: `(c, ν, generator, reference)`.
    pub fields: Vec<(f64, f64, Vec<f64>, Vec<f64>)>,
    /// The printed summary.
    pub table: Table,
}

/// The probe cases of the error curves, with their references.
fn probes(cfg: &Config, viscous: bool) -> Result<Vec<(f64, f64, Vec<f64>)>> {
    let cases: &[(f64, f64)] = if viscous {
        &[(4.0, 0.02), (5.5, 0.006), (6.0, 0.03)]
    } else {
        &[(4.0, 0.0), (5.5, 0.0)]
    };
    cases
        .iter()
        .map(|&(c, nu)| Ok((c, nu, reference_field(c, nu, cfg.fine_cells)?)))
        .collect()
}

/// Trains both generators and the PINNs and evaluates everything.
///
/// # Errors
/// A non-finite loss during training; the reference solver's errors.
pub fn evaluate(cfg: &Config) -> Result<Evaluation> {
    if cfg.verbose {
        println!("viscous generator (c, ν): {} iterations", cfg.iterations);
    }
    let viscous = train_generator(cfg, true, &probes(cfg, true)?)?;
    if cfg.verbose {
        println!("inviscid generator (c): {} iterations", cfg.iterations);
    }
    let inviscid = train_generator(cfg, false, &probes(cfg, false)?)?;
    let mut cells = Vec::new();
    let mut fields = Vec::new();
    for nu in CASES_NU.into_iter().chain([0.0]) {
        let run = if nu > 0.0 { &viscous } else { &inviscid };
        let gen = run.gen.sample(&run.store, &CASES_C, &[nu; 4]);
        for (k, &c) in CASES_C.iter().enumerate() {
            let fine = reference_field(c, nu, cfg.fine_cells)?;
            cells.push(Cell {
                c,
                nu,
                generator: super::rel_l2(&gen[k], &fine),
                coarse: coarse_floor(c, nu, &fine)?,
                residual_generator: residual_of(&gen[k], c, nu)?,
                residual_reference: residual_of(&fine, c, nu)?,
            });
            if [(4.0, 0.02), (6.0, 0.002), (5.5, 0.0)].contains(&(c, nu)) {
                fields.push((c, nu, gen[k].clone(), fine));
            }
        }
    }
    let mut pinn = Vec::new();
    if cfg.pinn_iterations > 0 {
        for (c, nu) in [(4.0, 0.02), (5.5, 0.006)] {
            if cfg.verbose {
                println!(
                    "PINN (c = {c}, ν = {nu}): {} iterations",
                    cfg.pinn_iterations
                );
            }
            let fine = reference_field(c, nu, cfg.fine_cells)?;
            pinn.push(train_pinn(cfg, c, nu, &fine)?);
        }
    }
    let table = summary_table(&cells);
    Ok(Evaluation {
        viscous,
        inviscid,
        cells,
        pinn,
        fields,
        table,
    })
}

/// Rows ν (then "inviscid"), columns c; each cell "generator (64-cell solver)".
pub fn summary_table(cells: &[Cell]) -> Table {
    cell_table("ν", cells, |c| {
        format!("{:.3} ({:.3})", c.generator, c.coarse)
    })
}

/// Rows ν, columns c; each cell "generator's residual term / the sampled reference's": where
/// the first is the smaller, the statement itself prefers the generator's field to the truth.
pub fn residual_table(cells: &[Cell]) -> Table {
    cell_table("residual: generator / reference", cells, |c| {
        format!("{:.3} / {:.3}", c.residual_generator, c.residual_reference)
    })
}

/// A table with one row per ν (`first` heads the row names) and one column per c.
fn cell_table(first: &str, cells: &[Cell], show: impl Fn(&Cell) -> String) -> Table {
    let mut headers = vec![first.to_string()];
    headers.extend(CASES_C.iter().map(|c| format!("c = {c}")));
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&h);
    for row in cells.chunks(CASES_C.len()) {
        let mut r = vec![row_name(row[0].nu)];
        r.extend(row.iter().map(&show));
        t.row(&r);
    }
    t
}

/// "ν" for a viscous row, "inviscid" for ν = 0.
fn row_name(nu: f64) -> String {
    if nu > 0.0 {
        format!("{nu}")
    } else {
        "inviscid".into()
    }
}

/// The PINN comparison: error and time per case against the generator's.
pub fn pinn_table(e: &Evaluation) -> Table {
    let mut t = Table::new(&[
        "case",
        "PINN error",
        "PINN s",
        "generator error",
        "generator s (all cases)",
    ]);
    for p in &e.pinn {
        let gen = e
            .cells
            .iter()
            .find(|c| c.c == p.c && c.nu == p.nu)
            .map_or(f64::NAN, |c| c.generator);
        t.row(&[
            format!("c = {}, ν = {}", p.c, p.nu),
            format!("{:.3}", p.error),
            format!("{:.1}", p.seconds),
            format!("{gen:.3}"),
            format!("{:.1}", e.viscous.seconds),
        ]);
    }
    t
}

fn loss_csv(run: &[(usize, f64, f64)]) -> String {
    let mut s = String::from("iteration,residual,ic\n");
    for (i, r, c) in run {
        s.push_str(&format!("{i},{r:e},{c:e}\n"));
    }
    s
}

fn heat(title: &str, u: &[f64]) -> Plot {
    let mut counts = vec![0.0; NX * NT];
    for i in 0..NX {
        for j in 0..NT {
            counts[j * NX + i] = u[i * NT + j].max(0.0);
        }
    }
    let h = Hist2d {
        counts,
        nx: NX,
        ny: NT,
        x: (0.0, 1.0),
        y: (0.0, T_END),
    };
    Plot::new(title).xlabel("x").ylabel("t").heatmap(h)
}

fn loss_plot(e: &Evaluation) -> Plot {
    let mut p = Plot::new("loss terms (every 10th iteration)")
        .xlabel("iteration")
        .ylabel("mean square")
        .log_y();
    let runs = [
        ("viscous", &e.viscous.losses),
        ("inviscid", &e.inviscid.losses),
    ];
    let pinn: Vec<(String, &LossCurve)> = e
        .pinn
        .iter()
        .map(|r| (format!("PINN c={} ν={}", r.c, r.nu), &r.losses))
        .collect();
    let all = runs.iter().map(|(n, l)| (n.to_string(), *l)).chain(pinn);
    for (name, l) in all {
        let pts: Vec<&(usize, f64, f64)> = l.iter().step_by(10).collect();
        let xs: Vec<f64> = pts.iter().map(|p| p.0 as f64).collect();
        p = p
            .line(
                &format!("{name} residual"),
                &xs,
                &pts.iter().map(|p| p.1).collect::<Vec<_>>(),
            )
            .dashed(
                &format!("{name} ic"),
                &xs,
                &pts.iter().map(|p| p.2).collect::<Vec<_>>(),
            );
    }
    p
}

fn error_plot(e: &Evaluation) -> Plot {
    let mut p = Plot::new("relative L2 error (dashed: 64-cell solver)")
        .xlabel("c")
        .ylabel("error")
        .log_y();
    for row in e.cells.chunks(CASES_C.len()) {
        let name = match row_name(row[0].nu) {
            n if row[0].nu > 0.0 => format!("ν={n}"),
            n => n,
        };
        let g: Vec<f64> = row.iter().map(|c| c.generator).collect();
        let f: Vec<f64> = row.iter().map(|c| c.coarse).collect();
        p = p
            .line(&name, &CASES_C, &g)
            .dashed(&format!("{name} solver"), &CASES_C, &f);
    }
    p
}

/// Writes the CSV files and the SVG plots.
///
/// # Errors
/// I/O errors.
pub fn write_outputs(out: &Output, e: &Evaluation) -> Result<()> {
    let mut errors =
        String::from("nu,c,generator,coarse_solver,residual_generator,residual_reference\n");
    for c in &e.cells {
        errors.push_str(&format!(
            "{},{},{:e},{:e},{:e},{:e}\n",
            c.nu, c.c, c.generator, c.coarse, c.residual_generator, c.residual_reference
        ));
    }
    out.write("errors.csv", &errors)?;
    let rt = residual_table(&e.cells);
    println!("{}", rt.to_text());
    out.write(
        "summary.md",
        &format!("{}\n{}", e.table.to_markdown(), rt.to_markdown()),
    )?;
    out.write("losses_viscous.csv", &loss_csv(&e.viscous.losses))?;
    out.write("losses_inviscid.csv", &loss_csv(&e.inviscid.losses))?;
    let mut curve = String::from("generator,iteration,probe_error\n");
    for (name, run) in [("viscous", &e.viscous), ("inviscid", &e.inviscid)] {
        for (i, v) in &run.curve {
            curve.push_str(&format!("{name},{i},{v:e}\n"));
        }
    }
    out.write("error_curve.csv", &curve)?;
    let pt = pinn_table(e);
    out.write("pinn.csv", &pt.to_csv())?;
    if !e.pinn.is_empty() {
        println!("{}", pt.to_text());
    }
    let mut maps = Vec::new();
    for (c, nu, g, r) in &e.fields {
        maps.push(heat(&format!("generator c={c} ν={nu}"), g));
        maps.push(heat(&format!("reference c={c} ν={nu}"), r));
    }
    out.write("fields.svg", &panels(&maps, 2))?;
    out.write("losses.svg", &loss_plot(e).to_svg())?;
    let curve_plot = [("viscous", &e.viscous), ("inviscid", &e.inviscid)]
        .iter()
        .fold(
            Plot::new("mean probe error during training")
                .xlabel("iteration")
                .ylabel("relative L2")
                .log_y(),
            |p, (n, r)| {
                let xs: Vec<f64> = r.curve.iter().map(|c| c.0 as f64).collect();
                let ys: Vec<f64> = r.curve.iter().map(|c| c.1).collect();
                p.line(n, &xs, &ys)
            },
        );
    out.write("errors.svg", &panels(&[error_plot(e), curve_plot], 2))?;
    Ok(())
}
