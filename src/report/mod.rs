//! What the experiment examples write: an output folder with atomically written files, summary
//! tables (aligned text for the terminal, Markdown for docs, CSV for tools) and SVG plots.
//!
//! ```no_run
//! use physgrad::report::{Output, Plot, Table};
//! # fn main() -> physgrad::Result<()> {
//! let out = Output::new("out/demo")?;
//! let mut t = Table::new(&["method", "W1"]);
//! t.row(&["physgnn".into(), format!("{:.4}", 0.0123)]);
//! println!("{}", t.to_text());
//! out.write("summary.md", &t.to_markdown())?;
//! out.write("loss.svg", &Plot::new("loss").line("train", &[0.0, 1.0], &[1.0, 0.5]).to_svg())?;
//! # Ok(()) }
//! ```

mod plot;

pub use plot::{nice_ticks, panels, Hist2d, Plot, PALETTE};

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// An output folder; files are written atomically (temporary file, then rename), so an
/// interrupted run never leaves a half-written table or plot.
#[derive(Clone, Debug)]
pub struct Output {
    dir: PathBuf,
}

impl Output {
    /// Creates the folder (and its parents) if needed.
    ///
    /// # Errors
    /// `Io` if the folder cannot be created.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Output> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Output { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `name` inside the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `contents` to `name` atomically and returns its path.
    ///
    /// # Errors
    /// `Io` naming the path.
    pub fn write(&self, name: &str, contents: &str) -> Result<PathBuf> {
        let path = self.path(name);
        crate::nn::checkpoint::write_atomic(&path, contents.as_bytes())?;
        Ok(path)
    }
}

/// A table of strings with a header row.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    ///
    /// # Panics
    /// If the row's length differs from the number of columns.
    #[track_caller]
    pub fn row(&mut self, cells: &[String]) -> &mut Table {
        assert_eq!(
            cells.len(),
            self.headers.len(),
            "Table::row: {} cells for {} columns {:?}",
            cells.len(),
            self.headers.len(),
            self.headers
        );
        self.rows.push(cells.to_vec());
        self
    }

    /// The rows so far.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    fn widths(&self) -> Vec<usize> {
        (0..self.headers.len())
            .map(|c| {
                std::iter::once(&self.headers[c])
                    .chain(self.rows.iter().map(|r| &r[c]))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Aligned plain text for the terminal (numbers right-aligned, text left-aligned).
    pub fn to_text(&self) -> String {
        self.render("", "  ", "", false)
    }

    /// A GitHub-flavoured Markdown table.
    pub fn to_markdown(&self) -> String {
        self.render("| ", " | ", " |", true)
    }

    fn render(&self, open: &str, sep: &str, close: &str, markdown: bool) -> String {
        let w = self.widths();
        let line = |cells: &[String]| {
            let body: Vec<String> = cells
                .iter()
                .zip(&w)
                .map(|(c, &n)| {
                    if c.trim().parse::<f64>().is_ok() {
                        format!("{c:>n$}")
                    } else {
                        format!("{c:<n$}")
                    }
                })
                .collect();
            format!("{open}{}{close}", body.join(sep))
                .trim_end()
                .to_string()
                + "\n"
        };
        let mut s = line(&self.headers);
        let rule: Vec<String> = w.iter().map(|&n| "-".repeat(n.max(3))).collect();
        if markdown {
            s += &format!("{open}{}{close}\n", rule.join(sep));
        } else {
            s += &(rule.join(sep) + "\n");
        }
        for r in &self.rows {
            s += &line(r);
        }
        s
    }

    /// Comma-separated values (cells containing commas or quotes are quoted).
    pub fn to_csv(&self) -> String {
        let quote = |c: &String| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        };
        std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|r| r.iter().map(quote).collect::<Vec<_>>().join(",") + "\n")
            .collect()
    }
}
