//! Record names: nomvar (4 characters), typvar (2) and etiket (12).
//!
//! On disk each character is a 6-bit code (ASCII 32..95 minus 32), so only upper case,
//! digits and some punctuation can be stored. [`Name`] keeps the decoded, blank-padded bytes
//! and compares the way librmn's search does: after folding to the 6-bit alphabet.

use std::fmt;

/// A fixed-width, blank-padded record name of `N` characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name<const N: usize> {
    bytes: [u8; N],
}

/// A variable name (nomvar).
pub type Nomvar = Name<4>;
/// A field type (typvar).
pub type Typvar = Name<2>;
/// A label (etiket).
pub type Etiket = Name<12>;

/// Fold one ASCII character into the 6-bit alphabet, as librmn does when it stores it:
/// lower case becomes upper case (and `` ` { | } ~ `` become `@ [ \ ] ^`); anything outside
/// 32..127 becomes a blank.
fn fold(c: u8) -> u8 {
    if !(32..128).contains(&c) {
        return b' ';
    }
    if c & 0x40 != 0 {
        c & !0x20
    } else {
        c
    }
}

impl<const N: usize> Name<N> {
    /// The all-blank name.
    pub const BLANK: Self = Self { bytes: [b' '; N] };

    /// Build from text: folded to the 6-bit alphabet, truncated or blank-padded to `N`.
    #[must_use]
    pub fn new(text: &str) -> Self {
        let mut bytes = [b' '; N];
        for (slot, c) in bytes.iter_mut().zip(text.bytes()) {
            *slot = fold(c);
        }
        Self { bytes }
    }

    /// Build from the 6-bit codes found in `word` at the given bit positions (the position
    /// of each code's lowest bit), most significant character first.
    #[must_use]
    #[inline]
    pub(crate) fn from_code_positions(words_and_shifts: [(u32, u32); N]) -> Self {
        let mut bytes = [b' '; N];
        for (slot, (word, shift)) in bytes.iter_mut().zip(words_and_shifts) {
            // The mask keeps a value of at most 63, so the sum fits in a byte.
            *slot = ((word >> shift) & 0x3F) as u8 + 32;
        }
        Self { bytes }
    }

    /// The padded bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; N] {
        &self.bytes
    }

    /// The name without trailing blanks.
    #[must_use]
    pub fn trimmed(&self) -> &str {
        // Every byte is ASCII 32..95 by construction, so this cannot fail.
        std::str::from_utf8(&self.bytes)
            .unwrap_or("")
            .trim_end_matches(' ')
    }

    /// The name with its blank padding, as librmn's `fstprm` returns it.
    #[must_use]
    pub fn padded(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap_or("")
    }

    /// True when every character is blank.
    #[must_use]
    pub fn is_blank(&self) -> bool {
        self.bytes.iter().all(|&c| c == b' ')
    }
}

impl<const N: usize> Default for Name<N> {
    fn default() -> Self {
        Self::BLANK
    }
}

impl<const N: usize> fmt::Display for Name<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.trimmed())
    }
}

impl<const N: usize> fmt::Debug for Name<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.padded())
    }
}

impl<const N: usize> serde::Serialize for Name<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.trimmed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_like_librmn() {
        assert_eq!(Name::<4>::new("tt").trimmed(), "TT");
        assert_eq!(Name::<4>::new("{|}~").trimmed(), "[\\]^");
        assert_eq!(Name::<2>::new("PXYZ").trimmed(), "PX");
        assert_eq!(Name::<12>::new("").padded(), "            ");
    }

    #[test]
    fn decodes_six_bit_codes() {
        // "TT  " as 6-bit codes: T = 84 - 32 = 52.
        let word = (52 << 26) | (52 << 20);
        let n = Name::<4>::from_code_positions([(word, 26), (word, 20), (word, 14), (word, 8)]);
        assert_eq!(n, Name::new("tt"));
        assert!(Name::<2>::from_code_positions([(0, 14), (0, 8)]).is_blank());
    }
}
