//! One HDF5/netCDF-4 IODA file: its catalog in view names, and typed reads.
//!
//! Reads go through `netcdf-reader` (pure Rust, positional reads, no memory map: a file
//! truncated while open gives an error, not a SIGBUS). Its own limits are set from ours,
//! and every element count is checked here before a buffer is allocated.

use std::collections::TryReserveError;
use std::path::{Path, PathBuf};

use netcdf_reader::{
    NcAttrValue, NcAttribute, NcFile, NcGroup, NcMetadataMode, NcOpenOptions, NcType,
};

use crate::error::{Error, Result};
use crate::names::{canonical_dimension, VariableName};
use crate::values::{AttrValue, Attribute, Values};
use crate::{Layout, Limits};

/// The HDF5 signature; files may carry a user block of 512·2^k bytes before it.
pub(crate) const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Deepest group nesting walked. IODA uses one level; the bound stops a corrupted
/// file from recursing without end.
const MAX_GROUP_DEPTH: usize = 8;

/// A variable as stored in one file.
#[derive(Debug, Clone)]
pub(crate) struct StoredVariable {
    /// Canonical name in the view.
    pub(crate) name: VariableName,
    /// Path inside the file (`MetaData/latitude`, or v1's `latitude@MetaData`).
    pub(crate) path_in_file: String,
    pub(crate) dtype: NcType,
    /// Canonical dimension names and sizes; a char array's string-length axis is left out.
    pub(crate) dims: Vec<(String, u64)>,
    /// Bytes per string of a char array (its last axis), or `None`.
    pub(crate) char_len: Option<u64>,
    pub(crate) attributes: Vec<Attribute>,
}

/// The catalog of one file.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    pub(crate) layout: Layout,
    /// (canonical name, size) of the root dimensions.
    pub(crate) dimensions: Vec<(String, u64)>,
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) variables: Vec<StoredVariable>,
}

/// An open HDF5 member.
pub(crate) struct Hdf5File {
    pub(crate) path: PathBuf,
    file: NcFile,
}

