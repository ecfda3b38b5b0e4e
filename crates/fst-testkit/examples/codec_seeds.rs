//! Seeds for the `codecs` fuzz target: every record of the given FST files (up to 64 KiB of
//! payload and a shape the case layout can hold) written as a decode case of
//! `fst_testkit::codec_case`, plus round-trip cases for every requested datyp.
//!
//! Usage: `cargo run -p fst-testkit --example codec_seeds -- OUT_DIR FILE.fst...`

use std::path::PathBuf;

use fst_core::{FstFile, OpenOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: codec_seeds OUT_DIR FILE.fst...")?,
    );
    std::fs::create_dir_all(&out)?;
    let mut written = 0usize;
    for path in args {
        let file = FstFile::open_with(&path, OpenOptions::new().limits(fst_testkit::TEST_LIMITS))?;
        for rec in file.records() {
            let p = rec.codec_params();
            let (Ok(ni), Ok(nj), Ok(nk)) =
                (u16::try_from(p.ni), u8::try_from(p.nj), u8::try_from(p.nk))
            else {
                continue;
            };
            let Ok(words) = file.read_payload_words(rec) else {
                continue;
            };
            if words.len() > 16 << 10 {
                continue;
            }
            let mut case = vec![2, p.datyp.0, p.nbits];
            case.extend(ni.to_le_bytes());
            case.extend([nj, nk]);
            case.extend(words.iter().flat_map(|w| w.to_le_bytes()));
            std::fs::write(out.join(format!("decode-{written:04}")), case)?;
            written += 1;
        }
    }
    // Round trips: every float family (with and without +64) and integer family, on a ramp.
    let ramp: Vec<u8> = (0u32..64)
        .flat_map(|k| (k.wrapping_mul(2_654_435_761) >> 8).to_le_bytes())
        .collect();
    for family in (0u8..12).chain([0x80, 0x82, 0x84]) {
        for nbits in [8u8, 15, 23, 31, 63] {
            let mut case = vec![1, family, nbits, 7, 5, 30];
            case.extend(&ramp);
            std::fs::write(out.join(format!("round-trip-{family:02x}-{nbits}")), case)?;
        }
    }
    println!("{written} decode cases");
    Ok(())
}
