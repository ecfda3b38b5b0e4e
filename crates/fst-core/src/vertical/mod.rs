//! Vertical grid descriptors: the `!!` records of ECCC's vgrid library ("libdescrip", wrapped
//! by rpnpy's `rpnpy.vgd`).
//!
//! A `!!` record holds a small float64 table (datyp 5, 64 bits, grid `X`, `nk` = 1) that
//! describes a model's vertical coordinate: its code (`vcode` = kind·1000 + version), the
//! constants of its formula (`ptop`, `pref`, the rectification coefficients `rcoef1`–`rcoef4`),
//! the names of its reference fields (`P0`, `ME`, …) and, for every level, its ip1 and the
//! A, B (and for SLEVE-like coordinates C) terms of the formula that gives the level's pressure
//! or height. This module turns such a table into a [`VerticalDescriptor`] and back, bit for
//! bit, and gives each level's formula ([`VerticalDescriptor::formula`]). It does no I/O:
//! [`crate::write::FstWriter::write_vertical`] writes the record, and
//! [`VerticalDescriptor::from_field`] reads one that [`crate::FstFile::decode`] returned.
//! Files older than vgrid have no `!!`: [`VerticalDescriptor::from_legacy`] builds the
//! descriptor vgrid builds from their levels and `HY`/`PT` records.
//!
//! # Table layout (vgrid 6.4)
//! The table is `ni` × `nj` values, i fastest. Row j = 0 starts with (kind, version, skip),
//! where `skip` is the number of header rows; the header holds the constants and names of the
//! coordinate; each of the following rows is one level: (ip1, A, B) when `ni` = 3, or
//! (ip1, A, B, C) when `ni` = 4. Unused header slots are 0. A name (4 characters, blank-padded)
//! is stored in the low 4 bytes of the float64's bits, first character lowest.
//!
//! | vcode | ni | header after (kind, version, skip) | level rows |
//! |---|---|---|---|
//! | 1 (ocean heights) | 3 | — | momentum, then vertical-velocity |
//! | 1001 sigma, 5999 (unstaggered hybrid, other) | 3 | name, 0, 0 | momentum |
//! | 1002 eta | 3 | ptop, name, 0 | momentum |
//! | 2001 pressure, 4001 heights above ground | 3 | — | momentum |
//! | 1003 normalised hybrid, 5001 hybrid | 3 | ptop, pref, rcoef1, name, 0, 0 | momentum |
//! | 5002–5005 staggered hybrid | 3 | ptop, pref, rcoef1, rcoef2, name, 0 | momentum, then thermodynamic |
//! | 5100 staggered SLEVE-like hybrid | 4 | ptop, pref, rcoef1–4, name, large-scale name, 0 | momentum, then thermodynamic |
//! | 21001 Gal-Chen height (SLEVE when rcoef3/4 differ from 1/2) | 4 | rcoef1–4, name, large-scale name, 0, 0, 0 | momentum, then thermodynamic |
//! | 21002 Gal-Chen height, Lorenz staggering | 4 | rcoef1–4, name, large-scale name, 0, 0, 0 | momentum, then vertical-velocity, then the thermodynamic diagnostic level |
//!
//! 5002 and 5003 have one more thermodynamic level than momentum levels (the top one).
//! Where a coordinate stores one set of levels, the other sets are the same levels (vgrid's
//! `VIPT`/`VIPW` are then `VIPM`); 5002–5005, 5100 and 21001 use the thermodynamic levels for
//! vertical velocity; 21002's thermodynamic levels are its momentum levels with the last
//! (diagnostic) one replaced.
//!
//! # Record keys
//! vgrid writes nomvar `!!`, typvar `X`, grid `X`, dateo/deet/npas 0, ip3 0, datyp 5 with
//! 64 bits, ip1/ip2 as the caller asks (0 by default; they tell several descriptors of one
//! file apart), ig1 = vcode, ig2 = round(ptop·10) (1002, 1003, 5001–5004), ig3 =
//! round(rcoef1·100) (1003, 5001–5005), ig4 = round(rcoef2·100) (5002–5005), and an etiket
//! per vcode ([`VerticalDescriptor::etiket`]).
//!
//! ```
//! use fst_core::vertical::{LevelFormula, Vcode, VerticalDescriptor, VerticalLevel};
//!
//! // A 2-level sigma coordinate (ip1 old-style sigma 0.5 and 1.0).
//! let mut d = VerticalDescriptor::new(Vcode::SIGMA);
//! d.momentum = vec![
//!     VerticalLevel { ip1: 7000, a: 0.0, b: 0.5, c: 0.0 },
//!     VerticalLevel { ip1: 12000, a: 0.0, b: 1.0, c: 0.0 },
//! ];
//! let table = d.to_table()?;
//! assert_eq!((table.ni, table.nj), (3, 4));
//! let back = VerticalDescriptor::from_table(table.ni, table.nj, 1, &table.values)?;
//! assert_eq!(back, d.clone().with_shared_levels());
//! // p = A + B·ps, in Pa.
//! let f = d.formula(7000)?;
//! assert!(matches!(f, LevelFormula::Linear { .. }));
//! assert_eq!(f.evaluate(100_000.0, None), Some(50_000.0));
//! # Ok::<(), fst_core::vertical::VerticalError>(())
//! ```

mod legacy;

pub use legacy::{descriptor_nomvars, HyKeys, HY_NOMVAR, PT_NOMVAR};

use crate::ip::{decode_ip, LevelKind};

/// The nomvar of a vertical grid descriptor record.
pub const NOMVAR: &str = "!!";

/// The most levels of one kind a descriptor may hold (vgrid has no limit; real models use
/// fewer than 300). Bounds what a malformed table can make us allocate.
pub const MAX_LEVELS: usize = 100_000;

