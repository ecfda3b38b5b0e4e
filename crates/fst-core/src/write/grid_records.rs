//! The records that describe a grid rather than hold a field: `>>`/`^^` (Z and Y grids), `^>`
//! (U, Yin-Yang) and `!!` (vertical coordinate), written with librmn's and vgrid's
//! conventions.
//!
//! # Positional records (librmn `ezgdef_fmem`/`ezqkdef`, rpnpy `writeGrid`)
//! - The data records of a Z, Y or U grid carry **tags** in ig1..ig3 (ig4 = 0); the
//!   positional records carry the same three numbers in ip1..ip3. librmn finds them by these
//!   tags, so the tags must be unique in the file to a grid: [`positional_tags`] derives them
//!   from the records' content (as rpnpy does), and [`FstWriter::positional_tags_in_use`]
//!   says whether a file already holds positional records with given tags.
//! - `>>` and `^^` carry the **reference grid** in grtyp and ig1..ig4 (Z: E, L, N or S; Y also
//!   O), typvar `X`, dates 0, float32 (datyp 5, 32 bits). For Z, `>>` is ni × 1 and `^^` is
//!   1 × nj and both must increase strictly (librmn stops in its interpolation set-up
//!   otherwise); for Y, both are ni × nj (longitudes, latitudes).
//! - `^>` (U grids) is one float32 record of 5 + 2·(10 + ni + nj) values, grid `F`,
//!   ig1 = 1 (format version): see [`yin_yang_values`].
//! - `!!`: see [`crate::vertical`].

use crate::codec::SamplesRef;
use crate::error::WriteError;
use crate::record::Datyp;
use crate::vertical::{VerticalDescriptor, NOMVAR as VERTICAL_NOMVAR};

use super::{FstWriter, RecordKeys, Written};

/// The nomvar of the x-axis (or longitude) positional record.
pub const X_AXIS: &str = ">>";
/// The nomvar of the y-axis (or latitude) positional record.
pub const Y_AXIS: &str = "^^";
/// The nomvar of the Yin-Yang positional record.
pub const YIN_YANG: &str = "^>";

/// The reference grid of positional records: its type and encoded parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceGrid {
    /// Grid type (E, L, N, S; O for Y grids).
    pub grtyp: u8,
    /// ig1..ig4 of the reference grid.
    pub ig: [u32; 4],
}

/// The values of the `>>` and `^^` records.
#[derive(Debug, Clone, Copy)]
pub enum PositionalAxes<'a> {
    /// A Z grid: `x` (ni values, the `>>` record) and `y` (nj values, `^^`), each strictly
    /// increasing, in the reference grid's units (§6.2 of the grids notes).
    Z {
        /// The x axis.
        x: &'a [f32],
        /// The y axis.
        y: &'a [f32],
    },
    /// A Y grid (a cloud of points): longitudes (`>>`) and latitudes (`^^`) of every point,
    /// ni × nj each, i fastest.
    Y {
        /// Points along i.
        ni: u32,
        /// Points along j.
        nj: u32,
        /// Longitudes.
        lon: &'a [f32],
        /// Latitudes.
        lat: &'a [f32],
    },
}

/// `>>` and `^^` records to write.
#[derive(Debug, Clone, Copy)]
pub struct PositionalRecords<'a> {
    /// ip1..ip3 of the records: ig1..ig3 of the data records on this grid.
    pub tags: [u32; 3],
    /// The reference grid.
    pub reference: ReferenceGrid,
    /// The values.
    pub axes: PositionalAxes<'a>,
    /// The records' etiket (librmn ignores it; rpnpy writes the data's).
    pub etiket: &'a str,
}

/// A Yin-Yang grid's `^>` record content: the rotated axes shared by both subgrids and each
/// subgrid's rotation (xlat1, xlon1, xlat2, xlon2, as for an E grid).
#[derive(Debug, Clone, Copy)]
pub struct YinYang<'a> {
    /// Rotated longitudes of a subgrid's columns (ni values).
    pub ax: &'a [f32],
    /// Rotated latitudes of a subgrid's rows (nj values).
    pub ay: &'a [f32],
    /// Yin's rotation.
    pub yin: [f32; 4],
    /// Yang's rotation.
    pub yang: [f32; 4],
}

