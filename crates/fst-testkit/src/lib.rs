//! Test support, kept out of fst-core's public API: the code path that fuzzers and robustness
//! tests drive (open bytes as a file, list it and decode every record), shared by the `fuzz/`
//! targets and fst-core's tests so that both exercise exactly the same calls.
#![forbid(unsafe_code)]

pub mod fixtures;
pub mod numbers;
mod vertical;

pub use vertical::write_model_levels_file;

use fst_core::catalog::Catalog;
use fst_core::codec::{
    decode, decode_into_parallel, encode, missing_mask, CodecParams, EncodeRequest, Samples,
    SamplesRef,
};
use fst_core::record::Datyp;
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

/// Open `bytes` as an RSF file and walk everything the container exposes: the segment chain
/// (strict and with recovery), the diagnostics, every record's layout, payload words and
/// values, and the catalog built on the listing. Input that does not carry the RSF magic at
/// byte 16 gets it written there (offsets unchanged), so that every input reaches the RSF
/// walk rather than stopping at detection. Any panic or hang here is a bug.
#[must_use]
pub fn rsf_walk(bytes: &[u8]) -> Outcome {
    const MAGIC: std::ops::Range<usize> = 16..24;
    let mut bytes = bytes.to_vec();
    if fst_core::detect_container(&bytes) != Some(Container::Rsf) {
        if bytes.len() < MAGIC.end {
            bytes.resize(MAGIC.end, 0);
        }
        if let Some(head) = bytes.get_mut(MAGIC) {
            head.copy_from_slice(b"RSF0STDF");
        }
    }
    let mut outcome = Outcome::default();
    for recover in [false, true] {
        let options = OpenOptions::new().limits(TEST_LIMITS).recover(recover);
        let Ok(file) = FstFile::from_bytes(bytes.clone(), options) else {
            continue;
        };
        outcome.opened = true;
        let _ = file.entry_count();
        let _ = file.diagnostics().len();
        let catalog = Catalog::build(file.records());
        let _ = catalog.fields().len();
        for rec in file.records() {
            let _ = rec.extended_metadata_json();
            let _ = file.sample_layout(rec);
            let _ = file.read_payload_words(rec);
            match file.decode(rec) {
                Ok(_) => outcome.decoded += 1,
                Err(_) => outcome.failed += 1,
            }
        }
    }
    outcome
}

/// Largest record [`codec_case`] decodes (as [`TEST_LIMITS`] allows per record).
const CODEC_MAX_POINTS: u64 = 1 << 22;

/// One codec case from arbitrary bytes: what the `codecs` fuzz target runs, and what the
/// replay of its corpus runs in CI.
///
/// The first byte picks the mode. Even: **decode** arbitrary payload words (bytes 7.., little
/// endian) with datyp byte 1, nbits byte 2, ni bytes 3..5 (u16), nj byte 5, nk byte 6; the
/// result must be an error or values, and when bit 1 of the mode is set the multi-threaded
/// decoder must give the same bits as the serial one. Odd: **round trip** finite values
/// through [`encode`] and [`decode`] and check them against the codec's error bound (see
/// [`check_round_trip`]).
///
/// # Panics
/// When a codec breaks its contract: a panic inside it, a parallel decode that differs from
/// the serial one, an encoded record that does not decode, or a value outside its bound.
pub fn codec_case(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        decode_case(mode, rest);
    } else {
        round_trip_case(rest);
    }
}

#[allow(clippy::panic)] // a contract broken is what the fuzzer must report
fn decode_case(mode: u8, rest: &[u8]) {
    let Some(&[datyp, nbits, ni0, ni1, nj, nk]) = rest.get(..6) else {
        return;
    };
    let p = CodecParams {
        datyp: Datyp(datyp),
        nbits,
        ni: u32::from(u16::from_le_bytes([ni0, ni1])),
        nj: u32::from(nj),
        nk: u32::from(nk),
    };
    if u64::from(p.ni) * u64::from(p.nj) * u64::from(p.nk) > CODEC_MAX_POINTS {
        return;
    }
    let words: Vec<u32> = rest
        .get(6..)
        .unwrap_or_default()
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let Ok(serial) = decode(&words, &p) else {
        return;
    };
    let _ = missing_mask(&serial, &p);
    if mode & 2 == 2 {
        let threads = usize::from(mode >> 2 & 3) + 2;
        let mut parallel = serial.clone();
        if let Err(e) = decode_into_parallel(&words, &p, parallel.as_mut(), threads) {
            panic!("{p:?}: serial decode succeeded, {threads} threads failed: {e}");
        }
        assert!(
            le_bytes(&serial) == le_bytes(&parallel),
            "{p:?}: {threads} threads decode other values than one"
        );
    }
}

