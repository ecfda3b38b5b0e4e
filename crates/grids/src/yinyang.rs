//! U grids (Yin-Yang): the two halves, and which one a point is read from where they
//! overlap, as librmn decides it (`docs/grids.md` §7).
//!
//! librmn cuts each half to a core: the points of Yin's axes within 45°..315° of rotated
//! longitude and ±45° of rotated latitude (`ezgdef_yymask`; Yang reuses Yin's axes). A point
//! inside Yin's core is read from Yin, else from Yang. Two of librmn's functions apply the
//! cut slightly differently, and this module follows each where it is the reference:
//! * point values (`gdxyfll`, hence `gdllsval`): Yin when the point is inside Yin's grid,
//!   else Yang; then Yang when the point is inside Yang's core, and Yin when inside Yin's
//!   core, the core compared with the 1-based position (one node lower than the core's
//!   0-based indices);
//! * regridding (`ezsint`, what a map tile is): Yin when the point falls within Yin's core
//!   or half a cell around it (the core is a mask interpolated to the nearest node), else
//!   Yang.
//!
//! Where the halves overlap both hold the model's values, so either answer is a value of
//! the field; following librmn makes ours the ones every ECCC tool shows. The choice was a
//! "deeper half" rule before, which read a third of the overlap from the other half than
//! librmn (`tests/yinyang_halves.rs` compares with librmn on 2 000 points).

use std::ops::Index;

use crate::descriptor::{GridOptions, Positional};
use crate::error::{GridError, Result};
use crate::grid::{axis_from, rotated_frame, Rect};
use crate::params::RotatedParams;
use crate::rotation::Rotation;

/// The two halves of a U grid and librmn's core window.
#[derive(Debug)]
pub(crate) struct YinYang {
    /// Yin (rows 0..nj/2 of the record), Yang.
    halves: [Rect; 2],
    core: Option<Core>,
}

/// 0-based node indices of the core, inclusive, the same in both halves' own indices.
#[derive(Debug, Clone, Copy)]
struct Core {
    i: (f64, f64),
    j: (f64, f64),
}

impl Core {
    /// The core of Yin's rotated axes: its first and last longitude within [45°, 315°],
    /// latitude within [−45°, 45°] (None if an axis has none there).
    fn of(ax: &[f64], ay: &[f64]) -> Option<Self> {
        let window = |v: &[f64], lo: f64, hi: f64| {
            let first = v.iter().position(|&a| a >= lo && a <= hi)?;
            let last = v.iter().rposition(|&a| a >= lo && a <= hi)?;
            Some((first as f64, last as f64))
        };
        Some(Self {
            i: window(ax, 45.0, 315.0)?,
            j: window(ay, -45.0, 45.0)?,
        })
    }

    /// Whether 0-based (i, j), shifted by `shift`, lies in the core widened by `margin`
    /// cells on every side.
    fn holds(&self, (i, j): (f64, f64), shift: f64, margin: f64) -> bool {
        let (i, j) = (i + shift, j + shift);
        i >= self.i.0 - margin
            && i <= self.i.1 + margin
            && j >= self.j.0 - margin
            && j <= self.j.1 + margin
    }
}

impl Index<usize> for YinYang {
    type Output = Rect;

    fn index(&self, k: usize) -> &Rect {
        &self.halves[k]
    }
}