/// The values of the `^>` record of `yy` (librmn's format version 1): ord('F'), 1, 2 subgrids,
/// "same resolution" 1, "same extent" 1, then for Yin and for Yang: ni, nj, first and last ax,
/// first and last ay, the four rotation values, ax, ay.
#[must_use]
pub fn yin_yang_values(yy: &YinYang<'_>) -> Vec<f32> {
    let (ni, nj) = (yy.ax.len(), yy.ay.len());
    let mut v = vec![f32::from(b'F'), 1.0, 2.0, 1.0, 1.0];
    for rotation in [yy.yin, yy.yang] {
        v.extend([
            ni as f32,
            nj as f32,
            yy.ax.first().copied().unwrap_or(0.0),
            yy.ax.last().copied().unwrap_or(0.0),
            yy.ay.first().copied().unwrap_or(0.0),
            yy.ay.last().copied().unwrap_or(0.0),
        ]);
        v.extend(rotation);
        v.extend_from_slice(yy.ax);
        v.extend_from_slice(yy.ay);
    }
    v
}

/// Tags (ip1, ip2, ip3) for positional records holding `x` and `y` (for `^>`: all its values
/// as `x`, no `y`) on `reference`: like rpnpy's `getIgTags`, ip1/ip2 = 32768 + the low/high
/// 16 bits of a CRC-32 of the content and ip3 = 0, but over the values' float32 bits. Equal
/// content gives equal tags, so a grid written twice links once; different grids collide
/// with a probability of 2⁻³².
#[must_use]
pub fn positional_tags(reference: &ReferenceGrid, x: &[f32], y: &[f32]) -> [u32; 3] {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[reference.grtyp]);
    for ig in reference.ig {
        crc.update(&ig.to_le_bytes());
    }
    for v in x {
        crc.update(&v.to_bits().to_le_bytes());
    }
    crc.update(&[0xFF]);
    for v in y {
        crc.update(&v.to_bits().to_le_bytes());
    }
    let c = crc.finalize();
    [32768 + (c & 0xFFFF), 32768 + (c >> 16), 0]
}

/// Reference grid types librmn accepts for Z grids, and for Y grids.
const Z_REFERENCES: &[u8] = b"ELNS";
const Y_REFERENCES: &[u8] = b"ELNSO";

impl FstWriter {
    /// True when the file (including what this writer wrote) has a live `>>`, `^^` or `^>`
    /// record with ip1..ip3 = `tags`.
    #[must_use]
    pub fn positional_tags_in_use(&self, tags: [u32; 3]) -> bool {
        // Compare the directory words that hold nomvar and ip1..ip3 (their low bits hold
        // other keys), as the rewrite rules do.
        const MASKS: [(usize, u32); 4] = [(11, !0xFF), (12, !0xF), (13, !0xF), (14, !0xF)];
        let probes: Vec<[u32; 16]> = [X_AXIS, Y_AXIS, YIN_YANG]
            .into_iter()
            .filter_map(|nomvar| {
                let keys = RecordKeys {
                    nomvar: nomvar.into(),
                    ip1: tags[0],
                    ip2: tags[1],
                    ip3: tags[2],
                    ..RecordKeys::default()
                };
                super::key_words(
                    &keys,
                    &super::Payload::ieee32(&[]),
                    self.container(),
                    &self.options.limits,
                )
                .ok()
            })
            .collect();
        self.entries.iter().any(|e| {
            e.live
                && probes.iter().any(|p| {
                    MASKS
                        .iter()
                        .all(|&(i, m)| e.words.get(i).map(|w| w & m) == p.get(i).map(|w| w & m))
                })
        })
    }

