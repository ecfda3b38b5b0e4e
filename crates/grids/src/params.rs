//! ig1..ig4 ↔ real grid parameters, both directions, for every grid type that has them.
//!
//! The rules are librmn's `cigaxg` (decode) and `cxgaig` (encode) as described in
//! `docs/grids.md` §2.1, §3.1, §4.2 and §5.2. Decoding is done in f64: librmn's float32
//! decode of, say, `dlat = 0.1` gives 0.099999994, which we deliberately do not reproduce.

use crate::error::{GridError, Result};

/// Largest value an ig field can hold: the directory stores each in 24 bits.
pub const IG_MAX: u32 = (1 << 24) - 1;

/// librmn's truncated `1 + sin 60°`, used where librmn's own encodings depend on it
/// (the new-style N/S encoding stores the position of point (1,1)).
pub(crate) const RMN_ONE_PLUS_SIN60: f64 = 1.866_025;
/// The sphere radius of the RPN polar stereographic formulas, in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;
/// The largest distance between two points of the sphere: half a great circle, in metres.
const HALF_GREAT_CIRCLE_M: f64 = std::f64::consts::PI * EARTH_RADIUS_M;

fn nint(x: f64) -> i64 {
    // Fortran NINT rounds half away from zero, which is what f64::round does.
    x.round() as i64
}

fn check_ig(grtyp: u8, name: &str, v: i64) -> Result<u32> {
    if (0..=i64::from(IG_MAX)).contains(&v) {
        Ok(v as u32)
    } else {
        Err(GridError::invalid(
            grtyp,
            format!("{name} = {v} does not fit the 24-bit ig field"),
        ))
    }
}

/// Domain of an A, B or G grid (ig1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hemisphere {
    /// Whole globe (ig1 = 0).
    Global,
    /// Northern hemisphere only (ig1 = 1).
    North,
    /// Southern hemisphere only (ig1 = 2).
    South,
}

/// Parameters of an A, B or G grid: the domain and the row order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalParams {
    /// The covered domain (ig1).
    pub domain: Hemisphere,
    /// True when rows are stored north to south (ig2 = 1); j = 0 is then the northernmost row.
    pub north_to_south: bool,
}

impl GlobalParams {
    /// Decode ig1/ig2 of an A, B or G grid. ig3 and ig4 carry nothing and are ignored.
    pub fn decode(grtyp: u8, ig: [u32; 4]) -> Result<Self> {
        let domain = match ig[0] {
            0 => Hemisphere::Global,
            1 => Hemisphere::North,
            2 => Hemisphere::South,
            v => {
                return Err(GridError::invalid(
                    grtyp,
                    format!("ig1 = {v}: the domain must be 0 (global), 1 (north) or 2 (south)"),
                ))
            }
        };
        let north_to_south = match ig[1] {
            0 => false,
            1 => true,
            v => {
                return Err(GridError::invalid(
                    grtyp,
                    format!("ig2 = {v}: the row order must be 0 (south to north) or 1"),
                ))
            }
        };
        Ok(GlobalParams {
            domain,
            north_to_south,
        })
    }

    /// Encode to ig1..ig4.
    #[must_use]
    pub fn encode(&self) -> [u32; 4] {
        let d = match self.domain {
            Hemisphere::Global => 0,
            Hemisphere::North => 1,
            Hemisphere::South => 2,
        };
        [d, u32::from(self.north_to_south), 0, 0]
    }
}

/// Parameters of an L grid (regular latitude-longitude), in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLonParams {
    /// Latitude of the first row.
    pub lat0: f64,
    /// Longitude of the first column, in [0, 360) after decoding.
    pub lon0: f64,
    /// Row spacing.
    pub dlat: f64,
    /// Column spacing.
    pub dlon: f64,
}

