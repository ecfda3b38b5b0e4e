//! Record search with librmn's rules (`fstinf`/`fstinl`, and the fst24 `grtyp` criterion).
//!
//! Unset criteria are wildcards. Strings compare after folding to the 6-bit alphabet, so the
//! search is case-insensitive. An etiket whose first 10 characters are blank is a wildcard,
//! as in librmn. The valid date compares on the directory's packed date word with its low 3
//! bits ignored (the "run" digit of old stamps, sub-40-second ticks of new ones).

use crate::names::{Etiket, Name, Nomvar, Typvar};
use crate::record::{date_word_from_stamp, RecordMeta};

/// Search criteria. Build with the setters; anything not set matches every record.
///
/// ```
/// use fst_core::Query;
/// let q = Query::new().nomvar("tt").ip2(12);
/// assert_eq!(q.nomvar_criterion().map(|n| n.trimmed().to_string()), Some("TT".into()));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query {
    nomvar: Option<Nomvar>,
    typvar: Option<Typvar>,
    etiket: Option<Etiket>,
    ip1: Option<u32>,
    ip2: Option<u32>,
    ip3: Option<u32>,
    datev: Option<i32>,
    grtyp: Option<u8>,
}

fn non_blank<const N: usize>(text: &str) -> Option<Name<N>> {
    let name = Name::<N>::new(text);
    (!name.is_blank()).then_some(name)
}

fn non_wildcard(value: i64) -> Option<u32> {
    u32::try_from(value).ok()
}

impl Query {
    /// A query that matches every record.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Match the variable name; blank is a wildcard.
    #[must_use]
    pub fn nomvar(mut self, nomvar: &str) -> Self {
        self.nomvar = non_blank(nomvar);
        self
    }

    /// Match the field type; blank is a wildcard.
    #[must_use]
    pub fn typvar(mut self, typvar: &str) -> Self {
        self.typvar = non_blank(typvar);
        self
    }

    /// Match the label; a label whose first 10 characters are blank is a wildcard.
    #[must_use]
    pub fn etiket(mut self, etiket: &str) -> Self {
        let name = Etiket::new(etiket);
        self.etiket = name
            .as_bytes()
            .iter()
            .take(10)
            .any(|&c| c != b' ')
            .then_some(name);
        self
    }

    /// Match ip1; a negative value is a wildcard.
    #[must_use]
    pub fn ip1(mut self, ip1: i64) -> Self {
        self.ip1 = non_wildcard(ip1);
        self
    }

    /// Match ip2; a negative value is a wildcard.
    #[must_use]
    pub fn ip2(mut self, ip2: i64) -> Self {
        self.ip2 = non_wildcard(ip2);
        self
    }

    /// Match ip3; a negative value is a wildcard.
    #[must_use]
    pub fn ip3(mut self, ip3: i64) -> Self {
        self.ip3 = non_wildcard(ip3);
        self
    }

    /// Match the valid date stamp; -1 is a wildcard.
    #[must_use]
    pub fn datev(mut self, stamp: i32) -> Self {
        self.datev = (stamp != -1).then_some(stamp);
        self
    }

    /// Match the grid type; a blank is a wildcard.
    #[must_use]
    pub fn grtyp(mut self, grtyp: u8) -> Self {
        self.grtyp = (grtyp != b' ').then_some(grtyp);
        self
    }

    /// The variable-name criterion, if set.
    #[must_use]
    pub fn nomvar_criterion(&self) -> Option<Nomvar> {
        self.nomvar
    }

    /// True when `rec` satisfies every criterion.
    #[must_use]
    pub fn matches(&self, rec: &RecordMeta) -> bool {
        self.nomvar.is_none_or(|n| n == rec.nomvar)
            && self.typvar.is_none_or(|t| t == rec.typvar)
            && self.etiket.is_none_or(|e| e == rec.etiket)
            && self.ip1.is_none_or(|v| v == rec.ip1)
            && self.ip2.is_none_or(|v| v == rec.ip2)
            && self.ip3.is_none_or(|v| v == rec.ip3)
            && self.grtyp.is_none_or(|g| g == rec.grtyp)
            && self
                .datev
                .is_none_or(|d| date_word_from_stamp(d) & !7 == rec.date_word & !7)
    }
}