impl Hdf5File {
    pub(crate) fn open(path: &Path, limits: &Limits) -> Result<Self> {
        let options = NcOpenOptions {
            metadata_mode: NcMetadataMode::Strict,
            max_read_bytes: usize::try_from(limits.max_variable_bytes).unwrap_or(usize::MAX),
            max_chunk_bytes: usize::try_from(limits.max_chunk_bytes).unwrap_or(usize::MAX),
            // A modest cache: the view reads each variable once, in full.
            chunk_cache_bytes: 16 << 20,
            ..NcOpenOptions::default()
        };
        let file = NcFile::open_with_options(path, options).map_err(|source| Error::Hdf5 {
            path: path.to_owned(),
            variable: None,
            source,
        })?;
        if !matches!(
            file.format(),
            netcdf_reader::NcFormat::Nc4 | netcdf_reader::NcFormat::Nc4Classic
        ) {
            return Err(Error::Unsupported {
                path: path.to_owned(),
                variable: None,
                what: "netCDF classic file (IODA files are HDF5)".into(),
            });
        }
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    fn hdf5_error(&self, variable: Option<&str>, source: netcdf_reader::Error) -> Error {
        // A valid file compressed with a filter the reader lacks is not "unreadable data".
        if let Some(id) = unsupported_filter_id(&source) {
            return Error::Unsupported {
                path: self.path.clone(),
                variable: variable.map(str::to_owned),
                what: format!(
                    "HDF5 filter {id}{} (the reader has deflate, shuffle, fletcher32, szip, \
                     nbit, scale-offset and LZ4)",
                    filter_name(id)
                ),
            };
        }
        Error::Hdf5 {
            path: self.path.clone(),
            variable: variable.map(str::to_owned),
            source,
        }
    }

    /// Walks the groups and builds the catalog in view names.
    pub(crate) fn catalog(&self) -> Result<Catalog> {
        let root = self
            .file
            .root_group()
            .map_err(|e| self.hdf5_error(None, e))?;
        let is_v1 = root.variables.iter().any(|v| v.name.contains('@'));
        let layout = if is_v1 {
            Layout::V1
        } else if root.dimensions.iter().any(|d| d.name == "Location") {
            Layout::V3
        } else {
            Layout::V2
        };
        let mut variables = Vec::new();
        self.collect(root, "", 0, &mut variables)?;
        Ok(Catalog {
            layout,
            dimensions: root
                .dimensions
                .iter()
                .map(|d| (canonical_dimension(&d.name).to_owned(), d.size))
                .collect(),
            attributes: convert_attributes(&root.attributes),
            variables,
        })
    }

    fn collect(
        &self,
        group: &NcGroup,
        group_path: &str,
        depth: usize,
        out: &mut Vec<StoredVariable>,
    ) -> Result<()> {
        if depth > MAX_GROUP_DEPTH {
            return Err(Error::Format {
                path: self.path.clone(),
                variable: None,
                detail: format!(
                    "groups nested deeper than {MAX_GROUP_DEPTH} levels at {group_path}"
                ),
            });
        }
        for variable in &group.variables {
            let path_in_file = if group_path.is_empty() {
                variable.name.clone()
            } else {
                format!("{group_path}/{}", variable.name)
            };
            let name = match variable.name.rsplit_once('@') {
                Some((name, v1_group)) if group_path.is_empty() => {
                    VariableName::canonical(v1_group, name)
                }
                _ => VariableName::canonical(group_path, &variable.name),
            };
            let mut dims: Vec<(String, u64)> = variable
                .dimensions
                .iter()
                .map(|d| (canonical_dimension(&d.name).to_owned(), d.size))
                .collect();
            let char_len = if variable.dtype == NcType::Char {
                dims.pop().map(|(_, len)| len)
            } else {
                None
            };
            out.push(StoredVariable {
                name,
                path_in_file,
                dtype: variable.dtype.clone(),
                dims,
                char_len,
                attributes: convert_attributes(&variable.attributes),
            });
        }
        for sub in &group.groups {
            let sub_path = if group_path.is_empty() {
                sub.name.clone()
            } else {
                format!("{group_path}/{}", sub.name)
            };
            self.collect(sub, &sub_path, depth + 1, out)?;
        }
        Ok(())
    }

    /// Reads a whole variable in its storage type.
    pub(crate) fn read(&self, variable: &StoredVariable, limits: &Limits) -> Result<Values> {
        let label = variable.name.to_string();
        let count = element_count(&variable.dims).ok_or_else(|| Error::Format {
            path: self.path.clone(),
            variable: Some(label.clone()),
            detail: "element count overflows".into(),
        })?;
        let element_bytes = match &variable.dtype {
            NcType::Char => variable.char_len.unwrap_or(1).max(1),
            NcType::String => 16,
            other => other.size().map_or(8, |s| s as u64),
        };
        let bytes = count.saturating_mul(element_bytes);
        if bytes > limits.max_variable_bytes {
            return Err(Error::Limit {
                path: self.path.clone(),
                variable: Some(label),
                what: "decoded size in bytes",
                found: bytes,
                limit: limits.max_variable_bytes,
            });
        }
        // Only a 32-bit target can get here: the byte limit is below u64::MAX.
        let Ok(count) = usize::try_from(count) else {
            return Err(Error::Limit {
                path: self.path.clone(),
                variable: Some(label),
                what: "element count",
                found: count,
                limit: usize::MAX as u64,
            });
        };
        let path = variable.path_in_file.as_str();
        macro_rules! numeric {
            ($variant:ident, $t:ty) => {{
                let mut buffer: Vec<$t> = crate::alloc::zeroed(count)
                    .map_err(|source| self.alloc_error(&label, bytes, source))?;
                self.file
                    .read_variable_into::<$t>(path, &mut buffer)
                    .map_err(|e| self.hdf5_error(Some(&label), e))?;
                Values::$variant(buffer)
            }};
        }
        Ok(match &variable.dtype {
            NcType::Byte => numeric!(I8, i8),
            NcType::Short => numeric!(I16, i16),
            NcType::Int => numeric!(I32, i32),
            NcType::Int64 => numeric!(I64, i64),
            NcType::UByte => numeric!(U8, u8),
            NcType::UShort => numeric!(U16, u16),
            NcType::UInt => numeric!(U32, u32),
            NcType::UInt64 => numeric!(U64, u64),
            NcType::Float => numeric!(F32, f32),
            NcType::Double => numeric!(F64, f64),
            NcType::String | NcType::Char => {
                let strings = self
                    .file
                    .read_variable_as_strings(path)
                    .map_err(|e| self.hdf5_error(Some(&label), e))?;
                if strings.len() != count {
                    return Err(Error::Format {
                        path: self.path.clone(),
                        variable: Some(label),
                        detail: format!(
                            "{} strings where the dimensions give {count}",
                            strings.len()
                        ),
                    });
                }
                // Fixed-length strings are padded with NULs or spaces; neither is data.
                Values::Text(
                    strings
                        .into_iter()
                        .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
                        .collect(),
                )
            }
            other => {
                return Err(Error::Unsupported {
                    path: self.path.clone(),
                    variable: Some(label),
                    what: format!("data type {other:?}"),
                })
            }
        })
    }

    fn alloc_error(&self, label: &str, bytes: u64, source: TryReserveError) -> Error {
        Error::Alloc {
            path: self.path.clone(),
            variable: Some(label.to_owned()),
            bytes,
            source,
        }
    }
}

/// The id of the filter the HDF5 reader reported it does not have, anywhere in the chain.
/// (`hdf5_reader`'s error type is not re-exported, so its message is what we can see.)
fn unsupported_filter_id(error: &(dyn std::error::Error + 'static)) -> Option<u32> {
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        if let Some((_, rest)) = text.split_once("unsupported filter: filter id ") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(id) = digits.parse() {
                return Some(id);
            }
        }
        next = error.source();
    }
    None
}