impl LatLonParams {
    /// Decode ig1..ig4 (all in hundredths of a degree).
    #[must_use]
    pub fn decode(ig: [u32; 4]) -> Self {
        LatLonParams {
            lat0: f64::from(ig[2]) / 100.0 - 90.0,
            lon0: f64::from(ig[3]) / 100.0,
            dlat: f64::from(ig[0]) / 100.0,
            dlon: f64::from(ig[1]) / 100.0,
        }
    }

    /// Check that `nj` rows starting at `lat0`, `dlat` apart, stay on the sphere. The igs can
    /// describe rows past a pole (ig3 > 18000, or a spacing that runs beyond 90°); librmn
    /// computes such latitudes without complaint, but no point of the Earth has them.
    pub fn check_rows(&self, nj: usize) -> Result<()> {
        let last = self.lat0 + nj.saturating_sub(1) as f64 * self.dlat;
        // The parameters are whole hundredths: only rounding can put a valid row past 90.
        let on_sphere = |lat: f64| (-90.0 - 1e-9..=90.0 + 1e-9).contains(&lat);
        if on_sphere(self.lat0) && on_sphere(last) {
            return Ok(());
        }
        Err(GridError::invalid(
            b'L',
            format!(
                "{nj} rows from latitude {} every {}° reach latitude {last}: latitudes lie in \
                 [-90, 90] (ig1 = 100·dlat, ig3 = 100·(lat0 + 90))",
                self.lat0, self.dlat
            ),
        ))
    }

    /// Encode to ig1..ig4, quantised to 0.01°; lon0 is stored modulo 360.
    pub fn encode(&self) -> Result<[u32; 4]> {
        let g = b'L';
        if !(self.lat0.is_finite()
            && self.lon0.is_finite()
            && self.dlat.is_finite()
            && self.dlon.is_finite())
        {
            return Err(GridError::invalid(g, "non-finite parameter"));
        }
        let ig4 = nint(100.0 * self.lon0).rem_euclid(36_000);
        Ok([
            check_ig(g, "ig1 (100·dlat)", nint(100.0 * self.dlat))?,
            check_ig(g, "ig2 (100·dlon)", nint(100.0 * self.dlon))?,
            check_ig(g, "ig3 (100·(lat0+90))", nint(100.0 * (self.lat0 + 90.0)))?,
            check_ig(g, "ig4 (100·lon0)", ig4)?,
        ])
    }
}

/// Parameters of a polar stereographic grid (N or S).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolarParams {
    /// True for N (north polar), false for S.
    pub north: bool,
    /// Grid i-position of the pole (1-based, fractional, as in librmn).
    pub pi: f64,
    /// Grid j-position of the pole (1-based, fractional).
    pub pj: f64,
    /// Grid length in metres at 60° of the grid's hemisphere.
    pub d60: f64,
    /// Angle in degrees, counter-clockwise, from the grid's +x axis to Greenwich.
    pub dgrw: f64,
}

/// The offset (x, y), in grid units, of a point from the pole: librmn's `xyfll` geometry with
/// a caller-chosen projection-plane radius `rho` (in grid units).
pub(crate) fn polar_xy(north: bool, rho: f64, dgrw: f64, lat: f64, lon: f64) -> (f64, f64) {
    if north {
        let r = rho * (45.0 - lat / 2.0).to_radians().tan();
        let a = (lon + dgrw).to_radians();
        (r * a.cos(), r * a.sin())
    } else {
        let r = rho * (45.0 + lat / 2.0).to_radians().tan();
        let a = (dgrw - lon).to_radians();
        (r * a.cos(), r * a.sin())
    }
}

