//! Vertical coordinates of files written before vgrid's `!!` descriptors (GEM 3 and older),
//! still found in archives and in the output of older tools. Their coordinate is told by the
//! kind of the levels' ip1 and by two optional records:
//! - `HY`, whose keys hold the constants: ip1 is the top pressure (encoded as a pressure,
//!   hPa), ig1 the reference pressure in hPa and ig2 the rectification coefficient × 1000;
//! - `PT`, a field of the top pressure in hPa (one value repeated).
//!
//! vgrid builds the equivalent descriptor from them, and so does
//! [`VerticalDescriptor::from_legacy`], with vgrid's rules and arithmetic:
//!
//! | levels | records | vcode | formula (Pa) |
//! |---|---|---|---|
//! | sigma (kind 1) | `PT` (an `HY`, if any, must agree: same top, rcoef 1) | 1002 eta | A = ptop·(1 − η), B = η |
//! | sigma | `HY` | 1003 normalised hybrid | h = η + (1 − η)·ptop/pref, B = ((h − htop)/(1 − htop))^rcoef, A = pref·(h − B) |
//! | sigma | none | 1001 sigma | A = 0, B = σ |
//! | pressure (kind 2) | — | 2001 | A = 100·p, B = 0 |
//! | hybrid (kind 5) | `HY` | 5001 | B = ((h − htop)/(1 − htop))^rcoef, A = pref·(h − B), htop = ptop/pref as a kind-5 ip1 gives it back |
//!
//! where htop = ptop/pref, except that a level at the top itself (sigma 0 for 1003, h·pref =
//! ptop for 5001) gets B = 0 and A = ptop. fstd2nc reads sigma levels with an `HY` record as
//! eta instead; vgrid, ECCC's reference, reads them as 1003.

use super::{Vcode, VerticalDescriptor, VerticalError, VerticalLevel, MAX_LEVELS, NOMVAR};
use crate::ip::{decode_ip, encode_ip, IpStyle, LevelKind};
use crate::RecordMeta;

/// The nomvar of GEM 3's hybrid coordinate record.
pub const HY_NOMVAR: &str = "HY";

/// The nomvar of the top-pressure field of eta coordinates.
pub const PT_NOMVAR: &str = "PT";

/// The keys of an `HY` record that hold its constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HyKeys {
    /// The top pressure, encoded as a pressure level (hPa).
    pub ip1: u32,
    /// The reference pressure in hPa.
    pub ig1: u32,
    /// The rectification coefficient × 1000.
    pub ig2: u32,
}

/// The records vgrid reads the coordinate of levels of `kind` from: `!!` for model levels
/// (sigma, hybrid, height-based hybrid) and, in files older than `!!`, `HY` for sigma and
/// hybrid levels and `PT` (the eta top) for sigma levels. Empty for the other kinds.
#[must_use]
pub fn descriptor_nomvars(kind: LevelKind) -> &'static [&'static str] {
    match kind {
        LevelKind::Sigma => &[NOMVAR, HY_NOMVAR, PT_NOMVAR],
        LevelKind::Hybrid => &[NOMVAR, HY_NOMVAR],
        LevelKind::PressureMetres => &[NOMVAR],
        _ => &[],
    }
}

impl HyKeys {
    /// The constants of the `HY` record `meta`.
    #[must_use]
    pub fn of(meta: &RecordMeta) -> Self {
        Self {
            ip1: meta.ip1,
            ig1: meta.ig1,
            ig2: meta.ig2,
        }
    }

    /// (ptop in Pa, pref in Pa, rcoef), as vgrid decodes them (rcoef a float32).
    fn decode(self) -> Result<(f64, f64, f32), VerticalError> {
        let top = decode_ip(self.ip1)
            .ok()
            .filter(|ip| ip.kind == LevelKind::Pressure)
            .ok_or_else(|| legacy(format!("HY ip1 {} is not a pressure (the top)", self.ip1)))?;
        Ok((
            f64::from(top.value) * 100.0,
            f64::from(self.ig1) * 100.0,
            self.ig2 as f32 / 1000.0,
        ))
    }
}

fn legacy(reason: String) -> VerticalError {
    VerticalError::Legacy { reason }
}

/// vgrid's test of a level at the top of a 5001 coordinate (float32 tolerance).
const AT_TOP: f64 = 1.0e-6;