/// A vertical coordinate code: kind·1000 + version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vcode {
    /// The kind (the ip1 kind of its levels in most cases: 1 sigma/eta, 2 pressure, 5 hybrid,
    /// 21 height).
    pub kind: u32,
    /// The version within the kind.
    pub version: u32,
}

impl Vcode {
    /// 1: ocean heights.
    pub const OCEAN_HEIGHT: Vcode = Vcode::new(0, 1);
    /// 1001: sigma.
    pub const SIGMA: Vcode = Vcode::new(1, 1);
    /// 1002: eta (sigma with a top pressure).
    pub const ETA: Vcode = Vcode::new(1, 2);
    /// 1003: normalised hybrid (GEM 3).
    pub const HYBRID_NORMALIZED: Vcode = Vcode::new(1, 3);
    /// 2001: pressure.
    pub const PRESSURE: Vcode = Vcode::new(2, 1);
    /// 4001: heights above ground.
    pub const HEIGHT_ABOVE_GROUND: Vcode = Vcode::new(4, 1);
    /// 5001: hybrid, unstaggered (GEM 3).
    pub const HYBRID: Vcode = Vcode::new(5, 1);
    /// 5002: staggered hybrid (GEM 4), thermodynamic levels between momentum levels.
    pub const HYBRID_STAGGERED: Vcode = Vcode::new(5, 2);
    /// 5003: staggered hybrid, first thermodynamic level at the top.
    pub const HYBRID_STAGGERED_TOP: Vcode = Vcode::new(5, 3);
    /// 5004: staggered hybrid, top thermodynamic level at the top momentum level.
    pub const HYBRID_STAGGERED_MIDDLE: Vcode = Vcode::new(5, 4);
    /// 5005: staggered hybrid with diagnostic levels in metres (GEM 4.x operational).
    pub const HYBRID_STAGGERED_DIAG: Vcode = Vcode::new(5, 5);
    /// 5100: staggered SLEVE-like hybrid (two reference pressures).
    pub const HYBRID_SLEVE: Vcode = Vcode::new(5, 100);
    /// 5999: unstaggered hybrid of another origin.
    pub const HYBRID_OTHER: Vcode = Vcode::new(5, 999);
    /// 21001: Gal-Chen hybrid height, SLEVE when rcoef3/rcoef4 are set.
    pub const HEIGHT_GAL_CHEN: Vcode = Vcode::new(21, 1);
    /// 21002: Gal-Chen hybrid height with Lorenz staggering.
    pub const HEIGHT_GAL_CHEN_LORENZ: Vcode = Vcode::new(21, 2);

    /// The code for `kind` and `version`.
    #[must_use]
    pub const fn new(kind: u32, version: u32) -> Self {
        Self { kind, version }
    }

    /// kind·1000 + version (what vgrid writes in ig1), saturating.
    #[must_use]
    pub fn code(self) -> u32 {
        self.kind.saturating_mul(1000).saturating_add(self.version)
    }

