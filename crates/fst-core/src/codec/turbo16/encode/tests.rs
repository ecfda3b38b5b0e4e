//! The encoder against librmn 19.5: every 129, 130 and 134 record of the XDF fixtures is
//! decompressed to its tokens and encoded again, and the payload must be librmn's, word for
//! word, except the low byte of the first word after the stream (uninitialised in librmn).

use super::*;
use crate::codec::turbo16;
use crate::FstFile;

/// A turbo record of a file written by librmn.
pub(crate) struct Fixture {
    /// File name and record index, for messages.
    pub(crate) name: String,
    /// Datyp without the missing-value flag.
    pub(crate) datyp: u8,
    pub(crate) nbits: u32,
    pub(crate) ni: usize,
    pub(crate) nj: usize,
    /// The payload words as stored.
    pub(crate) words: Vec<u32>,
}

/// Every record of datyp (without +64) in `datyps` and nk = 1 of the XDF fixtures. (librmn's
/// records drawn at random are checked from their input arrays, through `codec::encode`, by
/// `tests/codec_encode_fixtures.rs` with `scripts/oracle-random.sh`.)
pub(crate) fn fixture_records(datyps: &[u8]) -> Vec<Fixture> {
    let dirs = [std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf")];
    let mut paths: Vec<_> = dirs
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fst"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let file = FstFile::open(&path).unwrap();
        for (k, rec) in file.records().iter().enumerate() {
            let datyp = rec.datyp.0 & !64;
            if datyps.contains(&datyp) && rec.nk == 1 {
                out.push(Fixture {
                    name: format!("{}#{k}", path.display()),
                    datyp,
                    nbits: u32::from(rec.nbits),
                    ni: rec.ni as usize,
                    nj: rec.nj as usize,
                    words: file.read_payload_words(rec).unwrap(),
                });
            }
        }
    }
    out
}

