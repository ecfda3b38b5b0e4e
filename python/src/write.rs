//! `Writer`: fst-core's `FstWriter` for Python (`fstgis.open(path, "w" | "a")`).

use std::path::PathBuf;
use std::sync::Mutex;

use fst_core::codec::SamplesRef;
use fst_core::date::DateStamp;
use fst_core::record::Datyp;
use fst_core::write::{Rewrite, Written};
use fst_core::{Container, FstWriter, RecordKeys, WriteOptions};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::errors;

/// A file being written. Thread safety: one write at a time (a mutex); each write copies
/// the caller's values, then encodes and writes them with the GIL released.
#[pyclass(frozen, module = "fstgis._fstgis")]
pub(crate) struct Writer {
    inner: Mutex<Option<FstWriter>>,
    path: String,
}

fn container(text: &str) -> PyResult<Container> {
    match text.to_ascii_lowercase().as_str() {
        "xdf" | "fst98" => Ok(Container::Xdf),
        "rsf" | "fst24" => Ok(Container::Rsf),
        other => Err(errors::usage(format!(
            "container={other:?}: expected \"xdf\" or \"rsf\""
        ))),
    }
}

fn rewrite(text: &str) -> PyResult<Rewrite> {
    match text {
        "add" => Ok(Rewrite::Add),
        "skip" => Ok(Rewrite::Skip),
        "replace" => Ok(Rewrite::Replace),
        "fst98" => Ok(Rewrite::Fst98),
        other => Err(errors::usage(format!(
            "rewrite={other:?}: expected \"add\", \"skip\", \"replace\" or \"fst98\""
        ))),
    }
}