    /// What the coordinate is, in a few words (the names of vgrid's documentation), or
    /// `None` for a code vgrid does not define.
    #[must_use]
    pub fn description(self) -> Option<&'static str> {
        Some(match self.code() {
            1 => "ocean heights",
            1001 => "sigma",
            1002 => "eta",
            1003 => "normalised hybrid (GEM 3)",
            2001 => "pressure",
            4001 => "heights above ground",
            5001 => "hybrid, unstaggered (GEM 3)",
            5002 => "staggered log-pressure hybrid (GEM 4)",
            5003 => "staggered log-pressure hybrid, top thermodynamic level at the top",
            5004 => "staggered log-pressure hybrid, top level shared",
            5005 => "staggered log-pressure hybrid with diagnostic levels (GEM 4)",
            5100 => "staggered SLEVE-like log-pressure hybrid",
            5999 => "unstaggered hybrid of another origin",
            21001 => "Gal-Chen hybrid height",
            21002 => "Gal-Chen hybrid height, Lorenz staggering",
            _ => return None,
        })
    }

    fn layout(self) -> Option<Layout> {
        Some(match self.code() {
            1 => Layout::Ocean,
            1001 | 5999 => Layout::Named,
            1002 => Layout::Eta,
            2001 | 4001 => Layout::Plain,
            1003 | 5001 => Layout::Hybrid,
            5002 | 5003 => Layout::Staggered { top: true },
            5004 | 5005 => Layout::Staggered { top: false },
            5100 => Layout::Sleve,
            21001 => Layout::Height,
            21002 => Layout::Lorenz,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Vcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// How a vcode lays out its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Ocean,
    Named,
    Eta,
    Plain,
    Hybrid,
    Staggered { top: bool },
    Sleve,
    Height,
    Lorenz,
}

impl Layout {
    /// Values per row (3 or 4) and header rows.
    fn shape(self) -> (usize, usize) {
        match self {
            Layout::Ocean | Layout::Plain => (3, 1),
            Layout::Named | Layout::Eta => (3, 2),
            Layout::Hybrid | Layout::Staggered { .. } => (3, 3),
            Layout::Sleve | Layout::Height | Layout::Lorenz => (4, 3),
        }
    }

    /// Which optional header fields the table holds.
    fn fields(self) -> Fields {
        let f = Fields::default();
        match self {
            Layout::Ocean | Layout::Plain => f,
            Layout::Named => Fields { name: true, ..f },
            Layout::Eta => Fields {
                ptop: true,
                name: true,
                ..f
            },
            Layout::Hybrid => Fields {
                ptop: true,
                pref: true,
                rcoef: 1,
                name: true,
                ..f
            },
            Layout::Staggered { .. } => Fields {
                ptop: true,
                pref: true,
                rcoef: 2,
                name: true,
                ..f
            },
            Layout::Sleve => Fields {
                ptop: true,
                pref: true,
                rcoef: 4,
                name: true,
                name_ls: true,
            },
            Layout::Height | Layout::Lorenz => Fields {
                rcoef: 4,
                name: true,
                name_ls: true,
                ..f
            },
        }
    }
}

/// The header slots of a layout, in the order they are stored.
#[derive(Debug, Clone, Copy, Default)]
#[allow(clippy::struct_excessive_bools)] // one flag per optional slot
struct Fields {
    ptop: bool,
    pref: bool,
    rcoef: usize,
    name: bool,
    name_ls: bool,
}

/// One level of a descriptor: its ip1 and the terms of its formula (see [`LevelFormula`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerticalLevel {
    /// The ip1 of the level's records.
    pub ip1: u32,
    /// A term.
    pub a: f64,
    /// B term.
    pub b: f64,
    /// C term (5100, 21001, 21002; 0 elsewhere).
    pub c: f64,
}

/// A vertical grid descriptor, as vgrid holds it.
///
/// The three level lists are complete, as vgrid's `VIPM`/`VIPT`/`VIPW` getters return them,
/// even where the table stores one set only; [`VerticalDescriptor::to_table`] checks that the
/// sets it does not store are empty or agree with the ones it does.
#[derive(Debug, Clone, PartialEq)]
pub struct VerticalDescriptor {
    /// The coordinate.
    pub vcode: Vcode,
    /// Top pressure in Pa (1002, 1003, 5001–5005, 5100; vgrid stores −9999 for 5005 and 5100,
    /// whose top is computed).
    pub ptop: Option<f64>,
    /// Reference pressure in Pa (1003, 5001–5005, 5100).
    pub pref: Option<f64>,
    /// Rectification coefficients 1–4, as far as the vcode has them (1003 and 5001: one;
    /// 5002–5005: two; 5100, 21001, 21002: four).
    pub rcoef: [Option<f32>; 4],
    /// The reference field's nomvar (`P0` for pressure-based coordinates, `ME` for heights);
    /// `None` where the table has no name slot, or holds blanks.
    pub reference: Option<String>,
    /// The large-scale reference field's nomvar (`P0LS`, `MELS`) of SLEVE-like coordinates;
    /// `None` when not SLEVE (blanks in the table) or not stored.
    pub reference_large_scale: Option<String>,
    /// Momentum levels, top down.
    pub momentum: Vec<VerticalLevel>,
    /// Thermodynamic levels, top down.
    pub thermo: Vec<VerticalLevel>,
    /// Vertical-velocity levels, top down.
    pub vertical_velocity: Vec<VerticalLevel>,
}

/// A `!!` table: `ni` × `nj` float64 values, i fastest (the record has `nk` = 1).
#[derive(Debug, Clone, PartialEq)]
pub struct VerticalTable {
    /// Values per row (3 or 4).
    pub ni: u32,
    /// Rows: header rows plus one per stored level.
    pub nj: u32,
    /// The values.
    pub values: Vec<f64>,
}

/// Why a table or a descriptor is not a valid vertical grid descriptor.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VerticalError {
    /// The table's vcode is not one this module knows.
    #[error("vertical coordinate {vcode} (kind {}, version {}) is not supported", vcode.kind, vcode.version)]
    UnsupportedVcode {
        /// The code found.
        vcode: Vcode,
    },
    /// The table does not have the shape or the values its vcode calls for.
    #[error("`!!` table ({ni}x{nj}x{nk}): {reason}")]
    Table {
        /// Values per row.
        ni: u32,
        /// Rows.
        nj: u32,
        /// Layers.
        nk: u32,
        /// What is wrong.
        reason: String,
    },
    /// The descriptor cannot be written as vgrid's table.
    #[error("vertical coordinate {vcode}: {reason}")]
    Descriptor {
        /// The coordinate.
        vcode: Vcode,
        /// What is wrong.
        reason: String,
    },
    /// Levels of a file without `!!` whose `HY`/`PT` records give no coordinate.
    #[error("legacy vertical coordinate (HY/PT records): {reason}")]
    Legacy {
        /// What is wrong.
        reason: String,
    },
    /// The ip1 is not a level of the descriptor.
    #[error("vertical coordinate {vcode}: ip1 {ip1} is not one of its levels")]
    UnknownLevel {
        /// The coordinate.
        vcode: Vcode,
        /// The ip1 asked for.
        ip1: u32,
    },
}

/// The formula that gives a level's pressure (Pa) or height (m) from its reference fields,
/// with the level's terms (vgrid's `Cvgd_levels`). Reference pressures are in **Pa** (the
/// `P0` records are in hPa: multiply by 100); heights in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LevelFormula {
    /// p = a + b·ps (1001 sigma, 1002 eta, 1003, 5001, 5999; 2001 has b = 0: p = a).
    Linear {
        /// A (Pa).
        a: f64,
        /// B.
        b: f64,
    },
    /// ln p = a + b·ln(ps/pref) (5002–5005).
    LogLinear {
        /// A (ln Pa).
        a: f64,
        /// B.
        b: f64,
        /// Reference pressure (Pa).
        pref: f64,
    },
    /// ln p = a + b·ln(ps/pref) + c·ln(`ps_ls`/pref), with `ps_ls` the large-scale (smoothed)
    /// surface pressure (5100).
    LogLinearSleve {
        /// A (ln Pa).
        a: f64,
        /// B.
        b: f64,
        /// C.
        c: f64,
        /// Reference pressure (Pa).
        pref: f64,
    },
    /// z = a + b·zs + c·`zs_ls`, with zs the surface height and `zs_ls` its large-scale version,
    /// zs itself when the coordinate is not SLEVE (21001, 21002), in metres.
    Height {
        /// A (m).
        a: f64,
        /// B.
        b: f64,
        /// C.
        c: f64,
        /// True when the coordinate has a large-scale reference field (`MELS`).
        large_scale: bool,
    },
    /// z = a: fixed heights (1 ocean, 4001 above ground), in metres.
    FixedHeight {
        /// The height (m).
        a: f64,
    },
    /// The surface level (hybrid 1.0, or height 0 for 21001/21002): vgrid returns the
    /// reference field itself (ps, or zs).
    Surface,
}

