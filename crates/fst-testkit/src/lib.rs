//! Test support, kept out of fst-core's public API: the code path that fuzzers and robustness
//! tests drive (open bytes as a file, list it and decode every record), shared by the `fuzz/`
//! targets and fst-core's tests so that both exercise exactly the same calls.
#![forbid(unsafe_code)]

pub mod fixtures;

use fst_core::{Container, FstFile, Limits, OpenOptions};

/// Limits small enough that a fuzzer or a robustness test never asks for gigabytes, large
/// enough for every fixture (the largest holds 2000×1000 values).
pub const TEST_LIMITS: Limits = Limits {
    max_records: 1 << 20,
    max_values_per_record: 1 << 22,
    max_decoded_bytes: 64 << 20,
    max_metadata_bytes: 1 << 20,
};

/// What happened to one input.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The file opened.
    pub opened: bool,
    /// Records that decoded.
    pub decoded: usize,
    /// Records that gave an error.
    pub failed: usize,
}

/// Open `bytes` (with recovery on and off) and decode every record. Any panic or hang here
/// is a bug; errors are expected.
#[must_use]
pub fn open_and_decode(bytes: &[u8]) -> Outcome {
    let mut outcome = Outcome::default();
    for recover in [false, true] {
        let options = OpenOptions::new().limits(TEST_LIMITS).recover(recover);
        let Ok(file) = FstFile::from_bytes(bytes.to_vec(), options) else {
            continue;
        };
        outcome.opened = true;
        // Recovery only changes what RSF files list; decoding XDF records twice finds nothing new.
        if recover && file.container() == Container::Xdf {
            continue;
        }
        for rec in file.records() {
            let _ = rec.dateo();
            let _ = rec.extended_metadata_json();
            match file.decode(rec) {
                Ok(_) => outcome.decoded += 1,
                Err(_) => outcome.failed += 1,
            }
        }
    }
    outcome
}

/// Decoded values as their little-endian bytes: the layout of the fixtures' `.bin` blobs, and
/// a comparison by bit pattern (a NaN equals itself, -0.0 differs from 0.0).
///
/// # Panics
/// On a sample type added to fst-core after this function (the enum is non-exhaustive): a
/// test must then say how to compare it.
#[must_use]
#[allow(clippy::panic)]
pub fn le_bytes(s: &fst_core::codec::Samples) -> Vec<u8> {
    use fst_core::codec::Samples;
    match s {
        Samples::F32(v) | Samples::C64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::F64(v) | Samples::C128(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::U32(v) | Samples::Raw32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::U64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::U8(v) => v.clone(),
        other => panic!("no byte layout for sample type {:?}", other.sample_type()),
    }
}
