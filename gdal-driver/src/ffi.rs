//! The FFI boundary: the only unsafe code of the driver.
//!
//! * Exports (`fstgis_*`, `GDALRegister_FST`, `GDALRegisterMe`) are called by the C++ shim
//!   and by GDAL. Each one runs its body inside [`guard`] (`catch_unwind`): a panic becomes
//!   a `CPLError` and a failure status, never an unwind into C++.
//! * Imports are a handful of GDAL C functions: `CPLError`, `CPLGetConfigOption` and the
//!   `VSIF*L` file API used by [`VsiSource`].
//! * Handles are `Box::into_raw` pointers, freed by `fstgis_close`. Every string and string
//!   list handed to C++ lives in the handle, so C++ copies them and never frees them.

use std::ffi::{c_char, c_double, c_int, c_void, CStr, CString};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

use fst_core::source::ByteSource;

use crate::model::{self, Dataset, ModelError, ModelOptions};

const CE_WARNING: c_int = 2;
const CE_FAILURE: c_int = 3;
const CPLE_APP_DEFINED: c_int = 1;
const CPLE_OUT_OF_MEMORY: c_int = 2;
const CPLE_FILE_IO: c_int = 3;
const CPLE_OPEN_FAILED: c_int = 4;
const CPLE_ILLEGAL_ARG: c_int = 5;
const CPLE_NOT_SUPPORTED: c_int = 6;
const SEEK_SET: c_int = 0;
const SEEK_END: c_int = 2;

extern "C" {
    fn CPLError(class: c_int, code: c_int, fmt: *const c_char, ...);
    fn CPLGetConfigOption(key: *const c_char, default: *const c_char) -> *const c_char;
    fn VSIFOpenL(path: *const c_char, mode: *const c_char) -> *mut c_void;
    fn VSIFCloseL(fp: *mut c_void) -> c_int;
    fn VSIFSeekL(fp: *mut c_void, offset: u64, whence: c_int) -> c_int;
    fn VSIFTellL(fp: *mut c_void) -> u64;
    fn VSIFReadL(buf: *mut c_void, size: usize, count: usize, fp: *mut c_void) -> usize;
    /// The C++ shim's registration (`shim/fst_shim.cpp`).
    fn fstgis_shim_register();
}

/// Report `msg` through `CPLError(CE_Failure, code, "%s", msg)`.
pub(crate) fn report_code(code: c_int, msg: &str) {
    let text = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: "%s" with one NUL-terminated string argument matches CPLError's printf contract;
    // both strings outlive the call.
    unsafe { CPLError(CE_FAILURE, code, c"%s".as_ptr(), text.as_ptr()) };
}

/// Report `msg` through `CPLError(CE_Warning, CPLE_AppDefined, "%s", msg)`.
pub(crate) fn report_warning(msg: &str) {
    let text = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: as in report_code.
    unsafe { CPLError(CE_WARNING, CPLE_APP_DEFINED, c"%s".as_ptr(), text.as_ptr()) };
}

/// The one place where the model's errors become GDAL's: every kind is a failure
/// (`CE_Failure`), with the `CPLErrorNum` that says who is at fault, and the message with its
/// causes.
fn report_error(e: &ModelError) {
    let code = match e {
        ModelError::Source { .. } | ModelError::Open(_) | ModelError::NotFound { .. } => {
            CPLE_OPEN_FAILED
        }
        ModelError::Decode(fst_core::DecodeError::Io { .. }) => CPLE_FILE_IO,
        ModelError::Name(_) | ModelError::Usage(_) => CPLE_ILLEGAL_ARG,
        ModelError::Unsupported { .. } => CPLE_NOT_SUPPORTED,
        ModelError::OutOfMemory(_) => CPLE_OUT_OF_MEMORY,
        _ => CPLE_APP_DEFINED,
    };
    report_code(code, &format!("FST driver: {}", e.full_message()));
}

/// Run `f`, turning a panic into a reported error and `fallback`.
pub(crate) fn guard<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            report_code(
                CPLE_APP_DEFINED,
                &format!("FST driver: internal error: {what}"),
            );
            fallback
        }
    }
}

