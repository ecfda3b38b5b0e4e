//! The RSF container from arbitrary bytes: segment chain, directories, record framing and
//! recovery, payloads and the catalog (`fst_testkit::rsf_walk`).
//!
//! RSF is a chain of word-aligned structures (segment starts and ends, directory entries,
//! record starts and ends) that point at each other by byte offsets and lengths. Byte-level
//! mutations rarely hit those words with values that mean something, so half of the
//! mutations here overwrite one aligned 32-bit or 64-bit word with a value chosen to matter:
//! zero, one, all ones, the input's own length (or a little less or more), another word of
//! the input, or a small change to the word.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target};

fuzz_target!(|data: &[u8]| {
    let _ = fst_testkit::rsf_walk(data);
});

/// A small xorshift generator seeded by libFuzzer.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn word_mutation(data: &mut [u8], size: usize, seed: u32) -> bool {
    let mut rng = Rng(u64::from(seed) | 1 << 40);
    let words = size / 4;
    if words < 2 {
        return false;
    }
    let wide = rng.next() & 1 == 1 && words >= 3;
    let at = 4 * rng.below(words - usize::from(wide));
    let old = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    let other = 4 * rng.below(words);
    let other = u32::from_le_bytes([
        data[other],
        data[other + 1],
        data[other + 2],
        data[other + 3],
    ]);
    let len = size as u64;
    let value: u64 = match rng.below(10) {
        0 => 0,
        1 => 1,
        2 => u64::MAX,
        3 => len,
        4 => len.saturating_sub(4 * (1 + rng.below(32) as u64)),
        5 => len + 4 * (1 + rng.below(32) as u64),
        6 => u64::from(other),
        7 => u64::from(old.wrapping_add(4)),
        8 => u64::from(old.wrapping_sub(4)),
        _ => u64::from(old ^ (1 << rng.below(32))),
    };
    if wide {
        // RSF stores 64-bit values as two words, high word first.
        let hi = ((value >> 32) as u32).to_le_bytes();
        let lo = (value as u32).to_le_bytes();
        data[at..at + 4].copy_from_slice(&hi);
        data[at + 4..at + 8].copy_from_slice(&lo);
    } else {
        data[at..at + 4].copy_from_slice(&(value as u32).to_le_bytes());
    }
    true
}

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    if seed & 1 == 1 && word_mutation(data, size, seed >> 1) {
        size
    } else {
        libfuzzer_sys::fuzzer_mutate(data, size, max_size)
    }
});
