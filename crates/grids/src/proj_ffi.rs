//! The one place that calls PROJ: exporting a PROJ definition as WKT.
//!
//! proj 0.27 has no `to_wkt`, so this uses `proj_sys` directly. Each call creates its own
//! PROJ context, so it is safe from any thread (PROJ contexts must not be shared between
//! threads without care; a private one sidesteps the question).
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};

use crate::error::{GridError, Result};

fn err(definition: &str, detail: impl Into<String>) -> GridError {
    GridError::Proj {
        definition: definition.to_owned(),
        detail: detail.into(),
    }
}

/// WKT2:2019 of a PROJ CRS definition.
pub(crate) fn wkt_of(definition: &str) -> Result<String> {
    let def = CString::new(definition).map_err(|e| err(definition, e.to_string()))?;
    // SAFETY: proj_context_create has no preconditions; a null result is checked below.
    let ctx = unsafe { proj_sys::proj_context_create() };
    if ctx.is_null() {
        return Err(err(definition, "proj_context_create failed"));
    }
    let out = wkt_with_context(ctx, &def, definition);
    // SAFETY: ctx came from proj_context_create above and every object made with it has
    // already been destroyed by wkt_with_context.
    unsafe { proj_sys::proj_context_destroy(ctx) };
    out
}

fn wkt_with_context(
    ctx: *mut proj_sys::PJ_CONTEXT,
    def: &CStr,
    definition: &str,
) -> Result<String> {
    // SAFETY: ctx is a live context and def a NUL-terminated string that outlives the call.
    let pj = unsafe { proj_sys::proj_create(ctx, def.as_ptr()) };
    if pj.is_null() {
        return Err(err(definition, "proj_create rejected the definition"));
    }
    // SAFETY: pj is a live object of ctx; a null options list is allowed.
    let is_crs = unsafe { proj_sys::proj_is_crs(pj) } != 0;
    let result = if is_crs {
        // SAFETY: pj is a live object of ctx; PROJ returns a string owned by pj (valid until
        // pj is destroyed) or null.
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
    } else {
        Err(err(definition, "the definition is not a CRS"))
    };
    // SAFETY: pj is live and not used after this point.
    unsafe { proj_sys::proj_destroy(pj) };
    result
}