fn config(key: &CStr) -> Option<String> {
    // SAFETY: key is NUL-terminated; CPLGetConfigOption returns NULL or a string owned by
    // GDAL that stays valid at least until the next config change; we copy it at once.
    let p = unsafe { CPLGetConfigOption(key.as_ptr(), std::ptr::null()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: p is a non-null NUL-terminated string (see above).
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// A `VSILFILE*` that only one thread uses at a time (behind the mutex of [`VsiSource`]).
struct VsiFile(*mut c_void);

// SAFETY: a VSILFILE handle is not tied to the thread that opened it; VsiSource serialises
// every use of it with a mutex, and closes it exactly once in Drop.
unsafe impl Send for VsiFile {}

/// Bytes read through GDAL's virtual file system (`/vsimem/`, `/vsicurl/`, `/vsizip/`, …).
/// Each read is a seek plus a read under a lock: positional reads on one handle.
struct VsiSource {
    fp: Mutex<VsiFile>,
    len: u64,
}

impl VsiSource {
    fn open(path: &str) -> Result<Self, String> {
        let c = CString::new(path).map_err(|e| format!("not a C string: {e}"))?;
        // SAFETY: both arguments are NUL-terminated strings that outlive the call.
        let fp = unsafe { VSIFOpenL(c.as_ptr(), c"rb".as_ptr()) };
        if fp.is_null() {
            return Err("VSIFOpenL cannot open it".into());
        }
        let file = VsiFile(fp);
        // SAFETY: fp is a valid open handle owned by `file`.
        let seek = unsafe { VSIFSeekL(file.0, 0, SEEK_END) };
        let len = if seek == 0 {
            // SAFETY: as above.
            unsafe { VSIFTellL(file.0) }
        } else {
            u64::MAX
        };
        if len == u64::MAX {
            return Err(format!("{path}: cannot seek"));
        }
        Ok(Self {
            fp: Mutex::new(file),
            len,
        })
    }
}

impl Drop for VsiFile {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the handle is valid and closed only here, once.
            unsafe { VSIFCloseL(self.0) };
        }
    }
}

impl ByteSource for VsiSource {
    fn len(&self) -> io::Result<u64> {
        Ok(self.len)
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|end| end > self.len)
        {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let f = self.fp.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: f.0 is a valid handle, used by this thread alone while the lock is held.
        if unsafe { VSIFSeekL(f.0, offset, SEEK_SET) } != 0 {
            return Err(io::Error::other("VSI seek failed"));
        }
        // SAFETY: buf is a writable region of buf.len() bytes; VSIFReadL writes at most that.
        let n = unsafe { VSIFReadL(buf.as_mut_ptr().cast(), 1, buf.len(), f.0) };
        if n == buf.len() {
            Ok(())
        } else {
            Err(io::ErrorKind::UnexpectedEof.into())
        }
    }
}

/// Local paths are read with `pread` (no lock, shared by threads); anything GDAL-virtual
/// through VSI. The error says why, not which path: `ModelError::Source` adds it.
fn open_source(path: &str) -> Result<Arc<dyn ByteSource>, String> {
    if path.starts_with("/vsi") {
        Ok(Arc::new(VsiSource::open(path)?))
    } else {
        let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
        Ok(Arc::new(f))
    }
}

/// A NUL-terminated list of C strings (a CSL), owned here.
struct Csl {
    _owned: Vec<CString>,
    ptrs: Vec<*mut c_char>,
}

impl Csl {
    fn new(items: impl IntoIterator<Item = String>) -> Self {
        let owned: Vec<CString> = items
            .into_iter()
            .map(|s| CString::new(s.replace('\0', " ")).unwrap_or_default())
            .collect();
        let mut ptrs: Vec<*mut c_char> = owned.iter().map(|c| c.as_ptr().cast_mut()).collect();
        ptrs.push(std::ptr::null_mut());
        Self {
            _owned: owned,
            ptrs,
        }
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        Self::new(pairs.iter().map(|(k, v)| format!("{k}={v}")))
    }

    fn as_ptr(&self) -> *mut *mut c_char {
        self.ptrs.as_ptr().cast_mut()
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// What the shim learns about a dataset at open (`FstDsInfo` in the shim).
#[repr(C)]
pub struct FstDsInfo {
    xsize: c_int,
    ysize: c_int,
    nbands: c_int,
    has_gt: c_int,
    gt: [c_double; 6],
    wkt: *const c_char,
    metadata: *mut *mut c_char,
    subdatasets: *mut *mut c_char,
    geolocation: *mut *mut c_char,
    physical_path: *const c_char,
    subdataset_name: *const c_char,
}

/// What the shim learns about a band (`FstBandInfo` in the shim).
#[repr(C)]
pub struct FstBandInfo {
    gdal_type: c_int,
    block_x: c_int,
    block_y: c_int,
    description: *const c_char,
    metadata: *mut *mut c_char,
    has_nodata: c_int,
    nodata: c_double,
    /// The band's `FST` metadata domain.
    fst_metadata: *mut *mut c_char,
    /// `GetUnitType` (empty when unknown).
    unit_type: *const c_char,
}

struct BandStrings {
    description: CString,
    metadata: Csl,
    fst_metadata: Csl,
    unit_type: CString,
}

/// An open dataset and the C strings lent to the shim.
struct Handle {
    ds: Dataset,
    wkt: Option<CString>,
    metadata: Csl,
    subdatasets: Csl,
    geolocation: Csl,
    physical_path: Option<CString>,
    subdataset_name: Option<CString>,
    bands: Vec<BandStrings>,
}

fn to_int(v: usize, what: &str) -> Result<c_int, ModelError> {
    c_int::try_from(v)
        .map_err(|e| ModelError::TooLarge(format!("{what} {v} exceeds GDAL's limit ({e})")))
}

fn build_handle(name: &str) -> Result<Handle, ModelError> {
    let cache_bytes = config(c"FST_CACHE_MB")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(64 << 20, |mb| mb << 20);
    let ds = model::open(
        name,
        &open_source,
        ModelOptions {
            cache_bytes,
            adjust_longitude_range: !config(c"FST_ADJUST_LONGITUDE_RANGE").is_some_and(|v| {
                matches!(
                    v.trim().to_ascii_uppercase().as_str(),
                    "NO" | "FALSE" | "OFF" | "0"
                )
            }),
            ..ModelOptions::default()
        },
    )?;
    // A file cut short opens with what can be read (RSF): GDAL would show fewer variables
    // or bands without a word, so the loss is a warning (QGIS shows it in its message log).
    for d in ds.diagnostics().iter().filter(|d| d.truncated) {
        report_warning(&format!(
            "FST driver: {name}: byte {}: {}",
            d.offset, d.message
        ));
    }
    let mut sds = Vec::new();
    for (i, (n, d)) in ds.subdatasets.iter().enumerate() {
        sds.push(format!("SUBDATASET_{}_NAME={n}", i + 1));
        sds.push(format!("SUBDATASET_{}_DESC={d}", i + 1));
    }
    let bands = ds
        .bands
        .iter()
        .map(|b| BandStrings {
            description: cstring(&b.description),
            metadata: Csl::from_pairs(&b.metadata),
            fst_metadata: Csl::from_pairs(&b.fst_metadata),
            unit_type: cstring(&b.unit_type),
        })
        .collect();
    Ok(Handle {
        wkt: ds.wkt.as_deref().map(cstring),
        metadata: Csl::from_pairs(&ds.metadata),
        subdatasets: Csl::new(sds),
        geolocation: Csl::from_pairs(&ds.geolocation),
        physical_path: ds.physical_path.as_deref().map(cstring),
        subdataset_name: ds.subdataset_name.as_deref().map(cstring),
        bands,
        ds,
    })
}

fn fill_info(h: &Handle, info: &mut FstDsInfo) -> Result<(), ModelError> {
    info.xsize = to_int(h.ds.xsize, "width")?;
    info.ysize = to_int(h.ds.ysize, "height")?;
    info.nbands = to_int(h.ds.bands.len(), "band count")?;
    info.has_gt = c_int::from(h.ds.geotransform.is_some());
    info.gt = h.ds.geotransform.unwrap_or([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    info.wkt = h.wkt.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    info.metadata = h.metadata.as_ptr();
    info.subdatasets = h.subdatasets.as_ptr();
    info.geolocation = h.geolocation.as_ptr();
    info.physical_path = h
        .physical_path
        .as_ref()
        .map_or(std::ptr::null(), |c| c.as_ptr());
    info.subdataset_name = h
        .subdataset_name
        .as_ref()
        .map_or(std::ptr::null(), |c| c.as_ptr());
    Ok(())
}

/// True when the first bytes of a file carry the XDF or RSF standard-file magic (fst-core's
/// own container detection); [`model::open`] then opens through fst-core.
#[must_use]
pub fn is_fst_header(h: &[u8]) -> bool {
    fst_core::detect_container(h).is_some()
}

/// Identify: 1 for an FST header, 0 otherwise. Reads only the bytes given; no allocation.
///
/// # Safety
/// `header` points to `n` readable bytes (or is null with `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn fstgis_identify(header: *const u8, n: usize) -> c_int {
    guard(0, || {
        if header.is_null() || n < 24 {
            return 0;
        }
        // SAFETY: the caller guarantees `n` readable bytes at `header`.
        let h = unsafe { std::slice::from_raw_parts(header, n) };
        c_int::from(is_fst_header(h))
    })
}

/// Open `name` (a path or an `FST:` subdataset name). Returns a handle and fills `info`, or
/// returns null after reporting the error through `CPLError`.
///
/// # Safety
/// `name` is a NUL-terminated string; `info` points to a writable `FstDsInfo`. The strings
/// and lists placed in `info` stay valid until `fstgis_close(handle)`.
#[no_mangle]
pub unsafe extern "C" fn fstgis_open(name: *const c_char, info: *mut FstDsInfo) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        if name.is_null() || info.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: name is NUL-terminated (caller contract).
        let name = unsafe { CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned();
        let result = build_handle(&name).and_then(|h| {
            // SAFETY: info is valid and writable (caller contract), and not aliased here.
            let info = unsafe { &mut *info };
            fill_info(&h, info).map(|()| h)
        });
        match result {
            Ok(h) => Box::into_raw(Box::new(h)).cast(),
            Err(e) => {
                report_error(&e);
                std::ptr::null_mut()
            }
        }
    })
}

/// Describe band `band` (0-based). Returns 0, or -1 after reporting an error.
///
/// # Safety
/// `h` is a live handle from `fstgis_open`; `out` points to a writable `FstBandInfo`.
#[no_mangle]
pub unsafe extern "C" fn fstgis_band_info(
    h: *mut c_void,
    band: c_int,
    out: *mut FstBandInfo,
) -> c_int {
    guard(-1, || {
        if h.is_null() || out.is_null() {
            return -1;
        }
        // SAFETY: h is a live handle (caller contract); only shared access is needed.
        let h = unsafe { &*h.cast::<Handle>() };
        let Some((b, s)) = usize::try_from(band)
            .ok()
            .and_then(|i| h.ds.bands.get(i).zip(h.bands.get(i)))
        else {
            report_error(&ModelError::Usage(format!("no band {band}")));
            return -1;
        };
        let (bx, by) = match (
            to_int(b.block.0, "block width"),
            to_int(b.block.1, "block height"),
        ) {
            (Ok(bx), Ok(by)) => (bx, by),
            (Err(e), _) | (_, Err(e)) => {
                report_error(&e);
                return -1;
            }
        };
        // SAFETY: out is valid and writable (caller contract).
        let out = unsafe { &mut *out };
        out.gdal_type = b.data_type.gdal_code();
        out.block_x = bx;
        out.block_y = by;
        out.description = s.description.as_ptr();
        out.metadata = s.metadata.as_ptr();
        out.has_nodata = c_int::from(b.nodata.is_some());
        out.nodata = b.nodata.unwrap_or(0.0);
        out.fst_metadata = s.fst_metadata.as_ptr();
        out.unit_type = s.unit_type.as_ptr();
        0
    })
}

/// Fill block (`bx`, `by`) of band `band` (0-based) into `buf` (`nbytes` bytes). Returns 0,
/// or -1 after reporting an error.
///
/// # Safety
/// `h` is a live handle; `buf` points to `nbytes` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn fstgis_read_block(
    h: *mut c_void,
    band: c_int,
    bx: c_int,
    by: c_int,
    buf: *mut c_void,
    nbytes: usize,
) -> c_int {
    guard(-1, || {
        if h.is_null() || buf.is_null() {
            return -1;
        }
        // SAFETY: h is a live handle (caller contract); the dataset is Sync.
        let h = unsafe { &*h.cast::<Handle>() };
        // SAFETY: buf holds nbytes writable bytes (caller contract), not aliased during the call.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), nbytes) };
        let idx =
            |v: c_int| usize::try_from(v).map_err(|e| ModelError::Usage(format!("index {v}: {e}")));
        match idx(band)
            .and_then(|b| Ok((b, idx(bx)?, idx(by)?)))
            .and_then(|(b, x, y)| h.ds.read_block(b, x, y, out))
        {
            Ok(()) => 0,
            Err(e) => {
                report_error(&e);
                -1
            }
        }
    })
}

/// Read a window of band `band` (0-based) at full resolution into `buf` (`nbytes` bytes), in
/// the band's type, pixel `(i, l)` at byte `l·line_space + i·pixel_space`. Returns 0, or -1
/// after reporting an error.
///
/// # Safety
/// `h` is a live handle; `buf` points to `nbytes` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn fstgis_read_window(
    h: *mut c_void,
    band: c_int,
    window: *const c_int,
    buf: *mut c_void,
    nbytes: usize,
    pixel_space: i64,
    line_space: i64,
) -> c_int {
    guard(-1, || {
        if h.is_null() || buf.is_null() || window.is_null() {
            return -1;
        }
        // SAFETY: h is a live handle (caller contract); the dataset is Sync.
        let h = unsafe { &*h.cast::<Handle>() };
        // SAFETY: window points to 4 ints (xoff, yoff, xsize, ysize) (caller contract).
        let win = unsafe { std::slice::from_raw_parts(window, 4) };
        // SAFETY: buf holds nbytes writable bytes (caller contract), not aliased during the call.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), nbytes) };
        let idx =
            |v: c_int| usize::try_from(v).map_err(|e| ModelError::Usage(format!("value {v}: {e}")));
        let space =
            |v: i64| usize::try_from(v).map_err(|e| ModelError::Usage(format!("spacing {v}: {e}")));
        let result = (|| -> Result<(), ModelError> {
            let w = (idx(win[0])?, idx(win[1])?, idx(win[2])?, idx(win[3])?);
            h.ds.read_window(idx(band)?, w, out, space(pixel_space)?, space(line_space)?)
        })();
        match result {
            Ok(()) => 0,
            Err(e) => {
                report_error(&e);
                -1
            }
        }
    })
}