impl VerticalDescriptor {
    /// The descriptor vgrid builds for records on the levels `level_ip1s` of a file without
    /// a `!!` record, given the file's `HY` record (`hy`) and `PT` value in hPa (`pt_hpa`), if
    /// any (see the [module docs](self)). The levels keep the order given.
    ///
    /// Levels of a kind other than sigma, pressure and hybrid (or that do not decode) are
    /// [`VerticalError::UnknownLevel`]: no legacy coordinate describes them. Levels of
    /// several kinds, hybrid levels without `HY`, a top not above 0, an `HY` that disagrees
    /// with `PT`, or hybrid levels above the top are [`VerticalError::Legacy`].
    pub fn from_legacy(
        level_ip1s: &[u32],
        hy: Option<HyKeys>,
        pt_hpa: Option<f32>,
    ) -> Result<Self, VerticalError> {
        if level_ip1s.len() > MAX_LEVELS {
            return Err(legacy(format!(
                "{} levels, more than the {MAX_LEVELS} a coordinate may hold",
                level_ip1s.len()
            )));
        }
        let mut kind = None;
        let mut levels = Vec::new(); // at most MAX_LEVELS, checked above
        for &ip1 in level_ip1s {
            let ip = decode_ip(ip1)
                .ok()
                .filter(|ip| {
                    matches!(
                        ip.kind,
                        LevelKind::Sigma | LevelKind::Pressure | LevelKind::Hybrid
                    )
                })
                .ok_or(VerticalError::UnknownLevel {
                    vcode: Vcode::HYBRID,
                    ip1,
                })?;
            if kind.is_some_and(|k| k != ip.kind) {
                return Err(legacy("the levels are of several kinds".into()));
            }
            kind = Some(ip.kind);
            levels.push((ip1, f64::from(ip.value)));
        }
        let level = |ip1, a, b| VerticalLevel { ip1, a, b, c: 0.0 };
        let mut d;
        match (kind, pt_hpa, hy) {
            (Some(LevelKind::Sigma), Some(pt), _) => {
                let ptop = f64::from(pt) * 100.0;
                if let Some(hy) = hy {
                    let (hy_top, _, rcoef) = hy.decode()?;
                    if (rcoef - 1.0).abs() > 1e-5 || (hy_top - ptop).abs() > 1e-3 {
                        return Err(legacy(format!(
                            "HY (top {} hPa, rcoef {rcoef}) disagrees with PT ({pt} hPa)",
                            hy_top / 100.0
                        )));
                    }
                }
                positive_top(ptop)?;
                d = VerticalDescriptor::new(Vcode::ETA);
                d.ptop = Some(ptop);
                d.momentum = levels
                    .iter()
                    .map(|&(ip1, eta)| level(ip1, (1.0 - eta) * ptop, eta))
                    .collect();
            }
            (Some(LevelKind::Sigma), None, Some(hy)) => {
                let (ptop, pref, rcoef) = hy.decode()?;
                positive_top(ptop)?;
                // vgrid does not check it for 1003, but the formula divides by 1 − ptop/pref.
                if pref <= ptop {
                    return Err(legacy(format!("top {ptop} Pa is not under pref {pref} Pa")));
                }
                let top = ptop / pref;
                d = hybrid(Vcode::HYBRID_NORMALIZED, ptop, pref, rcoef);
                d.momentum = levels
                    .iter()
                    .map(|&(ip1, sigma)| {
                        if sigma == 0.0 {
                            return level(ip1, ptop, 0.0);
                        }
                        let h = sigma + (1.0 - sigma) * ptop / pref;
                        let b = ((h - top) / (1.0 - top)).powf(f64::from(rcoef));
                        level(ip1, pref * (h - b), b)
                    })
                    .collect();
            }
            (Some(LevelKind::Sigma), None, None) => {
                d = VerticalDescriptor::new(Vcode::SIGMA);
                d.momentum = levels.iter().map(|&(ip1, s)| level(ip1, 0.0, s)).collect();
            }
            (Some(LevelKind::Pressure), ..) => {
                d = VerticalDescriptor::new(Vcode::PRESSURE);
                d.momentum = levels
                    .iter()
                    .map(|&(ip1, p)| level(ip1, p * 100.0, 0.0))
                    .collect();
            }
            (Some(LevelKind::Hybrid), _, Some(hy)) => d = hybrid_5001(&levels, hy)?,
            (Some(LevelKind::Hybrid), _, None) => {
                return Err(legacy("hybrid levels without an HY record".into()))
            }
            _ => return Err(legacy("no levels".into())),
        }
        Ok(d.with_shared_levels())
    }
}