impl LevelFormula {
    /// True when the formula gives a height (m) rather than a pressure (Pa).
    #[must_use]
    pub fn is_height(&self) -> bool {
        matches!(
            self,
            LevelFormula::Height { .. } | LevelFormula::FixedHeight { .. }
        )
    }

    /// The level's pressure (Pa) or height (m) for reference value `surface` (ps in Pa, or zs
    /// in m) and, for SLEVE-like coordinates, the large-scale reference `large_scale` (None
    /// for those gives None). Computed as vgrid computes it in double precision.
    #[must_use]
    pub fn evaluate(&self, surface: f64, large_scale: Option<f64>) -> Option<f64> {
        Some(match *self {
            LevelFormula::Linear { a, b } => a + b * surface,
            LevelFormula::LogLinear { a, b, pref } => (a + b * (surface / pref).ln()).exp(),
            LevelFormula::LogLinearSleve { a, b, c, pref } => {
                let ls = large_scale?;
                (a + b * (surface / pref).ln() + c * (ls / pref).ln()).exp()
            }
            LevelFormula::Height {
                a,
                b,
                c,
                large_scale: sleve,
            } => {
                let ls = if sleve { large_scale? } else { surface };
                a + b * surface + c * ls
            }
            LevelFormula::FixedHeight { a } => a,
            LevelFormula::Surface => surface,
        })
    }
}

/// Read a name stored in a float64's low 4 bytes (first character lowest).
fn name_from_f64(v: f64) -> Option<String> {
    let bits = v.to_bits();
    let bytes = (bits as u32).to_le_bytes();
    if bits >> 32 != 0 || !bytes.iter().all(|b| (0x20..0x7F).contains(b)) {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).trim_end().to_owned())
}

/// Store a name (at most 4 printable ASCII characters, blank-padded) as vgrid does.
fn name_to_f64(name: Option<&str>) -> Option<f64> {
    let name = name.unwrap_or("");
    let bytes = name.as_bytes();
    if bytes.len() > 4 || !bytes.iter().all(|b| (0x20..0x7F).contains(b)) {
        return None;
    }
    let mut word = [b' '; 4];
    for (w, b) in word.iter_mut().zip(bytes) {
        *w = *b;
    }
    Some(f64::from_bits(u64::from(u32::from_le_bytes(word))))
}

/// An ip1 stored as a float64: a whole number in 0..2²⁸ (the ip field).
fn ip1_from_f64(v: f64) -> Option<u32> {
    (v.fract() == 0.0 && (0.0..268_435_456.0).contains(&v)).then_some(v as u32)
}

impl VerticalDescriptor {
    /// An empty descriptor for `vcode`, with vgrid's reference names (`P0` for the
    /// pressure-based coordinates, `P0`/`P0LS` for 5100, `ME`/`MELS` for 21001/21002) and no
    /// levels or constants.
    #[must_use]
    pub fn new(vcode: Vcode) -> Self {
        let (reference, large) = match vcode.layout() {
            Some(Layout::Named | Layout::Eta | Layout::Hybrid | Layout::Staggered { .. }) => {
                (Some("P0"), None)
            }
            Some(Layout::Sleve) => (Some("P0"), Some("P0LS")),
            Some(Layout::Height | Layout::Lorenz) => (Some("ME"), Some("MELS")),
            _ => (None, None),
        };
        Self {
            vcode,
            ptop: None,
            pref: None,
            rcoef: [None; 4],
            reference: reference.map(str::to_owned),
            reference_large_scale: large.map(str::to_owned),
            momentum: Vec::new(),
            thermo: Vec::new(),
            vertical_velocity: Vec::new(),
        }
    }

    /// This descriptor with the level sets its vcode does not store filled from the ones it
    /// does, as [`VerticalDescriptor::from_table`] returns them.
    #[must_use]
    pub fn with_shared_levels(mut self) -> Self {
        match self.vcode.layout() {
            Some(Layout::Ocean) => self.thermo.clone_from(&self.momentum),
            Some(Layout::Named | Layout::Eta | Layout::Plain | Layout::Hybrid) => {
                self.thermo.clone_from(&self.momentum);
                self.vertical_velocity.clone_from(&self.momentum);
            }
            Some(Layout::Staggered { .. } | Layout::Sleve | Layout::Height) => {
                self.vertical_velocity.clone_from(&self.thermo);
            }
            Some(Layout::Lorenz) => {
                if let Some(diag) = self.thermo.last().copied() {
                    self.thermo.clone_from(&self.momentum);
                    if let Some(last) = self.thermo.last_mut() {
                        *last = diag;
                    }
                }
            }
            None => {}
        }
        self
    }

