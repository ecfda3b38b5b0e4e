//! How records are shown: JSON objects with the fixture manifests' field names, table rows,
//! human-readable levels and dates.

use fst_core::RecordMeta;
use serde_json::{json, Map, Value};

/// ISO-8601 UTC text of a date stamp, or `None` for "no date" or an invalid stamp.
pub(crate) fn iso(stamp: i32) -> Option<String> {
    fst_core::date::DateStamp(stamp).to_iso8601()
}

/// The decoded ip1 as `{value, kind, unit}`, or `None` when it does not decode.
pub(crate) fn level_json(rec: &RecordMeta) -> Value {
    fst_core::ip::decode_ip(rec.ip1)
        .ok()
        .and_then(|ip| serde_json::to_value(ip.level()).ok())
        .unwrap_or(Value::Null)
}

/// The decoded ip1 as text, e.g. `850 mb`.
pub(crate) fn level_text(rec: &RecordMeta) -> String {
    match fst_core::ip::decode_ip(rec.ip1) {
        Ok(ip) => ip.level().to_string(),
        Err(_) => format!("ip1={}", rec.ip1),
    }
}

/// One record as a JSON object whose field names match the fixture manifests.
pub(crate) fn record_json(rec: &RecordMeta, file: Option<&str>) -> Value {
    let mut m = Map::new();
    if let Some(f) = file {
        m.insert("file".into(), json!(f));
    }
    m.insert("index".into(), json!(rec.index.0));
    m.insert("nomvar".into(), json!(rec.nomvar.trimmed()));
    m.insert("typvar".into(), json!(rec.typvar.trimmed()));
    m.insert("etiket".into(), json!(rec.etiket.trimmed()));
    m.insert("ni".into(), json!(rec.ni));
    m.insert("nj".into(), json!(rec.nj));
    m.insert("nk".into(), json!(rec.nk));
    m.insert("dateo".into(), json!(iso(rec.dateo())));
    m.insert("datev".into(), json!(iso(rec.datev)));
    m.insert("deet".into(), json!(rec.deet));
    m.insert("npas".into(), json!(rec.npas));
    m.insert("ip1".into(), json!(rec.ip1));
    m.insert("ip2".into(), json!(rec.ip2));
    m.insert("ip3".into(), json!(rec.ip3));
    m.insert(
        "grtyp".into(),
        json!(rec.grtyp_char().to_string().trim_end()),
    );
    m.insert("ig1".into(), json!(rec.ig1));
    m.insert("ig2".into(), json!(rec.ig2));
    m.insert("ig3".into(), json!(rec.ig3));
    m.insert("ig4".into(), json!(rec.ig4));
    m.insert("datyp".into(), json!(rec.datyp.0));
    m.insert("nbits".into(), json!(rec.nbits));
    m.insert("level".into(), level_json(rec));
    if let Some(meta) = rec.extended_metadata_json() {
        m.insert(
            "meta".into(),
            meta.unwrap_or_else(|e| json!({ "invalid_json": e.to_string() })),
        );
    }
    if rec.recovered {
        m.insert("recovered".into(), json!(true));
    }
    Value::Object(m)
}

/// Header of the `fst ls` table.
pub(crate) const TABLE_HEADER: &str =
    "     # NOMV TV ETIQUETTE        NI     NJ   NK DATEV                 DEET    NPAS       IP1       IP2       IP3 G    IG1    IG2    IG3    IG4 DTY NB LEVEL";

/// One row of the `fst ls` table, like the RPN `voir` tool.
pub(crate) fn table_row(rec: &RecordMeta) -> String {
    format!(
        "{:>6} {:<4} {:<2} {:<12} {:>6} {:>6} {:>4} {:<20} {:>6} {:>7} {:>9} {:>9} {:>9} {} {:>6} {:>6} {:>6} {:>6} {:>3} {:>2} {}{}",
        rec.index.0,
        rec.nomvar.trimmed(),
        rec.typvar.trimmed(),
        rec.etiket.trimmed(),
        rec.ni,
        rec.nj,
        rec.nk,
        iso(rec.datev).unwrap_or_else(|| "-".into()),
        rec.deet,
        rec.npas,
        rec.ip1,
        rec.ip2,
        rec.ip3,
        rec.grtyp_char(),
        rec.ig1,
        rec.ig2,
        rec.ig3,
        rec.ig4,
        rec.datyp.0,
        rec.nbits,
        level_text(rec),
        if rec.recovered { "  (recovered)" } else { "" },
    )
}
