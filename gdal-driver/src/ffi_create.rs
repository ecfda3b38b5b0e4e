//! The FFI boundary of the writer (`CreateCopy`): `extern "C"` functions the C++ shim calls,
//! each inside [`guard`] (a panic becomes a `CPLError`), errors reported through `CPLError`.
//! The shim reads the source; [`crate::write`] decides everything else.
//!
//! Protocol: `fstgis_create_begin` → handle (NULL on error); `fstgis_create_band` for each
//! band; then exactly one of `fstgis_create_finish` (closes and frees) or
//! `fstgis_create_abort` (deletes the new file and frees).

use std::ffi::{c_char, c_double, c_float, c_int, c_void, CStr};
use std::path::Path;

use crate::ffi::{guard, report_code, report_warning};
use crate::write::{
    BandInput, BandValues, CreateError, CreateOptions, Creator, Pipeline, SourceInfo,
    CREATION_OPTION_LIST,
};

const CPLE_APP_DEFINED: c_int = 1;
const CPLE_FILE_IO: c_int = 3;
const CPLE_ILLEGAL_ARG: c_int = 5;
const CPLE_NOT_SUPPORTED: c_int = 6;

/// What the shim tells about the source dataset.
#[repr(C)]
#[derive(Debug)]
pub struct FstCreateSource {
    xsize: c_int,
    ysize: c_int,
    has_gt: c_int,
    gt: [c_double; 6],
    /// WKT of the source CRS, or NULL.
    wkt: *const c_char,
    /// Dataset metadata (NULL-terminated `KEY=VALUE` list), or NULL.
    metadata: *const *const c_char,
    /// Latitude of every pixel (`xsize·ysize`, line by line), or NULL.
    lat: *const c_double,
    /// Longitude of every pixel, or NULL.
    lon: *const c_double,
}

/// One band of the source.
#[repr(C)]
#[derive(Debug)]
pub struct FstCreateBand {
    /// 1-based.
    number: c_int,
    gdal_type: c_int,
    metadata: *const *const c_char,
    has_nodata: c_int,
    nodata: c_double,
}

fn report(e: &CreateError) {
    let code = match e {
        CreateError::Option { .. } => CPLE_ILLEGAL_ARG,
        CreateError::Source { .. } | CreateError::Grid { .. } => CPLE_NOT_SUPPORTED,
        CreateError::Write(_) => CPLE_FILE_IO,
        _ => CPLE_APP_DEFINED,
    };
    let mut msg = format!("FST driver: {e}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    report_code(code, &msg);
}

/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn string(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: p is a non-null NUL-terminated string (caller contract).
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// # Safety
/// `list` is NULL or a NULL-terminated array of NUL-terminated strings (a GDAL `char**`).
unsafe fn pairs(list: *const *const c_char) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if list.is_null() {
        return out;
    }
    let mut p = list;
    loop {
        // SAFETY: p points into the NULL-terminated array (we stop at its NULL).
        let item = unsafe { *p };
        if item.is_null() {
            break;
        }
        // SAFETY: item is a NUL-terminated string (caller contract).
        if let Some(s) = unsafe { string(item) } {
            let (k, v) = s.split_once('=').unwrap_or((s.as_str(), ""));
            out.push((k.to_owned(), v.to_owned()));
        }
        // SAFETY: the array goes on until its NULL, which we have not reached.
        p = unsafe { p.add(1) };
    }
    out
}

/// The creation-option XML (`GDAL_DMD_CREATIONOPTIONLIST`), a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn fstgis_creation_options() -> *const c_char {
    static XML: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    XML.get_or_init(|| std::ffi::CString::new(CREATION_OPTION_LIST).unwrap_or_default())
        .as_ptr()
}

