//! PROJ through `proj_sys`: exporting a PROJ definition as WKT, reading the kind and axis
//! order of a CRS, and converting coordinates between two CRSs.
//!
//! proj 0.27 has neither `to_wkt` nor axis queries, and its `Proj` leaks its context every
//! time a creation fails; so PROJ is called directly, and every path destroys what it
//! created. Each call (and each [`Operation`]) has its own PROJ context: a context must not
//! be used by two threads at once, and a private one sidesteps the question.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};

use crate::error::{GridError, Result};

fn err(definition: &str, detail: impl Into<String>) -> GridError {
    GridError::Proj {
        definition: definition.to_owned(),
        detail: detail.into(),
    }
}

/// A new PROJ context that logs nothing, or None when PROJ cannot make one; the caller
/// destroys it. Failures come back as errors: PROJ's own logging to stderr would repeat them
/// (once per request in a server that checks a client's CRS).
pub(crate) fn quiet_context() -> Option<*mut proj_sys::PJ_CONTEXT> {
    // SAFETY: proj_context_create has no preconditions; a null result is checked.
    let ctx = unsafe { proj_sys::proj_context_create() };
    if ctx.is_null() {
        return None;
    }
    // SAFETY: ctx is a live context.
    unsafe { proj_sys::proj_log_level(ctx, proj_sys::PJ_LOG_LEVEL_PJ_LOG_NONE) };
    Some(ctx)
}

/// `op` in the GIS axis order (x = easting or longitude first), which replaces it: `op` is
/// destroyed either way; null when PROJ cannot reorder it.
///
/// # Safety
/// `op` is a live operation of `ctx`, not used after this call.
pub(crate) unsafe fn normalized(
    ctx: *mut proj_sys::PJ_CONTEXT,
    op: *mut proj_sys::PJ,
) -> *mut proj_sys::PJ {
    // SAFETY: op is a live operation of ctx (caller contract).
    let norm = unsafe { proj_sys::proj_normalize_for_visualization(ctx, op) };
    // SAFETY: op is live and replaced by norm (the caller no longer uses it).
    unsafe { proj_sys::proj_destroy(op) };
    norm
}

/// Run `f` on the PROJ object made from `definition`, with a private context, and free both.
fn with_crs<T>(
    definition: &str,
    f: impl FnOnce(*mut proj_sys::PJ_CONTEXT, *mut proj_sys::PJ) -> Result<T>,
) -> Result<T> {
    let def = CString::new(definition).map_err(|e| err(definition, e.to_string()))?;
    let ctx = quiet_context().ok_or_else(|| err(definition, "proj_context_create failed"))?;
    // SAFETY: ctx is a live context and def a NUL-terminated string that outlives the call.
    let pj = unsafe { proj_sys::proj_create(ctx, def.as_ptr()) };
    let out = if pj.is_null() {
        Err(err(definition, "proj_create rejected the definition"))
    } else {
        // SAFETY: pj is a live object of ctx.
        let is_crs = unsafe { proj_sys::proj_is_crs(pj) } != 0;
        let out = if is_crs {
            f(ctx, pj)
        } else {
            Err(err(definition, "the definition is not a CRS"))
        };
        // SAFETY: pj is live and not used after this point (f has returned and kept no
        // pointer into it).
        unsafe { proj_sys::proj_destroy(pj) };
        out
    };
    // SAFETY: ctx came from proj_context_create above and every object made with it has
    // been destroyed.
    unsafe { proj_sys::proj_context_destroy(ctx) };
    out
}

