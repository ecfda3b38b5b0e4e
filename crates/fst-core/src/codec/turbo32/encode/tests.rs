//! The 133 encoder against librmn 19.5: every 133 record of the XDF fixtures is decoded and
//! encoded again, and the whole payload must be librmn's, word for word.

use super::*;
use crate::codec::turbo32;
use crate::FstFile;

#[test]
fn payloads_are_librmns() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf");
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "fst") {
            continue;
        }
        let file = FstFile::open(&path).unwrap();
        for (k, rec) in file.records().iter().enumerate() {
            if rec.datyp.0 & !64 != 133 || rec.nk != 1 {
                continue;
            }
            let words = file.read_payload_words(rec).unwrap();
            let (ni, nj) = (rec.ni as usize, rec.nj as usize);
            let l = words[0] as usize;
            let mut bits = vec![0u32; ni * nj];
            turbo32::decode(&words[1..l], ni, nj, &mut bits, 1).unwrap();
            let values: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
            let ours = encode_payload(&values, ni, nj, u32::from(rec.nbits))
                .unwrap()
                .unwrap_or_else(|| panic!("{}#{k}: not compressed", path.display()));
            checked += 1;
            if ours[..] != words[..l] {
                let first = (0..l).find(|&p| ours.get(p) != words.get(p));
                mismatches.push(format!(
                    "{}#{k} {}/{} {ni}x{nj}: L {} vs {l}, first difference at {first:?}: ours {:x?} librmn {:x?}",
                    path.display(),
                    rec.datyp.0,
                    rec.nbits,
                    ours.len(),
                    first.and_then(|p| ours.get(p..p + 4)),
                    first.and_then(|p| words.get(p..p + 4)),
                ));
            }
        }
    }
    assert!(checked >= 3, "only {checked} datyp 133 records");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
