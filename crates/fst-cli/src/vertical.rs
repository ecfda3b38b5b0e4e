//! `fst info`'s vertical coordinates: each `!!` record's descriptor (as vgrid reads it), or,
//! in files older than `!!`, the coordinate vgrid rebuilds from GEM 3's `HY` and the `PT`
//! field for the file's sigma and hybrid levels.

use std::collections::BTreeSet;

use fst_core::codec::Samples;
use fst_core::ip::{decode_ip, LevelKind};
use fst_core::vertical::{HyKeys, VerticalDescriptor, HY_NOMVAR, NOMVAR, PT_NOMVAR};
use fst_core::FstFile;
use serde_json::{json, Value};

/// Most `!!` records described: a file has a few; a corrupt one with thousands is not
/// decoded whole.
const MAX_LISTED: usize = 64;

/// One vertical coordinate of the file, or why a descriptor could not be read.
pub(crate) struct Coordinate {
    /// Where it comes from: `!! #12 (ip1 0, ip2 0)`, or `HY/PT, hybrid levels`.
    source: String,
    descriptor: Result<VerticalDescriptor, String>,
}

/// The file's vertical coordinates: one per `!!` record (the first [`MAX_LISTED`]); without
/// any, the legacy ones of its sigma and hybrid levels when it has an `HY` or `PT` record.
pub(crate) fn coordinates(file: &FstFile) -> Vec<Coordinate> {
    let records = file.records();
    let mut out: Vec<Coordinate> = records
        .iter()
        .filter(|r| r.nomvar.trimmed() == NOMVAR)
        .take(MAX_LISTED)
        .map(|r| Coordinate {
            source: format!("{NOMVAR} {} (ip1 {}, ip2 {})", r.index, r.ip1, r.ip2),
            descriptor: file
                .decode(r)
                .map_err(|e| e.to_string())
                .and_then(|f| VerticalDescriptor::from_field(&f).map_err(|e| e.to_string())),
        })
        .collect();
    if !out.is_empty() {
        return out;
    }
    let hy = records
        .iter()
        .find(|r| r.nomvar.trimmed() == HY_NOMVAR)
        .map(HyKeys::of);
    let pt = records
        .iter()
        .find(|r| r.nomvar.trimmed() == PT_NOMVAR)
        .and_then(|r| file.decode(r).ok())
        .and_then(|f| match f.samples {
            Samples::F32(v) => v.first().copied(),
            Samples::F64(v) => v.first().map(|&x| x as f32),
            _ => None,
        });
    if hy.is_none() && pt.is_none() {
        return out;
    }
    for (kind, name) in [(LevelKind::Sigma, "sigma"), (LevelKind::Hybrid, "hybrid")] {
        let levels: BTreeSet<u32> = records
            .iter()
            .filter(|r| decode_ip(r.ip1).is_ok_and(|ip| ip.kind == kind))
            .map(|r| r.ip1)
            .collect();
        if levels.is_empty() {
            continue;
        }
        let levels: Vec<u32> = levels.into_iter().collect();
        out.push(Coordinate {
            source: format!("HY/PT, {name} levels"),
            descriptor: VerticalDescriptor::from_legacy(&levels, hy, pt).map_err(|e| e.to_string()),
        });
    }
    out
}

impl Coordinate {
    /// One line for `fst info`.
    pub(crate) fn text(&self) -> String {
        let d = match &self.descriptor {
            Ok(d) => d,
            Err(e) => return format!("{}: {e}", self.source),
        };
        let mut parts = vec![format!(
            "vcode {} ({})",
            d.vcode,
            d.vcode.description().unwrap_or("unknown")
        )];
        match d.ptop {
            // vgrid stores −9999 where the top is computed from the levels (5005, 5100).
            Some(p) if p < 0.0 => parts.push("ptop computed".into()),
            Some(p) => parts.push(format!("ptop {p} Pa")),
            None => {}
        }
        if let Some(p) = d.pref {
            parts.push(format!("pref {p} Pa"));
        }
        let rcoef: Vec<String> = d.rcoef.iter().flatten().map(f32::to_string).collect();
        if !rcoef.is_empty() {
            parts.push(format!("rcoef {}", rcoef.join("/")));
        }
        let refs: Vec<&str> = [&d.reference, &d.reference_large_scale]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !refs.is_empty() {
            parts.push(format!("reference {}", refs.join(", ")));
        }
        parts.push(if d.thermo == d.momentum {
            format!("{} levels", d.momentum.len())
        } else {
            format!(
                "{} momentum, {} thermodynamic levels",
                d.momentum.len(),
                d.thermo.len()
            )
        });
        format!("{}: {}", self.source, parts.join(", "))
    }

    /// The same for `fst info --json`.
    pub(crate) fn json(&self) -> Value {
        match &self.descriptor {
            Err(e) => json!({"source": self.source, "error": e}),
            Ok(d) => json!({
                "source": self.source,
                "vcode": d.vcode.code(),
                "description": d.vcode.description(),
                "ptop_pa": d.ptop,
                "pref_pa": d.pref,
                // Through their shortest decimal form: 1.6, not 1.600000023841858.
                "rcoef": d.rcoef.map(|r| r.and_then(|x| x.to_string().parse::<f64>().ok())),
                "reference": d.reference,
                "reference_large_scale": d.reference_large_scale,
                "momentum_ip1": d.momentum.iter().map(|l| l.ip1).collect::<Vec<_>>(),
                "thermo_ip1": d.thermo.iter().map(|l| l.ip1).collect::<Vec<_>>(),
            }),
        }
    }
}