/// Inverse of [`polar_xy`]: (lat, lon) in degrees, lon in [0, 360).
pub(crate) fn polar_latlon(north: bool, rho: f64, dgrw: f64, x: f64, y: f64) -> (f64, f64) {
    let r = x.hypot(y);
    // 90 − 2·atan(r/ρ) equals asin((ρ²−r²)/(ρ²+r²)) but stays accurate next to the pole.
    let lat = 90.0 - 2.0 * r.atan2(rho).to_degrees();
    if r == 0.0 {
        // The pole: librmn reports longitude 0.
        return (if north { lat } else { -lat }, 0.0);
    }
    let ang = y.atan2(x).to_degrees();
    if north {
        (lat, wrap360(ang - dgrw))
    } else {
        (-lat, wrap360(dgrw - ang))
    }
}

/// Bring an angle in degrees into [0, 360).
pub(crate) fn wrap360(x: f64) -> f64 {
    let w = x - 360.0 * (x / 360.0).floor();
    // Rounding can land exactly on 360 for tiny negative inputs.
    if w >= 360.0 {
        w - 360.0
    } else {
        w
    }
}

impl PolarParams {
    /// Decode ig1..ig4 of an N (`north`) or S grid; both librmn encodings are recognised
    /// (ig4 ≥ 32768 marks the new one).
    #[must_use]
    pub fn decode(north: bool, ig: [u32; 4]) -> Self {
        let [ig1, ig2, ig3, ig4] = ig;
        if ig4 < 32768 {
            return PolarParams {
                north,
                pi: f64::from(ig2) / 10.0,
                pj: f64::from(ig1) / 10.0,
                d60: 100.0 * f64::from(ig4),
                dgrw: f64::from(ig3) / 100.0,
            };
        }
        let (mut ig3, mut ig4) = (ig3, ig4 - 32768);
        let mut d60 = 100.0 * f64::from(ig1);
        if ig3 > 32767 {
            d60 *= 10.0;
            ig3 -= 32768;
        }
        let mut dgrw = f64::from(ig2) / 10.0;
        if ig4 > 16383 {
            dgrw = 360.0 - dgrw;
            ig4 -= 16384;
        }
        let lat11 = 90.0 - f64::from(ig4) * 180.0 / 16383.0;
        let lon11 = f64::from(ig3) * 360.0 / 32767.0;
        let rho = RMN_ONE_PLUS_SIN60 * EARTH_RADIUS_M / d60;
        let (x, y) = polar_xy(north, rho, dgrw, lat11, lon11);
        PolarParams {
            north,
            pi: 1.0 - x,
            pj: 1.0 - y,
            d60,
            dgrw,
        }
    }

    /// [`PolarParams::decode`], refusing the igs that describe no grid on the Earth: a zero
    /// grid length, a grid length at 60° longer than half a great circle (no two points of
    /// the sphere are farther apart), or, in the new-style encoding, a latitude of point
    /// (1,1) past the south pole (its 14-bit field allows 16383 steps of 180/16383°; larger
    /// values run past −90°).
    pub fn decode_checked(north: bool, ig: [u32; 4]) -> Result<Self> {
        let g = if north { b'N' } else { b'S' };
        let [_, _, _, ig4] = ig;
        if ig4 >= 32768 {
            let steps = ig4 - 32768 - if ig4 - 32768 > 16383 { 16384 } else { 0 };
            if steps > 16383 {
                return Err(GridError::invalid(
                    g,
                    format!(
                        "ig4 = {ig4}: the latitude of point (1,1) would be {}°, past the pole \
                         (new-style encoding: ig4 = 32768 [+ 16384] + (90 − lat)·16383/180)",
                        90.0 - f64::from(steps) * 180.0 / 16383.0
                    ),
                ));
            }
        }
        let p = Self::decode(north, ig);
        if p.d60 <= 0.0 {
            return Err(GridError::invalid(g, "d60 = 0: the grid has no extent"));
        }
        if p.d60 > HALF_GREAT_CIRCLE_M {
            return Err(GridError::invalid(
                g,
                format!(
                    "d60 = {} m: a grid length longer than half a great circle \
                     ({HALF_GREAT_CIRCLE_M:.0} m) joins no two points of the Earth",
                    p.d60
                ),
            ));
        }
        Ok(p)
    }

