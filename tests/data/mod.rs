//! The IDX loader: a tiny MNIST-style file written byte by byte, round trips of every element
//! type, every malformed-input error, and the shipped digits set.

use physgrad::data::{encode_idx, parse_idx, read_idx, write_idx, IdxType};
use physgrad::{Error, Tensor};

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("physgrad-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn invalid<T: std::fmt::Debug>(r: physgrad::Result<T>, needle: &str) {
    match r {
        Err(Error::InvalidInput { detail, .. }) => {
            assert!(detail.contains(needle), "{detail:?} lacks {needle:?}")
        }
        other => panic!("expected InvalidInput ({needle}), got {other:?}"),
    }
}

#[test]
fn reads_a_tiny_mnist_style_file_written_by_hand() {
    // Two 2 × 3 "images" of u8, then two labels: the layout of train-images-idx3-ubyte.
    let mut bytes = vec![0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3];
    bytes.extend([0, 1, 2, 3, 4, 255, 10, 20, 30, 40, 50, 60]);
    let path = tmp("images-idx3-ubyte");
    std::fs::write(&path, &bytes).unwrap();
    let t = read_idx(&path).unwrap();
    assert_eq!(t.shape(), &[2, 2, 3]);
    assert_eq!(t.at(&[0, 1, 2]), 255.0);
    assert_eq!(t.at(&[1, 0, 1]), 20.0);
    let labels = [0, 0, 0x08, 1, 0, 0, 0, 2, 7, 3];
    let lp = tmp("labels-idx1-ubyte");
    std::fs::write(&lp, labels).unwrap();
    assert_eq!(read_idx(&lp).unwrap().into_vec(), vec![7.0, 3.0]);
}

#[test]
fn every_element_type_round_trips_and_is_big_endian() {
    let ints = Tensor::from_vec(vec![-3.0, 0.0, 7.0, 100.0, -100.0, 1.0], &[2, 3]);
    let bytes = Tensor::from_vec(vec![0.0, 1.0, 128.0, 255.0], &[4]);
    let reals = Tensor::from_vec(vec![0.5, -1.25, 3.0e10, 1.0 / 3.0], &[2, 2]);
    for (t, ty) in [
        (&bytes, IdxType::U8),
        (&ints, IdxType::I8),
        (&ints, IdxType::I16),
        (&ints, IdxType::I32),
        (&reals, IdxType::F64),
    ] {
        let path = tmp(&format!("rt-{ty:?}"));
        write_idx(&path, t, ty).unwrap();
        let back = read_idx(&path).unwrap();
        assert_eq!(back.shape(), t.shape(), "{ty:?}");
        assert_eq!(back.data(), t.data(), "{ty:?}");
    }
    let f = parse_idx(&encode_idx(&reals, IdxType::F32).unwrap()).unwrap();
    for (a, b) in f.data().iter().zip(reals.data()) {
        assert_eq!(*a, f64::from(*b as f32));
    }
    // 258 as i16 is 0x01 0x02, big-endian after the 8-byte header.
    let e = encode_idx(&Tensor::from_vec(vec![258.0], &[1]), IdxType::I16).unwrap();
    assert_eq!(e, vec![0, 0, 0x0B, 1, 0, 0, 0, 1, 1, 2]);
}

#[test]
fn malformed_input_is_an_error_naming_the_problem() {
    invalid(parse_idx(&[0x1f, 0x8b, 8, 0]), "gunzip");
    invalid(parse_idx(&[1, 0, 8, 1, 0, 0, 0, 0]), "first two bytes");
    invalid(parse_idx(&[0, 0, 0x07, 1, 0, 0, 0, 0]), "type code 0x07");
    invalid(parse_idx(&[0, 0, 8, 2, 0, 0, 0]), "header truncated");
    invalid(parse_idx(&[0, 0, 8, 1, 0, 0, 0, 3, 1, 2]), "needs 11 bytes");
    invalid(parse_idx(&[0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), "needs 9 bytes");
    let huge = [
        0, 0, 0x0E, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    ];
    invalid(parse_idx(&huge), "overflow");
    match read_idx(tmp("does-not-exist")) {
        Err(Error::Io { path, .. }) => assert!(path.contains("does-not-exist")),
        other => panic!("expected Io, got {other:?}"),
    }
    let bad = |v: f64, ty| encode_idx(&Tensor::from_vec(vec![v], &[1]), ty);
    invalid(bad(256.0, IdxType::U8), "not representable");
    invalid(bad(0.5, IdxType::I32), "not representable");
    invalid(bad(f64::NAN, IdxType::F64), "not representable");
}

#[test]
fn shipped_digits_load_with_their_documented_shape_and_range() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits");
    let images = read_idx(dir.join("optdigits-images-idx3-ubyte")).unwrap();
    let labels = read_idx(dir.join("optdigits-labels-idx1-ubyte")).unwrap();
    assert_eq!(images.shape(), &[1797, 8, 8]);
    assert_eq!(labels.shape(), &[1797]);
    assert!(images.data().iter().all(|&v| (0.0..=16.0).contains(&v)));
    assert_eq!(images.data().iter().copied().fold(0.0, f64::max), 16.0);
    for d in 0..10 {
        let n = labels.data().iter().filter(|&&l| l == d as f64).count();
        assert!((170..=190).contains(&n), "digit {d}: {n}");
    }
    // The first image is a 0: its centre column is empty, its left and right strokes are not.
    assert_eq!(labels.data()[0], 0.0);
    assert_eq!(images.at(&[0, 3, 4]), 0.0);
    assert!(images.at(&[0, 3, 1]) > 0.0 && images.at(&[0, 3, 6]) > 0.0);
}