/// The records for which librmn was asked for a turbo datyp (`requested` in the manifests of
/// the directories [`fixture_records`] reads) and wrote the base datyp instead, as
/// (datyp stored, record with the requested datyp).
pub(crate) fn fallback_records() -> Vec<(u8, Fixture)> {
    let dirs = [std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf")];
    let mut out = Vec::new();
    for path in dirs
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fst"))
    {
        let Ok(text) = std::fs::read(path.with_extension("json")) else {
            continue;
        };
        let manifest: serde_json::Value = serde_json::from_slice(&text).unwrap();
        let fst = std::fs::read(&path).unwrap();
        let u = |v: &serde_json::Value, key: &str| v[key].as_u64().unwrap_or(0);
        for rec in manifest["records"].as_array().into_iter().flatten() {
            let requested = u(&rec["requested"], "datyp") as u8;
            let stored = u(rec, "datyp") as u8;
            if requested & 128 == 0 || stored & 128 != 0 || u(rec, "nk") != 1 {
                continue;
            }
            // The payload follows the record's 72-byte key copy and 8 bytes of aux keys.
            let start = (u(rec, "swa") as usize - 1) * 8;
            let end = start + u(rec, "lng") as usize * 4;
            let words = fst[start + 80..end]
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
                .collect();
            out.push((
                stored & !64,
                Fixture {
                    name: format!("{}#{}", path.display(), u(rec, "index")),
                    datyp: requested & !64,
                    nbits: u(rec, "nbits") as u32,
                    ni: u(rec, "ni") as usize,
                    nj: u(rec, "nj") as usize,
                    words,
                },
            ));
        }
    }
    out
}

/// Token `k` of `width` bits (≤ 32) of a stream starting at bit `first_bit` of `words`.
pub(crate) fn token_at(words: &[u32], first_bit: usize, width: u32, k: usize) -> u32 {
    let bit = first_bit + k * width as usize;
    let pair = (u64::from(words[bit / 32]) << 32)
        | u64::from(words.get(bit / 32 + 1).copied().unwrap_or(0));
    ((pair << (bit % 32)) >> (64 - width)) as u32
}

/// The tokens of a stored datyp 6, 2 or 1 payload.
fn stored_tokens(stored: u8, f: &Fixture) -> Option<Vec<u16>> {
    let n = f.ni * f.nj;
    let slot = |first_bit: usize, width: usize, k: usize| {
        token_at(&f.words, first_bit, width as u32, k) as u16
    };
    match (stored, f.nbits) {
        (6, _) => Some((0..n).map(|k| slot(96, 16, k)).collect()),
        (2, b) => Some((0..n).map(|k| slot(0, b as usize, k)).collect()),
        (1, b) => Some((0..n).map(|k| slot(120, b as usize, k)).collect()),
        _ => None,
    }
}

#[test]
fn fallbacks_are_librmns() {
    let mut checked = 0;
    for (stored, f) in fallback_records() {
        if !matches!(f.datyp, 129 | 130 | 134) || f.nbits > 16 {
            continue;
        }
        let Some(tokens) = stored_tokens(stored, &f) else {
            continue;
        };
        checked += 1;
        assert_eq!(
            compress(&tokens, f.ni, f.nj, f.nbits).unwrap(),
            None,
            "{}: librmn wrote datyp {stored}, {}x{} nbits {}",
            f.name,
            f.ni,
            f.nj,
            f.nbits
        );
    }
    eprintln!("{checked} fallbacks checked");
}

#[test]
fn payloads_are_librmns() {
    let records = fixture_records(&[129, 130, 134]);
    assert!(records.len() >= 15, "only {} turbo records", records.len());
    let mut mismatches = Vec::new();
    for Fixture {
        name,
        datyp,
        nbits,
        ni,
        nj,
        words,
    } in &records
    {
        let l = words[0] as usize;
        let at = match datyp {
            129 => 5,
            134 => 4,
            _ => 1,
        };
        let mut decoded = vec![0u32; ni * nj];
        turbo16::decompress(&words[at..l], *ni, *nj, &mut decoded, 1).unwrap();
        let tokens: Vec<u16> = decoded.iter().map(|&t| t as u16).collect();
        let framing = match datyp {
            129 => Framing::Packed(words[1..5].try_into().unwrap()),
            134 => Framing::FloatPacker(words[1..4].try_into().unwrap()),
            _ => Framing::Unsigned,
        };
        let ours = encode_payload(framing, &tokens, *ni, *nj, *nbits)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: not compressed"));
        let stream_end = at + compress(&tokens, *ni, *nj, *nbits).unwrap().unwrap().len();
        let theirs = &words[..l];
        let differs: Vec<usize> = (0..l.max(ours.len()))
            .filter(|&p| {
                let mask = if p == stream_end { !0xFF } else { !0 };
                ours.get(p).map(|w| w & mask) != theirs.get(p).map(|w| w & mask)
            })
            .collect();
        if !differs.is_empty() {
            mismatches.push(format!(
                "{name} datyp {datyp} nbits {nbits} {ni}x{nj}: L {} vs {}, stream ends at {stream_end}, words differ at {:?} (first: ours {:#010x?} librmn {:#010x?})",
                ours.len(),
                l,
                &differs[..differs.len().min(8)],
                ours.get(differs[0]),
                theirs.get(differs[0]),
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A xorshift64 generator (nonzero seed forced).
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

/// Tokens of a field: smooth (a ramp plus a slow wave), noisy, or constant, within nbits.
fn field(ni: usize, nj: usize, nbits: u32, kind: u8, seed: u64) -> Vec<u16> {
    let top = (1u32 << nbits) - 1;
    let mut next = xorshift(seed);
    (0..ni * nj)
        .map(|k| {
            let (i, j) = ((k % ni) as f64, (k / ni) as f64);
            let v = match kind {
                0 => f64::from(top) * (0.5 + 0.3 * (i / 7.0).sin() * (j / 5.0).cos()),
                1 => (next() % (u64::from(top) + 1)) as f64,
                2 => f64::from(top / 3),
                // Smooth with noise of a few units: the residuals of real fields.
                _ => f64::from(top) * 0.5 + i * 3.0 - j * 2.0 + (next() % 5) as f64,
            };
            (v.clamp(0.0, f64::from(top))) as u16
        })
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    /// Whatever the shape, width and field, the stream decompresses to the tokens (or librmn
    /// would not compress it: a 1-wide grid, or no gain).
    #[test]
    fn round_trip(
        ni in 1usize..70,
        nj in 1usize..70,
        nbits in 1u32..=16,
        kind in 0u8..4,
        seed in proptest::num::u64::ANY,
    ) {
        let tokens = field(ni, nj, nbits, kind, seed);
        match compress(&tokens, ni, nj, nbits).unwrap() {
            Some(stream) => {
                proptest::prop_assert!(ni > 1 && nj > 1);
                proptest::prop_assert!(2 * stream.len() < tokens.len() + 1);
                let mut out = vec![0u32; ni * nj];
                turbo16::decompress(&stream, ni, nj, &mut out, 1).unwrap();
                let back: Vec<u16> = out.iter().map(|&t| t as u16).collect();
                proptest::prop_assert_eq!(back, tokens);
            }
            // Noise does not compress; tiny grids pay the header and the 32-bit trailer, and
            // grids two or three points thin give the 2-D predictor too little (a 32x2 smooth
            // field came out no smaller than its tokens).
            None => proptest::prop_assert!(
                ni == 1 || nj == 1 || kind == 1 || ni * nj < 64 || ni.min(nj) < 4
            ),
        }
    }

    /// The whole payload of a 130 record goes back to the integers through the public decoder.
    #[test]
    fn payload_round_trip(
        ni in 2usize..40,
        nj in 2usize..40,
        nbits in 1u32..=16,
        kind in 0u8..4,
        seed in proptest::num::u64::ANY,
    ) {
        let tokens = field(ni, nj, nbits, kind, seed);
        if let Some(payload) = encode_payload(Framing::Unsigned, &tokens, ni, nj, nbits).unwrap() {
            proptest::prop_assert_eq!(payload.len() % 2, 0);
            proptest::prop_assert_eq!(payload[0] as usize, payload.len());
            let p = crate::codec::CodecParams {
                datyp: crate::record::Datyp(130),
                nbits: nbits as u8,
                ni: ni as u32,
                nj: nj as u32,
                nk: 1,
            };
            let crate::codec::Samples::U32(back) = crate::codec::decode(&payload, &p).unwrap() else {
                panic!("130 decodes to u32");
            };
            let expected: Vec<u32> = tokens.iter().map(|&t| u32::from(t)).collect();
            proptest::prop_assert_eq!(back, expected);
        }
    }
}

#[test]
fn tokens_wider_than_nbits_are_masked() {
    let (ni, nj) = (20, 20);
    let tokens: Vec<u16> = (0..ni * nj).map(|k| (k % 7) as u16 | 0xF0).collect();
    let masked: Vec<u16> = tokens.iter().map(|&t| t & 0xF).collect();
    assert_eq!(
        compress(&tokens, ni, nj, 4).unwrap(),
        compress(&masked, ni, nj, 4).unwrap()
    );
}

#[test]
fn seventeen_bit_residuals_widen_the_field() {
    // A checkerboard of 0 and 65535: residuals of ±131070 need 18 bits, coded with width 17
    // in a 5-bit field.
    let (ni, nj) = (40, 30);
    let tokens: Vec<u16> = (0..ni * nj)
        .map(|k| {
            if (k % ni + k / ni) % 2 == 0 {
                0
            } else {
                0xFFFF
            }
        })
        .collect();
    // Not smaller than the tokens: the codec gives up, as librmn does.
    assert_eq!(compress(&tokens, ni, nj, 16).unwrap(), None);
    // One corner of it in a smooth field compresses, with the 5-bit field.
    let mut smooth = field(ni, nj, 16, 0, 1);
    for j in 10..13 {
        for i in 10..13 {
            smooth[j * ni + i] = tokens[j * ni + i];
        }
    }
    let stream = compress(&smooth, ni, nj, 16).unwrap().unwrap();
    assert_eq!(stream[1] >> 29, 5);
    let mut out = vec![0u32; ni * nj];
    turbo16::decompress(&stream, ni, nj, &mut out, 1).unwrap();
    assert!(out.iter().zip(&smooth).all(|(&o, &t)| o == u32::from(t)));
}

#[test]
fn a_band_of_eighteen_bit_residuals_fits_its_room() {
    // A whole band of tiles (rows 1..=3) of the checkerboard: every residual takes 18 bits,
    // the most the 16-bit codec writes, in the room the tile coder makes for a band.
    let (ni, nj) = (60, 40);
    let mut tokens = field(ni, nj, 16, 0, 3);
    for j in 1..4 {
        for i in 0..ni {
            tokens[j * ni + i] = if (i + j) % 2 == 0 { 0 } else { 0xFFFF };
        }
    }
    let stream = compress(&tokens, ni, nj, 16).unwrap().unwrap();
    assert_eq!(stream[1] >> 29, 5);
    let mut out = vec![0u32; ni * nj];
    turbo16::decompress(&stream, ni, nj, &mut out, 1).unwrap();
    assert!(out.iter().zip(&tokens).all(|(&o, &t)| o == u32::from(t)));
}

#[test]
fn bad_arguments_are_errors() {
    let tokens = vec![0u16; 12];
    for nbits in [0, 17] {
        assert!(matches!(
            encode_payload(Framing::Unsigned, &tokens, 3, 4, nbits),
            Err(CodecError::Unsupported { datyp: 130, .. })
        ));
    }
    assert!(matches!(
        compress(&tokens, 3, 5, 8),
        Err(CodecError::InvalidShape { .. })
    ));
    assert!(matches!(
        compress(&[], 0, 4, 8),
        Err(CodecError::InvalidShape { .. })
    ));
    assert_eq!(compress(&tokens, 1, 12, 8).unwrap(), None);
    assert_eq!(compress(&tokens, 12, 1, 8).unwrap(), None);
}