    /// Encode to ig1..ig4 with librmn's choice of encoding: the compact old one when
    /// 0 ≤ pi, pj ≤ 204.7 and d60 ≤ 3 200 000 m, otherwise the new one, which stores the
    /// position of point (1,1) to about 0.01° (so pi and pj come back approximate).
    pub fn encode(&self) -> Result<[u32; 4]> {
        let g = if self.north { b'N' } else { b'S' };
        let PolarParams {
            pi, pj, d60, dgrw, ..
        } = *self;
        if !(pi.is_finite() && pj.is_finite() && d60.is_finite() && dgrw.is_finite()) || d60 <= 0.0
        {
            return Err(GridError::invalid(
                g,
                "parameters must be finite with d60 > 0",
            ));
        }
        if (0.0..=204.7).contains(&pi) && (0.0..=204.7).contains(&pj) && d60 <= 3_200_000.0 {
            return Ok([
                check_ig(g, "ig1 (10·pj)", nint(10.0 * pj))?,
                check_ig(g, "ig2 (10·pi)", nint(10.0 * pi))?,
                check_ig(g, "ig3 (100·dgrw)", nint(100.0 * dgrw).rem_euclid(36_000))?,
                check_ig(g, "ig4 (d60/100)", nint(d60 / 100.0))?,
            ]);
        }
        if !(-180.0..360.0).contains(&dgrw) {
            return Err(GridError::invalid(
                g,
                format!("dgrw = {dgrw}: the new-style encoding needs dgrw in [-180, 360)"),
            ));
        }
        let rho = RMN_ONE_PLUS_SIN60 * EARTH_RADIUS_M / d60;
        let (lat11, lon11) = polar_latlon(self.north, rho, dgrw, 1.0 - pi, 1.0 - pj);
        let (mut ig1, mut ig3) = (nint(d60 / 100.0), 0_i64);
        if d60 > 204_700.0 {
            ig1 = nint(d60 / 1000.0);
            ig3 = 32768;
        }
        let mut flag = false;
        let mut a = nint(dgrw * 10.0);
        if a < 0 {
            a = -a;
            flag = true;
        }
        if a > 1800 {
            a = (a - 3600).abs();
            flag = !flag;
        }
        // 32767 steps make a full turn: wrap after rounding so that 360° and 0° encode alike.
        ig3 += nint(lon11 * 32767.0 / 360.0).rem_euclid(32767);
        let ig4 = 32768 + if flag { 16384 } else { 0 } + nint((90.0 - lat11) * 16383.0 / 180.0);
        Ok([
            check_ig(g, "ig1 (d60)", ig1)?,
            check_ig(g, "ig2 (|dgrw|)", a)?,
            check_ig(g, "ig3 (lon of point 1,1)", ig3)?,
            check_ig(g, "ig4 (lat of point 1,1)", ig4)?,
        ])
    }
}

/// Parameters of a rotated grid (E, and the reference of Z-on-E): two true points defining
/// the rotated equator, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedParams {
    /// True latitude of the point at rotated (0, 180).
    pub xlat1: f64,
    /// True longitude of the point at rotated (0, 180).
    pub xlon1: f64,
    /// True latitude of a second point on the rotated equator, east of the first.
    pub xlat2: f64,
    /// True longitude of that second point.
    pub xlon2: f64,
}