/// Hybrid levels (h, with their ip1) under an `HY` record: vgrid's 5001.
fn hybrid_5001(levels: &[(u32, f64)], hy: HyKeys) -> Result<VerticalDescriptor, VerticalError> {
    let (ptop, pref, rcoef) = hy.decode()?;
    positive_top(ptop)?;
    // vgrid rounds the top through a kind-5 ip1 before using it.
    let top = encode_ip((ptop / pref) as f32, LevelKind::Hybrid, IpStyle::New)
        .ok()
        .and_then(|ip| decode_ip(ip).ok())
        .map(|ip| f64::from(ip.value))
        .filter(|&t| t < 1.0)
        .ok_or_else(|| legacy(format!("top {ptop} Pa is not under pref {pref} Pa")))?;
    let mut d = hybrid(Vcode::HYBRID, ptop, pref, rcoef);
    for &(ip1, h) in levels {
        // How far the level is under the top, relative to the top.
        let under_top = (h * pref - ptop) / ptop;
        let (a, b) = if under_top < -AT_TOP {
            return Err(legacy(format!(
                "level {h} (ip1 {ip1}) is above the top ({ptop} Pa)"
            )));
        } else if under_top < AT_TOP {
            (ptop, 0.0)
        } else {
            let b = ((h - top) * (1.0 / (1.0 - top))).powf(f64::from(rcoef));
            (pref * (h - b), b)
        };
        d.momentum.push(VerticalLevel { ip1, a, b, c: 0.0 });
    }
    Ok(d)
}

fn positive_top(ptop: f64) -> Result<(), VerticalError> {
    if ptop > 0.0 && ptop.is_finite() {
        Ok(())
    } else {
        Err(legacy(format!(
            "the top pressure ({ptop} Pa) must be finite and above 0"
        )))
    }
}

