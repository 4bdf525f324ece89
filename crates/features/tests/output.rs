//! Output formats (checked against the NPY 1.0 layout spec and by parsing
//! CSV/JSON back) and the atomic write: a failure leaves no file behind.

use sori_features::{write_atomic, write_csv, write_json, write_npy, Features, Format};

fn sample() -> Features {
    Features {
        data: vec![1.5, -2.25, 3.0e-7, 1e10, -0.0, 42.0],
        n_frames: 3,
        dim: 2,
    }
}

#[test]
fn npy_layout_follows_the_spec() {
    let mut buf = Vec::new();
    write_npy(&sample(), &mut buf).unwrap();
    assert_eq!(&buf[..8], b"\x93NUMPY\x01\x00");
    let hlen = u16::from_le_bytes([buf[8], buf[9]]) as usize;
    assert_eq!((10 + hlen) % 64, 0, "data starts 64-byte aligned");
    let header = std::str::from_utf8(&buf[10..10 + hlen]).unwrap();
    assert!(header.ends_with('\n'));
    assert!(header.contains("'descr': '<f4'"));
    assert!(header.contains("'fortran_order': False"));
    assert!(header.contains("'shape': (3, 2)"));
    let data: Vec<f32> = buf[10 + hlen..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(data, sample().data);
}

#[test]
fn csv_and_json_round_trip() {
    let f = sample();
    let mut csv = Vec::new();
    write_csv(&f, &mut csv).unwrap();
    let parsed: Vec<f32> = String::from_utf8(csv)
        .unwrap()
        .lines()
        .flat_map(|l| {
            l.split(',')
                .map(|x| x.parse::<f32>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(parsed, f.data);
    let mut json = Vec::new();
    write_json(&f, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["n_frames"], 3);
    assert_eq!(v["dim"], 2);
    let rows = v["data"].as_array().unwrap();
    let flat: Vec<f32> = rows
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
        })
        .collect();
    assert_eq!(flat, f.data);
}

#[test]
fn atomic_write_replaces_whole_file_and_failures_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.npy");
    std::fs::write(&target, vec![7u8; 100_000]).unwrap();
    write_atomic(&sample(), Format::Npy, &target).unwrap();
    let bytes = std::fs::read(&target).unwrap();
    assert_eq!(bytes.len(), 128 + 6 * 4);
    // Writing into a missing directory, or over a directory, fails cleanly.
    let missing = dir.path().join("no/such/dir/out.csv");
    let e = write_atomic(&sample(), Format::Csv, &missing).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let e = write_atomic(&sample(), Format::Json, &sub).unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, vec!["out.npy", "sub"], "no temporary files left");
}