impl RotatedParams {
    /// Decode librmn's bit-packed E encoding (1/40° steps).
    ///
    /// ```
    /// use grids::params::RotatedParams;
    /// let p = RotatedParams::decode([1350, 450, 56000, 43200]);
    /// assert_eq!((p.xlat1, p.xlon1, p.xlat2, p.xlon2), (45.0, 260.0, 45.0, 270.0));
    /// assert_eq!(p.encode()?, [1350, 450, 56000, 43200]);
    /// # Ok::<(), grids::GridError>(())
    /// ```
    #[must_use]
    pub fn decode(ig: [u32; 4]) -> Self {
        let [ig1, ig2, ig3, ig4] = ig.map(i64::from);
        let a = (ig1 << 2) | (ig3 & 3);
        let mut b = ig3 >> 2;
        if b < 3559 {
            b += 16384;
        }
        let mut c = (ig2 << 2) | (ig4 & 3);
        if c > 3600 {
            c -= 7201;
        }
        let d = ig4 >> 2;
        RotatedParams {
            xlat1: a as f64 / 40.0 - 90.0,
            xlon1: b as f64 / 40.0 - 90.0,
            xlat2: c as f64 / 40.0,
            xlon2: d as f64 / 40.0,
        }
    }

    /// Encode to ig1..ig4, quantising every angle to 1/40°.
    pub fn encode(&self) -> Result<[u32; 4]> {
        let g = b'E';
        self.check(g)?;
        let RotatedParams {
            xlat1,
            xlon1,
            xlat2,
            xlon2,
        } = *self;
        let a = nint(40.0 * (xlat1 + 90.0));
        // Longitudes are wrapped after quantisation, so that 359.99° (which rounds to 360°)
        // and 0° share one encoding and decode∘encode is the identity on igs.
        let mut b = nint(40.0 * wrap360(xlon1)).rem_euclid(14400) + 3600;
        if b >= 16384 {
            b -= 16384;
        }
        let mut c = nint(40.0 * xlat2);
        if c < 0 {
            c += 7201;
        }
        let d = nint(40.0 * wrap360(xlon2)).rem_euclid(14400);
        Ok([
            check_ig(g, "ig1", a >> 2)?,
            check_ig(g, "ig2", c >> 2)?,
            check_ig(g, "ig3", (b << 2) | (a & 3))?,
            check_ig(g, "ig4", (d << 2) | (c & 3))?,
        ])
    }