    /// Decode a `!!` table of `ni` × `nj` × `nk` values (i fastest), as a `!!` record holds it.
    #[allow(clippy::too_many_lines)] // one pass over the table, slot by slot
    pub fn from_table(ni: u32, nj: u32, nk: u32, values: &[f64]) -> Result<Self, VerticalError> {
        let bad = |reason: String| VerticalError::Table { ni, nj, nk, reason };
        let (ni_us, nj_us) = (ni as usize, nj as usize);
        if nk != 1 || !(3..=4).contains(&ni) || nj == 0 {
            return Err(bad(
                "expected 3 or 4 values per row, at least one row, nk = 1".into(),
            ));
        }
        if ni_us.checked_mul(nj_us) != Some(values.len()) {
            return Err(bad(format!("{} values", values.len())));
        }
        let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
        let whole = |v: f64| (v.fract() == 0.0 && (0.0..1e9).contains(&v)).then_some(v as u32);
        let (Some(kind), Some(version), Some(skip)) = (whole(at(0)), whole(at(1)), whole(at(2)))
        else {
            return Err(bad(format!(
                "header ({}, {}, {}) is not (kind, version, skip)",
                at(0),
                at(1),
                at(2)
            )));
        };
        let vcode = Vcode::new(kind, version);
        let layout = vcode
            .layout()
            .ok_or(VerticalError::UnsupportedVcode { vcode })?;
        let (want_ni, want_skip) = layout.shape();
        if ni_us != want_ni || skip as usize != want_skip {
            return Err(bad(format!(
                "vcode {vcode} has {want_ni} values per row and {want_skip} header rows, the table {ni} and {skip}"
            )));
        }
        let rows = nj_us
            .checked_sub(want_skip)
            .ok_or_else(|| bad("fewer rows than its header".into()))?;
        let fields = layout.fields();
        let mut d = VerticalDescriptor::new(vcode);
        // Header slots after (kind, version, skip), in order.
        let mut slot = 3;
        let mut next = || {
            let v = at(slot);
            slot += 1;
            v
        };
        if fields.ptop {
            d.ptop = Some(next());
        }
        if fields.pref {
            d.pref = Some(next());
        }
        for r in d.rcoef.iter_mut().take(fields.rcoef) {
            *r = Some(next() as f32);
        }
        let name =
            |v: f64| name_from_f64(v).ok_or_else(|| bad(format!("{v:e} is not a reference name")));
        if fields.name {
            d.reference = Some(name(next())?).filter(|n| !n.is_empty());
        }
        d.reference_large_scale = if fields.name_ls {
            Some(name(next())?).filter(|n| !n.is_empty())
        } else {
            None
        };
        let level = |row: usize| -> Result<VerticalLevel, VerticalError> {
            let base = (want_skip + row) * want_ni;
            let ip1 = ip1_from_f64(at(base)).ok_or_else(|| {
                bad(format!(
                    "row {}: ip1 {} is not an ip",
                    want_skip + row,
                    at(base)
                ))
            })?;
            Ok(VerticalLevel {
                ip1,
                a: at(base + 1),
                b: at(base + 2),
                c: if want_ni == 4 { at(base + 3) } else { 0.0 },
            })
        };
        let levels = |range: std::ops::Range<usize>| -> Result<Vec<VerticalLevel>, VerticalError> {
            let mut v = crate::alloc::try_vec_with_capacity(range.len())
                .map_err(|_oom| bad("out of memory for the levels".into()))?;
            for row in range {
                v.push(level(row)?);
            }
            Ok(v)
        };
        if rows > 3 * MAX_LEVELS {
            return Err(bad(format!("{rows} levels exceed {MAX_LEVELS} per kind")));
        }
        let uneven = || {
            bad(format!(
                "{rows} level rows cannot be split as vcode {vcode} stores them"
            ))
        };
        match layout {
            Layout::Ocean => {
                if rows % 2 != 0 {
                    return Err(uneven());
                }
                d.momentum = levels(0..rows / 2)?;
                d.vertical_velocity = levels(rows / 2..rows)?;
            }
            Layout::Named | Layout::Eta | Layout::Plain | Layout::Hybrid => {
                d.momentum = levels(0..rows)?;
            }
            Layout::Staggered { top } => {
                // 5002/5003 have one more thermodynamic level than momentum levels.
                let extra = usize::from(top);
                let m = rows
                    .checked_sub(extra)
                    .filter(|r| r % 2 == 0)
                    .ok_or_else(uneven)?
                    / 2;
                d.momentum = levels(0..m)?;
                d.thermo = levels(m..rows)?;
            }
            Layout::Sleve | Layout::Height => {
                if rows % 2 != 0 {
                    return Err(uneven());
                }
                d.momentum = levels(0..rows / 2)?;
                d.thermo = levels(rows / 2..rows)?;
            }
            Layout::Lorenz => {
                let m = rows
                    .checked_sub(1)
                    .filter(|r| r % 2 == 0)
                    .ok_or_else(uneven)?
                    / 2;
                d.momentum = levels(0..m)?;
                d.vertical_velocity = levels(m..2 * m)?;
                d.thermo = levels(2 * m..rows)?;
            }
        }
        Ok(d.with_shared_levels())
    }

    /// Decode the values of a `!!` record read with [`crate::FstFile::decode`] (datyp 5,
    /// 64 bits).
    pub fn from_field(field: &crate::Field) -> Result<Self, VerticalError> {
        match &field.samples {
            crate::codec::Samples::F64(v) => Self::from_table(field.ni, field.nj, field.nk, v),
            other => Err(VerticalError::Table {
                ni: field.ni,
                nj: field.nj,
                nk: field.nk,
                reason: format!(
                    "holds {:?} values, vgrid writes float64",
                    other.sample_type()
                ),
            }),
        }
    }

