//! ODB-2 (ECMWF's observation database format, as `odc` writes it) read into the view.
//!
//! A file is a sequence of frames. Each frame has a header (byte order marker, format
//! version 0.5, row count, properties, one codec description per column) followed by
//! rows. Every row starts with a big-endian `u16`: the first column whose value is
//! encoded; columns before it repeat the previous row. Integer codecs store
//! `value − min` in 8 or 16 bits, reals in 32 or 64 bits, strings as indices into a
//! per-column string table. The layout follows ECMWF's Apache-2.0 `odc`/`pyodc` sources;
//! this is a fresh implementation.
//!
//! In the view, rows are locations. Column `name@table` is the variable `table/name`;
//! each named bit group of a bitfield column is a variable too (`body/status.active`).
//! `MetaData/latitude`, `longitude`, `stationIdentification` and `dateTime` (from the
//! `date` and `time` columns) alias the usual `lat@hdr`, `lon@hdr`, `statid@hdr` columns.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::names::VariableName;
use crate::time::parse_odb_date_time;
use crate::values::{exact_i64, AttrValue, Attribute, Values};
use crate::{Limits, VariableInfo};

/// First bytes of every ODB-2 frame: the `0xFFFF` marker and `ODA`.
pub(crate) const ODB_MAGIC: &[u8] = b"\xff\xffODA";

/// Column types of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    Integer,
    Real,
    Text,
    Bitfield,
    Double,
}

/// How a column's values are stored.
#[derive(Debug, Clone, PartialEq)]
enum Codec {
    Constant,
    ConstantString,
    LongConstantString(String),
    ConstantOrMissing,
    Int8,
    Int8Missing,
    Int16,
    Int16Missing,
    Int32,
    LongReal,
    ShortReal,
    ShortReal2,
    /// Eight bytes per value (odc's intermediate codec; accepted for completeness).
    Chars,
    Int8String(Vec<String>),
    Int16String(Vec<String>),
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: ColumnType,
    codec: Codec,
    has_missing: bool,
    min: f64,
    missing_value: f64,
    /// (name, bit offset, bit count) of each named bit group.
    bitfields: Vec<(String, u32, u32)>,
}

/// One decoded cell.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Missing,
    Int(i64),
    Real(f64),
    Text(String),
}

/// Decoded columns of all frames, by column name.
#[derive(Debug)]
enum ColumnData {
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Text(Vec<String>),
}

#[derive(Debug)]
struct TableColumn {
    name: String,
    bitfields: Vec<(String, u32, u32)>,
    data: ColumnData,
    /// Bytes per decoded cell (see `cell_bytes`), the largest over the frames read.
    cell_bytes: u64,
}

/// A decoded ODB-2 file.
#[derive(Debug)]
pub(crate) struct OdbTable {
    path: PathBuf,
    rows: u64,
    columns: Vec<TableColumn>,
    properties: Vec<(String, String)>,
}

/// Fill written where an integer cell is missing (the format's integer missing value).
const INTEGER_MISSING: i64 = 2_147_483_647;
/// Fill written where a real cell is missing (the format's real missing value).
const REAL_MISSING: f64 = -2_147_483_647.0;