    /// Write the `>>` and `^^` records of a Z or Y grid (float32, typvar `X`), after checking
    /// what librmn needs of them. The data records then take grtyp `Z` (or `Y`), ig1..ig3 =
    /// `p.tags` and ig4 = 0.
    pub fn write_positional(&mut self, p: &PositionalRecords<'_>) -> Result<(), WriteError> {
        let (x, y, x_shape, y_shape, refs) = match p.axes {
            PositionalAxes::Z { x, y } => (x, y, (x.len(), 1), (1, y.len()), Z_REFERENCES),
            PositionalAxes::Y { ni, nj, lon, lat } => {
                let shape = (ni as usize, nj as usize);
                (lon, lat, shape, shape, Y_REFERENCES)
            }
        };
        let label = RecordKeys {
            nomvar: X_AXIS.into(),
            ..RecordKeys::default()
        };
        let invalid = |field: &'static str, reason: String| WriteError::InvalidRecord {
            path: self.path.clone(),
            record: self.label(&label),
            field,
            reason,
        };
        if !refs.contains(&p.reference.grtyp) {
            return Err(invalid(
                "grtyp",
                format!(
                    "reference grid '{}' for positional records: librmn takes {}",
                    char::from(p.reference.grtyp),
                    String::from_utf8_lossy(refs)
                ),
            ));
        }
        for (name, v, (ni, nj)) in [(X_AXIS, x, x_shape), (Y_AXIS, y, y_shape)] {
            if v.is_empty() || ni.checked_mul(nj) != Some(v.len()) {
                return Err(invalid(
                    "ni",
                    format!("`{name}`: {} values for a {ni}x{nj} record", v.len()),
                ));
            }
            if let Some(bad) = v.iter().find(|v| !v.is_finite()) {
                return Err(invalid("values", format!("`{name}` holds {bad}")));
            }
            if matches!(p.axes, PositionalAxes::Z { .. }) {
                if let Some(i) = v.windows(2).position(|w| w.get(1) <= w.first()) {
                    return Err(invalid(
                        "values",
                        format!(
                            "`{name}` must increase strictly (librmn cannot interpolate otherwise): values {i} and {} are {:?}",
                            i + 1,
                            v.get(i..i + 2).unwrap_or_default()
                        ),
                    ));
                }
            }
        }
        for (name, v, (ni, nj)) in [(X_AXIS, x, x_shape), (Y_AXIS, y, y_shape)] {
            let keys = Self::positional_keys(p.tags, &p.reference, p.etiket, name, ni, nj);
            self.write(&keys, SamplesRef::F32(v), None, Datyp(5), 32)?;
        }
        Ok(())
    }

    /// Write the `^>` record of a Yin-Yang grid ([`yin_yang_values`]; float32, grid `F`,
    /// ig1 = 1). The data records then take grtyp `U`, ni × 2·nj, ig1..ig3 = `tags`, ig4 = 0.
    pub fn write_yin_yang(
        &mut self,
        tags: [u32; 3],
        yy: &YinYang<'_>,
        etiket: &str,
    ) -> Result<Written, WriteError> {
        let values = yin_yang_values(yy);
        let reference = ReferenceGrid {
            grtyp: b'F',
            ig: [1, 0, 0, 0],
        };
        let keys = Self::positional_keys(tags, &reference, etiket, YIN_YANG, values.len(), 1);
        let bad = [yy.ax, yy.ay, &yy.yin, &yy.yang]
            .into_iter()
            .flatten()
            .find(|v| !v.is_finite());
        if yy.ax.is_empty() || yy.ay.is_empty() || bad.is_some() {
            return Err(WriteError::InvalidRecord {
                path: self.path.clone(),
                record: self.label(&keys),
                field: "values",
                reason: format!(
                    "Yin-Yang axes of {}x{} points{}",
                    yy.ax.len(),
                    yy.ay.len(),
                    bad.map(|v| format!(" holding {v}")).unwrap_or_default()
                ),
            });
        }
        self.write(&keys, SamplesRef::F32(&values), None, Datyp(5), 32)
    }

    /// Write `d` as vgrid writes it ([`crate::vertical`]): nomvar `!!`, typvar `X`, grid `X`,
    /// the etiket and ig1..ig4 of its vcode, datyp 5 with 64 bits, ip1/ip2 as given (0 unless
    /// a file holds several descriptors), ip3 = 0.
    pub fn write_vertical(
        &mut self,
        d: &VerticalDescriptor,
        ip1: u32,
        ip2: u32,
    ) -> Result<Written, WriteError> {
        let label = RecordKeys {
            nomvar: VERTICAL_NOMVAR.into(),
            ..RecordKeys::default()
        };
        let invalid = |source| WriteError::Vertical {
            path: self.path.clone(),
            record: self.label(&label),
            source,
        };
        let table = d.to_table().map_err(invalid)?;
        let ig = d.igs().map_err(invalid)?;
        let keys = RecordKeys {
            nomvar: VERTICAL_NOMVAR.into(),
            typvar: "X".into(),
            etiket: d.etiket().into(),
            ip1,
            ip2,
            grtyp: b'X',
            ig1: ig[0],
            ig2: ig[1],
            ig3: ig[2],
            ig4: ig[3],
            ni: table.ni,
            nj: table.nj,
            nk: 1,
            ..RecordKeys::default()
        };
        self.write(&keys, SamplesRef::F64(&table.values), None, Datyp(5), 64)
    }

    fn positional_keys(
        tags: [u32; 3],
        reference: &ReferenceGrid,
        etiket: &str,
        nomvar: &str,
        ni: usize,
        nj: usize,
    ) -> RecordKeys {
        RecordKeys {
            nomvar: nomvar.into(),
            typvar: "X".into(),
            etiket: etiket.into(),
            ip1: tags[0],
            ip2: tags[1],
            ip3: tags[2],
            grtyp: reference.grtyp,
            ig1: reference.ig[0],
            ig2: reference.ig[1],
            ig3: reference.ig[2],
            ig4: reference.ig[3],
            // Sizes over u32 are refused by `write` (its shape check) as out of range.
            ni: u32::try_from(ni).unwrap_or(u32::MAX),
            nj: u32::try_from(nj).unwrap_or(u32::MAX),
            nk: 1,
            ..RecordKeys::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yin_yang_layout() {
        let (ax, ay) = ([45.0f32, 90.0, 135.0], [-45.0f32, 45.0]);
        let yy = YinYang {
            ax: &ax,
            ay: &ay,
            yin: [0.0, 180.0, 0.0, 270.0],
            yang: [0.0, 0.0, 90.0, 0.0],
        };
        let v = yin_yang_values(&yy);
        assert_eq!(v.len(), 5 + 2 * (10 + 3 + 2));
        assert_eq!(&v[..5], &[70.0, 1.0, 2.0, 1.0, 1.0]);
        let yang = 5 + 10 + 3 + 2;
        assert_eq!(
            &v[5..15],
            &[3.0, 2.0, 45.0, 135.0, -45.0, 45.0, 0.0, 180.0, 0.0, 270.0]
        );
        assert_eq!(&v[yang + 6..yang + 10], &[0.0, 0.0, 90.0, 0.0]);
        assert_eq!(&v[yang + 10..], &[45.0, 90.0, 135.0, -45.0, 45.0]);
    }

    #[test]
    fn tags_follow_content() {
        let r = ReferenceGrid {
            grtyp: b'E',
            ig: [1, 2, 3, 4],
        };
        let t = positional_tags(&r, &[1.0, 2.0], &[3.0]);
        assert!(t[0] >= 32768 && t[1] >= 32768 && t[2] == 0);
        assert_eq!(t, positional_tags(&r, &[1.0, 2.0], &[3.0]));
        assert_ne!(t, positional_tags(&r, &[1.0, 2.5], &[3.0]));
        assert_ne!(t, positional_tags(&r, &[1.0], &[2.0, 3.0]));
    }
}
