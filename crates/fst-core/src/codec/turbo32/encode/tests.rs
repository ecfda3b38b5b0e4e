//! The 133 encoder against librmn 19.5: every 133 record of the XDF fixtures is decoded and
//! encoded again, and the whole payload must be librmn's, word for word.

use super::*;
use crate::codec::turbo16::encode::tests::{
    fallback_records, fixture_records, token_at, xorshift, Fixture,
};
use crate::codec::turbo32;

#[test]
fn payloads_are_librmns() {
    let records = fixture_records(&[133]);
    assert!(
        records.len() >= 3,
        "only {} datyp 133 records",
        records.len()
    );
    let mut mismatches = Vec::new();
    for Fixture {
        name,
        nbits,
        ni,
        nj,
        words,
        ..
    } in &records
    {
        let l = words[0] as usize;
        let mut bits = vec![0u32; ni * nj];
        turbo32::decode(&words[1..l], *ni, *nj, &mut bits, 1).unwrap();
        let values: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
        let ours = encode_payload(&values, *ni, *nj, *nbits)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: not compressed"));
        if ours[..] != words[..l] {
            let first = (0..l).find(|&p| ours.get(p) != words.get(p));
            mismatches.push(format!(
                "{name} nbits {nbits} {ni}x{nj}: L {} vs {l}, first difference at {first:?}: ours {:x?} librmn {:x?}",
                ours.len(),
                first.and_then(|p| ours.get(p..p + 4)),
                first.and_then(|p| words.get(p..p + 4)),
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A field of `kind`: smooth positive, smooth of both signs (long runs), noisy of both signs,
/// constant, arbitrary bit patterns (NaNs, infinities, subnormals included).
fn field(ni: usize, nj: usize, kind: u8, seed: u64) -> Vec<f32> {
    let mut next = xorshift(seed);
    (0..ni * nj)
        .map(|k| {
            let (i, j) = ((k % ni) as f32, (k / ni) as f32);
            match kind {
                0 => 250.0 + 30.0 * (i / 9.0).sin() * (j / 7.0).cos(),
                1 => 40.0 * (i / 30.0).sin() + j * 0.01,
                2 => (next() % 20001) as f32 / 100.0 - 100.0,
                3 => -3.5,
                _ => f32::from_bits(next() as u32),
            }
        })
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Signs and exponents come back exactly, mantissas to their top nbits − 9 bits (every bit
    /// with nbits 32), through the public decoder; librmn's fallbacks only where expected.
    #[test]
    fn round_trip(
        ni in 1usize..60,
        nj in 1usize..60,
        nbits in 10u32..=32,
        kind in 0u8..5,
        seed in proptest::num::u64::ANY,
    ) {
        let values = field(ni, nj, kind, seed);
        let Some(payload) = encode_payload(&values, ni, nj, nbits).unwrap() else {
            proptest::prop_assert!(ni < 16 || nj < 16 || kind >= 2);
            return Ok(());
        };
        proptest::prop_assert!(ni >= 16 && nj >= 16);
        proptest::prop_assert_eq!(payload[0] as usize, payload.len());
        let p = crate::codec::CodecParams {
            datyp: crate::record::Datyp(133),
            nbits: nbits as u8,
            ni: ni as u32,
            nj: nj as u32,
            nk: 1,
        };
        let crate::codec::Samples::F32(back) = crate::codec::decode(&payload, &p).unwrap() else {
            panic!("133 decodes to f32");
        };
        let drop = (1u32 << (32 - nbits)) - 1;
        for (k, (b, v)) in back.iter().zip(&values).enumerate() {
            proptest::prop_assert_eq!(b.to_bits(), v.to_bits() & !drop, "point {}", k);
        }
    }
}

#[test]
fn long_sign_runs_use_the_repeat_code() {
    // 16 × 64 points: 400 negative, 600 positive, then alternating signs.
    let (ni, nj) = (16, 64);
    let values: Vec<f32> = (0..ni * nj)
        .map(|k| match k {
            0..400 => -1.0 - k as f32,
            400..1000 => 1.0 + k as f32,
            _ if k % 2 == 0 => 2.0,
            _ => -2.0,
        })
        .collect();
    let payload = encode_payload(&values, ni, nj, 32).unwrap().unwrap();
    // Section codes: run-length signs.
    assert_eq!(payload[2] & 0x30, SIGNS_RUN_LENGTH);
    let mut bits = vec![0u32; ni * nj];
    turbo32::decode(&payload[1..], ni, nj, &mut bits, 1).unwrap();
    assert!(bits.iter().zip(&values).all(|(&b, v)| b == v.to_bits()));
    // 62 + 255 for the first run (more than 256 points left after a 62): the repeat code
    // 0xFF appears at bit 8 of the sign stream (after `1, 1, 62`).
    assert_eq!(payload[4] >> 24, 0b1111_1110);
    assert_eq!((payload[4] >> 16) & 0xFF, 0xFF);
}

#[test]
fn bad_arguments_are_errors() {
    let values = vec![1.0f32; 256];
    for nbits in [9, 33, 64] {
        assert!(matches!(
            encode_payload(&values, 16, 16, nbits),
            Err(CodecError::Unsupported { datyp: 133, .. })
        ));
    }
    assert!(matches!(
        encode_payload(&values, 16, 15, 32),
        Err(CodecError::InvalidShape { .. })
    ));
    assert_eq!(encode_payload(&values, 256, 1, 32).unwrap(), None);
    assert_eq!(encode_payload(&values[..240], 16, 15, 32).unwrap(), None);
}

#[test]
fn fallbacks_are_librmns() {
    let mut checked = 0;
    for (stored, f) in fallback_records() {
        if f.datyp != 133 || stored != 5 || !(16..=32).contains(&f.nbits) {
            continue;
        }
        // Datyp 5 keeps the top nbits bits of each float: the planes 133 would code.
        let values: Vec<f32> = (0..f.ni * f.nj)
            .map(|k| f32::from_bits(token_at(&f.words, 0, f.nbits, k) << (32 - f.nbits)))
            .collect();
        checked += 1;
        assert_eq!(
            encode_payload(&values, f.ni, f.nj, f.nbits).unwrap(),
            None,
            "{}: librmn wrote datyp 5, {}x{} nbits {}",
            f.name,
            f.ni,
            f.nj,
            f.nbits
        );
    }
    eprintln!("{checked} fallbacks checked");
}

#[test]
fn random_fields() {
    let (ni, nj) = (40, 30);
    let mut next = xorshift(7);
    // One exponent, random mantissas: residuals of up to 25 bits still fit the 32 bits per
    // point of an uncompressed record, so librmn keeps the turbo stream.
    let mantissas: Vec<f32> = (0..ni * nj)
        .map(|_| f32::from_bits(0x3F80_0000 | (next() as u32 & 0x7F_FFFF)))
        .collect();
    let payload = encode_payload(&mantissas, ni, nj, 32).unwrap().unwrap();
    assert!(payload.len() < ni * nj);
    // Random exponents: the exponent section takes more bytes than there are points.
    let exponents: Vec<f32> = (0..ni * nj)
        .map(|_| f32::from_bits(((next() as u32 % 254) + 1) << 23))
        .collect();
    assert_eq!(encode_payload(&exponents, ni, nj, 32).unwrap(), None);
}
