//! Training utilities: a progress line on stderr, CSV loss curves, and best-checkpoint keeping.

use super::checkpoint::{save_training, write_atomic};
use super::params::ParamStore;
use crate::error::{Error, Result};
use crate::optim::Optimizer;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A one-line progress display on stderr: iteration, loss, rate and ETA, redrawn at most every
/// 100 ms. Silent when stderr is not a terminal or when made [`quiet`](Progress::quiet).
#[derive(Debug)]
pub struct Progress {
    total: usize,
    start: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
    budget: Option<Duration>,
}

impl Progress {
    /// A display for `total` iterations, on if stderr is a terminal.
    pub fn new(total: usize) -> Progress {
        Progress {
            total,
            start: Instant::now(),
            last_draw: None,
            enabled: std::io::stderr().is_terminal(),
            budget: None,
        }
    }

    /// Declares a wall-clock budget for the run (counted from [`Progress::new`]): the ETA is
    /// then the sooner of the remaining iterations at the current rate and the rest of the
    /// budget.
    pub fn budget(mut self, budget: Duration) -> Progress {
        self.budget = Some(budget);
        self
    }

    /// Turns the display off (`true`) or back to the terminal check (`false`).
    pub fn quiet(mut self, quiet: bool) -> Progress {
        self.enabled = !quiet && std::io::stderr().is_terminal();
        self
    }

    /// Reports that iteration `iter` (0-based) finished with `loss`.
    pub fn update(&mut self, iter: usize, loss: f64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|t| now - t < Duration::from_millis(100))
            && iter + 1 < self.total
        {
            return;
        }
        self.last_draw = Some(now);
        let line =
            Progress::format_within(iter + 1, self.total, loss, now - self.start, self.budget);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Ends the display with a newline.
    pub fn finish(&mut self) {
        if self.enabled && self.last_draw.is_some() {
            let _ = writeln!(std::io::stderr());
        }
    }

    /// The text of the line: `done/total  loss …  rate it/s  ETA m:ss`.
    pub fn format(done: usize, total: usize, loss: f64, elapsed: Duration) -> String {
        Progress::format_within(done, total, loss, elapsed, None)
    }

    /// [`Progress::format`] for a run that also stops when `budget` is spent: the ETA is the
    /// sooner of the two ends.
    pub fn format_within(
        done: usize,
        total: usize,
        loss: f64,
        elapsed: Duration,
        budget: Option<Duration>,
    ) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let mut eta = if rate > 0.0 {
            total.saturating_sub(done) as f64 / rate
        } else {
            0.0
        };
        if let Some(b) = budget {
            let left = b.saturating_sub(elapsed).as_secs_f64();
            eta = if rate > 0.0 { eta.min(left) } else { left };
        }
        let eta = eta.round() as u64;
        format!(
            "{done}/{total}  loss {loss:.6e}  {rate:.1} it/s  ETA {}:{:02}",
            eta / 60,
            eta % 60
        )
    }
}

/// A loss-curve log: rows of numbers under a header, written to a CSV file atomically on every
/// [`flush`](CsvLog::flush) (the whole file is rewritten, so a crash never leaves a half row).
#[derive(Debug)]
pub struct CsvLog {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl CsvLog {
    /// A log with the given column names.
    pub fn new(path: impl Into<PathBuf>, columns: &[&str]) -> CsvLog {
        CsvLog {
            path: path.into(),
            header: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends one row.
    ///
    /// # Panics
    /// If the row length differs from the number of columns.
    #[track_caller]
    pub fn push(&mut self, row: &[f64]) {
        assert_eq!(
            row.len(),
            self.header.len(),
            "CsvLog::push: {} values for columns {:?}",
            row.len(),
            self.header
        );
        self.rows.push(row.to_vec());
    }

    /// The rows so far.
    pub fn rows(&self) -> &[Vec<f64>] {
        &self.rows
    }

    /// The CSV text (values printed with Rust's shortest round-trip formatting).
    pub fn to_csv(&self) -> String {
        let mut s = self.header.join(",");
        s.push('\n');
        for r in &self.rows {
            let cells: Vec<String> = r.iter().map(|v| format!("{v:?}")).collect();
            s.push_str(&cells.join(","));
            s.push('\n');
        }
        s
    }

    /// Writes the file atomically.
    ///
    /// # Errors
    /// `Io` if writing fails.
    pub fn flush(&self) -> Result<()> {
        write_atomic(&self.path, self.to_csv().as_bytes())
    }
}

/// Tracks the validation loss and keeps a checkpoint of the best parameters seen.
#[derive(Debug)]
pub struct BestTracker {
    path: PathBuf,
    best: f64,
    best_step: Option<u64>,
}

impl BestTracker {
    /// A tracker saving the best checkpoint to `path`.
    pub fn new(path: impl Into<PathBuf>) -> BestTracker {
        BestTracker {
            path: path.into(),
            best: f64::INFINITY,
            best_step: None,
        }
    }

    /// Records the validation loss at `step`; if it is the lowest so far, saves store and
    /// optimiser state to the checkpoint path and returns `true`.
    ///
    /// # Errors
    /// `NonFinite` if the loss is NaN or infinite; `Io` if saving fails.
    pub fn observe(
        &mut self,
        step: u64,
        val_loss: f64,
        store: &ParamStore,
        opt: &dyn Optimizer,
    ) -> Result<bool> {
        if !val_loss.is_finite() {
            return Err(Error::NonFinite {
                op: "BestTracker::observe".into(),
                what: format!("the validation loss at step {step}"),
            });
        }
        if val_loss >= self.best {
            return Ok(false);
        }
        save_training(&self.path, store, opt, step)?;
        self.best = val_loss;
        self.best_step = Some(step);
        Ok(true)
    }

    /// The lowest validation loss so far (∞ before the first observation).
    pub fn best(&self) -> f64 {
        self.best
    }

    /// The step of the best loss.
    pub fn best_step(&self) -> Option<u64> {
        self.best_step
    }

    /// Where the best checkpoint is kept.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}
