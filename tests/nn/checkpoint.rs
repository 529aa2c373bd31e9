//! Checkpoints: bitwise round trip, rejection of corrupted/truncated/mismatched files with
//! nothing loaded, and bit-for-bit resumption of training.

use physgrad::nn::{load_training, save_training, Checkpoint, MlpConfig, Module, ParamStore};
use physgrad::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig};
use physgrad::{Error, Tape, Tensor};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("physgrad-nn-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn round_trip_is_bitwise_including_special_values() {
    let mut c = Checkpoint::new();
    let odd = vec![
        0.1,
        -0.0,
        f64::MIN_POSITIVE / 3.0,
        f64::INFINITY,
        f64::from_bits(0x7ff8_dead_beef_0001),
        1e308,
    ];
    c.insert("weird", Tensor::from_vec(odd.clone(), &[2, 3]));
    c.insert("scalar", Tensor::scalar(std::f64::consts::PI));
    c.insert("empty", Tensor::zeros(&[0, 4]));
    let path = temp_dir("roundtrip").join("c.ckpt");
    c.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    assert_eq!(
        back.names().collect::<Vec<_>>(),
        ["weird", "scalar", "empty"]
    );
    let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(back.get("weird").unwrap()),
        odd.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(back.get("weird").unwrap().shape(), &[2, 3]);
    assert_eq!(back.get("scalar").unwrap().shape(), &[] as &[usize]);
    assert_eq!(back.get("empty").unwrap().shape(), &[0, 4]);
    assert_eq!(back.to_bytes(), c.to_bytes());
    // No temporary file is left behind.
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
}

fn sample_store() -> ParamStore {
    let mut s = ParamStore::new(5);
    MlpConfig::new(&[3, 4, 2]).build(&mut s, "net");
    s
}

#[test]
fn every_truncation_and_every_single_byte_corruption_is_rejected() {
    let mut c = Checkpoint::new();
    c.insert_params(&sample_store());
    let bytes = c.to_bytes();
    let path = std::path::Path::new("mem");
    for len in 0..bytes.len() {
        let err = Checkpoint::from_bytes(&bytes[..len], path).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { .. }),
            "truncated to {len}: {err}"
        );
    }
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            assert!(
                Checkpoint::from_bytes(&b, path).is_err(),
                "flip of byte {i} accepted"
            );
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Checkpoint::from_bytes(&longer, path).is_err());
}

#[test]
fn missing_file_is_an_io_error() {
    let err = Checkpoint::load(temp_dir("missing").join("nope.ckpt")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn mismatched_names_or_shapes_load_nothing() {
    let dir = temp_dir("mismatch");
    let store = sample_store();
    let opt = Adam::new(AdamConfig::default());
    let path = dir.join("a.ckpt");
    save_training(&path, &store, &opt, 7).unwrap();

    // Different shapes.
    let mut other = ParamStore::new(9);
    MlpConfig::new(&[3, 5, 2]).build(&mut other, "net");
    let before = other.clone();
    let mut opt2 = Adam::new(AdamConfig {
        lr: 0.5,
        ..AdamConfig::default()
    });
    let err = load_training(&path, &mut other, &mut opt2).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert!(other
        .values()
        .iter()
        .zip(before.values())
        .all(|(a, b)| a.data() == b.data()));
    assert_eq!(opt2.lr(), 0.5);

    // Different names.
    let mut renamed = ParamStore::new(5);
    MlpConfig::new(&[3, 4, 2]).build(&mut renamed, "gen");
    assert!(load_training(&path, &mut renamed, &mut opt2).is_err());

    // An extra parameter in the file.
    let mut fewer = ParamStore::new(5);
    physgrad::nn::Linear::new(&mut fewer, "net.layer0", 3, 4);
    assert!(load_training(&path, &mut fewer, &mut opt2).is_err());

    // Optimiser of another kind: its state is missing.
    let mut rms = RmsProp::new(RmsPropConfig::default());
    let mut same = sample_store();
    let snapshot = same.clone();
    assert!(load_training(&path, &mut same, &mut rms).is_err());
    assert!(same
        .values()
        .iter()
        .zip(snapshot.values())
        .all(|(a, b)| a.data() == b.data()));
}

/// `steps` Adam steps of a small regression from the current state.
fn train(store: &mut ParamStore, opt: &mut dyn Optimizer, steps: usize) {
    let net = MlpConfig::new(&[3, 4, 2]).build(&mut ParamStore::new(0), "net");
    let x = Tensor::randn(&[16, 3], 1);
    let y = Tensor::randn(&[16, 2], 2);
    for _ in 0..steps {
        let tape = Tape::new();
        let p = store.bind(&tape);
        let loss = net
            .forward(&p, tape.constant(x.clone()))
            .mse(tape.constant(y.clone()));
        let g = p.gradients(loss);
        opt.step(store, &g).unwrap();
    }
}

#[test]
fn resuming_from_a_checkpoint_is_bit_for_bit_identical() {
    let path = temp_dir("resume").join("r.ckpt");
    let mut straight = sample_store();
    let mut opt = Adam::new(AdamConfig {
        lr: 1e-2,
        ..AdamConfig::adamw()
    });
    train(&mut straight, &mut opt, 40);

    let mut first = sample_store();
    let mut opt1 = Adam::new(AdamConfig {
        lr: 1e-2,
        ..AdamConfig::adamw()
    });
    train(&mut first, &mut opt1, 25);
    save_training(&path, &first, &opt1, 25).unwrap();
    drop((first, opt1));

    let mut resumed = ParamStore::new(123);
    MlpConfig::new(&[3, 4, 2]).build(&mut resumed, "net");
    let mut opt2 = Adam::new(AdamConfig {
        lr: 0.3,
        ..AdamConfig::adamw()
    });
    assert_eq!(load_training(&path, &mut resumed, &mut opt2).unwrap(), 25);
    assert_eq!(opt2.lr(), 1e-2);
    train(&mut resumed, &mut opt2, 15);
    for (a, b) in straight.values().iter().zip(resumed.values()) {
        let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b));
    }
}