    /// The table vgrid writes for this descriptor, bit for bit.
    #[allow(clippy::too_many_lines)] // the header, then the level sets of each layout
    pub fn to_table(&self) -> Result<VerticalTable, VerticalError> {
        let vcode = self.vcode;
        let bad = |reason: String| VerticalError::Descriptor { vcode, reason };
        let layout = vcode
            .layout()
            .ok_or(VerticalError::UnsupportedVcode { vcode })?;
        let fields = layout.fields();
        let (ni, skip) = layout.shape();
        // The header, then the constants the vcode has, each required; those it does not have
        // must be None, or they would silently be lost.
        let mut header = vec![f64::from(vcode.kind), f64::from(vcode.version), skip as f64];
        let want = |name: &str, v: Option<f64>, has: bool| -> Result<Option<f64>, VerticalError> {
            match (v, has) {
                (Some(v), true) => Ok(Some(v)),
                (None, false) => Ok(None),
                (None, true) => Err(bad(format!("{name} is required"))),
                (Some(_), false) => Err(bad(format!("has no {name}"))),
            }
        };
        header.extend(want("ptop", self.ptop, fields.ptop)?);
        header.extend(want("pref", self.pref, fields.pref)?);
        for (i, r) in self.rcoef.iter().enumerate() {
            header.extend(want(
                &format!("rcoef{}", i + 1),
                r.map(f64::from),
                i < fields.rcoef,
            )?);
        }
        let name =
            |label: &str, n: &Option<String>, has: bool| -> Result<Option<f64>, VerticalError> {
                if !has {
                    return match n {
                        None => Ok(None),
                        Some(_) => Err(bad(format!("has no {label}"))),
                    };
                }
                name_to_f64(n.as_deref()).map(Some).ok_or_else(|| {
                    bad(format!(
                        "{label} {n:?} is not a nomvar (4 ASCII characters)"
                    ))
                })
            };
        header.extend(name("reference field", &self.reference, fields.name)?);
        header.extend(name(
            "large-scale reference field",
            &self.reference_large_scale,
            fields.name_ls,
        )?);
        header.resize(ni * skip, 0.0);

        // The stored level sets; the others must agree with them.
        // Sets that are not stored may be left empty.
        let same = |label: &str, a: &[VerticalLevel], b: &[VerticalLevel]| {
            if a.is_empty() || a == b {
                Ok(())
            } else {
                Err(bad(format!(
                    "{label} levels must be empty or equal the levels stored (vgrid stores one set)"
                )))
            }
        };
        let m = &self.momentum;
        let stored: Vec<&[VerticalLevel]> = match layout {
            Layout::Ocean => {
                same("thermodynamic", &self.thermo, m)?;
                vec![m, &self.vertical_velocity]
            }
            Layout::Named | Layout::Eta | Layout::Plain | Layout::Hybrid => {
                same("thermodynamic", &self.thermo, m)?;
                same("vertical-velocity", &self.vertical_velocity, m)?;
                vec![m]
            }
            Layout::Staggered { top } => {
                let want_t = m.len() + usize::from(top);
                if self.thermo.len() != want_t {
                    return Err(bad(format!(
                        "{} momentum levels call for {want_t} thermodynamic levels, not {}",
                        m.len(),
                        self.thermo.len()
                    )));
                }
                same("vertical-velocity", &self.vertical_velocity, &self.thermo)?;
                vec![m, &self.thermo]
            }
            Layout::Sleve | Layout::Height => {
                if self.thermo.len() != m.len() {
                    return Err(bad(
                        "as many thermodynamic as momentum levels are needed".into()
                    ));
                }
                same("vertical-velocity", &self.vertical_velocity, &self.thermo)?;
                vec![m, &self.thermo]
            }
            Layout::Lorenz => {
                let n = m.len();
                let (Some((diag, t_rest)), Some(m_rest)) =
                    (self.thermo.split_last(), m.get(..n.saturating_sub(1)))
                else {
                    return Err(bad("no levels".into()));
                };
                if self.thermo.len() != n || self.vertical_velocity.len() != n || t_rest != m_rest {
                    return Err(bad(
                        "thermodynamic levels must be the momentum levels but the last, and as many vertical-velocity levels are needed".into(),
                    ));
                }
                vec![m, &self.vertical_velocity, std::slice::from_ref(diag)]
            }
        };
        let nlev: usize = stored.iter().map(|s| s.len()).sum();
        if nlev == 0 || nlev > 3 * MAX_LEVELS {
            return Err(bad(format!(
                "{nlev} levels (1 to {} allowed)",
                3 * MAX_LEVELS
            )));
        }
        let mut values = header;
        for lev in stored.into_iter().flatten() {
            if lev.ip1 >= 1 << 28 {
                return Err(bad(format!("ip1 {} does not fit 28 bits", lev.ip1)));
            }
            values.extend([f64::from(lev.ip1), lev.a, lev.b]);
            if ni == 4 {
                values.push(lev.c);
            } else if lev.c != 0.0 {
                return Err(bad(format!(
                    "ip1 {}: C term {} but this vcode has none",
                    lev.ip1, lev.c
                )));
            }
        }
        Ok(VerticalTable {
            ni: ni as u32,
            nj: (skip + nlev) as u32,
            values,
        })
    }