/// Call `$body` with `$slice` bound to the array's values, whatever its element type.
macro_rules! with_samples {
    ($values:expr, $complex:expr, $raw:expr, $slice:ident => $body:expr) => {{
        let v = $values;
        if $raw {
            // Datyp 0: the stored 32-bit words, whatever nbits says the elements are.
            let a = v.extract::<PyReadonlyArray1<'_, u32>>().map_err(|_| {
                errors::usage("raw values (datyp 0) must be a flat array of uint32 words")
            })?;
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::Raw32(&s);
            $body
        } else if $complex {
            // Complex values come as their interleaved (re, im) floats.
            if let Ok(a) = v.extract::<PyReadonlyArray1<'_, f32>>() {
                let s = a.as_slice()?.to_vec();
                let $slice = SamplesRef::C64(&s);
                $body
            } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, f64>>() {
                let s = a.as_slice()?.to_vec();
                let $slice = SamplesRef::C128(&s);
                $body
            } else {
                Err(errors::usage(
                    "complex values must be interleaved float32 or float64",
                ))
            }
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, f32>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::F32(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, f64>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::F64(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, i32>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::I32(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, u32>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::U32(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, i64>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::I64(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, u64>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::U64(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, i16>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::I16(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, u16>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::U16(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, i8>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::I8(&s);
            $body
        } else if let Ok(a) = v.extract::<PyReadonlyArray1<'_, u8>>() {
            let s = a.as_slice()?.to_vec();
            let $slice = SamplesRef::U8(&s);
            $body
        } else {
            Err(errors::usage(
                "values must be a contiguous 1-D numpy array of float32/64 or (u)int8..64",
            ))
        }
    }};
}

#[pymethods]
impl Writer {
    /// Create a new file (written under a temporary name, renamed into place at close) or,
    /// with `append=True`, add records to an existing one.
    #[staticmethod]
    #[pyo3(signature = (path, container="xdf", append=false, rewrite="add"))]
    fn open(path: PathBuf, container: &str, append: bool, rewrite: &str) -> PyResult<Writer> {
        let options =
            WriteOptions::new(self::container(container)?).rewrite(self::rewrite(rewrite)?);
        let w = if append {
            FstWriter::append(&path, options)
        } else {
            FstWriter::create(&path, options)
        }
        .map_err(|e| errors::write_error(&e))?;
        Ok(Writer {
            inner: Mutex::new(Some(w)),
            path: path.display().to_string(),
        })
    }

    #[getter]
    fn path(&self) -> String {
        self.path.clone()
    }

    /// Encode and write one record. `values` is the flat Fortran-order array (ni·nj·nk
    /// values); `mask` marks missing values (datyp +64; NaN marks them too). Returns the
    /// record's directory position (`complex`: `values` are interleaved (re, im) floats),
    /// or None when `rewrite="skip"` found it already there. `raw`: `values` are the stored
    /// 32-bit words of a datyp 0 record (`ceil(n·nbits/32)` of them; `fstgis._raw_words`
    /// makes them from what `Record.read` gives).
    #[pyo3(signature = (values, *, ni, nj, nk=1, nomvar="", typvar="", etiket="", dateo=0,
                        datev=None, deet=0, npas=0, ip1=0, ip2=0, ip3=0, grtyp="X",
                        ig1=0, ig2=0, ig3=0, ig4=0, datyp=5, nbits=32, mask=None,
                        metadata=None, complex=false, raw=false))]
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        values: &Bound<'_, PyAny>,
        ni: u32,
        nj: u32,
        nk: u32,
        nomvar: &str,
        typvar: &str,
        etiket: &str,
        dateo: i32,
        datev: Option<i32>,
        deet: u32,
        npas: u32,
        ip1: u32,
        ip2: u32,
        ip3: u32,
        grtyp: &str,
        ig1: u32,
        ig2: u32,
        ig3: u32,
        ig4: u32,
        datyp: u8,
        nbits: u8,
        mask: Option<PyReadonlyArray1<'_, bool>>,
        metadata: Option<&str>,
        complex: bool,
        raw: bool,
    ) -> PyResult<Option<u32>> {
        let grtyp = match grtyp.as_bytes() {
            [b] => *b,
            _ => return Err(errors::usage(format!("grtyp {grtyp:?}: one character"))),
        };
        let metadata = match metadata {
            None => None,
            Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(map)) => Some(map),
                _ => return Err(errors::usage("metadata must be a JSON object")),
            },
        };
        let keys = RecordKeys {
            nomvar: nomvar.into(),
            typvar: typvar.into(),
            etiket: etiket.into(),
            dateo: DateStamp(dateo),
            datev: datev.map(DateStamp),
            deet,
            npas,
            ip1,
            ip2,
            ip3,
            grtyp,
            ig1,
            ig2,
            ig3,
            ig4,
            ni,
            nj,
            nk,
            metadata,
        };
        // The values and mask are copied out of the caller's arrays so that encoding and
        // writing run with the GIL released (the arrays may change meanwhile).
        let mask: Option<Vec<bool>> = match &mask {
            Some(m) => Some(m.as_slice()?.to_vec()),
            None => None,
        };
        let py = values.py();
        let mut guard = self
            .inner
            .lock()
            .map_err(|_poisoned| errors::usage("an earlier write panicked"))?;
        let writer = guard.as_mut().ok_or_else(errors::closed)?;
        let written = with_samples!(values, complex, raw, samples => {
            py.detach(|| {
                writer
                    .write(&keys, samples, mask.as_deref(), Datyp(datyp), nbits)
                    .map_err(Box::new)
            })
                .map_err(|e| errors::write_error(&e))
        })?;
        Ok(match written {
            Written::Added { file_index }
            | Written::Replaced { file_index }
            | Written::RewrittenInPlace { file_index } => Some(file_index),
            Written::Skipped => None,
        })
    }

    /// Finish the file (directory, header, rename into place). Closing twice is harmless.
    fn close(&self) -> PyResult<()> {
        let w = self
            .inner
            .lock()
            .map_err(|_poisoned| errors::usage("an earlier write panicked"))?
            .take();
        if let Some(w) = w {
            w.close().map_err(|e| errors::write_error(&e))?;
        }
        Ok(())
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.lock().map_or(true, |g| g.is_none())
    }
}
