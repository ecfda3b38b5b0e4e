//! The candidate FST grids of each CRS family, from the simplest to the most general, and the
//! Y grid that always fits. Each is checked by the caller against the source's points.

use std::sync::Arc;

use super::{Candidate, PositionalPrecision};
use crate::descriptor::{GridDescriptor, Positional};
use crate::error::GridError;
use crate::gauss::gaussian_latitudes;
use crate::links::{positional_tags, z_igs};
use crate::params::{GlobalParams, Hemisphere, LatLonParams};
use crate::rotation::norm180;
// The rotated and polar candidates place the source's pole and axes through its conversion
// to latitude/longitude (PROJ or a CF mapping's formulas).
use {
    super::ToLatLon,
    crate::grid::ONE_PLUS_SIN60,
    crate::params::{wrap360, PolarParams, RotatedParams, EARTH_RADIUS_M},
    crate::rotation::{latlon_of, unit, Rotation},
};

pub(super) fn store(v: f64, p: PositionalPrecision) -> f64 {
    match p {
        PositionalPrecision::F32 => f64::from(v as f32),
        PositionalPrecision::F64 => v,
    }
}

/// A Z or Y candidate on reference `rg`/`rig` with positional values `x`, `y` (before
/// rounding to the stored precision).
fn linked(
    grtyp: u8,
    (ni, nj): (usize, usize),
    (rg, rig): (u8, [u32; 4]),
    x: impl Iterator<Item = f64>,
    y: impl Iterator<Item = f64>,
    p: PositionalPrecision,
) -> GridDescriptor {
    let x: Arc<[f64]> = x.map(|v| store(v, p)).collect();
    let y: Arc<[f64]> = y.map(|v| store(v, p)).collect();
    let tags = positional_tags(rg, rig, &x, &y);
    GridDescriptor::with_positional(
        grtyp,
        ni as u32,
        nj as u32,
        z_igs(tags),
        Positional {
            grtyp: rg,
            ig: rig,
            x,
            y,
        },
    )
}

pub(super) fn y_candidate(
    ni: usize,
    nj: usize,
    lat: &[f64],
    lon: &[f64],
    p: PositionalPrecision,
) -> Result<Candidate, GridError> {
    // The reference L of rpnpy's Y grids (cxgaig('L', 0, 0, 1, 1)); librmn ignores it.
    let rig = LatLonParams {
        lat0: 0.0,
        lon0: 0.0,
        dlat: 1.0,
        dlon: 1.0,
    }
    .encode()?;
    // Longitudes in (−180, 180]: half the magnitude of [0, 360), so twice the f32 precision.
    Ok(Candidate {
        descriptor: linked(
            b'Y',
            (ni, nj),
            (b'L', rig),
            lon.iter().map(|&v| norm180(v)),
            lat.iter().copied(),
            p,
        ),
        flip: false,
        label: "Y",
    })
}

/// (start, step) of an evenly spaced axis (to 1e-9 of its step), step 1 for one value.
fn regular(v: &[f64]) -> Option<(f64, f64)> {
    let n = v.len();
    if n < 2 {
        return v.first().map(|&s| (s, 1.0));
    }
    let step = (v[n - 1] - v[0]) / (n - 1) as f64;
    let ok = v
        .iter()
        .enumerate()
        .all(|(k, &x)| (x - (v[0] + k as f64 * step)).abs() <= 1e-9 * step.abs());
    ok.then_some((v[0], step))
}

fn snap(v: f64, quantum: f64, tol: f64) -> Option<f64> {
    let q = (v / quantum).round() * quantum;
    ((v - q).abs() <= tol).then_some(q)
}