/// Check creation options without creating anything (`Create`, whose file is written at
/// close). 0 when they are valid, -1 after reporting the error.
///
/// # Safety
/// `options` is NULL or a GDAL string list.
#[no_mangle]
pub unsafe extern "C" fn fstgis_check_options(options: *const *const c_char) -> c_int {
    guard(-1, || {
        // SAFETY: options is NULL or a GDAL string list (caller contract).
        let opts = unsafe { pairs(options) };
        match CreateOptions::parse(opts.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(_) => 0,
            Err(e) => {
                report(&e);
                -1
            }
        }
    })
}

/// Start writing `name`. Returns a handle, or NULL after reporting the error.
///
/// # Safety
/// `name` is NUL-terminated; `src` points to a valid `FstCreateSource` whose strings and lists
/// are valid for the call; `options` is NULL or a GDAL string list.
#[no_mangle]
pub unsafe extern "C" fn fstgis_create_begin(
    name: *const c_char,
    src: *const FstCreateSource,
    options: *const *const c_char,
) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        if name.is_null() || src.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: name is NUL-terminated (caller contract).
        let name = unsafe { string(name) }.unwrap_or_default();
        // SAFETY: src is valid for the call (caller contract).
        let s = unsafe { &*src };
        // SAFETY: options is NULL or a GDAL string list (caller contract).
        let opts = unsafe { pairs(options) };
        let mut source = SourceInfo {
            xsize: usize::try_from(s.xsize).unwrap_or(0),
            ysize: usize::try_from(s.ysize).unwrap_or(0),
            geotransform: (s.has_gt != 0).then_some(s.gt),
            // SAFETY: wkt is NULL or NUL-terminated (caller contract).
            crs: unsafe { string(s.wkt) },
            // SAFETY: metadata is NULL or a GDAL string list (caller contract).
            metadata: unsafe { pairs(s.metadata) },
            lat_lon: None,
        };
        let n = source.xsize * source.ysize;
        if !s.lat.is_null() && !s.lon.is_null() && n > 0 {
            // SAFETY: lat and lon point to xsize·ysize readable doubles each (caller
            // contract); they are copied before the call returns.
            let lat = unsafe { std::slice::from_raw_parts(s.lat, n) }.to_vec();
            // SAFETY: as above.
            let lon = unsafe { std::slice::from_raw_parts(s.lon, n) }.to_vec();
            source.lat_lon = Some((lat, lon));
        }
        let result = CreateOptions::parse(opts.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .and_then(|o| Creator::begin(Path::new(&name), source, o))
            .and_then(|c| {
                if let Some(w) = c.grid_warning() {
                    report_warning(&format!("FST driver: {name}: {w}"));
                }
                // Bands are encoded and written on a thread of their own while the shim
                // reads the next one from the source.
                Pipeline::start(c)
            });
        match result {
            Ok(p) => Box::into_raw(Box::new(p)).cast(),
            Err(e) => {
                report(&e);
                std::ptr::null_mut()
            }
        }
    })
}

/// Hand one band over: `n` float64 values, line by line from the top, copied before the call
/// returns. The band is encoded and written on the handle's thread while the caller reads
/// the next one. 0 on success, -1 after reporting the error, which may be an earlier band's
/// (the message names the band; the handle stays valid for `fstgis_create_abort`).
///
/// # Safety
/// `h` comes from `fstgis_create_begin` and is not finished; `band` is valid for the call;
/// `values` points to `n` readable doubles.
#[no_mangle]
pub unsafe extern "C" fn fstgis_create_band(
    h: *mut c_void,
    band: *const FstCreateBand,
    values: *const c_double,
    n: usize,
) -> c_int {
    // SAFETY: the arguments are as this function's contract says.
    guard(-1, || unsafe {
        hand_over(h, band, values, n, |v| BandValues::F64(v))
    })
}

/// [`fstgis_create_band`] with float32 values, for sources whose type float32 holds exactly
/// (GDAL `Byte`, `UInt16`, `Int16`, `Float32`): the same numbers in half the bytes.
///
/// # Safety
/// As [`fstgis_create_band`], with `values` pointing to `n` readable floats.
#[no_mangle]
pub unsafe extern "C" fn fstgis_create_band_f32(
    h: *mut c_void,
    band: *const FstCreateBand,
    values: *const c_float,
    n: usize,
) -> c_int {
    // SAFETY: the arguments are as this function's contract says.
    guard(-1, || unsafe {
        hand_over(h, band, values, n, |v| BandValues::F32(v))
    })
}