/// An empty 1003 or 5001 descriptor with its constants.
fn hybrid(vcode: Vcode, ptop: f64, pref: f64, rcoef: f32) -> VerticalDescriptor {
    let mut d = VerticalDescriptor::new(vcode);
    d.ptop = Some(ptop);
    d.pref = Some(pref);
    d.rcoef[0] = Some(rcoef);
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vertical::LevelFormula;

    fn ip(value: f32, kind: LevelKind) -> u32 {
        encode_ip(value, kind, IpStyle::New).unwrap()
    }

    /// ptop 10 hPa, pref 800 hPa, rcoef 1.6.
    fn hy() -> HyKeys {
        HyKeys {
            ip1: ip(10.0, LevelKind::Pressure),
            ig1: 800,
            ig2: 1600,
        }
    }

    fn linear(d: &VerticalDescriptor, ip1: u32) -> (f64, f64) {
        match d.formula(ip1).unwrap() {
            LevelFormula::Linear { a, b } => (a, b),
            LevelFormula::Surface => (0.0, 1.0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hybrid_levels_with_hy_are_5001() {
        let levels = [ip(0.5, LevelKind::Hybrid), ip(1.0, LevelKind::Hybrid)];
        let d = VerticalDescriptor::from_legacy(&levels, Some(hy()), None).unwrap();
        assert_eq!(d.vcode, Vcode::HYBRID);
        assert_eq!((d.ptop, d.pref), (Some(1000.0), Some(80000.0)));
        let (a, b) = linear(&d, levels[0]);
        let top = f64::from(decode_ip(ip(0.0125, LevelKind::Hybrid)).unwrap().value);
        let want = ((0.5 - top) / (1.0 - top)).powf(f64::from(1.6f32));
        assert!((b - want).abs() < 1e-15, "{b} {want}");
        assert!((a - 80000.0 * (0.5 - b)).abs() < 1e-9);
        // The surface level is the surface pressure.
        assert_eq!(linear(&d, levels[1]), (0.0, 1.0));
        // The descriptor is one vgrid can write.
        assert!(d.to_table().is_ok());
    }

    #[test]
    fn a_level_at_the_top_is_the_top() {
        let levels = [ip(0.0125, LevelKind::Hybrid)];
        let d = VerticalDescriptor::from_legacy(&levels, Some(hy()), None).unwrap();
        assert_eq!(linear(&d, levels[0]), (1000.0, 0.0));
        let levels = [ip(0.0, LevelKind::Sigma), ip(0.5, LevelKind::Sigma)];
        let d = VerticalDescriptor::from_legacy(&levels, Some(hy()), None).unwrap();
        assert_eq!(d.vcode, Vcode::HYBRID_NORMALIZED);
        assert_eq!(linear(&d, levels[0]), (1000.0, 0.0));
    }

    #[test]
    fn sigma_levels_follow_pt_then_hy() {
        let level = ip(0.5, LevelKind::Sigma);
        // PT: eta under that top.
        let d = VerticalDescriptor::from_legacy(&[level], None, Some(10.0)).unwrap();
        assert_eq!(d.vcode, Vcode::ETA);
        let p = d.formula(level).unwrap().evaluate(100_000.0, None).unwrap();
        assert!((p - (1000.0 + 0.5 * (100_000.0 - 1000.0))).abs() < 1e-9);
        assert!(d.to_table().is_ok());
        // HY alone: normalised hybrid.
        let d = VerticalDescriptor::from_legacy(&[level], Some(hy()), None).unwrap();
        assert_eq!(d.vcode, Vcode::HYBRID_NORMALIZED);
        let h: f64 = 0.5 + 0.5 * 1000.0 / 80000.0;
        let top: f64 = 1000.0 / 80000.0;
        let b = ((h - top) / (1.0 - top)).powf(f64::from(1.6f32));
        let (a, got) = linear(&d, level);
        assert!((got - b).abs() < 1e-15 && (a - 80000.0 * (h - b)).abs() < 1e-9);
        assert!(d.to_table().is_ok());
        // Neither: sigma.
        let d = VerticalDescriptor::from_legacy(&[level], None, None).unwrap();
        assert_eq!((d.vcode, linear(&d, level)), (Vcode::SIGMA, (0.0, 0.5)));
    }

    #[test]
    fn what_the_records_cannot_describe_is_refused() {
        let hyb = ip(0.5, LevelKind::Hybrid);
        let theta = ip(300.0, LevelKind::Theta);
        assert!(matches!(
            VerticalDescriptor::from_legacy(&[theta], Some(hy()), None),
            Err(VerticalError::UnknownLevel { .. })
        ));
        let bad_top = HyKeys { ip1: hyb, ..hy() };
        let pref_under_top = HyKeys { ig1: 5, ..hy() };
        let sigma = ip(0.5, LevelKind::Sigma);
        for (levels, hy, pt) in [
            (vec![hyb], Some(bad_top), None),
            (vec![hyb], Some(pref_under_top), None),
            (vec![sigma], Some(pref_under_top), None),
            (vec![hyb], None, None),
            (vec![ip(0.001, LevelKind::Hybrid)], Some(hy()), None),
            (vec![hyb, sigma], Some(hy()), None),
            (vec![sigma], Some(hy()), Some(10.0)), // HY's rcoef is not 1
            (vec![sigma], None, Some(0.0)),
            (vec![], None, None),
        ] {
            assert!(
                matches!(
                    VerticalDescriptor::from_legacy(&levels, hy, pt),
                    Err(VerticalError::Legacy { .. })
                ),
                "{levels:?} {hy:?} {pt:?}"
            );
        }
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// Any keys and levels give a descriptor or an error, never a panic; a descriptor's
        /// levels give finite pressures for any surface pressure a model sees.
        #[test]
        fn any_records_give_a_coordinate_or_an_error(
            levels in proptest::collection::vec(proptest::prop_oneof![
                proptest::num::u32::ANY,
                (0.0f32..=1.0).prop_map(|v| ip(v, LevelKind::Hybrid)),
                (0.0f32..=1.0).prop_map(|v| ip(v, LevelKind::Sigma)),
            ], 0..40),
            hy in proptest::option::of((
                proptest::prop_oneof![proptest::num::u32::ANY,
                                      (0.0f32..1100.0).prop_map(|v| ip(v, LevelKind::Pressure))],
                proptest::num::u32::ANY,
                proptest::num::u32::ANY,
            )),
            pt in proptest::option::of(proptest::num::f32::ANY),
        ) {
            let hy = hy.map(|(ip1, ig1, ig2)| HyKeys { ip1, ig1, ig2 });
            if let Ok(d) = VerticalDescriptor::from_legacy(&levels, hy, pt) {
                for &ip1 in &levels {
                    let f = d.formula(ip1).unwrap();
                    for ps in [50_000.0, 101_325.0, 110_000.0] {
                        let p = f.evaluate(ps, None).unwrap();
                        proptest::prop_assert!(p.is_finite(), "{ip1} {f:?} {ps} -> {p}");
                    }
                }
            }
        }
    }
}