/// A, B, G, L and Z on L for longitude axis `x` and increasing latitude axis `y` (FST order).
pub(super) fn longlat_candidates(
    x: &[f64],
    y: &[f64],
    flip: bool,
    p: PositionalPrecision,
) -> Vec<Candidate> {
    let (ni, nj) = (x.len(), y.len());
    let mut out = Vec::new();
    let rx = regular(x);
    let ry = regular(y);
    // A, B and G start at longitude 0 and cover the globe; their rows run south to north
    // unless ig2 = 1, which takes a north-up source as it is.
    if let Some((x0, dx)) = rx {
        let global = |g: u8| match g {
            b'B' => ni >= 2 && nj >= 2 && (dx - 360.0 / (ni - 1) as f64).abs() <= 1e-9,
            _ => (dx - 360.0 / ni as f64).abs() <= 1e-9,
        };
        // Gaussian latitudes cost O(nj²) to compute; no G grid in use comes near the bound.
        let types: &[u8] = match ry {
            Some(_) => b"AB",
            None if nj <= MAX_GAUSSIAN_ROWS => b"G",
            None => b"",
        };
        if norm180(x0).abs() <= 1e-9 {
            for &g in types.iter().filter(|&&g| global(g)) {
                for domain in [Hemisphere::Global, Hemisphere::North, Hemisphere::South] {
                    let ig = GlobalParams {
                        domain,
                        north_to_south: flip,
                    }
                    .encode();
                    if g == b'G' && !gaussian_match(y, domain) {
                        continue;
                    }
                    out.push(Candidate {
                        descriptor: GridDescriptor::simple(g, ni as u32, nj as u32, ig),
                        flip: false,
                        label: match g {
                            b'A' => "A",
                            b'B' => "B",
                            _ => "G",
                        },
                    });
                }
            }
        }
    }
    if let (Some((lon0, dlon)), Some((lat0, dlat))) = (rx, ry) {
        if dlon > 0.0 && dlat > 0.0 {
            if let Ok(ig) = (LatLonParams {
                lat0,
                lon0,
                dlat,
                dlon,
            })
            .encode()
            {
                out.push(Candidate {
                    descriptor: GridDescriptor::simple(b'L', ni as u32, nj as u32, ig),
                    flip,
                    label: "L",
                });
            }
        }
    }
    // Z on L: reference L with 0.01° spacing, `>>`/`^^` in hundredths of a degree from it.
    // `>>` starts at the westernmost longitude (floored to 0.01°) so that no value is
    // negative: librmn adds 360 to negative `>>` values before scaling by dlon, which would
    // move them by 3.6°. `^^` counts from the middle latitude, halving its magnitude.
    let xmin = x.iter().fold(f64::INFINITY, |m, &v| m.min(v));
    let kx = (xmin * 100.0).floor();
    let ky = (f64::midpoint(y[0], y[nj - 1]) * 100.0).floor();
    if let Ok(rig) = (LatLonParams {
        lat0: ky / 100.0,
        lon0: kx / 100.0,
        dlat: 0.01,
        dlon: 0.01,
    })
    .encode()
    {
        out.push(Candidate {
            descriptor: linked(
                b'Z',
                (ni, nj),
                (b'L', rig),
                x.iter().map(|&v| v * 100.0 - kx),
                y.iter().map(|&v| v * 100.0 - ky),
                p,
            ),
            flip,
            label: "Z on L",
        });
    }
    out
}

/// Most rows for which a G grid is tried (T7999 has 8000 Gaussian latitudes, more than any
/// operational model).
const MAX_GAUSSIAN_ROWS: usize = 8192;

/// Whether `y` (increasing) are the Gaussian latitudes of a G grid on `domain`, to 1e-6°.
fn gaussian_match(y: &[f64], domain: Hemisphere) -> bool {
    let n = y.len();
    let lats = match domain {
        Hemisphere::Global => gaussian_latitudes(n),
        Hemisphere::North => gaussian_latitudes(2 * n).split_off(n),
        Hemisphere::South => {
            let mut l = gaussian_latitudes(2 * n);
            l.truncate(n);
            l
        }
    };
    lats.len() == n && lats.iter().zip(y).all(|(a, b)| (a - b).abs() <= 1e-6)
}

