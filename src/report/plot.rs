//! Dependency-free SVG plots: lines, points, 1-D histograms and 2-D histogram heat maps on
//! linear (or logarithmic y) axes with "nice" ticks, and several plots side by side.

use std::fmt::Write as _;

/// Colours for successive series (colour-blind-friendly Okabe–Ito order).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
];

/// A 2-D histogram on a regular `nx × ny` grid over `[x0, x1] × [y0, y1]`; `counts[j * nx + i]`
/// holds bin `(i, j)` (`i` along x). Points outside the range are dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Hist2d {
    /// Bin counts, row-major with y outer.
    pub counts: Vec<f64>,
    /// Bins along x.
    pub nx: usize,
    /// Bins along y.
    pub ny: usize,
    /// The x range.
    pub x: (f64, f64),
    /// The y range.
    pub y: (f64, f64),
}

impl Hist2d {
    /// Bins the points `(xs[k], ys[k])`.
    ///
    /// # Panics
    /// If the slices differ in length, a bin count is zero or a range is empty.
    #[track_caller]
    pub fn new(xs: &[f64], ys: &[f64], nx: usize, ny: usize, x: (f64, f64), y: (f64, f64)) -> Self {
        assert_eq!(
            xs.len(),
            ys.len(),
            "Hist2d::new: xs and ys differ in length"
        );
        assert!(nx > 0 && ny > 0, "Hist2d::new: zero bins");
        assert!(
            x.1 > x.0 && y.1 > y.0,
            "Hist2d::new: empty range {x:?} × {y:?}"
        );
        let mut counts = vec![0.0; nx * ny];
        for (&a, &b) in xs.iter().zip(ys) {
            if let (Some(i), Some(j)) = (bin(a, x, nx), bin(b, y, ny)) {
                counts[j * nx + i] += 1.0;
            }
        }
        Hist2d {
            counts,
            nx,
            ny,
            x,
            y,
        }
    }
}

/// The bin of `v` among `n` equal bins on `[lo, hi]` (the top edge belongs to the last bin).
fn bin(v: f64, (lo, hi): (f64, f64), n: usize) -> Option<usize> {
    if !(v >= lo && v <= hi) {
        return None;
    }
    Some((((v - lo) / (hi - lo) * n as f64) as usize).min(n - 1))
}

/// About `n` round tick positions covering `[lo, hi]` (steps 1, 2 or 5 × 10ᵏ).
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    // The round step nearest to the raw one (in ratio).
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .min_by(|a, b| (a / raw).ln().abs().total_cmp(&(b / raw).ln().abs()))
        .unwrap_or(mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

#[derive(Clone, Debug)]
enum Mark {
    Line {
        name: String,
        xs: Vec<f64>,
        ys: Vec<f64>,
        dashed: bool,
    },
    Points {
        name: String,
        xs: Vec<f64>,
        ys: Vec<f64>,
    },
    Bars {
        name: String,
        edges: Vec<f64>,
        heights: Vec<f64>,
    },
    Heat(Hist2d),
}

/// One plot. Build with the chained methods, render with [`Plot::to_svg`] or [`panels`].
///
/// ```
/// use physgrad::report::Plot;
/// let svg = Plot::new("loss")
///     .xlabel("iteration")
///     .log_y()
///     .line("train", &[0.0, 1.0, 2.0], &[1.0, 0.1, 0.01])
///     .to_svg();
/// assert!(svg.starts_with("<svg") && svg.contains("polyline"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Plot {
    title: String,
    xlabel: String,
    ylabel: String,
    xrange: Option<(f64, f64)>,
    yrange: Option<(f64, f64)>,
    log_y: bool,
    marks: Vec<Mark>,
}

impl Plot {
    /// An empty plot with a title.
    pub fn new(title: &str) -> Plot {
        Plot {
            title: title.to_string(),
            ..Plot::default()
        }
    }

    /// The x-axis label.
    pub fn xlabel(mut self, s: &str) -> Plot {
        self.xlabel = s.to_string();
        self
    }

    /// The y-axis label.
    pub fn ylabel(mut self, s: &str) -> Plot {
        self.ylabel = s.to_string();
        self
    }

    /// Fixes the x range (default: the data's).
    pub fn x_range(mut self, lo: f64, hi: f64) -> Plot {
        self.xrange = Some((lo, hi));
        self
    }