/// WKT2:2019 of a PROJ CRS definition.
pub(crate) fn wkt_of(definition: &str) -> Result<String> {
    with_crs(definition, |ctx, pj| {
        // SAFETY: pj is a live CRS of ctx; a null options list is allowed. PROJ returns a
        // string owned by pj (valid until pj is destroyed) or null.
        let w = unsafe {
            proj_sys::proj_as_wkt(
                ctx,
                pj,
                proj_sys::PJ_WKT_TYPE_PJ_WKT2_2019,
                std::ptr::null(),
            )
        };
        if w.is_null() {
            Err(err(definition, "proj_as_wkt returned nothing"))
        } else {
            // SAFETY: w is a NUL-terminated string owned by pj, which is still alive; it is
            // copied before pj is destroyed.
            Ok(unsafe { CStr::from_ptr(w) }.to_string_lossy().into_owned())
        }
    })
}

/// Direction of each axis of a CRS's coordinate system, in order, as PROJ names them
/// (`east`, `north`, `up`, ...). Bound CRSes are looked through to their source CRS.
pub(crate) fn axis_directions(definition: &str) -> Result<Vec<String>> {
    with_crs(definition, |ctx, pj| {
        // SAFETY: pj is live; the type query has no other precondition.
        let bound = unsafe { proj_sys::proj_get_type(pj) } == proj_sys::PJ_TYPE_PJ_TYPE_BOUND_CRS;
        let base = if bound {
            // SAFETY: pj is a live bound CRS of ctx; null is checked below.
            unsafe { proj_sys::proj_get_source_crs(ctx, pj) }
        } else {
            std::ptr::null_mut()
        };
        let crs = if bound && !base.is_null() { base } else { pj };
        // SAFETY: crs is a live CRS of ctx; null (e.g. compound CRSes) is checked below.
        let cs = unsafe { proj_sys::proj_crs_get_coordinate_system(ctx, crs) };
        let out = if cs.is_null() {
            Err(err(definition, "the CRS has no single coordinate system"))
        } else {
            // SAFETY: cs is a live coordinate system of ctx.
            let n = unsafe { proj_sys::proj_cs_get_axis_count(ctx, cs) };
            let mut dirs = Vec::new();
            for k in 0..n.max(0) {
                let mut dir: *const std::os::raw::c_char = std::ptr::null();
                // SAFETY: cs is live, k < the axis count, and every output pointer but
                // `dir` is null, which PROJ allows; `dir` points into cs.
                let ok = unsafe {
                    proj_sys::proj_cs_get_axis_info(
                        ctx,
                        cs,
                        k,
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        &raw mut dir,
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                    )
                } != 0;
                if ok && !dir.is_null() {
                    // SAFETY: dir is a NUL-terminated string owned by cs, copied before cs
                    // is destroyed.
                    dirs.push(
                        unsafe { CStr::from_ptr(dir) }
                            .to_string_lossy()
                            .to_ascii_lowercase(),
                    );
                }
            }
            // SAFETY: cs is live and not used after this point.
            unsafe { proj_sys::proj_destroy(cs) };
            Ok(dirs)
        };
        if !base.is_null() {
            // SAFETY: base is live and not used after this point.
            unsafe { proj_sys::proj_destroy(base) };
        }
        out
    })
}

/// Whether a CRS is geographic 2-D or projected (bound CRSes are looked through): the kinds
/// a flat map can be drawn in. Geocentric, vertical, compound, 3-D geographic and
/// engineering CRSs are not.
pub(crate) fn is_geographic_2d_or_projected(definition: &str) -> Result<bool> {
    with_crs(definition, |ctx, pj| {
        // SAFETY: pj is live; the type query has no other precondition.
        let mut kind = unsafe { proj_sys::proj_get_type(pj) };
        if kind == proj_sys::PJ_TYPE_PJ_TYPE_BOUND_CRS {
            // SAFETY: pj is a live bound CRS of ctx; null is checked below.
            let base = unsafe { proj_sys::proj_get_source_crs(ctx, pj) };
            if !base.is_null() {
                // SAFETY: base is a live object of ctx.
                kind = unsafe { proj_sys::proj_get_type(base) };
                // SAFETY: base is live and not used after this point.
                unsafe { proj_sys::proj_destroy(base) };
            }
        }
        Ok(kind == proj_sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_2D_CRS
            || kind == proj_sys::PJ_TYPE_PJ_TYPE_PROJECTED_CRS)
    })
}