/// The rotated-pole candidate: an E rotation with the source's pole, defined (as E grids
/// are) by two points of the rotated equator that lie on the 1/40° lattice of the E encoding;
/// the source's rotated longitudes differ from ours by a constant, added to `>>`.
///
/// The pole itself need not be on the lattice: the pole of an E grid read from a file is the
/// cross product of its two lattice points, almost never a lattice point. Every lattice point
/// of the rotated equator is found by solving, for each lattice latitude, for the longitudes
/// where that latitude circle meets the equator.
pub(super) fn rotated_candidate(
    src: &dyn ToLatLon,
    x: &[f64],
    y: &[f64],
    flip: bool,
    p: PositionalPrecision,
) -> Result<Vec<Candidate>, String> {
    let (ni, nj) = (x.len(), y.len());
    // Two points of the source's rotated equator, 90° apart: their cross product is the
    // rotated north pole, whatever convention the CRS was written in.
    let a = src.convert1(0.0, 0.0, true);
    let b = src.convert1(90.0, 0.0, true);
    if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
        return Err("the rotated equator cannot be converted to latitude/longitude".to_owned());
    }
    let (ua, ub) = (unit(a.1, a.0), unit(b.1, b.0));
    let up = cross(ua, ub);
    let pts: Vec<[f64; 3]> = equator_lattice_points(up)
        .into_iter()
        .map(|(la, lo)| unit(la, lo))
        .collect();
    if pts.len() < 2 {
        let (plat, plon) = latlon_of(up);
        return Err(format!(
            "the rotated equator of the pole ({plat}, {plon}) passes through fewer than two \
             points of the 1/40° lattice of the E encoding, so no E rotation is exact"
        ));
    }
    // The first point p1 sits at E's rotated (0, 180): E's rotated longitude of a point v is
    // atan2(v·ey, v·ex) with ex = −p1, ey = up × ex. The source's rotated origin `ua` lands at
    // E longitude `delta`; any multiple of 360° may be added too: centre the `>>` values on
    // 0, where float32 is finest. Candidates are tried from the smallest reach.
    let reach_of = |u1: [f64; 3]| {
        let ex = u1.map(|v| -v);
        let ey = cross(up, ex);
        let delta = dot(ua, ey).atan2(dot(ua, ex)).to_degrees();
        let mid = f64::midpoint(x[0], x[ni - 1]) + delta;
        let delta = delta - 360.0 * (mid / 360.0).round();
        let reach = (x[0] + delta).abs().max((x[ni - 1] + delta).abs());
        (reach, delta)
    };
    let mut order: Vec<(f64, f64, usize)> = pts
        .iter()
        .enumerate()
        .map(|(k, &u)| {
            let (r, d) = reach_of(u);
            (r, d, k)
        })
        .collect();
    // Equal reaches (to float noise) prefer the smallest shift: none when the source's frame
    // is already E's, whichever way its pole was converted.
    order.sort_by(|l, r| {
        let key = |t: &(f64, f64, usize)| ((t.0 * 1e6).round(), (norm180(t.1).abs() * 1e6).round());
        key(l)
            .partial_cmp(&key(r))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let build = |k1: usize, label: &'static str| -> Option<Candidate> {
        let (ig, rot) = e_rotation(&pts, pts[k1], up)?;
        let delta = norm180(rot.to_rotated(a.1, a.0).1);
        let mid = f64::midpoint(x[0], x[ni - 1]) + delta;
        let delta = delta - 360.0 * (mid / 360.0).round();
        // Keep `>>` equal to the source's values when the frames agree up to float noise.
        let delta = snap(delta, 1e-6, 1e-9).unwrap_or(delta);
        Some(Candidate {
            descriptor: linked(
                b'Z',
                (ni, nj),
                (b'E', ig),
                x.iter().map(|&v| v + delta),
                y.iter().copied(),
                p,
            ),
            flip,
            label,
        })
    };
    // First the E frame that is the source's own (no shift: its rotated coordinates come
    // back unchanged), when its origin is a lattice point, as it is for a grid read from an
    // E or Z-on-E record; then the one with the smallest reach (float32 is finest near 0).
    let mut out = Vec::new();
    if let Some(&(_, _, k)) = order
        .iter()
        .find(|t| (t.1 - 360.0 * (t.1 / 360.0).round()).abs() <= 1e-9)
    {
        out.extend(build(k, "Z on E (the source's rotated frame)"));
    }
    out.extend(order.iter().take(8).find_map(|t| build(t.2, "Z on E")));
    if out.is_empty() {
        return Err(
            "no two lattice points of the rotated equator encode the rotation exactly".to_owned(),
        );
    }
    Ok(out)
}

