//! fst-core and grids errors → the exception classes of `fstgis._errors`.

use std::error::Error;

use fst_core::error::SourceName;
use fst_core::{DecodeError, OpenError, WriteError};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Where a fault is: the file (None for in-memory input), the record (index among the live
/// records) and the byte offset.
#[derive(Debug, Default, Clone)]
pub(crate) struct Context {
    pub(crate) path: Option<String>,
    pub(crate) record: Option<u32>,
    pub(crate) offset: Option<u64>,
}

fn path_of(name: &SourceName) -> Option<String> {
    name.0.as_ref().map(|p| p.display().to_string())
}

/// The error's message followed by its sources (fst-core keeps each cause in `#[source]`,
/// not in the message, so the chain is spelled out once here).
pub(crate) fn message(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// An instance of `fstgis._errors.<class>` as a `PyErr`. If that module cannot be imported
/// (a broken installation), a `RuntimeError` with the same message.
pub(crate) fn raise(class: &str, text: String, at: Context) -> PyErr {
    Python::attach(|py| {
        let build = || -> PyResult<PyErr> {
            let cls = py.import("fstgis._errors")?.getattr(class)?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("path", at.path.clone())?;
            kwargs.set_item("record", at.record)?;
            kwargs.set_item("offset", at.offset)?;
            let instance = cls.call((text.clone(),), Some(&kwargs))?;
            Ok(PyErr::from_value(instance))
        };
        build().unwrap_or_else(|_import_failed| PyRuntimeError::new_err(text.clone()))
    })
}

pub(crate) fn open_error(e: &OpenError) -> PyErr {
    let text = message(e);
    match e {
        OpenError::Open { path, source } => raise(
            // Catchable as the built-in exceptions Python's own open raises.
            match source.kind() {
                std::io::ErrorKind::NotFound => "FstFileNotFoundError",
                std::io::ErrorKind::PermissionDenied => "FstPermissionError",
                _ => "FstIOError",
            },
            text,
            Context {
                path: path_of(path),
                ..Context::default()
            },
        ),
        OpenError::Io { path, offset, .. } => raise(
            "FstIOError",
            text,
            Context {
                path: path_of(path),
                offset: Some(*offset),
                ..Context::default()
            },
        ),
        OpenError::NotFst { path, .. } => raise(
            "NotFstFileError",
            text,
            Context {
                path: path_of(path),
                ..Context::default()
            },
        ),
        OpenError::Format { path, offset, .. } => raise(
            "CorruptFileError",
            text,
            Context {
                path: path_of(path),
                offset: Some(*offset),
                ..Context::default()
            },
        ),
        OpenError::Unsupported { path, .. } => raise(
            "UnsupportedError",
            text,
            Context {
                path: path_of(path),
                ..Context::default()
            },
        ),
        OpenError::Limits { path, .. } => raise(
            "LimitExceededError",
            text,
            Context {
                path: path_of(path),
                ..Context::default()
            },
        ),
        _ => raise("FstError", text, Context::default()),
    }
}

pub(crate) fn decode_error(e: &DecodeError) -> PyErr {
    let text = message(e);
    let record = Some(e.record().0);
    let (class, path, offset) = match e {
        DecodeError::Io { path, offset, .. } => ("FstIOError", path, Some(*offset)),
        DecodeError::Format { path, offset, .. } => ("DecodeError", path, Some(*offset)),
        DecodeError::Framing { path, offset, .. } => ("CorruptFileError", path, Some(*offset)),
        DecodeError::Limits { path, .. } => ("LimitExceededError", path, None),
        DecodeError::Usage { path, .. } => ("UsageError", path, None),
        _ => return raise("FstError", text, Context::default()),
    };
    raise(
        class,
        text,
        Context {
            path: path_of(path),
            record,
            offset,
        },
    )
}

pub(crate) fn write_error(e: &WriteError) -> PyErr {
    let text = message(e);
    let (class, path) = match e {
        WriteError::Io { path, .. } | WriteError::RecordIo { path, .. } => ("FstIOError", path),
        WriteError::InvalidRecord { path, .. } | WriteError::Encode { path, .. } => {
            ("InvalidRecordError", path)
        }
        WriteError::Locked { path, .. }
        | WriteError::Unappendable { path, .. }
        | WriteError::Stopped { path } => ("WriteError", path),
        WriteError::Open(inner) => return open_error(inner),
        _ => return raise("WriteError", text, Context::default()),
    };
    raise(
        class,
        text,
        Context {
            path: Some(path.display().to_string()),
            ..Context::default()
        },
    )
}

pub(crate) fn grid_error(e: &grids::GridError, at: Context) -> PyErr {
    raise("GridError", message(e), at)
}

/// A wrong argument from the caller: `fstgis.UsageError` (a `ValueError`).
pub(crate) fn usage(text: impl Into<String>) -> PyErr {
    raise("UsageError", text.into(), Context::default())
}

/// The file was closed: `fstgis.ClosedFileError` (a `ValueError`, like I/O on a closed
/// Python file).
pub(crate) fn closed() -> PyErr {
    raise(
        "ClosedFileError",
        "I/O operation on a closed FST file".into(),
        Context::default(),
    )
}
