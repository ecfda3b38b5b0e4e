//! The per-point kernels. Each has a fast version and a scalar twin (plain `std` math, the
//! reference); property tests at the bottom check that the two agree.
//!
//! The fast versions are branch-free loops over slices built from the polynomial
//! approximations of [`crate::simd`], compiled several times by `multiversion` (AVX-512,
//! AVX2+FMA, SSE4.1, baseline) and dispatched at run time, so the compiler vectorises them for
//! the widest instruction set the CPU has. Results do not depend on where a slice starts.

use multiversion::multiversion;

use crate::simd::{atan2, floor, sin_cos_deg, wrap360 as wrap360_fast};

const RAD: f64 = 180.0 / std::f64::consts::PI;

/// Polar stereographic constants: `rho` = (1 + sin 60°)·R; `north` selects the hemisphere.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolarK {
    pub(crate) north: bool,
    pub(crate) rho: f64,
    pub(crate) dgrw: f64,
}

#[cfg(test)]
pub(crate) fn polar_to_geo_scalar(k: PolarK, x: &[f64], y: f64, lat: &mut [f64], lon: &mut [f64]) {
    for ((&x, la), lo) in x.iter().zip(lat.iter_mut()).zip(lon.iter_mut()) {
        let (a, b) = crate::params::polar_latlon(k.north, k.rho, k.dgrw, x, y);
        *la = a;
        *lo = b;
    }
}

/// Polar stereographic grid → geographic, one row: `x` are the row's projected X (metres),
/// `y` its Y.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(crate) fn polar_to_geo(k: PolarK, x: &[f64], y: f64, lat: &mut [f64], lon: &mut [f64]) {
    let sign = if k.north { 1.0 } else { -1.0 };
    for ((&x, la), lo) in x.iter().zip(lat.iter_mut()).zip(lon.iter_mut()) {
        let r = (x * x + y * y).sqrt();
        *la = sign * (90.0 - 2.0 * RAD * atan2(r, k.rho));
        // North: lon = ang − dgrw; south: lon = dgrw − ang (and lat negated).
        let lo_ = wrap360_fast((atan2(y, x) * RAD - k.dgrw) * sign);
        // At the pole itself librmn reports longitude 0.
        *lo = if r == 0.0 { 0.0 } else { lo_ };
    }
}

#[cfg(test)]
pub(crate) fn rotated_to_geo_scalar(
    m: &[[f64; 3]; 3],
    cos_rlon: &[f64],
    sin_rlon: &[f64],
    cos_rlat: f64,
    sin_rlat: f64,
    lat: &mut [f64],
    lon: &mut [f64],
) {
    for (((&cl, &sl), la), lo) in cos_rlon
        .iter()
        .zip(sin_rlon)
        .zip(lat.iter_mut())
        .zip(lon.iter_mut())
    {
        let v = [cos_rlat * cl, cos_rlat * sl, sin_rlat];
        let t = m.map(|r| r[0] * v[0] + r[1] * v[1] + r[2] * v[2]);
        let (a, b) = crate::rotation::latlon_of(t);
        *la = a;
        *lo = b;
    }
}

/// Rotated grid → geographic, one row: cos/sin of the columns' rotated longitudes, cos/sin of
/// the row's rotated latitude, and the rotated→true matrix (row-major).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(crate) fn rotated_to_geo(
    m: &[[f64; 3]; 3],
    cos_rlon: &[f64],
    sin_rlon: &[f64],
    cos_rlat: f64,
    sin_rlat: f64,
    lat: &mut [f64],
    lon: &mut [f64],
) {
    // The rlat terms are constant along the row: fold them in once.
    let (m0, m1, m2) = (m[0], m[1], m[2]);
    let (a0, b0, c0) = (m0[0] * cos_rlat, m0[1] * cos_rlat, m0[2] * sin_rlat);
    let (a1, b1, c1) = (m1[0] * cos_rlat, m1[1] * cos_rlat, m1[2] * sin_rlat);
    let (a2, b2, c2) = (m2[0] * cos_rlat, m2[1] * cos_rlat, m2[2] * sin_rlat);
    for (((&cl, &sl), la), lo) in cos_rlon
        .iter()
        .zip(sin_rlon)
        .zip(lat.iter_mut())
        .zip(lon.iter_mut())
    {
        let tx = a0 * cl + b0 * sl + c0;
        let ty = a1 * cl + b1 * sl + c1;
        let tz = a2 * cl + b2 * sl + c2;
        let h = (tx * tx + ty * ty).sqrt();
        *la = atan2(tz, h) * RAD;
        *lo = wrap360_fast(atan2(ty, tx) * RAD);
    }
}

