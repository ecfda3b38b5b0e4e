//! Encoder tests: round trips through `decode`, librmn's substitutions, clear errors.

#![allow(clippy::float_cmp)] // exact values are the point

use fst_core::codec::{
    decode, encode, missing_mask, CodecParams, EncodeError, EncodeRequest, Samples, SamplesRef,
};
use fst_core::record::Datyp;
use fst_core::Limits;

fn req(datyp: u8, nbits: u8, ni: u32, nj: u32) -> EncodeRequest {
    EncodeRequest {
        datyp: Datyp(datyp),
        nbits,
        ni,
        nj,
        nk: 1,
    }
}

fn field(ni: usize, nj: usize) -> Vec<f32> {
    (0..ni * nj)
        .map(|k| {
            let (i, j) = ((k % ni) as f32, (k / ni) as f32);
            250.0 + 30.0 * (i * 0.1).sin() * (j * 0.07).cos()
        })
        .collect()
}

fn round_trip(
    values: SamplesRef<'_>,
    mask: Option<&[bool]>,
    r: &EncodeRequest,
) -> (Samples, CodecParams, Option<Vec<bool>>) {
    let e = encode(values, mask, r, &Limits::DEFAULT).unwrap();
    let p = e.params(r.ni, r.nj, r.nk);
    let s = decode(&e.words, &p).unwrap();
    let m = missing_mask(&s, &p);
    (s, p, m)
}

#[test]
fn ieee32_is_exact() {
    let v = field(17, 5);
    let (s, p, _) = round_trip(SamplesRef::F32(&v), None, &req(5, 32, 17, 5));
    assert_eq!(p.datyp, Datyp(5));
    assert_eq!(s, Samples::F32(v));
}

#[test]
fn packed_within_quantisation() {
    let v = field(31, 7);
    for nbits in [8u8, 12, 16, 24, 30] {
        let (s, p, _) = round_trip(SamplesRef::F32(&v), None, &req(1, nbits, 31, 7));
        assert_eq!((p.datyp, p.nbits), (Datyp(1), nbits));
        let Samples::F32(d) = s else { panic!() };
        let step = 60.0 / f64::from(1u32 << nbits) * 2.0;
        for (a, b) in v.iter().zip(&d) {
            assert!(
                f64::from((a - b).abs()) <= step + 1e-4,
                "{nbits}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn float_packer_within_quantisation() {
    let v = field(31, 7);
    for nbits in [8u8, 12, 16] {
        let (s, p, _) = round_trip(SamplesRef::F32(&v), None, &req(6, nbits, 31, 7));
        assert_eq!((p.datyp, p.nbits), (Datyp(6), nbits));
        let Samples::F32(d) = s else { panic!() };
        let step = 512.0 / f64::from(1u32 << nbits);
        for (a, b) in v.iter().zip(&d) {
            assert!(f64::from((a - b).abs()) <= step, "{nbits}: {a} vs {b}");
        }
    }
}

#[test]
fn integers_exact_and_missing() {
    let v: Vec<i32> = (0..40).map(|k| k * 37 - 700).collect();
    let (s, _, _) = round_trip(SamplesRef::I32(&v), None, &req(4, 12, 8, 5));
    assert_eq!(s, Samples::I32(v.clone()));
    let mask: Vec<bool> = (0..40).map(|k| k % 7 == 3).collect();
    let (_, p, m) = round_trip(SamplesRef::I32(&v), Some(&mask), &req(68, 12, 8, 5));
    assert_eq!(p.datyp, Datyp(68));
    assert_eq!(m.unwrap(), mask);
}

#[test]
fn out_of_range_integers_are_refused() {
    let v = [0u32, 4096];
    let e = encode(
        SamplesRef::U32(&v),
        None,
        &req(2, 12, 2, 1),
        &Limits::DEFAULT,
    )
    .unwrap_err();
    assert!(
        matches!(e, EncodeError::IntegerOutOfRange { index: 1, .. }),
        "{e}"
    );
}