#[test]
fn every_optimiser_state_round_trips_exactly() {
    use physgrad::optim::{Sgd, SgdConfig};
    let makers: Vec<fn() -> Box<dyn Optimizer>> = vec![
        || {
            Box::new(Sgd::new(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                nesterov: true,
                ..SgdConfig::default()
            }))
        },
        || Box::new(Adam::new(AdamConfig::default())),
        || {
            Box::new(RmsProp::new(RmsPropConfig {
                centered: true,
                momentum: 0.5,
                ..RmsPropConfig::default()
            }))
        },
    ];
    for make in makers {
        let mut store = sample_store();
        let mut opt = make();
        train(&mut store, opt.as_mut(), 3);
        let mut ckpt = Checkpoint::new();
        ckpt.insert_params(&store);
        opt.save_state(&store, &mut ckpt);
        let bytes = ckpt.to_bytes();
        let back = Checkpoint::from_bytes(&bytes, std::path::Path::new("mem")).unwrap();
        let mut store2 = sample_store();
        back.load_params(&mut store2).unwrap();
        let mut opt2 = make();
        opt2.load_state(&store2, &back).unwrap();
        train(&mut store, opt.as_mut(), 4);
        train(&mut store2, opt2.as_mut(), 4);
        for (a, b) in store.values().iter().zip(store2.values()) {
            assert!(a
                .data()
                .iter()
                .zip(b.data())
                .all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }
}

#[test]
fn lbfgs_memory_round_trips_and_resumes_identically() {
    use physgrad::optim::{Lbfgs, LbfgsConfig};
    let f = |v: &[f64]| -> physgrad::Result<(f64, Vec<f64>)> {
        let (x, y) = (v[0], v[1]);
        let r = y - x * x;
        Ok((
            (1.0 - x).powi(2) + 100.0 * r * r,
            vec![-2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r],
        ))
    };
    let short = LbfgsConfig {
        max_iter: 6,
        ..LbfgsConfig::default()
    };
    let mut a = Lbfgs::new(short.clone());
    let mut xa = [-1.2, 1.0];
    assert!(a.minimize(&mut xa, f).is_err());
    let mut ckpt = Checkpoint::new();
    a.save_state(&mut ckpt);
    let mut b = Lbfgs::new(short);
    b.load_state(&ckpt).unwrap();
    let mut xb = xa;
    let ra = a.minimize(&mut xa, f);
    let rb = b.minimize(&mut xb, f);
    assert_eq!(xa.map(f64::to_bits), xb.map(f64::to_bits));
    assert_eq!(format!("{ra:?}"), format!("{rb:?}"));
    let mut bad = Checkpoint::new();
    bad.insert("optim:lbfgs:pairs", Tensor::scalar(2.0));
    assert!(Lbfgs::new(LbfgsConfig::default()).load_state(&bad).is_err());
}

#[test]
fn malformed_optimiser_entries_are_errors_not_panics() {
    let store = sample_store();
    let mut ckpt = Checkpoint::new();
    let mut opt = Adam::new(AdamConfig::default());
    let name = store.name(store.ids().next().unwrap()).to_string();
    ckpt.insert("optim:adam:lr", Tensor::scalar(1e-3));
    ckpt.insert(&format!("optim:adam:{name}:step"), Tensor::zeros(&[2]));
    assert!(matches!(
        opt.load_state(&store, &ckpt),
        Err(Error::InvalidInput { .. })
    ));
    let mut ckpt = Checkpoint::new();
    ckpt.insert("optim:adam:lr", Tensor::zeros(&[3]));
    assert!(opt.load_state(&store, &ckpt).is_err());
    let mut ckpt = Checkpoint::new();
    ckpt.insert("optim:adam:lr", Tensor::scalar(1e-3));
    ckpt.insert("optim:adam:nobody:step", Tensor::scalar(1.0));
    assert!(
        opt.load_state(&store, &ckpt).is_err(),
        "state for an unknown parameter"
    );
}

#[test]
fn training_checkpoints_carry_extra_entries() {
    use physgrad::nn::{restore_training, training_checkpoint};
    let store = sample_store();
    let opt = Adam::new(AdamConfig::default());
    let mut ckpt = training_checkpoint(&store, &opt, 11);
    ckpt.insert("data:seed", Tensor::scalar(1234.0));
    let path = temp_dir("extra").join("e.ckpt");
    ckpt.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    let mut store2 = ParamStore::new(77);
    MlpConfig::new(&[3, 4, 2]).build(&mut store2, "net");
    let mut opt2 = Adam::new(AdamConfig::default());
    assert_eq!(restore_training(&back, &mut store2, &mut opt2).unwrap(), 11);
    assert_eq!(back.get("data:seed").unwrap().item(), 1234.0);
    assert_eq!(store2.values()[0].data(), store.values()[0].data());
}