/// The registered name of the HDF5 filters users meet (the HDF Group's filter registry).
fn filter_name(id: u32) -> &'static str {
    match id {
        307 => " (bzip2)",
        32000 => " (LZF, h5py's own compression)",
        32001 => " (Blosc)",
        32008 => " (bitshuffle)",
        32013 => " (ZFP)",
        32015 => " (Zstandard)",
        32017 => " (SZ)",
        _ => "",
    }
}

/// Product of the dimension sizes, `None` on overflow.
pub(crate) fn element_count(dims: &[(String, u64)]) -> Option<u64> {
    dims.iter()
        .try_fold(1u64, |acc, (_, n)| acc.checked_mul(*n))
}

fn convert_attributes(attributes: &[NcAttribute]) -> Vec<Attribute> {
    attributes
        .iter()
        .map(|a| Attribute {
            name: a.name.clone(),
            value: convert_attribute(&a.value),
        })
        .collect()
}

fn convert_attribute(value: &NcAttrValue) -> AttrValue {
    fn ints<T: Copy + Into<i64>>(v: &[T]) -> AttrValue {
        AttrValue::Ints(v.iter().map(|x| (*x).into()).collect())
    }
    match value {
        NcAttrValue::Bytes(v) => ints(v),
        NcAttrValue::Shorts(v) => ints(v),
        NcAttrValue::Ints(v) => ints(v),
        NcAttrValue::Int64s(v) => ints(v),
        NcAttrValue::UBytes(v) => ints(v),
        NcAttrValue::UShorts(v) => ints(v),
        NcAttrValue::UInts(v) => ints(v),
        NcAttrValue::UInt64s(v) => match v
            .iter()
            .map(|x| i64::try_from(*x))
            .collect::<std::result::Result<Vec<_>, _>>()
        {
            Ok(fits) => AttrValue::Ints(fits),
            Err(_) => AttrValue::UInts(v.clone()),
        },
        NcAttrValue::Floats(v) => AttrValue::Floats(v.iter().map(|x| f64::from(*x)).collect()),
        NcAttrValue::Doubles(v) => AttrValue::Floats(v.clone()),
        NcAttrValue::Chars(s) => AttrValue::Text(vec![s.trim_end_matches('\0').to_owned()]),
        NcAttrValue::Strings(v) => AttrValue::Text(v.clone()),
        // Types IODA never uses on attributes (compound, opaque, ...) are shown as text.
        other @ NcAttrValue::UserDefined { .. } => AttrValue::Text(vec![format!("{other:?}")]),
    }
}

#[cfg(test)]
mod tests {
    use super::{filter_name, unsupported_filter_id};

    #[derive(Debug)]
    struct Wrapped(&'static str, Option<Box<Wrapped>>);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn an_unsupported_filter_is_found_in_the_chain_and_named() {
        let inner = Wrapped("unsupported filter: filter id 32000", None);
        let outer = Wrapped("HDF5 error: x", Some(Box::new(inner)));
        assert_eq!(unsupported_filter_id(&outer), Some(32000));
        assert!(filter_name(32000).contains("LZF"));
        assert_eq!(unsupported_filter_id(&Wrapped("truncated", None)), None);
    }
}