/// A PROJ coordinate operation from one CRS to another, both in GIS axis order (x = easting or
/// longitude, y = northing or latitude; degrees for angles), with its own context.
pub(crate) struct Operation {
    ctx: *mut proj_sys::PJ_CONTEXT,
    op: *mut proj_sys::PJ,
}

// SAFETY: the context and the operation are created together, owned by this value alone and
// destroyed together. PROJ allows a context (with its objects) to move between threads as long
// as no two threads use it at once; `Operation` is not `Sync`, so `&self` calls never overlap.
unsafe impl Send for Operation {}

impl Operation {
    /// The operation PROJ picks from `from` to `to` (anything `proj_create` accepts).
    pub(crate) fn between(from: &str, to: &str) -> Result<Self> {
        let cs = |d: &str| CString::new(d).map_err(|e| err(d, e.to_string()));
        let (from_c, to_c) = (cs(from)?, cs(to)?);
        let pair = || format!("{from} → {to}");
        let ctx = quiet_context().ok_or_else(|| err(&pair(), "proj_context_create failed"))?;
        // From here on, `Drop` destroys what exists.
        let mut made = Operation {
            ctx,
            op: std::ptr::null_mut(),
        };
        // SAFETY: ctx is live; both strings are NUL-terminated and outlive the call; a null
        // area is allowed.
        let op = unsafe {
            proj_sys::proj_create_crs_to_crs(
                ctx,
                from_c.as_ptr(),
                to_c.as_ptr(),
                std::ptr::null_mut(),
            )
        };
        if op.is_null() {
            return Err(err(&pair(), "PROJ has no operation between these CRSs"));
        }
        // SAFETY: op is a live operation of ctx, not used after this.
        made.op = unsafe { normalized(ctx, op) };
        if made.op.is_null() {
            return Err(err(&pair(), "PROJ could not put the axes in x/y order"));
        }
        Ok(made)
    }

    /// Convert the points in place; PROJ writes infinities where it cannot.
    pub(crate) fn convert(&self, x: &mut [f64], y: &mut [f64]) {
        // SAFETY: self.op is a live operation of this value's context, used by one thread.
        unsafe { trans_generic(self.op, proj_sys::PJ_DIRECTION_PJ_FWD, x, y) };
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        if !self.op.is_null() {
            // SAFETY: op is a live object of ctx, destroyed once.
            unsafe { proj_sys::proj_destroy(self.op) };
        }
        // SAFETY: ctx is live and its only object has been destroyed.
        unsafe { proj_sys::proj_context_destroy(self.ctx) };
    }
}

/// `proj_trans_generic` over two coordinate slices (the shorter one's length), in chunks:
/// PROJ counts points in `usize` but loops in `int` inside.
///
/// # Safety
/// `op` is a live PROJ operation that no other thread is using.
pub(crate) unsafe fn trans_generic(
    op: *mut proj_sys::PJ,
    direction: proj_sys::PJ_DIRECTION,
    x: &mut [f64],
    y: &mut [f64],
) {
    const CHUNK: usize = 1 << 20;
    let n = x.len().min(y.len());
    let mut k = 0;
    while k < n {
        let m = CHUNK.min(n - k);
        // SAFETY: op is live (the caller's promise); x[k..k+m] and y[k..k+m] are distinct,
        // writable f64 buffers of m elements with stride 8 bytes; z and t are null with count
        // 0, which PROJ allows.
        unsafe {
            proj_sys::proj_trans_generic(
                op,
                direction,
                x[k..].as_mut_ptr(),
                size_of::<f64>(),
                m,
                y[k..].as_mut_ptr(),
                size_of::<f64>(),
                m,
                std::ptr::null_mut(),
                0,
                0,
                std::ptr::null_mut(),
                0,
                0,
            );
        }
        k += m;
    }
}