/// The E encoding (ig1..ig4) and rotation whose first point is `u1` and whose pole is `up`,
/// the second point being the lattice point of `pts` closest to 90° east of the first (any
/// other gives the same rotation; this one is the best conditioned). None when the points do
/// not encode exactly or give another pole.
fn e_rotation(pts: &[[f64; 3]], u1: [f64; 3], up: [f64; 3]) -> Option<([u32; 4], Rotation)> {
    let east = cross(up, u1);
    let u2 = pts
        .iter()
        .copied()
        .max_by(|l, r| dot(*l, east).total_cmp(&dot(*r, east)))
        .filter(|&u2| dot(u2, east) > 1e-3)?;
    let snap_ll = |(la, lo): (f64, f64)| {
        let la = snap(la, 1.0 / 40.0, 1e-7).unwrap_or(la);
        let lo = if la.abs() == 90.0 {
            0.0
        } else {
            wrap360(snap(lo, 1.0 / 40.0, 1e-7).unwrap_or(lo))
        };
        (la, lo)
    };
    let ((xlat1, xlon1), (xlat2, xlon2)) = (snap_ll(latlon_of(u1)), snap_ll(latlon_of(u2)));
    let ig = RotatedParams {
        xlat1,
        xlon1,
        xlat2,
        xlon2,
    }
    .encode()
    .ok()?;
    let back = RotatedParams::decode(ig);
    let same = (back.xlat1 - xlat1).abs() < 1e-12
        && (back.xlat2 - xlat2).abs() < 1e-12
        && (xlat1.abs() == 90.0 || norm180(back.xlon1 - xlon1).abs() < 1e-12)
        && (xlat2.abs() == 90.0 || norm180(back.xlon2 - xlon2).abs() < 1e-12);
    let rot = Rotation::new(&back).ok()?;
    (same && dot(rot.ez, up) >= 1.0 - 1e-14).then_some((ig, rot))
}

