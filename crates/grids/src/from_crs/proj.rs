//! The PROJ calls of the inverse mapping: open a CRS given as WKT, a PROJ string or an
//! authority code, describe it (PROJ string, type, ellipsoid) and convert its coordinates to and
//! from the latitude/longitude of its own geodetic CRS.
//!
//! Kept apart from `proj_ffi` (WKT export and axis queries for the forward mapping) because it
//! holds PROJ objects for the duration of one conversion instead of one call. Each `Source` has
//! its own PROJ context and is used from one thread.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::os::raw::c_int;

use super::{FromCrsError, ToLatLon};

/// What kind of CRS PROJ says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrsType {
    /// Geographic 2-D or 3-D (this includes derived geographic CRSes such as rotated poles).
    Geographic,
    /// Projected.
    Projected,
    /// Anything else PROJ can still convert (engineering CRSes fail later).
    Other,
}

/// A CRS opened by PROJ together with the operation from it to its geodetic CRS, both in the
/// GIS axis order (x = easting or longitude, y = northing or latitude; degrees for angles).
pub(crate) struct Source {
    definition: String,
    ctx: *mut proj_sys::PJ_CONTEXT,
    crs: *mut proj_sys::PJ,
    op: *mut proj_sys::PJ,
    /// PROJ type of the horizontal CRS.
    pub(crate) kind: CrsType,
    /// The PROJ string PROJ exports for the horizontal CRS, when it has one.
    pub(crate) proj_string: Option<String>,
    /// The radius when the CRS's ellipsoid is a sphere.
    pub(crate) sphere_radius: Option<f64>,
}

fn crs_err(definition: &str, detail: impl Into<String>) -> FromCrsError {
    FromCrsError::Crs {
        definition: clip(definition),
        detail: detail.into(),
    }
}

/// Error messages quote the definition; a WKT can be kilobytes long.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 160;
    if s.chars().count() > MAX {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    } else {
        s.to_owned()
    }
}

impl Source {
    /// Open `definition` (WKT1, WKT2, PROJ string, `AUTH:CODE`).
    pub(crate) fn open(definition: &str) -> Result<Self, FromCrsError> {
        let def = CString::new(definition).map_err(|e| crs_err(definition, e.to_string()))?;
        let ctx = crate::proj_ffi::quiet_context()
            .ok_or_else(|| crs_err(definition, "proj_context_create failed"))?;
        let mut s = Source {
            definition: definition.to_owned(),
            ctx,
            crs: std::ptr::null_mut(),
            op: std::ptr::null_mut(),
            kind: CrsType::Other,
            proj_string: None,
            sphere_radius: None,
        };
        // From here on, `Drop` frees whatever has been created.
        // SAFETY: ctx is live; def is NUL-terminated and outlives the call.
        let pj = unsafe { proj_sys::proj_create(ctx, def.as_ptr()) };
        if pj.is_null() {
            return Err(crs_err(
                definition,
                "PROJ does not recognise this definition",
            ));
        }
        s.crs = pj;
        // SAFETY: s.crs is a live object of ctx.
        if unsafe { proj_sys::proj_is_crs(s.crs) } == 0 {
            return Err(crs_err(definition, "the definition is not a CRS"));
        }
        s.horizontal()?;
        // SAFETY: s.crs is a live CRS; the type query has no other precondition.
        s.kind = match unsafe { proj_sys::proj_get_type(s.crs) } {
            proj_sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_2D_CRS
            | proj_sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_3D_CRS => CrsType::Geographic,
            proj_sys::PJ_TYPE_PJ_TYPE_PROJECTED_CRS => CrsType::Projected,
            proj_sys::PJ_TYPE_PJ_TYPE_GEOCENTRIC_CRS | proj_sys::PJ_TYPE_PJ_TYPE_GEODETIC_CRS => {
                return Err(crs_err(
                    definition,
                    "a geocentric CRS has no 2-D raster coordinates",
                ))
            }
            _ => CrsType::Other,
        };
        s.proj_string = s.export_proj_string();
        s.sphere_radius = s.sphere();
        let geod = s.geographic_target()?;
        // SAFETY: s.crs and geod are live CRSes of ctx; null area and options are allowed.
        let op = unsafe {
            proj_sys::proj_create_crs_to_crs_from_pj(
                ctx,
                s.crs,
                geod,
                std::ptr::null_mut(),
                std::ptr::null(),
            )
        };
        // SAFETY: geod is live and no longer needed (the operation keeps its own copy).
        unsafe { proj_sys::proj_destroy(geod) };
        if op.is_null() {
            return Err(crs_err(
                definition,
                "PROJ has no operation from this CRS to its latitude/longitude",
            ));
        }
        // SAFETY: op is a live operation of ctx, not used after this.
        let norm = unsafe { crate::proj_ffi::normalized(ctx, op) };
        if norm.is_null() {
            return Err(crs_err(
                definition,
                "PROJ could not put the axes in x/y order",
            ));
        }
        s.op = norm;
        Ok(s)
    }