    /// Fixes the y range (default: the data's).
    pub fn y_range(mut self, lo: f64, hi: f64) -> Plot {
        self.yrange = Some((lo, hi));
        self
    }

    /// A logarithmic y axis (non-positive values are dropped).
    pub fn log_y(mut self) -> Plot {
        self.log_y = true;
        self
    }

    /// A polyline through `(xs[k], ys[k])`; non-finite points break nothing, they are skipped.
    #[track_caller]
    pub fn line(mut self, name: &str, xs: &[f64], ys: &[f64]) -> Plot {
        assert_eq!(
            xs.len(),
            ys.len(),
            "Plot::line({name}): xs and ys differ in length"
        );
        self.marks.push(Mark::Line {
            name: name.into(),
            xs: xs.into(),
            ys: ys.into(),
            dashed: false,
        });
        self
    }

    /// A dashed polyline (for references and targets).
    #[track_caller]
    pub fn dashed(mut self, name: &str, xs: &[f64], ys: &[f64]) -> Plot {
        assert_eq!(
            xs.len(),
            ys.len(),
            "Plot::dashed({name}): xs and ys differ in length"
        );
        self.marks.push(Mark::Line {
            name: name.into(),
            xs: xs.into(),
            ys: ys.into(),
            dashed: true,
        });
        self
    }

    /// A scatter of points.
    #[track_caller]
    pub fn points(mut self, name: &str, xs: &[f64], ys: &[f64]) -> Plot {
        assert_eq!(
            xs.len(),
            ys.len(),
            "Plot::points({name}): xs and ys differ in length"
        );
        self.marks.push(Mark::Points {
            name: name.into(),
            xs: xs.into(),
            ys: ys.into(),
        });
        self
    }

    /// A density histogram of `values` with `bins` equal bins on `range` (outline bars, so
    /// several overlay legibly). Heights integrate to the fraction of values inside the range.
    #[track_caller]
    pub fn histogram(mut self, name: &str, values: &[f64], bins: usize, range: (f64, f64)) -> Plot {
        assert!(
            bins > 0 && range.1 > range.0,
            "Plot::histogram({name}): bad bins/range"
        );
        let mut counts = vec![0.0; bins];
        for &v in values {
            if let Some(i) = bin(v, range, bins) {
                counts[i] += 1.0;
            }
        }
        let width = (range.1 - range.0) / bins as f64;
        let norm = 1.0 / (values.len().max(1) as f64 * width);
        self.marks.push(Mark::Bars {
            name: name.into(),
            edges: (0..=bins).map(|i| range.0 + i as f64 * width).collect(),
            heights: counts.iter().map(|c| c * norm).collect(),
        });
        self
    }

    /// A heat map of a 2-D histogram (white → dark blue by count); sets the plot's ranges.
    pub fn heatmap(mut self, h: Hist2d) -> Plot {
        self.xrange = Some(h.x);
        self.yrange = Some(h.y);
        self.marks.push(Mark::Heat(h));
        self
    }

    /// The plot as a standalone SVG document, 640 × 420.
    pub fn to_svg(&self) -> String {
        panels(std::slice::from_ref(self), 1)
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for m in &self.marks {
            match m {
                Mark::Line { xs: a, ys: b, .. } | Mark::Points { xs: a, ys: b, .. } => {
                    xs.extend_from_slice(a);
                    ys.extend_from_slice(b);
                }
                Mark::Bars { edges, heights, .. } => {
                    xs.extend_from_slice(edges);
                    ys.extend_from_slice(heights);
                    ys.push(0.0);
                }
                Mark::Heat(h) => {
                    xs.extend([h.x.0, h.x.1]);
                    ys.extend([h.y.0, h.y.1]);
                }
            }
        }
        let log = self.log_y;
        let ys: Vec<f64> = ys
            .into_iter()
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .map(|v| if log { v.log10() } else { v })
            .collect();
        let x = self.xrange.unwrap_or_else(|| span(&xs));
        let y = match self.yrange {
            Some((a, b)) if log => (a.max(f64::MIN_POSITIVE).log10(), b.log10()),
            Some(r) => r,
            None => span(&ys),
        };
        (x, y)
    }