/// The points of the 1/40° lattice (latitude and longitude multiples of 1/40°) on the great
/// circle whose pole is `up`, as (lat, lon in [0, 360)), each to 1e-8°.
fn equator_lattice_points(up: [f64; 3]) -> Vec<(f64, f64)> {
    const STEP: f64 = 1.0 / 40.0;
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut push = |la: f64, lo: f64| {
        let lo = wrap360(lo);
        if !out.iter().any(|&(a, b)| a == la && b == lo) {
            out.push((la, lo));
        }
    };
    for k in -3600_i32..=3600 {
        let la = f64::from(k) * STEP;
        // cos(la)·(cos(lo)·up_x + sin(lo)·up_y) + sin(la)·up_z = 0.
        let (s, c) = la.to_radians().sin_cos();
        let (ca, cb, rhs) = (c * up[0], c * up[1], -s * up[2]);
        let h = ca.hypot(cb);
        if h < 1e-12 {
            // A pole of the earth, or a latitude circle the great circle is tangent to along
            // its whole length (the equator of a pole at a pole): a few of its points.
            if rhs.abs() < 1e-12 {
                if k.abs() == 3600 {
                    push(la, 0.0);
                } else {
                    for q in 0..4 {
                        push(la, 90.0 * f64::from(q));
                    }
                }
            }
            continue;
        }
        // |r| = 1 where the circle touches this latitude (its highest point): rounding may
        // put r a hair outside [−1, 1].
        let r = rhs / h;
        if r.abs() > 1.0 + 1e-9 {
            continue;
        }
        let base = cb.atan2(ca).to_degrees();
        let off = r.clamp(-1.0, 1.0).acos().to_degrees();
        // The nearest lattice longitude, kept when it lies on the circle (to ~2e-10°): the
        // solved longitude is least precise next to the touching point.
        for lo in [base + off, base - off] {
            let q = (lo / STEP).round() * STEP;
            let v = unit(la, q);
            if dot(v, up).abs() <= 1e-12 {
                push(la, q);
            }
        }
    }
    out
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    let c = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    let n = dot(c, c).sqrt();
    c.map(|v| v / n)
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// N/S and Z on N/S for a spherical polar stereographic CRS (any radius, any `lat_ts`: on a
/// sphere they only scale the plane, which d60 absorbs).
pub(super) fn polar_candidates(
    src: &dyn ToLatLon,
    north: bool,
    x: &[f64],
    y: &[f64],
    flip: bool,
    p: PositionalPrecision,
) -> Result<Vec<Candidate>, String> {
    let (ni, nj) = (x.len(), y.len());
    let s = if north { 1.0 } else { -1.0 };
    let pole = src.convert1(0.0, 90.0 * s, false);
    let p0 = src.convert1(0.0, 60.0 * s, false);
    let p90 = src.convert1(90.0, 60.0 * s, false);
    if ![pole.0, pole.1, p0.0, p0.1, p90.0, p90.1]
        .iter()
        .all(|v| v.is_finite())
    {
        return Err("PROJ cannot place the pole or the 60° circle".to_owned());
    }
    let snap_m = |v: f64| snap(v, 1e-3, 1e-7).unwrap_or(v);
    let (xp, yp) = (snap_m(pole.0), snap_m(pole.1));
    let r60 = (p0.0 - xp).hypot(p0.1 - yp);
    // CRS units per FST metre: FST puts 60° at (1 + sin 60°)·R·tan 15° from the pole.
    let fst_r60 = ONE_PLUS_SIN60 * EARTH_RADIUS_M * 15f64.to_radians().tan();
    let scale = r60 / fst_r60;
    let scale = if (scale - 1.0).abs() <= 1e-12 {
        1.0
    } else {
        scale
    };
    let ang = |q: (f64, f64)| (q.1 - yp).atan2(q.0 - xp).to_degrees();
    // Greenwich is at angle dgrw from +x in both hemispheres; longitude 90°E is 90° further
    // counter-clockwise in the north and clockwise in the south.
    let dgrw_raw = wrap360(ang(p0));
    let dgrw = snap(dgrw_raw, 0.01, 1e-8).map_or(dgrw_raw, wrap360);
    if norm180(ang(p90) - dgrw_raw - 90.0 * s).abs() > 1e-6 {
        return Err("the CRS is mirrored with respect to FST's polar stereographic".to_owned());
    }
    let fx: Vec<f64> = x.iter().map(|&v| (v - xp) / scale).collect();
    let fy: Vec<f64> = y.iter().map(|&v| (v - yp) / scale).collect();
    let g = if north { b'N' } else { b'S' };
    let mut out = Vec::new();
    let (rx, ry) = (regular(&fx), regular(&fy));
    if let (Some((x0, dx)), Some((y0, dy))) = (rx, ry) {
        let d60 = match (ni > 1, nj > 1) {
            (true, _) => dx,
            (false, true) => dy,
            _ => 100.0,
        };
        let square = (ni < 2 || (dx - d60).abs() <= 1e-9 * d60)
            && (nj < 2 || (dy - d60).abs() <= 1e-9 * d60);
        if square && d60 > 0.0 {
            let pp = PolarParams {
                north,
                pi: snap(1.0 - x0 / d60, 0.1, 1e-9).unwrap_or(1.0 - x0 / d60),
                pj: snap(1.0 - y0 / d60, 0.1, 1e-9).unwrap_or(1.0 - y0 / d60),
                d60: snap(d60, 100.0, 1e-6).unwrap_or(d60),
                dgrw,
            };
            if let Ok(ig) = pp.encode() {
                out.push(Candidate {
                    descriptor: GridDescriptor::simple(g, ni as u32, nj as u32, ig),
                    flip,
                    label: if north { "N" } else { "S" },
                });
            }
        }
    }
    // Z on N/S: reference with the pole at grid point (0, 0) and d60 = 100 m (old-style
    // encoding, exact), `>>`/`^^` in hundreds of metres from the pole.
    let rig = PolarParams {
        north,
        pi: 0.0,
        pj: 0.0,
        d60: 100.0,
        dgrw,
    }
    .encode()
    .map_err(|e| e.to_string())?;
    out.push(Candidate {
        descriptor: linked(
            b'Z',
            (ni, nj),
            (g, rig),
            fx.iter().map(|&v| v / 100.0),
            fy.iter().map(|&v| v / 100.0),
            p,
        ),
        flip,
        label: if north { "Z on N" } else { "Z on S" },
    });
    Ok(out)
}