/// [`fstgis_create_band`] with 64-bit integers, for `UInt64` (`is_signed` 0) and `Int64`
/// (`is_signed` 1) bands: as they are, where float64 would round them above 2^53.
///
/// # Safety
/// As [`fstgis_create_band`], with `values` pointing to `n` readable 64-bit integers
/// (`int64_t` when `is_signed`, `uint64_t` otherwise).
#[no_mangle]
pub unsafe extern "C" fn fstgis_create_band_u64(
    h: *mut c_void,
    band: *const FstCreateBand,
    values: *const u64,
    n: usize,
    is_signed: c_int,
) -> c_int {
    guard(-1, || {
        if is_signed != 0 {
            // SAFETY: the arguments are as this function's contract says; the int64_t buffer
            // is read as i64 (same size and alignment as u64).
            unsafe { hand_over(h, band, values.cast::<i64>(), n, |v| BandValues::I64(v)) }
        } else {
            // SAFETY: the arguments are as this function's contract says.
            unsafe { hand_over(h, band, values, n, |v| BandValues::U64(v)) }
        }
    })
}

/// The body of the `fstgis_create_band*` entry points (inside their panic guard): the `n`
/// values at `values`, as `wrap` tells the band which type they are.
///
/// # Safety
/// `h` comes from `fstgis_create_begin` and is not finished, used by one thread at a time;
/// `band` is valid for the call; `values` points to `n` readable values.
unsafe fn hand_over<T>(
    h: *mut c_void,
    band: *const FstCreateBand,
    values: *const T,
    n: usize,
    wrap: fn(&[T]) -> BandValues<'_>,
) -> c_int {
    if h.is_null() || band.is_null() || values.is_null() {
        return -1;
    }
    // SAFETY: values points to n readable values (caller contract).
    let values = wrap(unsafe { std::slice::from_raw_parts(values, n) });
    // SAFETY: h is a live Pipeline handle, used by one thread at a time (caller contract).
    let c = unsafe { &mut *h.cast::<Pipeline>() };
    // SAFETY: band is valid for the call (caller contract).
    let b = unsafe { &*band };
    // SAFETY: metadata is NULL or a GDAL string list (caller contract).
    let md = unsafe { pairs(b.metadata) };
    let input = BandInput {
        number: usize::try_from(b.number).unwrap_or(0),
        gdal_type: b.gdal_type,
        metadata: &md,
        nodata: (b.has_nodata != 0).then_some(b.nodata),
        values,
    };
    match c.write_band(input) {
        Ok(()) => 0,
        Err(e) => {
            report(&e);
            -1
        }
    }
}

/// Close the file and free the handle. 0 on success, -1 after reporting the error (then the
/// new file is gone).
///
/// # Safety
/// `h` comes from `fstgis_create_begin` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn fstgis_create_finish(h: *mut c_void) -> c_int {
    if h.is_null() {
        return -1;
    }
    // SAFETY: h is a Pipeline handle from Box::into_raw, given back exactly once.
    let c = unsafe { Box::from_raw(h.cast::<Pipeline>()) };
    guard(-1, move || match c.finish() {
        Ok(_) => 0,
        Err(e) => {
            report(&e);
            -1
        }
    })
}

/// Give up: delete the new file (an appended file keeps its earlier records) and free the
/// handle.
///
/// # Safety
/// `h` comes from `fstgis_create_begin` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn fstgis_create_abort(h: *mut c_void) {
    if h.is_null() {
        return;
    }
    // SAFETY: h is a Pipeline handle from Box::into_raw, given back exactly once.
    let c = unsafe { Box::from_raw(h.cast::<Pipeline>()) };
    guard((), move || c.abandon());
}
