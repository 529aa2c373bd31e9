//! The report helpers: tables, plots, the output folder.

use physgrad::report::{nice_ticks, panels, Hist2d, Output, Plot, Table};

#[test]
fn nice_ticks_are_round_and_cover_the_range() {
    let t = nice_ticks(0.0, 1.0, 5);
    assert_eq!(t.len(), 6);
    assert!((t[1] - 0.2).abs() < 1e-15 && t[5] == 1.0);
    let t = nice_ticks(-3.7, 12.2, 6);
    assert_eq!(t, vec![-2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
    assert_eq!(nice_ticks(1.0, 1.0, 5), vec![1.0]); // degenerate: no loop, no panic
    assert_eq!(nice_ticks(0.0, f64::NAN, 5).len(), 1);
}

#[test]
fn hist2d_counts_every_point_in_range_once() {
    let xs = [0.0, 0.24, 0.26, 0.99, 1.0, 1.5, -0.1];
    let ys = [0.0, 0.0, 0.0, 0.99, 1.0, 0.5, 0.5];
    let h = Hist2d::new(&xs, &ys, 4, 2, (0.0, 1.0), (0.0, 1.0));
    assert_eq!(h.counts.iter().sum::<f64>(), 5.0); // two points fall outside
    assert_eq!(h.counts[0], 2.0); // (0, 0) and (0.24, 0) share bin (0, 0)
    assert_eq!(h.counts[1], 1.0);
    assert_eq!(h.counts[4 + 3], 2.0); // the top edge belongs to the last bin
}

#[test]
fn plots_render_every_mark_and_escape_text() {
    let h = Hist2d::new(&[0.5], &[0.5], 2, 2, (0.0, 1.0), (0.0, 1.0));
    let a = Plot::new("a < b & c")
        .line("l", &[0.0, 1.0, 2.0], &[1.0, f64::NAN, 3.0])
        .dashed("ref", &[0.0, 2.0], &[1.0, 3.0])
        .points("p", &[0.5], &[2.0])
        .histogram("h", &[0.1, 0.2, 0.9], 4, (0.0, 1.0));
    let svg = a.to_svg();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("a &lt; b &amp; c"));
    assert_eq!(svg.matches("<polyline").count(), 3);
    assert!(svg.contains("stroke-dasharray"));
    assert_eq!(svg.matches("<circle").count(), 1);
    let two = panels(&[a, Plot::new("heat").heatmap(h)], 2);
    assert!(two.contains("width='1280'"));
    assert_eq!(two.matches("fill='#08306b'").count(), 1); // the one full bin is darkest
    let log = Plot::new("log")
        .log_y()
        .line("l", &[0.0, 1.0], &[1e-3, 10.0])
        .to_svg();
    assert!(log.contains(">0.001<") && log.contains(">10<"), "{log}");
}

#[test]
fn tables_align_and_quote() {
    let mut t = Table::new(&["method", "W1"]);
    t.row(&["physgnn".into(), "0.012".into()])
        .row(&["wgan, clipped".into(), "0.1".into()]);
    let text = t.to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[2], "physgnn        0.012");
    assert_eq!(lines[3], "wgan, clipped    0.1");
    assert!(t
        .to_markdown()
        .starts_with("| method        | W1    |\n| ------------- | ----- |\n"));
    assert_eq!(
        t.to_csv(),
        "method,W1\nphysgnn,0.012\n\"wgan, clipped\",0.1\n"
    );
}

#[test]
#[should_panic(expected = "Table::row: 1 cells for 2 columns")]
fn a_short_row_is_a_programmer_error() {
    Table::new(&["a", "b"]).row(&["x".into()]);
}

#[test]
fn output_writes_atomically_into_a_new_folder() {
    let dir = std::env::temp_dir().join(format!("physgrad-report-{}", std::process::id()));
    let out = Output::new(dir.join("nested")).unwrap();
    let p = out.write("t.csv", "a\n1\n").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "a\n1\n");
    out.write("t.csv", "a\n2\n").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "a\n2\n");
    let leftovers: Vec<_> = std::fs::read_dir(out.dir()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary files remain");
    std::fs::remove_dir_all(&dir).unwrap();
}