fn round_trip_case(rest: &[u8]) {
    // Float requests: datyp 1, 5, 6 and their turbo forms, +64 on or off.
    const FLOAT: [u8; 6] = [1, 5, 6, 129, 133, 134];
    // Integer requests: datyp 2, 4 and their turbo forms.
    const INT: [u8; 4] = [2, 4, 130, 132];
    let Some(&[family, nbits, ni, nj, scale]) = rest.get(..5) else {
        return;
    };
    let words: Vec<u32> = rest
        .get(5..)
        .unwrap_or_default()
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if words.is_empty() {
        return;
    }
    let (ni, nj) = (u32::from(ni % 64) + 1, u32::from(nj % 64) + 1);
    let n = (ni * nj) as usize;
    let cycled = || words.iter().cycle().take(n).copied();
    let pick = usize::from(family >> 1);
    if family & 1 == 0 {
        let datyp = FLOAT[pick % FLOAT.len()] | if family & 0x80 == 0 { 0 } else { 64 };
        // Integers times a power of two in 2^-30..2^30: finite, never subnormal (datyp 1's
        // header cannot hold a subnormal minimum), every magnitude ratio up to 2^91.
        let unit = 2f32.powi(i32::from(scale % 61) - 30);
        let values: Vec<f32> = cycled().map(|w| w as i32 as f32 * unit).collect();
        let req = request(datyp, nbits % 64 + 1, ni, nj);
        check_round_trip(SamplesRef::F32(&values), &req);
    } else {
        let datyp = INT[pick % INT.len()];
        let nbits = nbits % 32 + 1;
        let shift = 32 - u32::from(nbits);
        if datyp & 0x3F == 2 {
            let values: Vec<u32> = cycled().map(|w| w >> shift).collect();
            check_round_trip(SamplesRef::U32(&values), &request(datyp, nbits, ni, nj));
        } else {
            let values: Vec<i32> = cycled().map(|w| (w as i32) >> shift).collect();
            check_round_trip(SamplesRef::I32(&values), &request(datyp, nbits, ni, nj));
        }
    }
}

fn request(datyp: u8, nbits: u8, ni: u32, nj: u32) -> EncodeRequest {
    EncodeRequest {
        datyp: Datyp(datyp),
        nbits,
        ni,
        nj,
        nk: 1,
    }
}

/// Encode `values` as `req` asks; when the encoder accepts them, the record it gives must
/// decode, and the values must come back within the bound of the encoding it chose:
///
/// * exactly for integers (datyp 2, 4, 130) and IEEE 32/64 (5, 133);
/// * with the low `32 − nbits` bits cleared for truncated IEEE (5 and 133 below 32 bits);
/// * within one quantisation step (`2·(max − min)/2^nbits`) plus the binary32 rounding of the
///   largest magnitude for datyp 1 (and 129);
/// * within `2·(max − min)/2^nbits` plus 4 units of the 24-bit mantissa aligned on the
///   largest exponent for datyp 6 (and 134).
///
/// These are the bounds the encoder's property tests hold (`fst-core/tests/codec_encode.rs`).
///
/// # Panics
/// When a bound is broken, or an accepted record does not decode.
#[allow(clippy::panic)] // a contract broken is what the fuzzer must report
pub fn check_round_trip(values: SamplesRef<'_>, req: &EncodeRequest) {
    let Ok(e) = encode(values, None, req, &Limits::DEFAULT) else {
        return;
    };
    let p = e.params(req.ni, req.nj, req.nk);
    let decoded = match decode(&e.words, &p) {
        Ok(d) => d,
        Err(err) => panic!(
            "request {}/{} stored as {}/{} does not decode: {err}",
            req.datyp.0, req.nbits, p.datyp.0, p.nbits
        ),
    };
    let what = format!(
        "request {}/{} stored as {}/{}",
        req.datyp.0, req.nbits, p.datyp.0, p.nbits
    );
    match (values, &decoded) {
        (SamplesRef::U32(v), Samples::U32(d)) => assert!(v == &d[..], "{what}: integers differ"),
        (SamplesRef::I32(v), Samples::I32(d)) => assert!(v == &d[..], "{what}: integers differ"),
        (SamplesRef::F32(v), Samples::F32(d)) => check_floats(v, d, &p, &what),
        (SamplesRef::F32(v), Samples::F64(d)) => {
            for (x, y) in v.iter().zip(d) {
                assert!(
                    f64::from(*x).to_bits() == y.to_bits(),
                    "{what}: {x} came back as {y}"
                );
            }
        }
        (_, d) => panic!("{what}: decoded as {:?}", d.sample_type()),
    }
}

#[allow(clippy::panic)] // a contract broken is what the fuzzer must report
fn check_floats(v: &[f32], d: &[f32], p: &CodecParams, what: &str) {
    assert!(
        v.len() == d.len(),
        "{what}: {} values for {}",
        d.len(),
        v.len()
    );
    // Only finite values are given and no mask, so the encoder must have dropped +64.
    assert!(
        !p.datyp.has_missing(),
        "{what}: +64 kept although nothing is missing"
    );
    let nbits = u32::from(p.nbits);
    let (lo, hi) = v
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let span = f64::from(hi) - f64::from(lo);
    let amax = lo.abs().max(hi.abs());
    let bound = match p.datyp.base() {
        5 => {
            let keep = if nbits >= 32 {
                u32::MAX
            } else {
                !(u32::MAX >> nbits)
            };
            for (x, y) in v.iter().zip(d) {
                assert!(
                    y.to_bits() == x.to_bits() & keep,
                    "{what}: {x} came back as {y}"
                );
            }
            return;
        }
        1 => span * 2.0 / 2f64.powi(nbits as i32) + f64::from(amax) * 1.2e-7,
        6 => {
            let unit = if amax == 0.0 {
                0.0
            } else {
                2f64.powi(((amax.to_bits() >> 23) & 0xFF) as i32 - 150)
            };
            2.0 * span / 2f64.powi(nbits as i32) + 4.0 * unit
        }
        other => panic!("{what}: float values stored as base type {other}"),
    };
    for (x, y) in v.iter().zip(d) {
        let err = (f64::from(*x) - f64::from(*y)).abs();
        assert!(
            err <= bound,
            "{what}: {x} came back as {y}, error {err} > {bound}"
        );
    }
}

/// Decoded values as their little-endian bytes: the layout of the fixtures' `.bin` blobs, and
/// a comparison by bit pattern (a NaN equals itself, -0.0 differs from 0.0).
///
/// # Panics
/// On a sample type added to fst-core after this function (the enum is non-exhaustive): a
/// test must then say how to compare it.
#[must_use]
#[allow(clippy::panic)]
pub fn le_bytes(s: &Samples) -> Vec<u8> {
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