    /// Renders into the rectangle at `(ox, oy)` of size `w × h`.
    fn render(&self, s: &mut String, ox: f64, oy: f64, w: f64, h: f64) {
        let (l, r, t, b) = (ox + 64.0, ox + w - 16.0, oy + 36.0, oy + h - 48.0);
        let ((x0, x1), (y0, y1)) = self.ranges();
        let px = |v: f64| l + (v - x0) / (x1 - x0) * (r - l);
        let ty = |v: f64| {
            if self.log_y {
                v.max(f64::MIN_POSITIVE).log10()
            } else {
                v
            }
        };
        let py = |v: f64| b - (ty(v) - y0) / (y1 - y0) * (b - t);
        let _ = writeln!(
            s,
            "<text x='{:.1}' y='{:.1}' text-anchor='middle' font-size='15'>{}</text>",
            (l + r) / 2.0,
            oy + 22.0,
            escape(&self.title)
        );
        for m in &self.marks {
            if let Mark::Heat(hm) = m {
                heat(s, hm, &px, &py);
            }
        }
        self.axes(s, (l, r, t, b), (x0, x1), (y0, y1));
        let mut series = 0;
        for m in &self.marks {
            let colour = PALETTE[series % PALETTE.len()];
            match m {
                Mark::Line {
                    name,
                    xs,
                    ys,
                    dashed,
                } => {
                    polyline(s, xs, ys, &px, &py, colour, *dashed);
                    legend(s, name, colour, r, t, series);
                }
                Mark::Points { name, xs, ys } => {
                    for (&a, &c) in xs.iter().zip(ys) {
                        if a.is_finite() && c.is_finite() && (!self.log_y || c > 0.0) {
                            let _ = writeln!(
                                s,
                                "<circle cx='{:.1}' cy='{:.1}' r='1.8' fill='{colour}' fill-opacity='0.5'/>",
                                px(a),
                                py(c)
                            );
                        }
                    }
                    legend(s, name, colour, r, t, series);
                }
                Mark::Bars {
                    name,
                    edges,
                    heights,
                } => {
                    let mut xs = vec![edges[0]];
                    let mut ys = vec![0.0];
                    for (k, &hgt) in heights.iter().enumerate() {
                        xs.extend([edges[k], edges[k + 1]]);
                        ys.extend([hgt, hgt]);
                    }
                    xs.push(edges[edges.len() - 1]);
                    ys.push(0.0);
                    polyline(s, &xs, &ys, &px, &py, colour, false);
                    legend(s, name, colour, r, t, series);
                }
                Mark::Heat(_) => continue,
            }
            series += 1;
        }
    }

    fn axes(
        &self,
        s: &mut String,
        (l, r, t, b): (f64, f64, f64, f64),
        x: (f64, f64),
        y: (f64, f64),
    ) {
        let _ = writeln!(
            s,
            "<rect x='{l:.1}' y='{t:.1}' width='{:.1}' height='{:.1}' fill='none' stroke='#444'/>",
            r - l,
            b - t
        );
        for v in nice_ticks(x.0, x.1, 6) {
            let p = l + (v - x.0) / (x.1 - x.0) * (r - l);
            let _ = writeln!(
                s,
                "<line x1='{p:.1}' y1='{b:.1}' x2='{p:.1}' y2='{:.1}' stroke='#444'/><text x='{p:.1}' y='{:.1}' text-anchor='middle'>{}</text>",
                b + 5.0,
                b + 18.0,
                tick_label(v)
            );
        }
        let mut yticks = nice_ticks(y.0, y.1, 5);
        if self.log_y && y.1 - y.0 >= 2.0 {
            // Whole decades only on a log axis spanning several.
            yticks = (y.0.ceil() as i64..=y.1.floor() as i64)
                .map(|k| k as f64)
                .collect();
        }
        for v in yticks {
            let p = b - (v - y.0) / (y.1 - y.0) * (b - t);
            let label = if self.log_y {
                tick_label(10f64.powf(v))
            } else {
                tick_label(v)
            };
            let _ = writeln!(
                s,
                "<line x1='{:.1}' y1='{p:.1}' x2='{l:.1}' y2='{p:.1}' stroke='#444'/><line x1='{l:.1}' y1='{p:.1}' x2='{r:.1}' y2='{p:.1}' stroke='#ddd'/><text x='{:.1}' y='{:.1}' text-anchor='end'>{label}</text>",
                l - 5.0,
                l - 7.0,
                p + 4.0
            );
        }
        let _ = writeln!(
            s,
            "<text x='{:.1}' y='{:.1}' text-anchor='middle'>{}</text>",
            (l + r) / 2.0,
            b + 36.0,
            escape(&self.xlabel)
        );
        let _ = writeln!(
            s,
            "<text transform='translate({:.1},{:.1}) rotate(-90)' text-anchor='middle'>{}</text>",
            l - 48.0,
            (t + b) / 2.0,
            escape(&self.ylabel)
        );
    }
}