    /// The etiket vgrid writes for this vcode.
    #[must_use]
    pub fn etiket(&self) -> &'static str {
        match self.vcode.code() {
            1 => "HEIGHT_OCEAN",
            1001 | 1002 => "ETA_GEMV3",
            1003 => "HYBNORM_GEM3",
            2001 => "PRESSURE",
            4001 => "M_ABOVE_SFC",
            5001 => "HYB_GEMV3",
            5002..=5005 => "STG_CP_GEMV4",
            5100 => "STG_CP_SLEVE",
            5999 => "UNSTAG_OTHER",
            21001 if self.reference_large_scale.is_some() => "HYB_H_CP_SLV",
            21001 => "HYB_H_CP",
            21002 => "HYB_H_LORENZ",
            _ => "",
        }
    }

    /// ig1..ig4 of the `!!` record: the vcode, then ptop·10, rcoef1·100 and rcoef2·100 (each
    /// rounded, where the vcode writes it, else 0).
    pub fn igs(&self) -> Result<[u32; 4], VerticalError> {
        let code = self.vcode.code();
        let bad = |what: &str, v: f64| VerticalError::Descriptor {
            vcode: self.vcode,
            reason: format!("{what} {v} does not fit an ig (0 to 2^24 - 1 after scaling)"),
        };
        let ig = |what: &str, v: Option<f64>| -> Result<u32, VerticalError> {
            let v = v.unwrap_or(0.0);
            (0.0..16_777_216.0)
                .contains(&v)
                .then_some(v as u32)
                .ok_or_else(|| bad(what, v))
        };
        // vgrid rounds ptop·10 in double and the coefficients·100 in single precision.
        let ptop = matches!(code, 1002 | 1003 | 5001..=5004)
            .then(|| self.ptop.map(|p| (p * 10.0).round()))
            .flatten();
        let rc = |i: usize| {
            self.rcoef
                .get(i)
                .copied()
                .flatten()
                .map(|r| f64::from((r * 100.0).round()))
        };
        let rc1 = matches!(code, 1003 | 5001..=5005).then(|| rc(0)).flatten();
        let rc2 = matches!(code, 5002..=5005).then(|| rc(1)).flatten();
        Ok([
            code,
            ig("ptop·10", ptop)?,
            ig("rcoef1·100", rc1)?,
            ig("rcoef2·100", rc2)?,
        ])
    }

    /// The level of a record: its terms and formula, looked up by `ip1` as vgrid does
    /// (momentum levels first, then thermodynamic, then vertical velocity).
    #[must_use]
    pub fn level(&self, ip1: u32) -> Option<&VerticalLevel> {
        [&self.momentum, &self.thermo, &self.vertical_velocity]
            .into_iter()
            .flat_map(|set| set.iter())
            .find(|l| l.ip1 == ip1)
    }

    /// The formula of the level whose ip1 is `ip1` (vgrid's `Cvgd_levels`), with vgrid's rule
    /// that the surface level gives the reference field back: hybrid 1.0 (ip1 kind 5) for
    /// 5002–5005 and 5100, sigma 1.0 (kind 1) for 1003 and 5001, height 0 (kind 21) for
    /// 21001/21002.
    pub fn formula(&self, ip1: u32) -> Result<LevelFormula, VerticalError> {
        let vcode = self.vcode;
        let unknown = || VerticalError::UnknownLevel { vcode, ip1 };
        let code = vcode.code();
        // vgrid looks the older coordinates up in the momentum levels only.
        let lev = if matches!(code, 1 | 1001..=1003 | 2001 | 4001 | 5001 | 5999) {
            self.momentum.iter().find(|l| l.ip1 == ip1)
        } else {
            self.level(ip1)
        }
        .ok_or_else(unknown)?;
        let surface_kind = match code {
            1003 | 5001 => Some((LevelKind::Sigma, 1.0)),
            5002..=5005 | 5100 => Some((LevelKind::Hybrid, 1.0)),
            21001 | 21002 => Some((LevelKind::PressureMetres, 0.0)),
            _ => None,
        };
        if let Some((kind, value)) = surface_kind {
            if let Ok(ip) = decode_ip(ip1) {
                if ip.kind == kind && (ip.value - value).abs() < 1e-6 {
                    return Ok(LevelFormula::Surface);
                }
            }
        }
        let pref = || {
            self.pref.ok_or(VerticalError::Descriptor {
                vcode,
                reason: "pref is required".into(),
            })
        };
        Ok(match code {
            1001..=1003 | 5001 | 5999 => LevelFormula::Linear { a: lev.a, b: lev.b },
            2001 => LevelFormula::Linear { a: lev.a, b: 0.0 },
            1 | 4001 => LevelFormula::FixedHeight { a: lev.a },
            5002..=5005 => LevelFormula::LogLinear {
                a: lev.a,
                b: lev.b,
                pref: pref()?,
            },
            5100 => LevelFormula::LogLinearSleve {
                a: lev.a,
                b: lev.b,
                c: lev.c,
                pref: pref()?,
            },
            21001 | 21002 => LevelFormula::Height {
                a: lev.a,
                b: lev.b,
                c: lev.c,
                large_scale: self.reference_large_scale.is_some(),
            },
            _ => {
                return Err(VerticalError::Descriptor {
                    vcode,
                    reason: "vgrid computes no levels for this coordinate".into(),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lev(ip1: u32, a: f64, b: f64, c: f64) -> VerticalLevel {
        VerticalLevel { ip1, a, b, c }
    }

    #[test]
    fn names_are_stored_little_endian_in_the_low_bytes() {
        let v = name_to_f64(Some("P0")).unwrap();
        assert_eq!(v.to_bits(), 0x2020_3050);
        assert_eq!(name_from_f64(v).as_deref(), Some("P0"));
        assert_eq!(
            name_from_f64(name_to_f64(None).unwrap()).as_deref(),
            Some("")
        );
        assert_eq!(name_from_f64(1.0), None);
        assert_eq!(name_to_f64(Some("TOOLONG")), None);
    }

    #[test]
    fn staggered_round_trip_and_checks() {
        let mut d = VerticalDescriptor::new(Vcode::HYBRID_STAGGERED);
        d.ptop = Some(1000.0);
        d.pref = Some(80000.0);
        d.rcoef = [Some(1.6), Some(10.0), None, None];
        d.momentum = vec![lev(10, 9.0, 0.1, 0.0), lev(20, 11.0, 1.0, 0.0)];
        d.thermo = vec![
            lev(5, 8.0, 0.0, 0.0),
            lev(15, 10.0, 0.5, 0.0),
            lev(20, 11.0, 1.0, 0.0),
        ];
        d.vertical_velocity = d.thermo.clone();
        let t = d.to_table().unwrap();
        assert_eq!((t.ni, t.nj), (3, 8));
        assert_eq!(
            &t.values[..9],
            &[
                5.0,
                2.0,
                3.0,
                1000.0,
                80000.0,
                f64::from(1.6f32),
                10.0,
                name_to_f64(Some("P0")).unwrap(),
                0.0
            ]
        );
        let back = VerticalDescriptor::from_table(3, 8, 1, &t.values).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.to_table().unwrap(), t);
        assert_eq!(d.igs().unwrap(), [5002, 10000, 160, 1000]);
        assert_eq!(d.etiket(), "STG_CP_GEMV4");
        // A missing constant, an extra one, a wrong thermodynamic count: errors.
        let mut e = d.clone();
        e.pref = None;
        assert!(e.to_table().is_err());
        let mut e = d.clone();
        e.rcoef[2] = Some(1.0);
        assert!(e.to_table().is_err());
        let mut e = d.clone();
        e.thermo.pop();
        assert!(e.to_table().is_err());
        // Tables of the wrong shape are refused, never indexed past their end.
        assert!(VerticalDescriptor::from_table(3, 7, 1, &t.values[..21]).is_err());
        assert!(VerticalDescriptor::from_table(4, 6, 1, &t.values[..24]).is_err());
        assert!(VerticalDescriptor::from_table(3, 1, 1, &t.values[..3]).is_err());
    }

    #[test]
    fn lorenz_thermo_is_momentum_with_its_own_diagnostic_level() {
        let mut d = VerticalDescriptor::new(Vcode::HEIGHT_GAL_CHEN_LORENZ);
        d.rcoef = [Some(1.0), Some(2.0), Some(3.0), Some(4.0)];
        d.momentum = vec![lev(1, 100.0, 0.5, 0.1), lev(2, 10.0, 1.0, 0.0)];
        d.vertical_velocity = vec![lev(3, 50.0, 0.7, 0.2), lev(4, 5.0, 1.0, 0.0)];
        d.thermo = vec![lev(1, 100.0, 0.5, 0.1), lev(6, 1.5, 1.0, 0.0)];
        let t = d.to_table().unwrap();
        assert_eq!((t.ni, t.nj), (4, 8));
        assert_eq!(
            VerticalDescriptor::from_table(4, 8, 1, &t.values).unwrap(),
            d
        );
        assert_eq!(d.etiket(), "HYB_H_LORENZ");
        let f = d.formula(3).unwrap();
        assert_eq!(
            f.evaluate(200.0, Some(100.0)),
            Some(50.0 + 0.7 * 200.0 + 0.2 * 100.0)
        );
        assert_eq!(f.evaluate(200.0, None), None);
        assert!(d.formula(99).is_err());
    }

    /// A descriptor of every layout, with `n` levels per stored set, built from `seed`.
    fn sample(vcode: Vcode, n: usize, seed: f64) -> VerticalDescriptor {
        let layout = vcode.layout().unwrap();
        let fields = layout.fields();
        let mut d = VerticalDescriptor::new(vcode);
        d.ptop = fields.ptop.then_some(seed * 10.0);
        d.pref = fields.pref.then_some(80_000.0 + seed);
        for (i, r) in d.rcoef.iter_mut().enumerate().take(fields.rcoef) {
            *r = Some(seed as f32 + i as f32);
        }
        let c = if layout.shape().0 == 4 {
            seed / 7.0
        } else {
            0.0
        };
        let set = |base: u32| -> Vec<VerticalLevel> {
            (0..n)
                .map(|k| lev(base + k as u32, seed * k as f64, 1.0 / (k as f64 + seed), c))
                .collect()
        };
        match layout {
            Layout::Ocean => {
                d.momentum = set(100);
                d.vertical_velocity = set(200);
            }
            Layout::Named | Layout::Eta | Layout::Plain | Layout::Hybrid => d.momentum = set(100),
            Layout::Staggered { top } => {
                d.momentum = set(100);
                d.thermo = set(300);
                if top {
                    d.thermo.push(lev(999, seed, 1.0, 0.0));
                }
            }
            Layout::Sleve | Layout::Height => {
                d.momentum = set(100);
                d.thermo = set(300);
            }
            Layout::Lorenz => {
                d.momentum = set(100);
                d.vertical_velocity = set(200);
                d.thermo = d.momentum.clone();
                if let Some(last) = d.thermo.last_mut() {
                    last.ip1 = 777;
                }
            }
        }
        d.with_shared_levels()
    }

    const ALL: [u32; 16] = [
        1, 1001, 1002, 1003, 2001, 4001, 5001, 5002, 5003, 5004, 5005, 5100, 5999, 21001, 21002,
        21001,
    ];

    proptest::proptest! {
        #[test]
        fn every_layout_round_trips(which in 0usize..ALL.len(), n in 1usize..12, seed in 0.5f64..1e5) {
            let code = ALL[which];
            let d = sample(Vcode::new(code / 1000, code % 1000), n, seed);
            let t = d.to_table().unwrap();
            let back = VerticalDescriptor::from_table(t.ni, t.nj, 1, &t.values).unwrap();
            proptest::prop_assert_eq!(&back, &d);
            proptest::prop_assert_eq!(back.to_table().unwrap(), t);
        }

        #[test]
        fn any_table_is_decoded_or_refused(
            ni in 0u32..6,
            nj in 0u32..12,
            values in proptest::collection::vec(proptest::num::f64::ANY, 0..60),
            header in 0usize..ALL.len(),
        ) {
            let mut values = values;
            // Often a valid header, so that the level parsing is reached.
            if values.len() >= 3 && header % 2 == 0 {
                let code = ALL[header];
                let skip = Vcode::new(code / 1000, code % 1000).layout().unwrap().shape().1;
                values[0] = f64::from(code / 1000);
                values[1] = f64::from(code % 1000);
                values[2] = skip as f64;
            }
            if let Ok(d) = VerticalDescriptor::from_table(ni, nj, 1, &values) {
                let _ = d.to_table();
                for l in &d.momentum {
                    let _ = d.formula(l.ip1);
                }
            }
        }
    }

    #[test]
    fn formulas() {
        let f = LevelFormula::LogLinear {
            a: 100_000f64.ln(),
            b: 1.0,
            pref: 100_000.0,
        };
        let p = f.evaluate(95_000.0, None).unwrap();
        assert!((p - 95_000.0).abs() < 1e-6, "{p}");
        assert!(!f.is_height());
        assert_eq!(LevelFormula::Surface.evaluate(12.0, None), Some(12.0));
    }
}
