//! The search-key words and JSON extended metadata of an RSF directory entry or record.

use std::sync::Arc;

use super::framing::{RT_DATA, RT_DELETED, SEARCH_WORDS};
use crate::limits::LimitError;
use crate::record::Keys;

/// Where a record's JSON text is.
pub(super) enum Json {
    /// The record has none.
    None,
    /// In the metadata words at hand.
    Here(Option<Arc<str>>),
    /// Only inside the record (RSF version 0 directories hold the 19 search words only): `bytes`
    /// bytes at metadata byte 76.
    InRecord { bytes: u64 },
}

/// What a record's metadata words say.
pub(super) enum Parsed {
    Live {
        keys: Keys,
        json: Json,
    },
    Deleted,
    /// A record type this reader does not list.
    Other(u8),
}

/// Why metadata words were refused (the caller adds the offset and entry number).
pub(super) enum Fault {
    Reason(String),
    Limit(LimitError),
}

/// Decode the metadata of a record: its 19 search words, then `rest`, the metadata bytes at
/// hand after them (from the directory copy, `D` words, or the record's own `R` words); `r` is
/// the record's metadata length in words.
// Measured: inlining the per-entry path into the directory loop saves about 10 % of the
// instructions of an open.
#[allow(clippy::inline_always)]
#[inline(always)]
pub(super) fn parse_meta(
    words: [u32; 19],
    rest: &[u8],
    r: u64,
    max_json: u64,
) -> Result<Parsed, Fault> {
    let [meta0, m1, m2, key_words @ ..] = words;
    match (meta0 & 0xFF) as u8 {
        RT_DATA => {}
        RT_DELETED => return Ok(Parsed::Deleted),
        other => return Ok(Parsed::Other(other)),
    }
    let version = (meta0 >> 16) & 0xFF;
    if version > 1 {
        return Err(Fault::Reason(format!(
            "RSF metadata version {version} is newer than the supported 1"
        )));
    }
    // Version 0 put the FST reserved word first and the data-map size second; version 1
    // swapped them.
    let (reserved, data_map) = if version == 0 { (m1, m2) } else { (m2, m1) };
    // A data map would sit between the metadata and the payload; librmn writes none yet.
    if data_map != 0 {
        return Err(Fault::Reason(format!(
            "a data map of {data_map} words is announced; none is supported"
        )));
    }
    let fst_version = reserved >> 24;
    if fst_version > 1 {
        return Err(Fault::Reason(format!(
            "FST metadata version {fst_version} is newer than the supported 1"
        )));
    }
    let nkeys = (reserved >> 16) & 0xFF;
    if u64::from(nkeys) != SEARCH_WORDS {
        return Err(Fault::Reason(format!("{nkeys} search keys, expected 19")));
    }
    let e = u64::from(reserved & 0xFFFF);
    if SEARCH_WORDS + e > r {
        return Err(Fault::Reason(format!(
            "{e} words of extended metadata do not fit in {r} metadata words"
        )));
    }
    let keys = Keys::decode(&key_words, true);
    let json = if e == 0 {
        Json::None
    } else {
        let bytes = 4 * e;
        if bytes > max_json {
            return Err(Fault::Limit(LimitError::MetadataBytes {
                found: bytes,
                limit: max_json,
            }));
        }
        match rest.get(..bytes as usize) {
            Some(stored) => Json::Here(json_text(stored)?),
            None => Json::InRecord { bytes },
        }
    };
    Ok(Parsed::Live { keys, json })
}

/// The JSON text of stored extended metadata: NUL-terminated UTF-8. An empty text counts as
/// none. The JSON syntax is left to [`RecordMeta::extended_metadata_json`]: checking it here
/// would cost more than the rest of opening, and a record with bad JSON is still readable.
pub(super) fn json_text(stored: &[u8]) -> Result<Option<Arc<str>>, Fault> {
    // The text ends at its first NUL. Writers pad with NULs only, so look for the end of the
    // padding from the back (a few bytes) and check with `contains` (memchr) that no NUL
    // comes earlier; fall back to a forward search if one does.
    let padded_from = stored.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    if padded_from == stored.len() {
        return Err(Fault::Reason(
            "extended metadata is not NUL-terminated".into(),
        ));
    }
    let mut text = stored.get(..padded_from).unwrap_or_default();
    if text.contains(&0) {
        let nul = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        text = text.get(..nul).unwrap_or_default();
    }
    let text = std::str::from_utf8(text).map_err(|e| {
        Fault::Reason(format!(
            "extended metadata is not UTF-8 (byte {})",
            e.valid_up_to()
        ))
    })?;
    Ok((!text.is_empty()).then(|| Arc::from(text)))
}