    /// The geographic CRS whose latitude/longitude the CRS's points are converted to (the
    /// caller destroys it).
    fn geographic_target(&self) -> Result<*mut proj_sys::PJ, FromCrsError> {
        // SAFETY: self.crs is a live CRS of ctx; null means it has no geodetic CRS (checked).
        let mut geod = unsafe { proj_sys::proj_crs_get_geodetic_crs(self.ctx, self.crs) };
        if geod.is_null() {
            return Err(crs_err(
                &self.definition,
                "the CRS has no geodetic CRS, so its points have no latitude/longitude",
            ));
        }
        // A derived geographic CRS (a rotated pole) is its own geodetic CRS: the true
        // latitude/longitude are those of its base, one or more levels down.
        for _ in 0..4 {
            // SAFETY: geod is a live CRS of ctx; null means it is not derived.
            let base = unsafe { proj_sys::proj_get_source_crs(self.ctx, geod) };
            if base.is_null() {
                break;
            }
            // SAFETY: geod is live and replaced by base.
            unsafe { proj_sys::proj_destroy(geod) };
            geod = base;
        }
        // A CRS PROJ built from a PROJ string (e.g. WKT1 with GDAL's PROJ4 extension for a
        // rotated pole) can be its own geodetic CRS even when it is not a plain longlat: take
        // a longlat on its ellipsoid instead (FST grids carry no datum).
        // SAFETY: geod and self.crs are live CRSes.
        let same = unsafe {
            proj_sys::proj_is_equivalent_to(
                geod,
                self.crs,
                proj_sys::PJ_COMPARISON_CRITERION_PJ_COMP_EQUIVALENT,
            )
        } != 0;
        let plain = self.proj_string.as_deref().is_none_or(|p| {
            [
                "+proj=longlat",
                "+proj=latlong",
                "+proj=lonlat",
                "+proj=latlon",
            ]
            .iter()
            .any(|q| p.starts_with(q))
        });
        if same && !plain {
            let def = self.ellipsoid().and_then(|(a, b)| {
                CString::new(format!("+proj=longlat +a={a} +b={b} +no_defs +type=crs")).ok()
            });
            if let Some(def) = def {
                // SAFETY: self.ctx is live; def is NUL-terminated and outlives the call.
                let ll = unsafe { proj_sys::proj_create(self.ctx, def.as_ptr()) };
                if !ll.is_null() {
                    // SAFETY: geod is live and replaced by ll.
                    unsafe { proj_sys::proj_destroy(geod) };
                    geod = ll;
                }
            }
        }
        Ok(geod)
    }

    /// Replace a bound or compound CRS by its horizontal part.
    fn horizontal(&mut self) -> Result<(), FromCrsError> {
        for _ in 0..4 {
            // SAFETY: self.crs is a live CRS of self.ctx.
            let t = unsafe { proj_sys::proj_get_type(self.crs) };
            let inner = match t {
                // SAFETY: self.crs is a live bound CRS; null is checked.
                proj_sys::PJ_TYPE_PJ_TYPE_BOUND_CRS => unsafe {
                    proj_sys::proj_get_source_crs(self.ctx, self.crs)
                },
                // SAFETY: self.crs is a live compound CRS; index 0 is its horizontal part.
                proj_sys::PJ_TYPE_PJ_TYPE_COMPOUND_CRS => unsafe {
                    proj_sys::proj_crs_get_sub_crs(self.ctx, self.crs, 0)
                },
                _ => return Ok(()),
            };
            if inner.is_null() {
                return Err(crs_err(&self.definition, "no horizontal CRS inside"));
            }
            // SAFETY: self.crs is live and replaced by inner.
            unsafe { proj_sys::proj_destroy(self.crs) };
            self.crs = inner;
        }
        Err(crs_err(&self.definition, "CRS nested too deeply"))
    }

    fn export_proj_string(&self) -> Option<String> {
        // SAFETY: self.crs is a live CRS; a null options list is allowed; the string is owned
        // by self.crs (or null) and copied at once.
        let p = unsafe {
            proj_sys::proj_as_proj_string(
                self.ctx,
                self.crs,
                proj_sys::PJ_PROJ_STRING_TYPE_PJ_PROJ_5,
                std::ptr::null(),
            )
        };
        if p.is_null() {
            None
        } else {
            // SAFETY: p is a NUL-terminated string owned by self.crs, alive here.
            Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        }
    }

    fn sphere(&self) -> Option<f64> {
        self.ellipsoid()
            .and_then(|(a, b)| ((a - b).abs() <= 1e-9 * a).then_some(a))
    }

    /// Semi-major and semi-minor axes in metres.
    fn ellipsoid(&self) -> Option<(f64, f64)> {
        // SAFETY: self.crs is a live CRS; null (no ellipsoid) is checked.
        let ell = unsafe { proj_sys::proj_get_ellipsoid(self.ctx, self.crs) };
        if ell.is_null() {
            return None;
        }
        let (mut a, mut b, mut computed, mut invf) = (0.0_f64, 0.0_f64, 0 as c_int, 0.0_f64);
        // SAFETY: ell is a live ellipsoid; every output pointer is valid for one write.
        let ok = unsafe {
            proj_sys::proj_ellipsoid_get_parameters(
                self.ctx,
                ell,
                &raw mut a,
                &raw mut b,
                &raw mut computed,
                &raw mut invf,
            )
        } != 0;
        // SAFETY: ell is live and not used after this point.
        unsafe { proj_sys::proj_destroy(ell) };
        (ok && a > 0.0 && b > 0.0).then_some((a, b))
    }
}

impl ToLatLon for Source {
    /// Points PROJ cannot convert come back as infinities.
    fn convert(&self, x: &mut [f64], y: &mut [f64], forward: bool) {
        let dir = if forward {
            proj_sys::PJ_DIRECTION_PJ_FWD
        } else {
            proj_sys::PJ_DIRECTION_PJ_INV
        };
        // SAFETY: self.op is a live operation of this Source's context, used by one thread.
        unsafe { crate::proj_ffi::trans_generic(self.op, dir, x, y) };
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        for p in [self.op, self.crs] {
            if !p.is_null() {
                // SAFETY: p is a live object of self.ctx, destroyed once (the fields are not
                // used after drop).
                unsafe { proj_sys::proj_destroy(p) };
            }
        }
        // SAFETY: ctx is live and every object created with it has been destroyed.
        unsafe { proj_sys::proj_context_destroy(self.ctx) };
    }
}