/// Free a handle.
///
/// # Safety
/// `h` is null or a handle from `fstgis_open` not yet closed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn fstgis_close(h: *mut c_void) {
    guard((), || {
        if !h.is_null() {
            // SAFETY: h came from Box::into_raw in fstgis_open and is freed exactly once.
            drop(unsafe { Box::from_raw(h.cast::<Handle>()) });
        }
    });
}

/// GDAL's entry point for `gdal_FST.so`.
#[no_mangle]
pub extern "C" fn GDALRegister_FST() {
    guard((), || {
        // SAFETY: the shim's registration takes no arguments and is idempotent.
        unsafe { fstgis_shim_register() };
    });
}

/// Fallback entry point GDAL looks for when a plugin is renamed.
#[no_mangle]
pub extern "C" fn GDALRegisterMe() {
    GDALRegister_FST();
}

#[cfg(test)]
#[allow(
    clippy::multiple_unsafe_ops_per_block,
    clippy::undocumented_unsafe_blocks
)]
mod tests {
    use super::*;

    extern "C" {
        fn CPLGetLastErrorNo() -> c_int;
    }

    #[test]
    fn entry_points_reject_bad_input_without_unwinding() {
        let xdf = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../crates/fst-core/tests/fixtures/xdf/edits.fst"
        ))
        .unwrap();
        // SAFETY: the pointers and lengths describe live slices (or null with length 0).
        unsafe {
            assert_eq!(fstgis_identify(xdf.as_ptr(), 64), 1);
            assert_eq!(fstgis_identify(xdf.as_ptr(), 10), 0);
            assert_eq!(fstgis_identify(std::ptr::null(), 0), 0);
            assert_eq!(
                fstgis_identify(b"GIF89a not a standard file.....".as_ptr(), 30),
                0
            );
        }
        let mut info = std::mem::MaybeUninit::<FstDsInfo>::zeroed();
        // Each kind of error reaches GDAL with the code of who is at fault.
        for (name, code) in [
            (c"/nonexistent/file.fst", CPLE_OPEN_FAILED),
            (
                c"FST:\"/nonexistent\":TT:P::L-1x1-0-0-0-0",
                CPLE_OPEN_FAILED,
            ),
            (c"FST:garbage", CPLE_ILLEGAL_ARG),
        ] {
            // SAFETY: name is NUL-terminated and info points to writable memory.
            let h = unsafe { fstgis_open(name.as_ptr(), info.as_mut_ptr()) };
            assert!(h.is_null());
            // SAFETY: CPLGetLastErrorNo takes nothing and reads this thread's error state.
            assert_eq!(unsafe { CPLGetLastErrorNo() }, code, "{name:?}");
        }
        // SAFETY: null handles and buffers are refused, never dereferenced.
        unsafe {
            assert_eq!(
                fstgis_band_info(std::ptr::null_mut(), 0, std::ptr::null_mut()),
                -1
            );
            assert_eq!(
                fstgis_read_block(std::ptr::null_mut(), 0, 0, 0, std::ptr::null_mut(), 0),
                -1
            );
            fstgis_close(std::ptr::null_mut());
        }
        assert_eq!(guard(7, || -> i32 { panic!("boom") }), 7);
    }

    #[test]
    fn open_read_close_through_the_c_abi() {
        let path = CString::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../crates/fst-core/tests/fixtures/rsf/rsf_basic.fst"
        ))
        .unwrap();
        let mut info = std::mem::MaybeUninit::<FstDsInfo>::zeroed();
        // SAFETY: path is NUL-terminated and info points to writable memory.
        let h = unsafe { fstgis_open(path.as_ptr(), info.as_mut_ptr()) };
        assert!(!h.is_null());
        // SAFETY: fstgis_open filled info.
        let info = unsafe { info.assume_init() };
        assert_eq!(info.nbands, 0);
        // SAFETY: subdatasets is a NUL-terminated list of C strings owned by the handle.
        let first = unsafe { CStr::from_ptr(*info.subdatasets) }
            .to_str()
            .unwrap()
            .to_owned();
        // SAFETY: h came from fstgis_open.
        unsafe { fstgis_close(h) };
        let name = CString::new(first.split_once('=').unwrap().1).unwrap();
        let mut info = std::mem::MaybeUninit::<FstDsInfo>::zeroed();
        // SAFETY: as above.
        let h = unsafe { fstgis_open(name.as_ptr(), info.as_mut_ptr()) };
        assert!(!h.is_null());
        // SAFETY: as above.
        let info = unsafe { info.assume_init() };
        let mut band = std::mem::MaybeUninit::<FstBandInfo>::zeroed();
        // SAFETY: h is live and band points to writable memory.
        assert_eq!(unsafe { fstgis_band_info(h, 0, band.as_mut_ptr()) }, 0);
        // SAFETY: filled above.
        let band = unsafe { band.assume_init() };
        let n = (band.block_x * band.block_y) as usize * 4;
        let mut buf = vec![0u8; n];
        // SAFETY: buf holds n writable bytes.
        assert_eq!(
            unsafe { fstgis_read_block(h, 0, 0, 0, buf.as_mut_ptr().cast(), n) },
            0
        );
        // A wrong buffer size is an error, not an overflow.
        // SAFETY: as above, with a smaller length.
        assert_eq!(
            unsafe { fstgis_read_block(h, 0, 0, 0, buf.as_mut_ptr().cast(), n - 4) },
            -1
        );
        let win = [0, 0, info.xsize, 1];
        // SAFETY: one row of xsize floats fits in buf.
        assert_eq!(
            unsafe {
                fstgis_read_window(
                    h,
                    0,
                    win.as_ptr(),
                    buf.as_mut_ptr().cast(),
                    info.xsize as usize * 4,
                    4,
                    info.xsize as i64 * 4,
                )
            },
            0
        );
        // SAFETY: h came from fstgis_open and is not used afterwards.
        unsafe { fstgis_close(h) };
    }
}
