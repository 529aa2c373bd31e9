//! Experiment 3's command line: which laws, generators and seeds to run.

use super::{Config, Kind, Law};

/// What to run: laws, generators, seeds.
pub struct Sweep {
    /// Laws.
    pub laws: Vec<Law>,
    /// Generators.
    pub kinds: Vec<Kind>,
    /// Number of seeds.
    pub seeds: usize,
    /// Output folder (default `out/physgnn_elasticity`).
    pub out: String,
}

/// Laws from letters, e.g. `"ab"`.
///
/// # Panics
/// On a letter other than a, b, c.
pub fn parse_laws(v: &str) -> Vec<Law> {
    v.chars()
        .map(|c| match c {
            'a' => Law::A,
            'b' => Law::B,
            'c' => Law::C,
            _ => panic!("--laws: letters a, b, c only, got {v}"),
        })
        .collect()
}

/// The configuration and sweep from the command line (and `PHYSGNN_QUICK`).
///
/// # Panics
/// On an unknown argument or a malformed value.
pub fn parse_args() -> (Config, Sweep) {
    let mut cfg = Config::default();
    let mut sweep = Sweep {
        laws: Law::ALL.to_vec(),
        kinds: vec![Kind::PhysGnn(20), Kind::PhysGnn(160), Kind::Gaussian],
        seeds: 2,
        out: "out/physgnn_elasticity".into(),
    };
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>, what: &str| -> usize {
        let v = v.unwrap_or_else(|| panic!("{what} needs a value"));
        v.parse()
            .unwrap_or_else(|_| panic!("{what}: not a number: {v}"))
    };
    let quick = std::env::var("PHYSGNN_QUICK").is_ok_and(|v| v != "0");
    let mut quick = quick;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--iterations" => cfg.iterations = num(args.next(), "--iterations"),
            "--seeds" => sweep.seeds = num(args.next(), "--seeds"),
            "--whiten" => cfg.whiten = num(args.next(), "--whiten"),
            "--out" => sweep.out = args.next().expect("--out needs a folder"),
            "--laws" => sweep.laws = parse_laws(&args.next().expect("--laws needs a value")),
            "--latents" => {
                let v = args.next().expect("--latents needs a value");
                sweep.kinds = v
                    .split(',')
                    .map(|d| Kind::PhysGnn(d.parse().expect("--latents: comma-separated numbers")))
                    .chain([Kind::Gaussian])
                    .collect();
            }
            other => panic!(
                "unknown argument {other} (use --quick, --iterations N, --seeds K, --laws abc, \
                 --latents 20,40, --whiten K)"
            ),
        }
    }
    if quick {
        sweep.laws = vec![Law::A];
        sweep.kinds = vec![Kind::PhysGnn(20), Kind::Gaussian];
        sweep.seeds = 1;
        cfg.iterations = 300;
        cfg.val_every = 100;
        cfg.val_batches = 20;
    }
    (cfg, sweep)
}