/// A bounds-checked reader over one file's bytes, in the frame's byte order.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
    little_endian: bool,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self
            .position
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        let slice = end.and_then(|end| self.bytes.get(self.position..end));
        match slice {
            Some(slice) => {
                self.position += n;
                Ok(slice)
            }
            None => Err(format!(
                "truncated: {n} bytes needed at offset {}",
                self.position
            )),
        }
    }
    fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> std::result::Result<u16, String> {
        let b = self.array()?;
        Ok(if self.little_endian {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }
    fn marker(&mut self) -> std::result::Result<u16, String> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn i32(&mut self) -> std::result::Result<i32, String> {
        let b = self.array()?;
        Ok(if self.little_endian {
            i32::from_le_bytes(b)
        } else {
            i32::from_be_bytes(b)
        })
    }
    fn i64(&mut self) -> std::result::Result<i64, String> {
        let b = self.array()?;
        Ok(if self.little_endian {
            i64::from_le_bytes(b)
        } else {
            i64::from_be_bytes(b)
        })
    }
    fn f32_bits(&mut self) -> std::result::Result<u32, String> {
        let b = self.array()?;
        Ok(if self.little_endian {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
    fn f64(&mut self) -> std::result::Result<f64, String> {
        let b = self.array()?;
        Ok(if self.little_endian {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }
    /// A count that must be non-negative and fit in the bytes left, `unit` bytes each.
    fn count(&mut self, unit: usize, what: &str) -> std::result::Result<usize, String> {
        let n = self.i32()?;
        let n = usize::try_from(n).map_err(|e| format!("{what} count {n}: {e}"))?;
        let left = self.bytes.len().saturating_sub(self.position);
        if n.saturating_mul(unit.max(1)) > left {
            return Err(format!("{what} count {n} exceeds the {left} bytes left"));
        }
        Ok(n)
    }
    fn string(&mut self) -> std::result::Result<String, String> {
        let n = self.count(1, "string length")?;
        let bytes = self.take(n)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }
}

fn parse_codec(cursor: &mut Cursor<'_>) -> std::result::Result<Column, String> {
    let name = cursor.string()?;
    let kind = match cursor.i32()? {
        1 => ColumnType::Integer,
        2 => ColumnType::Real,
        3 => ColumnType::Text,
        4 => ColumnType::Bitfield,
        5 => ColumnType::Double,
        other => return Err(format!("column {name}: unknown type {other}")),
    };
    let mut bitfields = Vec::new();
    if kind == ColumnType::Bitfield {
        let names_count = cursor.count(4, "bitfield name")?;
        let names = (0..names_count)
            .map(|_| cursor.string())
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let sizes_count = cursor.count(4, "bitfield size")?;
        let sizes = (0..sizes_count)
            .map(|_| cursor.i32())
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if names.len() != sizes.len() {
            return Err(format!(
                "column {name}: {} bitfield names but {} sizes",
                names.len(),
                sizes.len()
            ));
        }
        let mut offset = 0u32;
        for (bit_name, size) in names.into_iter().zip(sizes) {
            let size = u32::try_from(size)
                .ok()
                .filter(|s| (1..=32).contains(s))
                .ok_or_else(|| format!("column {name}: bitfield {bit_name} has {size} bits"))?;
            bitfields.push((bit_name, offset, size));
            offset = offset.saturating_add(size);
        }
        if offset > 32 {
            return Err(format!(
                "column {name}: bitfields span {offset} bits, more than 32"
            ));
        }
    }
    let codec_name = cursor.string()?;
    let has_missing = cursor.i32()? != 0;
    let min = cursor.f64()?;
    let max = cursor.f64()?;
    let missing_value = cursor.f64()?;
    let kind = decoded_kind(kind, min, max);
    let string_table = |cursor: &mut Cursor<'_>| -> std::result::Result<Vec<String>, String> {
        let n = cursor.count(12, "string table")?;
        let mut table = vec![None; n];
        for _ in 0..n {
            let text = cursor.string()?;
            let _unused_count = cursor.i32()?;
            let index = cursor.i32()?;
            let slot = usize::try_from(index)
                .ok()
                .and_then(|i| table.get_mut(i))
                .ok_or_else(|| {
                    format!("column {name}: string index {index} outside its table of {n}")
                })?;
            *slot = Some(text.trim_end_matches('\0').to_owned());
        }
        table
            .into_iter()
            .map(|s| s.ok_or_else(|| format!("column {name}: string table has gaps")))
            .collect()
    };
    let codec = match codec_name.as_str() {
        "constant" => Codec::Constant,
        "constant_string" => Codec::ConstantString,
        "long_constant_string" => Codec::LongConstantString(cursor.string()?),
        "constant_or_missing" | "real_constant_or_missing" => Codec::ConstantOrMissing,
        "int8" => Codec::Int8,
        "int8_missing" => Codec::Int8Missing,
        "int16" => Codec::Int16,
        "int16_missing" => Codec::Int16Missing,
        "int32" => Codec::Int32,
        "long_real" => Codec::LongReal,
        "short_real" => Codec::ShortReal,
        "short_real2" => Codec::ShortReal2,
        "chars" => {
            if cursor.i32()? != 0 {
                return Err(format!("column {name}: chars codec with a string table"));
            }
            Codec::Chars
        }
        "int8_string" => Codec::Int8String(string_table(cursor)?),
        "int16_string" => Codec::Int16String(string_table(cursor)?),
        other => return Err(format!("column {name}: unknown codec {other:?}")),
    };
    Ok(Column {
        name,
        kind,
        codec,
        has_missing,
        min,
        missing_value,
        bitfields,
    })
}

/// odc's values are doubles: an INTEGER column is `min + offset` in double arithmetic. Past
/// ±2^53 that is not integer arithmetic, and past ±2^63 not an i64 at all (pyodc writes a
/// float column whose values are all integral as INTEGER, 3.3e37 included): such a column is
/// read as the doubles odc reads, never cast (a cast saturated to `i64::MIN`).
fn decoded_kind(kind: ColumnType, min: f64, max: f64) -> ColumnType {
    if kind == ColumnType::Integer && !(exact_integer(min) && exact_integer(max)) {
        ColumnType::Double
    } else {
        kind
    }
}

/// Largest magnitude up to which every integer is a double, so odc's double arithmetic on an
/// INTEGER column and ours on `i64` agree.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

fn exact_integer(value: f64) -> bool {
    value.abs() <= EXACT_INTEGER_LIMIT
}

/// The string packed in the 8 bytes of a double, up to its first NUL.
fn string_of_double(value: f64) -> String {
    let bytes = value.to_le_bytes();
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or(&[])).into_owned()
}

fn decode_cell(column: &Column, cursor: &mut Cursor<'_>) -> std::result::Result<Cell, String> {
    let is_text = column.kind == ColumnType::Text;
    let is_integer = matches!(column.kind, ColumnType::Integer | ColumnType::Bitfield);
    #[allow(clippy::float_cmp)] // odc's rule: a cell equal to the column's missing value, exactly
    let number = |v: f64| -> Cell {
        if column.has_missing && v == column.missing_value {
            Cell::Missing
        } else if is_integer {
            Cell::Int(v as i64)
        } else {
            Cell::Real(v)
        }
    };
    #[allow(clippy::float_cmp)] // the same exact rule as `number`
    let offset_int = |raw: u64| -> Cell {
        // Integer codecs store value − min; min is integral for integer columns, and within
        // ±2^53 (else the column is read as doubles, see `parse_codec`).
        let value = column.min + raw as f64;
        if column.has_missing && value == column.missing_value {
            // The same rule as `number`: an offset codec can carry the missing value too.
            Cell::Missing
        } else if is_integer {
            Cell::Int((column.min as i64).saturating_add(raw as i64))
        } else {
            Cell::Real(value)
        }
    };
    Ok(match &column.codec {
        Codec::Constant if is_text => Cell::Text(string_of_double(column.min)),
        Codec::Constant => number(column.min),
        Codec::ConstantString => Cell::Text(string_of_double(column.min)),
        Codec::LongConstantString(text) => Cell::Text(text.clone()),
        Codec::ConstantOrMissing => {
            if cursor.u8()? == 0xFF {
                Cell::Missing
            } else {
                number(column.min)
            }
        }
        Codec::Int8 => offset_int(u64::from(cursor.u8()?)),
        Codec::Int8Missing => match cursor.u8()? {
            0xFF => Cell::Missing,
            raw => offset_int(u64::from(raw)),
        },
        Codec::Int16 => offset_int(u64::from(cursor.u16()?)),
        Codec::Int16Missing => match cursor.u16()? {
            0xFFFF => Cell::Missing,
            raw => offset_int(u64::from(raw)),
        },
        Codec::Int32 => match cursor.i32()? {
            0x7FFF_FFFF => Cell::Missing,
            raw => Cell::Int(i64::from(raw)),
        },
        Codec::LongReal => number(cursor.f64()?),
        Codec::ShortReal => match cursor.f32_bits()? {
            // FLT_MIN marks missing in short_real.
            0x0080_0000 => Cell::Missing,
            bits => number(f64::from(f32::from_bits(bits))),
        },
        Codec::ShortReal2 => match cursor.f32_bits()? {
            // odc marks missing with -FLT_MAX, pyodc with +FLT_MAX.
            0xFF7F_FFFF | 0x7F7F_FFFF => Cell::Missing,
            bits => number(f64::from(f32::from_bits(bits))),
        },
        Codec::Chars => Cell::Text(string_of_double(cursor.f64()?)),
        Codec::Int8String(table) => {
            let index = usize::from(cursor.u8()?);
            Cell::Text(table.get(index).cloned().ok_or_else(|| {
                format!(
                    "column {}: string index {index} outside its table",
                    column.name
                )
            })?)
        }
        Codec::Int16String(table) => {
            let index = usize::from(cursor.u16()?);
            Cell::Text(table.get(index).cloned().ok_or_else(|| {
                format!(
                    "column {}: string index {index} outside its table",
                    column.name
                )
            })?)
        }
    })
}

/// What a frame's header says: where its rows are and how its columns are coded.
struct FrameHeader {
    little_endian: bool,
    data_start: usize,
    data_end: usize,
    rows: usize,
    columns: Vec<Column>,
    properties: Vec<(String, String)>,
}

fn parse_frame_header(
    bytes: &[u8],
    start: usize,
    limits: &Limits,
    rows_so_far: u64,
) -> std::result::Result<FrameHeader, String> {
    let mut cursor = Cursor {
        bytes,
        position: start,
        little_endian: true,
    };
    if cursor.take(5)? != ODB_MAGIC {
        return Err(format!("no ODB-2 frame marker at offset {start}"));
    }
    let endian = cursor.array::<4>()?;
    cursor.little_endian = i32::from_le_bytes(endian) == 1;
    let (major, minor) = (cursor.i32()?, cursor.i32()?);
    if (major, minor) != (0, 5) {
        return Err(format!(
            "format version {major}.{minor} at offset {start}, expected 0.5"
        ));
    }
    let _md5 = cursor.string()?;
    let header_length = cursor.i32()?;
    let header_length = usize::try_from(header_length)
        .map_err(|e| format!("header length {header_length}: {e}"))?;
    let data_start = cursor
        .position
        .checked_add(header_length)
        .ok_or("header length overflows")?;
    let data_size = cursor.i64()?;
    let data_size =
        usize::try_from(data_size).map_err(|e| format!("data size {data_size}: {e}"))?;
    let data_end = data_start
        .checked_add(data_size)
        .filter(|end| *end <= bytes.len())
        .ok_or_else(|| format!("frame at offset {start} runs past the end of the file"))?;
    let _previous_frame_offset = cursor.i64()?;
    let rows = cursor.i64()?;
    let rows = u64::try_from(rows).map_err(|e| format!("row count {rows}: {e}"))?;
    if rows_so_far.saturating_add(rows) > limits.max_odb_rows {
        return Err(format!(
            "row count {} above the limit of {}",
            rows_so_far.saturating_add(rows),
            limits.max_odb_rows
        ));
    }
    // Every row takes at least its two-byte marker, so `rows` fits in usize below.
    if rows.saturating_mul(2) > data_size as u64 {
        return Err(format!(
            "{rows} rows cannot fit in {data_size} bytes of data"
        ));
    }
    let flags = cursor.count(8, "flag")?;
    cursor.take(flags.saturating_mul(8))?;
    let property_count = cursor.count(8, "property")?;
    let mut properties = Vec::new();
    for _ in 0..property_count {
        properties.push((cursor.string()?, cursor.string()?));
    }
    let column_count = cursor.count(4, "column")?;
    if column_count > limits.max_odb_columns {
        return Err(format!(
            "{column_count} columns, above the limit of {}",
            limits.max_odb_columns
        ));
    }
    let columns = (0..column_count)
        .map(|_| parse_codec(&mut cursor))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if cursor.position != data_start {
        return Err(format!(
            "column descriptions end at offset {}, the header says {data_start}",
            cursor.position
        ));
    }
    Ok(FrameHeader {
        little_endian: cursor.little_endian,
        data_start,
        data_end,
        rows: rows as usize,
        columns,
        properties,
    })
}

/// Bytes one decoded cell of `column` takes in the table: the typed slot, and for text the
/// longest string its codec can give (every cell owns its string, repeated rows included).
fn cell_bytes(column: &Column) -> u64 {
    let slot = |size: usize| size as u64;
    match column.kind {
        ColumnType::Integer | ColumnType::Bitfield => slot(size_of::<Option<i64>>()),
        ColumnType::Real | ColumnType::Double => slot(size_of::<Option<f64>>()),
        ColumnType::Text => {
            let longest = match &column.codec {
                Codec::LongConstantString(text) => text.len(),
                Codec::Int8String(table) | Codec::Int16String(table) => {
                    table.iter().map(String::len).max().unwrap_or(0)
                }
                _ => 8,
            };
            slot(size_of::<String>()).saturating_add(longest as u64)
        }
    }
}

/// The typed cells of one column while the table is built.
impl ColumnData {
    fn empty(kind: ColumnType) -> Self {
        match kind {
            ColumnType::Integer | ColumnType::Bitfield => ColumnData::Int(Vec::new()),
            ColumnType::Real | ColumnType::Double => ColumnData::Real(Vec::new()),
            ColumnType::Text => ColumnData::Text(Vec::new()),
        }
    }

    fn len(&self) -> usize {
        match self {
            ColumnData::Int(v) => v.len(),
            ColumnData::Real(v) => v.len(),
            ColumnData::Text(v) => v.len(),
        }
    }

    /// Missing cells up to `rows` (rows of frames without this column).
    fn pad_to(&mut self, rows: usize) -> std::result::Result<(), String> {
        let extra = rows.saturating_sub(self.len());
        let reserve = |e: std::collections::TryReserveError| {
            format!("cannot allocate {extra} more rows: {e}")
        };
        match self {
            ColumnData::Int(v) => {
                v.try_reserve_exact(extra).map_err(reserve)?;
                v.resize(rows, None);
            }
            ColumnData::Real(v) => {
                v.try_reserve_exact(extra).map_err(reserve)?;
                v.resize(rows, None);
            }
            ColumnData::Text(v) => {
                v.try_reserve_exact(extra).map_err(reserve)?;
                v.resize(rows, String::new());
            }
        }
        Ok(())
    }

    /// Appends one cell. `frame_start` is the table row where the current frame began: a
    /// repeated cell copies the previous row of the same frame, or is missing on its first row.
    fn push(
        &mut self,
        cell: Option<Cell>,
        frame_start: usize,
        name: &str,
    ) -> std::result::Result<(), String> {
        let previous_in_frame = self.len() > frame_start;
        match (self, cell) {
            (ColumnData::Int(v), None) => {
                let last = if previous_in_frame {
                    v.last().copied().flatten()
                } else {
                    None
                };
                v.push(last);
            }
            (ColumnData::Real(v), None) => {
                let last = if previous_in_frame {
                    v.last().copied().flatten()
                } else {
                    None
                };
                v.push(last);
            }
            (ColumnData::Text(v), None) => {
                let last = if previous_in_frame {
                    v.last().cloned().unwrap_or_default()
                } else {
                    String::new()
                };
                v.push(last);
            }
            (ColumnData::Int(v), Some(Cell::Missing)) => v.push(None),
            (ColumnData::Real(v), Some(Cell::Missing)) => v.push(None),
            (ColumnData::Text(v), Some(Cell::Missing)) => v.push(String::new()),
            (ColumnData::Int(v), Some(Cell::Int(x))) => v.push(Some(x)),
            (ColumnData::Real(v), Some(Cell::Real(x))) => v.push(Some(x)),
            (ColumnData::Real(v), Some(Cell::Int(x))) => v.push(Some(x as f64)),
            (ColumnData::Text(v), Some(Cell::Text(x))) => v.push(x),
            (_, Some(_)) => {
                return Err(format!("column {name} changes between text and numbers"));
            }
        }
        Ok(())
    }
}

/// The decoded table, grown frame by frame.
struct TableBuilder {
    rows: usize,
    columns: Vec<TableColumn>,
    properties: Option<Vec<(String, String)>>,
}

impl TableBuilder {
    /// Bytes the table will hold once `header`'s frame is added: checked before decoding it,
    /// since repeated rows take two bytes in the file and a whole row of cells in memory.
    fn bytes_with(&self, header: &FrameHeader) -> u64 {
        let rows = (self.rows as u64).saturating_add(header.rows as u64);
        let known = self.columns.iter().map(|table_column| {
            header
                .columns
                .iter()
                .find(|c| c.name == table_column.name)
                .map_or_else(
                    || table_column.cell_bytes,
                    |c| cell_bytes(c).max(table_column.cell_bytes),
                )
        });
        let new = header
            .columns
            .iter()
            .filter(|c| !self.columns.iter().any(|t| t.name == c.name))
            .map(cell_bytes);
        known.chain(new).fold(0u64, |sum, bytes| {
            sum.saturating_add(bytes.saturating_mul(rows))
        })
    }

    /// Decodes the frame's rows straight into the table's columns (a column the table does
    /// not have yet is missing on the earlier rows, one this frame lacks on its rows).
    fn add_frame(&mut self, bytes: &[u8], header: FrameHeader) -> std::result::Result<(), String> {
        let frame_start = self.rows;
        let end = frame_start
            .checked_add(header.rows)
            .ok_or("row count overflows")?;
        let mut targets = Vec::new();
        for column in &header.columns {
            let index = if let Some(index) = self.columns.iter().position(|c| c.name == column.name)
            {
                index
            } else {
                let mut data = ColumnData::empty(column.kind);
                data.pad_to(frame_start)?;
                self.columns.push(TableColumn {
                    name: column.name.clone(),
                    bitfields: column.bitfields.clone(),
                    data,
                    cell_bytes: 0,
                });
                self.columns.len() - 1
            };
            let target = self.columns.get_mut(index).ok_or("column index")?;
            target.cell_bytes = target.cell_bytes.max(cell_bytes(column));
            // A column that is integer in one frame and real in another becomes real.
            if let (ColumnData::Int(ints), ColumnType::Real | ColumnType::Double) =
                (&target.data, column.kind)
            {
                target.data = ColumnData::Real(ints.iter().map(|v| v.map(|x| x as f64)).collect());
            }
            if targets.contains(&index) {
                return Err(format!("column {} appears twice in one frame", column.name));
            }
            targets.push(index);
        }
        for &index in &targets {
            let target = self.columns.get_mut(index).ok_or("column index")?;
            let extra = header.rows;
            let reserve =
                |e: std::collections::TryReserveError| format!("cannot allocate {extra} rows: {e}");
            match &mut target.data {
                ColumnData::Int(v) => v.try_reserve_exact(extra).map_err(reserve)?,
                ColumnData::Real(v) => v.try_reserve_exact(extra).map_err(reserve)?,
                ColumnData::Text(v) => v.try_reserve_exact(extra).map_err(reserve)?,
            }
        }
        let mut cursor = Cursor {
            bytes: bytes.get(..header.data_end).unwrap_or(&[]),
            position: header.data_start,
            little_endian: header.little_endian,
        };
        let columns = &header.columns;
        for row in 0..header.rows {
            let first_changed = usize::from(cursor.marker()?);
            if first_changed > columns.len() {
                return Err(format!(
                    "row {row} starts at column {first_changed} of {}",
                    columns.len()
                ));
            }
            for (position, (column, index)) in columns.iter().zip(&targets).enumerate() {
                let cell = if position < first_changed {
                    None
                } else {
                    Some(decode_cell(column, &mut cursor)?)
                };
                let target = self.columns.get_mut(*index).ok_or("column index")?;
                target.data.push(cell, frame_start, &column.name)?;
            }
        }
        self.rows = end;
        for column in &mut self.columns {
            column.data.pad_to(end)?;
        }
        if self.properties.is_none() {
            self.properties = Some(header.properties);
        }
        Ok(())
    }
}

impl OdbTable {
    pub(crate) fn open(path: &Path, limits: &Limits) -> Result<Self> {
        let io_error = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io_error)?.len();
        if size > limits.max_odb_file_bytes {
            return Err(Error::Limit {
                path: path.to_owned(),
                variable: None,
                what: "ODB-2 file size in bytes",
                found: size,
                limit: limits.max_odb_file_bytes,
            });
        }
        let bytes = std::fs::read(path).map_err(io_error)?;
        Self::parse(path, &bytes, limits)
    }

    pub(crate) fn parse(path: &Path, bytes: &[u8], limits: &Limits) -> Result<Self> {
        let format_error = |detail: String| Error::Format {
            path: path.to_owned(),
            variable: None,
            detail,
        };
        let mut table = TableBuilder {
            rows: 0,
            columns: Vec::new(),
            properties: None,
        };
        let mut position = 0;
        let mut frames = 0usize;
        while position < bytes.len() {
            let header = parse_frame_header(bytes, position, limits, table.rows as u64)
                .map_err(format_error)?;
            let decoded = table.bytes_with(&header);
            if decoded > limits.max_odb_decoded_bytes {
                return Err(Error::Limit {
                    path: path.to_owned(),
                    variable: None,
                    what: "decoded ODB-2 table in bytes",
                    found: decoded,
                    limit: limits.max_odb_decoded_bytes,
                });
            }
            position = header.data_end;
            table.add_frame(bytes, header).map_err(format_error)?;
            frames += 1;
        }
        if frames == 0 {
            return Err(format_error("no ODB-2 frame".into()));
        }
        Ok(Self {
            path: path.to_owned(),
            rows: table.rows as u64,
            columns: table.columns,
            properties: table.properties.unwrap_or_default(),
        })
    }

    pub(crate) fn row_count(&self) -> u64 {
        self.rows
    }

    pub(crate) fn attributes(&self) -> Vec<Attribute> {
        self.properties
            .iter()
            .map(|(k, v)| Attribute {
                name: k.clone(),
                value: AttrValue::Text(vec![v.clone()]),
            })
            .collect()
    }

    /// The column named `base` in table `hdr`, else in any table (`lat@odb`), else bare.
    fn find_column(&self, base: &str) -> Option<&TableColumn> {
        let base_of =
            |c: &&TableColumn| c.name.split_once('@').map_or(c.name.as_str(), |(b, _)| b) == base;
        let hdr = format!("{base}@hdr");
        self.columns
            .iter()
            .find(|c| c.name == hdr)
            .or_else(|| self.columns.iter().find(base_of))
    }

    /// The view's variables: each column, each bit group, and the `MetaData` aliases.
    pub(crate) fn variables(&self) -> Vec<VariableInfo> {
        let mut out = Vec::new();
        let info = |name: VariableName,
                    stored_as: &str,
                    type_name: &'static str,
                    attributes: Vec<Attribute>| VariableInfo {
            name,
            stored_as: stored_as.to_owned(),
            type_name,
            dims: vec!["Location".into()],
            shape: vec![self.rows],
            attributes,
        };
        for column in &self.columns {
            let (type_name, attributes) = column_type(column);
            out.push(info(
                column_variable_name(&column.name, None),
                &column.name,
                type_name,
                attributes.clone(),
            ));
            for (bits, _, _) in &column.bitfields {
                // A bit group is an integer whatever the column became (see `column_values`).
                let fill = Attribute {
                    name: "_FillValue".into(),
                    value: AttrValue::Ints(vec![INTEGER_MISSING]),
                };
                out.push(info(
                    column_variable_name(&column.name, Some(bits)),
                    &column.name,
                    "int64",
                    vec![fill],
                ));
            }
        }
        for (alias, base) in METADATA_ALIASES {
            if let Some(column) = self.find_column(base) {
                let (type_name, attributes) = column_type(column);
                out.push(info(
                    VariableName::canonical("MetaData", alias),
                    &column.name,
                    type_name,
                    attributes,
                ));
            }
        }
        if self.find_column("date").is_some() && self.find_column("time").is_some() {
            let units = Attribute {
                name: "units".into(),
                value: AttrValue::Text(vec!["seconds since 1970-01-01T00:00:00Z".into()]),
            };
            out.push(info(
                VariableName::canonical("MetaData", "dateTime"),
                "date@hdr,time@hdr",
                "int64",
                vec![units],
            ));
        }
        out
    }

    /// Reads a variable by its view name (as listed by [`OdbTable::variables`]).
    pub(crate) fn read(&self, name: &VariableName, _limits: &Limits) -> Result<Values> {
        let not_found = || Error::NoSuchVariable {
            path: self.path.clone(),
            variable: name.to_string(),
        };
        if name.group == "MetaData" {
            if name.name == "dateTime" {
                if let (Some(date), Some(time)) =
                    (self.find_column("date"), self.find_column("time"))
                {
                    return Ok(self.date_times(date, time));
                }
            }
            if let Some((_, base)) = METADATA_ALIASES
                .iter()
                .find(|(alias, _)| *alias == name.name)
            {
                if let Some(column) = self.find_column(base) {
                    return Ok(column_values(column, None));
                }
            }
        }
        for column in &self.columns {
            if column_variable_name(&column.name, None) == *name {
                return Ok(column_values(column, None));
            }
            if let Some(bits) = column
                .bitfields
                .iter()
                .find(|(b, _, _)| column_variable_name(&column.name, Some(b)) == *name)
            {
                return Ok(column_values(column, Some(bits)));
            }
        }
        Err(not_found())
    }

    fn date_times(&self, date: &TableColumn, time: &TableColumn) -> Values {
        let get = |c: &TableColumn, i: usize| match &c.data {
            ColumnData::Int(v) => v.get(i).copied().flatten(),
            // A NaN (a frame where the column is all missing is coded as doubles) is no time;
            // `as i64` made it 0, midnight.
            ColumnData::Real(v) => v.get(i).copied().flatten().and_then(exact_i64),
            ColumnData::Text(_) => None,
        };
        let rows = self.rows as usize;
        Values::I64(
            (0..rows)
                .map(|i| {
                    get(date, i)
                        .zip(get(time, i))
                        .and_then(|(d, t)| parse_odb_date_time(d, t))
                        .unwrap_or(i64::MAX)
                })
                .collect(),
        )
    }
}

/// View names and the base name of the ODB-2 column that supplies each.
const METADATA_ALIASES: &[(&str, &str)] = &[
    ("latitude", "lat"),
    ("longitude", "lon"),
    ("stationIdentification", "statid"),
];

/// `obsvalue@body` → `body/obsvalue`; a bit group `status.active` → `body/status.active`.
fn column_variable_name(column: &str, bits: Option<&str>) -> VariableName {
    let (name, table) = column.split_once('@').unwrap_or((column, ""));
    let name = match bits {
        Some(bits) => format!("{name}.{bits}"),
        None => name.to_owned(),
    };
    VariableName {
        group: table.to_owned(),
        name,
    }
}

fn column_type(column: &TableColumn) -> (&'static str, Vec<Attribute>) {
    let fill = |value| {
        vec![Attribute {
            name: "_FillValue".into(),
            value,
        }]
    };
    match column.data {
        ColumnData::Int(_) => ("int64", fill(AttrValue::Ints(vec![INTEGER_MISSING]))),
        ColumnData::Real(_) => ("double", fill(AttrValue::Floats(vec![REAL_MISSING]))),
        ColumnData::Text(_) => ("string", Vec::new()),
    }
}

/// A column (or one bit group of it) as view values; missing cells take the column's fill.
fn column_values(column: &TableColumn, bits: Option<&(String, u32, u32)>) -> Values {
    match (&column.data, bits) {
        (ColumnData::Int(v), None) => {
            Values::I64(v.iter().map(|x| x.unwrap_or(INTEGER_MISSING)).collect())
        }
        // The bits of a cell the column reads as missing are missing too: a frame whose header
        // has no missing values (an INTEGER one, say, after a BITFIELD one) stores the format's
        // integer missing value 2^31 − 1 as a plain number, which the column's `_FillValue`
        // makes missing; its bit groups were all ones and not missing.
        (ColumnData::Int(v), Some((_, offset, size))) => {
            Values::I64(v.iter().map(|x| bit_group(*x, *offset, *size)).collect())
        }
        // A bitfield column that another frame stores as reals: the bits of its integral
        // values; a fraction has no bits and is missing (this returned the whole reals), and
        // so is the integer missing value, as above.
        (ColumnData::Real(v), Some((_, offset, size))) => Values::I64(
            v.iter()
                .map(|x| bit_group(x.and_then(exact_i64), *offset, *size))
                .collect(),
        ),
        (ColumnData::Real(v), None) => {
            Values::F64(v.iter().map(|x| x.unwrap_or(REAL_MISSING)).collect())
        }
        (ColumnData::Text(v), _) => Values::Text(v.clone()),
    }
}

/// Bits `offset .. offset + size` of a cell; missing (`INTEGER_MISSING`) for a missing cell
/// and for the format's integer missing value.
fn bit_group(cell: Option<i64>, offset: u32, size: u32) -> i64 {
    match cell {
        Some(x) if x != INTEGER_MISSING => (x >> offset) & ((1i64 << size) - 1),
        _ => INTEGER_MISSING,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::float_cmp)] // test code; exact values are the point
mod tests {
    use super::*;
    use crate::values::missing_mask;

    /// One column of a hand-built frame: name, type, bit groups, codec, min, max, extra bytes.
    struct Col<'a>(&'a str, i32, &'a [(&'a str, i32)], &'a str, f64, f64);

    /// Numbers of a frame header in the frame's byte order.
    struct Out {
        bytes: Vec<u8>,
        little_endian: bool,
    }

    impl Out {
        fn new(little_endian: bool) -> Self {
            Self {
                bytes: Vec::new(),
                little_endian,
            }
        }
        /// A number's bytes in the frame's order, given both orders.
        fn put<const N: usize>(&mut self, le: [u8; N], be: [u8; N]) {
            self.bytes.extend(if self.little_endian { le } else { be });
        }
        fn i32(&mut self, x: i32) {
            self.put(x.to_le_bytes(), x.to_be_bytes());
        }
        fn i64(&mut self, x: i64) {
            self.put(x.to_le_bytes(), x.to_be_bytes());
        }
        fn f64(&mut self, x: f64) {
            self.i64(x.to_bits() as i64);
        }
        fn string(&mut self, s: &str) {
            self.i32(s.len() as i32);
            self.bytes.extend(s.as_bytes());
        }
    }

    /// A little-endian frame as pyodc's encoder lays it out; `rows` are each row's bytes after
    /// its marker (every row starts at column 0).
    fn frame(columns: &[Col<'_>], rows: &[Vec<u8>]) -> Vec<u8> {
        frame_with(columns, rows, true, true)
    }

    /// `frame` with each column header's has-missing flag, in either byte order (`rows` in
    /// that order too; the row markers are big-endian in both, as odc and pyodc write them).
    fn frame_with(
        columns: &[Col<'_>],
        rows: &[Vec<u8>],
        has_missing: bool,
        little_endian: bool,
    ) -> Vec<u8> {
        let mut data = Vec::new();
        for row in rows {
            data.extend(0u16.to_be_bytes());
            data.extend(row);
        }
        let mut part2 = Out::new(little_endian);
        part2.i64(data.len() as i64);
        part2.i64(0);
        part2.i64(rows.len() as i64);
        part2.i32(0); // flags
        part2.i32(0); // properties
        part2.i32(columns.len() as i32);
        for Col(name, kind, bits, codec, min, max) in columns {
            part2.string(name);
            part2.i32(*kind);
            if *kind == 4 {
                part2.i32(bits.len() as i32);
                bits.iter().for_each(|(b, _)| part2.string(b));
                part2.i32(bits.len() as i32);
                bits.iter().for_each(|(_, n)| part2.i32(*n));
            }
            part2.string(codec);
            part2.i32(i32::from(has_missing));
            part2.f64(*min);
            part2.f64(*max);
            let missing = if *kind == 1 || *kind == 4 {
                2_147_483_647.0
            } else {
                REAL_MISSING
            };
            part2.f64(missing);
        }
        let mut out = Out::new(little_endian);
        out.bytes.extend([0xff, 0xff]);
        out.bytes.extend(b"ODA");
        out.i32(1);
        out.i32(0);
        out.i32(5);
        out.string("0123456789abcdef0123456789abcdef");
        out.i32(part2.bytes.len() as i32);
        out.bytes.extend(part2.bytes);
        out.bytes.extend(data);
        out.bytes
    }

    /// A little-endian row's bytes of one double.
    fn real(x: f64) -> Vec<u8> {
        x.to_le_bytes().to_vec()
    }

    fn read(bytes: &[u8], group: &str, name: &str) -> (Values, Vec<bool>, &'static str) {
        let table = OdbTable::parse(Path::new("t.odb"), bytes, &Limits::default()).unwrap();
        let name = VariableName {
            group: group.into(),
            name: name.into(),
        };
        let info = table
            .variables()
            .into_iter()
            .find(|v| v.name == name)
            .unwrap();
        let values = table.read(&name, &Limits::default()).unwrap();
        let mask = missing_mask(&values, &info.attributes);
        (values, mask, info.type_name)
    }

    #[test]
    fn integer_columns_beyond_2_pow_53_are_odcs_doubles_not_saturated_i64() {
        // pyodc writes a constant float column of integral values as INTEGER/constant; this
        // read as i64::MIN. An int8 offset from 2^60 is odc's double sum, 2^60 + 1 → 2^60.
        let bytes = frame(
            &[
                Col("big@hdr", 1, &[], "constant", -3.3e37, -3.3e37),
                Col(
                    "far@hdr",
                    1,
                    &[],
                    "int8",
                    2f64.powi(60),
                    2f64.powi(60) + 3.0,
                ),
            ],
            &[vec![1], vec![3]],
        );
        let (values, mask, type_name) = read(&bytes, "hdr", "big");
        assert_eq!(
            (values, type_name),
            (Values::F64(vec![-3.3e37; 2]), "double")
        );
        assert_eq!(mask, [true, true]); // beyond 1e30: the view's float rule
        let (values, _, _) = read(&bytes, "hdr", "far");
        assert_eq!(
            values,
            Values::F64(vec![2f64.powi(60), 2f64.powi(60) + 4.0])
        );
    }

    #[test]
    fn bit_groups_of_a_bitfield_column_that_another_frame_stores_as_reals() {
        let bits: &[(&str, i32)] = &[("a", 1), ("b", 2)];
        let mut bytes = frame(&[Col("st@body", 4, bits, "int8", 0.0, 7.0)], &[vec![5]]);
        bytes.extend(frame(
            &[Col("st@body", 2, &[], "long_real", 2.5, 6.0)],
            &[real(6.0), real(2.5)],
        ));
        // This gave the whole reals [5.0, 6.0, 2.5] as the bit group.
        let (values, mask, type_name) = read(&bytes, "body", "st.b");
        assert_eq!(type_name, "int64");
        assert_eq!(values, Values::I64(vec![2, 3, INTEGER_MISSING]));
        assert_eq!(mask, [false, false, true]);
    }

    #[test]
    fn a_nan_time_is_no_time_and_offset_codecs_carry_the_missing_value() {
        let bytes = frame(
            &[
                Col("date@hdr", 1, &[], "constant", 20_240_101.0, 20_240_101.0),
                Col("time@hdr", 5, &[], "long_real", 0.0, 0.0),
                Col("qc@body", 1, &[], "int8", 2_147_483_640.0, 2_147_483_647.0),
            ],
            &[
                [real(f64::NAN), vec![7]].concat(),
                [real(120_000.0), vec![0]].concat(),
            ],
        );
        // A NaN time was cast to 0: midnight of 2024-01-01.
        let (values, mask, _) = read(&bytes, "MetaData", "dateTime");
        assert_eq!(values, Values::I64(vec![i64::MAX, 1_704_110_400]));
        assert_eq!(mask, [true, false]);
        // int8 offset 7 from 2^31 - 8 is the column's missing value, as in every other codec.
        let (values, mask, _) = read(&bytes, "body", "qc");
        assert_eq!(values, Values::I64(vec![INTEGER_MISSING, 2_147_483_640]));
        assert_eq!(mask, [true, false]);
    }

    #[test]
    fn bit_groups_of_the_integer_missing_value_stored_as_a_number_are_missing() {
        // A BITFIELD frame, then an INTEGER frame whose header says "no missing values" and
        // whose int8 offsets from 2^31 - 3 reach 2^31 - 1, the format's integer missing value
        // (pyodc writes such frames; found by tests/ioda/test_random_files.py). The column is
        // missing there by its _FillValue; its bit groups were all ones and not missing.
        let bits: &[(&str, i32)] = &[("a", 7), ("b", 4)];
        let mut bytes = frame(
            &[Col("st@body", 4, bits, "int32", 0.0, 2000.0)],
            &[1234i32.to_le_bytes().to_vec()],
        );
        bytes.extend(frame_with(
            &[Col(
                "st@body",
                1,
                &[],
                "int8",
                2_147_483_645.0,
                2_147_483_647.0,
            )],
            &[vec![2], vec![0]],
            false,
            true,
        ));
        let (values, mask, _) = read(&bytes, "body", "st");
        assert_eq!(
            values,
            Values::I64(vec![1234, INTEGER_MISSING, 2_147_483_645])
        );
        assert_eq!(mask, [false, true, false]);
        let (values, mask, _) = read(&bytes, "body", "st.b");
        assert_eq!(
            values,
            Values::I64(vec![9, INTEGER_MISSING, 15]) // 1234 >> 7 & 0xF
        );
        assert_eq!(mask, [false, true, false]);
        // The same when another frame makes the column real.
        bytes.extend(frame(
            &[Col("st@body", 5, &[], "long_real", 0.5, 2_147_483_647.0)],
            &[real(0.5), real(2_147_483_647.0)],
        ));
        let (values, mask, type_name) = read(&bytes, "body", "st.a");
        assert_eq!(type_name, "int64");
        assert_eq!(
            values,
            Values::I64(vec![
                82, // 1234 & 0x7F
                INTEGER_MISSING,
                125, // (2^31 - 3) & 0x7F
                INTEGER_MISSING,
                INTEGER_MISSING
            ])
        );
        assert_eq!(mask, [false, true, false, true, true]);
    }

    #[test]
    fn a_big_endian_frame_reads_as_its_little_endian_twin() {
        // pyodc writes big-endian frames on request (`encode_odb(..., bigendian=True)`): every
        // number of the header and of the rows in that order, the row markers big-endian as
        // always. No fixture has one.
        let columns = [
            Col("i@hdr", 1, &[], "int16", -5.0, 70_000.0),
            Col("r@body", 2, &[], "short_real2", -1.5, 3.25),
            Col("d@body", 5, &[], "long_real", -1e300, 2.0),
            Col("n@body", 1, &[], "int32", -7.0, 9.0),
            Col(
                "s@hdr",
                3,
                &[],
                "constant_string",
                f64::from_le_bytes(*b"ABCDEFGH"),
                0.0,
            ),
        ];
        let row = |le: bool, i: u16, r: f32, d: f64, n: i32| -> Vec<u8> {
            if le {
                [
                    &i.to_le_bytes()[..],
                    &r.to_le_bytes(),
                    &d.to_le_bytes(),
                    &n.to_le_bytes(),
                ]
                .concat()
            } else {
                [
                    &i.to_be_bytes()[..],
                    &r.to_be_bytes(),
                    &d.to_be_bytes(),
                    &n.to_be_bytes(),
                ]
                .concat()
            }
        };
        let rows = |le| {
            vec![
                row(le, 0, -1.5, -1e300, -7),
                row(le, 65_535, 3.25, 2.0, 0x7FFF_FFFF),
                row(le, 258, f32::from_bits(0xFF7F_FFFF), REAL_MISSING, 9),
            ]
        };
        let little = frame_with(&columns, &rows(true), true, true);
        let big = frame_with(&columns, &rows(false), true, false);
        assert_ne!(little, big);
        for (group, name) in [
            ("hdr", "i"),
            ("body", "r"),
            ("body", "d"),
            ("body", "n"),
            ("hdr", "s"),
        ] {
            assert_eq!(
                read(&big, group, name),
                read(&little, group, name),
                "{name}"
            );
        }
        assert_eq!(read(&big, "hdr", "i").0, Values::I64(vec![-5, 65_530, 253]));
        assert_eq!(read(&big, "body", "r").1, [false, false, true]);
        assert_eq!(
            read(&big, "body", "d").0,
            Values::F64(vec![-1e300, 2.0, REAL_MISSING])
        );
        assert_eq!(read(&big, "body", "n").1, [false, true, false]);
        assert_eq!(
            read(&big, "hdr", "s").0,
            Values::Text(vec!["ABCDEFGH".into(); 3])
        );
    }
}