    /// Refuse parameters that are not two points of the sphere: non-finite values, or a
    /// latitude outside [-90, 90] (the E encoding's fields can hold up to 419 000°).
    /// `grtyp` names the grid type in the error (E, or the Z, # or U grid built on it).
    pub fn check(&self, grtyp: u8) -> Result<()> {
        let RotatedParams {
            xlat1,
            xlon1,
            xlat2,
            xlon2,
        } = *self;
        if !(xlat1.is_finite() && xlon1.is_finite() && xlat2.is_finite() && xlon2.is_finite()) {
            return Err(GridError::invalid(grtyp, "non-finite rotation parameter"));
        }
        for (name, lat) in [("xlat1", xlat1), ("xlat2", xlat2)] {
            if !(-90.0..=90.0).contains(&lat) {
                return Err(GridError::invalid(
                    grtyp,
                    format!(
                        "{name} = {lat}: the rotation's points must have latitudes in [-90, 90]"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The parameters after a round trip through the ig encoding (what librmn does to the
    /// rotation of each Yin-Yang subgrid).
    pub fn quantised(&self) -> Result<Self> {
        Ok(Self::decode(self.encode()?))
    }
}

/// Real parameters of a grid type that encodes them in ig1..ig4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridParams {
    /// A, B or G.
    Global(GlobalParams),
    /// L.
    LatLon(LatLonParams),
    /// N or S.
    Polar(PolarParams),
    /// E.
    Rotated(RotatedParams),
}

impl GridParams {
    /// Decode ig1..ig4 of grid type `grtyp`. Types whose igs are links to positional records
    /// (Z, Y, U, #) or carry nothing (X) have no parameters and give an error.
    pub fn decode(grtyp: u8, ig: [u32; 4]) -> Result<Self> {
        Ok(match grtyp {
            b'A' | b'B' | b'G' => GridParams::Global(GlobalParams::decode(grtyp, ig)?),
            b'L' => GridParams::LatLon(LatLonParams::decode(ig)),
            b'N' => GridParams::Polar(PolarParams::decode(true, ig)),
            b'S' => GridParams::Polar(PolarParams::decode(false, ig)),
            b'E' => GridParams::Rotated(RotatedParams::decode(ig)),
            _ => {
                return Err(GridError::invalid(
                    grtyp,
                    "this grid type has no real parameters in ig1..ig4 (they are links or unused)",
                ))
            }
        })
    }

    /// Encode back to ig1..ig4. The grid type follows from the variant, except A/B/G, which
    /// share one encoding.
    pub fn encode(&self) -> Result<[u32; 4]> {
        match self {
            GridParams::Global(p) => Ok(p.encode()),
            GridParams::LatLon(p) => p.encode(),
            GridParams::Polar(p) => p.encode(),
            GridParams::Rotated(p) => p.encode(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l_examples() {
        let p = LatLonParams {
            lat0: 10.5,
            lon0: 250.0,
            dlat: 0.5,
            dlon: 0.75,
        };
        assert_eq!(p.encode().unwrap(), [50, 75, 10050, 25000]);
        let p = LatLonParams {
            lat0: -35.25,
            lon0: -110.0,
            dlat: 0.25,
            dlon: 0.25,
        };
        assert_eq!(p.encode().unwrap(), [25, 25, 5475, 25000]);
        let d = LatLonParams::decode([25, 25, 5475, 25000]);
        assert_eq!(
            (d.lat0, d.lon0, d.dlat, d.dlon),
            (-35.25, 250.0, 0.25, 0.25)
        );
    }

    #[test]
    fn ps_old_example() {
        let p = PolarParams {
            north: true,
            pi: 26.0,
            pj: 28.0,
            d60: 381_000.0,
            dgrw: 350.0,
        };
        assert_eq!(p.encode().unwrap(), [280, 260, 35000, 3810]);
        assert_eq!(PolarParams::decode(true, [280, 260, 35000, 3810]), p);
    }

    #[test]
    fn ps_new_example() {
        let p = PolarParams {
            north: true,
            pi: -150.0,
            pj: -200.0,
            d60: 10_000.0,
            dgrw: 250.0,
        };
        let ig = p.encode().unwrap();
        assert_eq!(ig, [100, 1100, 14844, 51326]);
        let d = PolarParams::decode(true, ig);
        assert!((d.pi - -150.029).abs() < 2e-3, "{d:?}");
        assert!((d.pj - -200.050).abs() < 2e-3, "{d:?}");
        assert!((d.dgrw - 250.0).abs() < 1e-9 && d.d60 == 10_000.0);
    }

    #[test]
    fn e_examples() {
        let p = RotatedParams {
            xlat1: 57.0,
            xlon1: 250.0,
            xlat2: 56.0,
            xlon2: 291.0,
        };
        assert_eq!(p.encode().unwrap(), [1470, 560, 54400, 46560]);
        let p = RotatedParams {
            xlat1: -35.0,
            xlon1: 120.0,
            xlat2: -10.0,
            xlon2: 100.0,
        };
        assert_eq!(p.encode().unwrap(), [550, 1700, 33600, 16001]);
        assert_eq!(RotatedParams::decode([550, 1700, 33600, 16001]), p);
        let d = RotatedParams::decode([1350, 450, 56000, 43200]);
        assert_eq!(
            (d.xlat1, d.xlon1, d.xlat2, d.xlon2),
            (45.0, 260.0, 45.0, 270.0)
        );
    }

    #[test]
    fn global_flags() {
        assert!(GlobalParams::decode(b'A', [3, 0, 0, 0]).is_err());
        assert!(GlobalParams::decode(b'G', [0, 2, 0, 0]).is_err());
        let p = GlobalParams::decode(b'B', [2, 1, 0, 0]).unwrap();
        assert_eq!(p.encode(), [2, 1, 0, 0]);
    }
}