/// Several plots in one SVG document, `columns` per row, each 640 × 420.
pub fn panels(plots: &[Plot], columns: usize) -> String {
    let (w, h) = (640.0, 420.0);
    let columns = columns.clamp(1, plots.len().max(1));
    let rows = plots.len().div_ceil(columns).max(1);
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n",
        w * columns as f64,
        h * rows as f64
    );
    for (k, p) in plots.iter().enumerate() {
        p.render(
            &mut s,
            w * (k % columns) as f64,
            h * (k / columns) as f64,
            w,
            h,
        );
    }
    s.push_str("</svg>\n");
    s
}

fn span(v: &[f64]) -> (f64, f64) {
    let (lo, hi) = v
        .iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi - lo <= 1e-12 * lo.abs().max(1.0) {
        (lo - 0.5 * lo.abs().max(1.0), hi + 0.5 * hi.abs().max(1.0))
    } else {
        let pad = 0.04 * (hi - lo);
        (lo - pad, hi + pad)
    }
}

fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".into()
        } else {
            s.into()
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn polyline(
    s: &mut String,
    xs: &[f64],
    ys: &[f64],
    px: &impl Fn(f64) -> f64,
    py: &impl Fn(f64) -> f64,
    colour: &str,
    dashed: bool,
) {
    let pts: Vec<String> = xs
        .iter()
        .zip(ys)
        .map(|(&a, &b)| (px(a), py(b)))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| format!("{a:.1},{b:.1}"))
        .collect();
    let dash = if dashed {
        " stroke-dasharray='6 4'"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "<polyline fill='none' stroke='{colour}' stroke-width='1.8'{dash} points='{}'/>",
        pts.join(" ")
    );
}

fn legend(s: &mut String, name: &str, colour: &str, r: f64, t: f64, k: usize) {
    let y = t + 16.0 + 16.0 * k as f64;
    // A translucent backing keeps the legend legible over the data (≈ 7 px per character).
    let width = 7.0 * name.chars().count() as f64 + 36.0;
    let _ = writeln!(
        s,
        "<rect x='{:.1}' y='{:.1}' width='{width:.1}' height='16' fill='white' fill-opacity='0.8'/>",
        r - width - 4.0,
        y - 12.0
    );
    let _ = writeln!(
        s,
        "<line x1='{:.1}' y1='{:.1}' x2='{:.1}' y2='{:.1}' stroke='{colour}' stroke-width='3'/><text x='{:.1}' y='{:.1}' text-anchor='end'>{}</text>",
        r - 24.0,
        y - 4.0,
        r - 8.0,
        y - 4.0,
        r - 28.0,
        y,
        escape(name)
    );
}

fn heat(s: &mut String, h: &Hist2d, px: &impl Fn(f64) -> f64, py: &impl Fn(f64) -> f64) {
    let max = h.counts.iter().cloned().fold(0.0, f64::max).max(1e-300);
    let (dx, dy) = ((h.x.1 - h.x.0) / h.nx as f64, (h.y.1 - h.y.0) / h.ny as f64);
    for j in 0..h.ny {
        for i in 0..h.nx {
            let c = h.counts[j * h.nx + i] / max;
            if c <= 0.0 {
                continue;
            }
            let (x0, y1) = (px(h.x.0 + i as f64 * dx), py(h.y.0 + j as f64 * dy));
            let (x1, y0) = (
                px(h.x.0 + (i + 1) as f64 * dx),
                py(h.y.0 + (j + 1) as f64 * dy),
            );
            // White (0) to #08306b (1), linear in each channel.
            let mix = |a: f64, b: f64| (a + (b - a) * c).round() as u8;
            let _ = writeln!(
                s,
                "<rect x='{x0:.1}' y='{y0:.1}' width='{:.1}' height='{:.1}' fill='#{:02x}{:02x}{:02x}'/>",
                x1 - x0 + 0.3,
                y1 - y0 + 0.3,
                mix(255.0, 8.0),
                mix(255.0, 48.0),
                mix(255.0, 107.0)
            );
        }
    }
}