/// Geographic → rotated degrees (rlon in (−180, 180], rlat), given the true→rotated matrix.
pub(crate) fn geo_to_rotated_scalar(
    m: &[[f64; 3]; 3],
    lon: &[f64],
    lat: &[f64],
    rlon: &mut [f64],
    rlat: &mut [f64],
) {
    for (((&lo, &la), ro), ra) in lon
        .iter()
        .zip(lat)
        .zip(rlon.iter_mut())
        .zip(rlat.iter_mut())
    {
        let v = crate::rotation::unit(la, lo);
        let t = m.map(|r| r[0] * v[0] + r[1] * v[1] + r[2] * v[2]);
        *ra = t[2].atan2(t[0].hypot(t[1])) * RAD;
        *ro = t[1].atan2(t[0]) * RAD;
    }
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(crate) fn geo_to_rotated(
    m: &[[f64; 3]; 3],
    lon: &[f64],
    lat: &[f64],
    rlon: &mut [f64],
    rlat: &mut [f64],
) {
    let (m0, m1, m2) = (m[0], m[1], m[2]);
    for (((&lo, &la), ro), ra) in lon
        .iter()
        .zip(lat)
        .zip(rlon.iter_mut())
        .zip(rlat.iter_mut())
    {
        let (sp, cp) = sin_cos_deg(la);
        let (sl, cl) = sin_cos_deg(lo);
        let (vx, vy, vz) = (cp * cl, cp * sl, sp);
        let tx = m0[0] * vx + m0[1] * vy + m0[2] * vz;
        let ty = m1[0] * vx + m1[1] * vy + m1[2] * vz;
        let tz = m2[0] * vx + m2[1] * vy + m2[2] * vz;
        let h = (tx * tx + ty * ty).sqrt();
        *ra = atan2(tz, h) * RAD;
        *ro = atan2(ty, tx) * RAD;
    }
}

/// Geographic → polar stereographic metres (X, Y).
pub(crate) fn geo_to_polar_scalar(
    k: PolarK,
    lon: &[f64],
    lat: &[f64],
    xo: &mut [f64],
    yo: &mut [f64],
) {
    for (((&lo, &la), x), y) in lon.iter().zip(lat).zip(xo.iter_mut()).zip(yo.iter_mut()) {
        let (sp, cp) = la.to_radians().sin_cos();
        let (r, ang) = if k.north {
            (k.rho * cp / (1.0 + sp), lo + k.dgrw)
        } else {
            (k.rho * cp / (1.0 - sp), k.dgrw - lo)
        };
        let (sa, ca) = ang.to_radians().sin_cos();
        *x = r * ca;
        *y = r * sa;
    }
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(crate) fn geo_to_polar(k: PolarK, lon: &[f64], lat: &[f64], xo: &mut [f64], yo: &mut [f64]) {
    let sign = if k.north { 1.0 } else { -1.0 };
    for (((&lo, &la), x), y) in lon.iter().zip(lat).zip(xo.iter_mut()).zip(yo.iter_mut()) {
        let (sp, cp) = sin_cos_deg(la);
        let r = k.rho * cp / (1.0 + sign * sp);
        // North: lon + dgrw; south: dgrw − lon.
        let (sa, ca) = sin_cos_deg(lo * sign + k.dgrw);
        *x = r * ca;
        *y = r * sa;
    }
}

/// CRS coordinate → fractional index on a uniform axis, in place, with NaN for points outside
/// the half-cell margin `[-0.5, n - 0.5)`. When `wrap_center` is set, the coordinate is an
/// angle and is first brought into the 360° window centred there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ToIndexK {
    pub(crate) start: f64,
    pub(crate) step: f64,
    pub(crate) n: f64,
    pub(crate) wrap_center: Option<f64>,
}

pub(crate) fn wrap_about(x: f64, c: f64) -> f64 {
    let d = x - c;
    c + d - 360.0 * ((d + 180.0) / 360.0).floor()
}

#[cfg(test)]
pub(crate) fn to_index_scalar(k: ToIndexK, v: &mut [f64]) {
    for x in v {
        let w = match k.wrap_center {
            Some(c) => wrap_about(*x, c),
            None => *x,
        };
        let i = (w - k.start) / k.step;
        *x = if i >= -0.5 && i < k.n - 0.5 {
            i
        } else {
            f64::NAN
        };
    }
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(crate) fn to_index(k: ToIndexK, v: &mut [f64]) {
    // Division, not multiplication by the inverse, so that results are bit-identical to the
    // scalar twin and exact indices stay exact.
    let hi = k.n - 0.5;
    match k.wrap_center {
        Some(c) => {
            for x in v {
                let d = *x - c;
                let w = c + d - 360.0 * floor((d + 180.0) / 360.0);
                let i = (w - k.start) / k.step;
                *x = if i >= -0.5 && i < hi { i } else { f64::NAN };
            }
        }
        None => {
            for x in v {
                let i = (*x - k.start) / k.step;
                *x = if i >= -0.5 && i < hi { i } else { f64::NAN };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::wrap360;
    use proptest::prelude::*;

    fn close_deg(a: f64, b: f64, tol: f64) -> bool {
        let (a, b) = (wrap360(a), wrap360(b));
        let d = (a - b).abs();
        d <= tol || (d - 360.0).abs() <= tol || (a.is_nan() && b.is_nan())
    }

    proptest! {
        #[test]
        fn polar_simd_matches_scalar(
            xs in prop::collection::vec(-1.2e7..1.2e7_f64, 0..23),
            y in -1.2e7..1.2e7_f64,
            north in any::<bool>(),
            dgrw in -180.0..360.0_f64,
        ) {
            let k = PolarK { north, rho: 1.866_025_403_784_438_6 * 6.371e6, dgrw };
            let n = xs.len();
            let (mut a, mut b, mut c, mut d) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            polar_to_geo(k, &xs, y, &mut a, &mut b);
            polar_to_geo_scalar(k, &xs, y, &mut c, &mut d);
            for q in 0..n {
                prop_assert!(close_deg(a[q], c[q], 1e-11), "lat {} vs {}", a[q], c[q]);
                // Longitude is meaningless at the pole itself.
                let r = xs[q].hypot(y);
                prop_assert!(r < 1e-3 || close_deg(b[q], d[q], 1e-11) , "lon {} vs {}", b[q], d[q]);
            }
            // And the inverse kernels.
            let (mut x1, mut y1, mut x2, mut y2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            geo_to_polar(k, &b, &a, &mut x1, &mut y1);
            geo_to_polar_scalar(k, &b, &a, &mut x2, &mut y2);
            for q in 0..n {
                prop_assert!((x1[q] - x2[q]).abs() <= 1e-6 && (y1[q] - y2[q]).abs() <= 1e-6);
                // Round trip to the starting metres, unless the point is near the other pole.
                if a[q].abs() < 89.0 || (a[q] > 0.0) == north {
                    prop_assert!((x2[q] - xs[q]).abs() < 1e-4 && (y2[q] - y).abs() < 1e-4,
                        "{} {} vs {} {}", x2[q], y2[q], xs[q], y);
                }
            }
        }

        #[test]
        fn rotated_simd_matches_scalar(
            rlon in prop::collection::vec(-180.0..540.0_f64, 0..23),
            rlat in -90.0..90.0_f64,
            p in (-90.0..90.0_f64, 0.0..360.0_f64, -90.0..90.0_f64, 0.0..360.0_f64),
        ) {
            let (xlat1, xlon1, xlat2, xlon2) = p;
            let params = crate::params::RotatedParams { xlat1, xlon1, xlat2, xlon2 };
            let Ok(rot) = crate::rotation::Rotation::new(&params) else { return Ok(()); };
            let m = rot.to_true_matrix();
            let n = rlon.len();
            let c: Vec<f64> = rlon.iter().map(|x| x.to_radians().cos()).collect();
            let s: Vec<f64> = rlon.iter().map(|x| x.to_radians().sin()).collect();
            let (sp, cp) = rlat.to_radians().sin_cos();
            let (mut a, mut b, mut a2, mut b2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            rotated_to_geo(&m, &c, &s, cp, sp, &mut a, &mut b);
            rotated_to_geo_scalar(&m, &c, &s, cp, sp, &mut a2, &mut b2);
            // A longitude difference means a distance of (difference × cos latitude): near a
            // pole the same rounding gives larger longitude differences, so the tolerance on
            // longitudes is a distance tolerance divided by cos latitude.
            let lon_tol = |lat: f64| 1e-11 / lat.to_radians().cos().abs().max(1e-9);
            for q in 0..n {
                prop_assert!(close_deg(a[q], a2[q], 1e-11), "lat {} vs {}", a[q], a2[q]);
                prop_assert!(a[q].abs() > 89.999_999 || close_deg(b[q], b2[q], lon_tol(a[q])), "lon {} vs {}", b[q], b2[q]);
            }
            let mi = rot.to_rotated_matrix();
            let (mut x1, mut y1, mut x2, mut y2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            geo_to_rotated(&mi, &b2, &a2, &mut x1, &mut y1);
            geo_to_rotated_scalar(&mi, &b2, &a2, &mut x2, &mut y2);
            for q in 0..n {
                prop_assert!(close_deg(y1[q], y2[q], 1e-11));
                prop_assert!(y2[q].abs() > 89.999_999 || close_deg(x1[q], x2[q], lon_tol(y2[q])), "{} {}", x1[q], x2[q]);
                prop_assert!((y2[q] - rlat).abs() < 1e-9);
                prop_assert!(rlat.abs() > 89.9999 || close_deg(wrap360(x2[q]), wrap360(rlon[q]), 1e-9));
            }
        }

        #[test]
        fn to_index_simd_matches_scalar(
            xs in prop::collection::vec(-720.0..720.0_f64, 0..23),
            start in -200.0..200.0_f64,
            step in prop::sample::select(vec![0.25, -0.5, 1.0, 3.75, 100_000.0]),
            n in 1usize..2000,
            wrap in any::<bool>(),
        ) {
            let k = ToIndexK { start, step, n: n as f64,
                wrap_center: wrap.then(|| start + step * (n as f64 - 1.0) / 2.0) };
            let mut a = xs.clone();
            let mut b = xs.clone();
            to_index(k, &mut a);
            to_index_scalar(k, &mut b);
            for q in 0..xs.len() {
                prop_assert!(a[q].to_bits() == b[q].to_bits() || (a[q].is_nan() && b[q].is_nan()));
            }
        }
    }
}