impl YinYang {
    /// Parse a `^>` record (docs/grids.md §7.1) into the Yin and Yang subgrids.
    pub(crate) fn new(ni: usize, nj: usize, pos: &Positional, opts: GridOptions) -> Result<Self> {
        let g = b'U';
        let v = &pos.x[..];
        if pos.grtyp != b'F' {
            return Err(GridError::invalid(
                g,
                format!(
                    "the `^>` record has grid type '{}', expected 'F'",
                    char::from(pos.grtyp)
                ),
            ));
        }
        let get = |k: usize| {
            v.get(k).copied().ok_or_else(|| {
                GridError::invalid(
                    g,
                    format!("the `^>` record is too short ({} values)", v.len()),
                )
            })
        };
        if get(0)? != 70.0 || get(1)? != 1.0 {
            return Err(GridError::Unsupported {
                grtyp: 'U',
                reason: "only version 1 of the `^>` record ('F', 1) is known",
            });
        }
        if get(2)? != 2.0 {
            return Err(GridError::Unsupported {
                grtyp: 'U',
                reason: "only Yin-Yang supergrids (2 subgrids) are known",
            });
        }
        let block = |k: usize| -> Result<(usize, usize, RotatedParams)> {
            let sni = get(k)?;
            let snj = get(k + 1)?;
            if !(sni >= 1.0 && snj >= 1.0 && sni.fract() == 0.0 && snj.fract() == 0.0) {
                return Err(GridError::invalid(
                    g,
                    format!("bad subgrid shape {sni}x{snj}"),
                ));
            }
            let p = RotatedParams {
                xlat1: get(k + 6)?,
                xlon1: get(k + 7)?,
                xlat2: get(k + 8)?,
                xlon2: get(k + 9)?,
            };
            p.check(g)?;
            Ok((sni as usize, snj as usize, p))
        };
        let (sni, snj, p_yin) = block(5)?;
        if sni != ni || 2 * snj != nj {
            return Err(GridError::invalid(
                g,
                format!(
                    "the `^>` subgrids are {sni}x{snj}, the record is {ni}x{nj} (expected {sni}x{})",
                    2 * snj
                ),
            ));
        }
        let k_yang = 5 + 10 + sni + snj;
        let (_, _, p_yang) = block(k_yang)?;
        let ax = v
            .get(15..15 + sni)
            .ok_or_else(|| GridError::invalid(g, "`^>` too short for ax"))?;
        let ay = v
            .get(15 + sni..15 + sni + snj)
            .ok_or_else(|| GridError::invalid(g, "`^>` too short for ay"))?;
        if v.len() < k_yang + 10 + sni + snj {
            return Err(GridError::invalid(
                g,
                format!("the `^>` record is too short ({} values)", v.len()),
            ));
        }
        // librmn reuses Yin's axes for Yang (the Yang block's axes are ignored); GEM writes the
        // same axes in both blocks anyway.
        let x = axis_from(g, "Yin rotated longitude", ax)?;
        let y = axis_from(g, "Yin rotated latitude", ay)?;
        let rot = |p: RotatedParams| -> Result<Rotation> {
            let p = if opts.librmn_compat {
                p.quantised()?
            } else {
                p
            };
            Rotation::new(&p)
        };
        let (yin, yin_x) = rotated_frame(rot(p_yin)?, x.clone());
        let (yang, x) = rotated_frame(rot(p_yang)?, x);
        Ok(Self {
            halves: [
                Rect {
                    proj: yin,
                    x: yin_x,
                    y: y.clone(),
                },
                Rect { proj: yang, x, y },
            ],
            core: Core::of(ax, ay),
        })
    }

    /// The halves, Yin first.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Rect> {
        self.halves.iter()
    }

    /// Rows of one half.
    fn half_rows(&self) -> f64 {
        self.halves[0].nj() as f64
    }

    /// Whether a point read by `gdxyfll` comes from Yang, given its positions in Yin and in
    /// Yang (0-based, None outside a half).
    fn point_from_yang(&self, yin: Option<(f64, f64)>, yang: Option<(f64, f64)>) -> bool {
        let r = &self.halves[0];
        let (ni, nj) = (r.ni() as f64 - 1.0, r.nj() as f64 - 1.0);
        let in_yin = yin.is_some_and(|(i, j)| i >= 0.0 && i <= ni && j >= 0.0 && j <= nj);
        let mut from_yang = !in_yin;
        if let Some(core) = self.core {
            // librmn compares 1-based positions with the core's 0-based indices.
            if yang.is_some_and(|p| core.holds(p, 1.0, 0.0)) {
                from_yang = true;
            }
            if yin.is_some_and(|p| core.holds(p, 1.0, 0.0)) {
                from_yang = false;
            }
        }
        from_yang
    }

    /// Whether `ezsint` regrids a point from Yang: outside Yin's core, which its nearest-
    /// neighbour interpolation of the core's mask extends by half a cell.
    fn map_from_yang(&self, yin: Option<(f64, f64)>) -> bool {
        match (self.core, yin) {
            (Some(core), Some(p)) => !core.holds(p, 0.0, 0.5),
            (None, Some(_)) => false,
            (_, None) => true,
        }
    }

    /// 0-based (i, j) of a point in record rows (Yang's after Yin's), from the half
    /// librmn's point values read (see the module), or None outside both halves.
    pub(crate) fn index_of(&self, lat: f64, lon: f64) -> Option<(f64, f64)> {
        let yin = self.halves[0].index_of(lat, lon);
        let yang = self.halves[1].index_of(lat, lon);
        let in_yang = |(i, j): (f64, f64)| (i, j + self.half_rows());
        match (self.point_from_yang(yin, yang), yin, yang) {
            (true, _, Some(b)) => Some(in_yang(b)),
            (_, Some(a), _) => Some(a),
            (_, None, b) => b.map(in_yang),
        }
    }

    /// Bulk inverse for maps: each point from the half `ezsint` reads (see the module); NaN
    /// outside both halves.
    pub(crate) fn index_of_many(
        &self,
        lon: &[f64],
        lat: &[f64],
        out_i: &mut [f64],
        out_j: &mut [f64],
    ) {
        let n = lon.len();
        self.halves[0].index_of_many(lon, lat, out_i, out_j);
        let (mut yi, mut yj) = (vec![0.0; n], vec![0.0; n]);
        self.halves[1].index_of_many(lon, lat, &mut yi, &mut yj);
        let h = self.half_rows();
        let at = |i: f64, j: f64| (!i.is_nan()).then_some((i, j));
        for k in 0..n {
            let (yin, yang) = (at(out_i[k], out_j[k]), at(yi[k], yj[k]));
            if yang.is_some() && self.map_from_yang(yin) {
                out_i[k] = yi[k];
                out_j[k] = yj[k] + h;
            }
        }
    }
}
