//! Parquet output of `fst ioda dump`: one optional column per dumped value (a `Location ×
//! Channel` variable gives `name[i]` per channel), rows in location order, missing values as
//! nulls, so that polars, pandas/pyarrow, `DuckDB` and QGIS read a dump without a schema of
//! their own.
//!
//! Types follow the file's: integers keep their width and signedness as Parquet logical
//! integer types (unsigned 32- and 64-bit values are stored in the signed physical type, as
//! the Parquet specification says), floats stay `FLOAT`/`DOUBLE` (no widening, so values
//! are bit-identical to the file's), strings are UTF-8, and `dateTime` is a UTC timestamp in
//! microseconds whichever of IODA's three time forms the file uses.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::data_type::{
    ByteArray, ByteArrayType, DataType, DoubleType, FloatType, Int32Type, Int64Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::types::Type;

use super::Column;

/// Rows per row group: a million locations keep each group's buffers to a few tens of MB
/// while readers still get large sequential column chunks.
const ROWS_PER_GROUP: usize = 1 << 20;

/// Parquet's definition level of a present value in an optional top-level column.
const PRESENT: i16 = 1;
const ABSENT: i16 = 0;

/// Writes `rows` locations of `columns` as one Parquet file to `out`.
pub(super) fn write<W: Write + Send>(
    out: W,
    columns: &[Column],
    rows: usize,
) -> anyhow::Result<()> {
    let mut fields = Vec::new();
    for column in columns {
        for header in column.headers() {
            fields.push(Arc::new(leaf_type(column, &header)?));
        }
    }
    let schema = Type::group_type_builder("ioda_dump")
        .with_fields(fields)
        .build()
        .context("Parquet schema")?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!(
            "fstgis fst ioda dump {}",
            env!("CARGO_PKG_VERSION")
        ))
        .build();
    let mut writer = SerializedFileWriter::new(out, Arc::new(schema), Arc::new(properties))
        .context("starting the Parquet file")?;
    let mut start: usize = 0;
    // An empty selection still gets one (empty) row group so the schema is readable.
    loop {
        let end = rows.min(start.saturating_add(ROWS_PER_GROUP));
        let mut group = writer.next_row_group().context("Parquet row group")?;
        for column in columns {
            for channel in 0..column.width {
                let mut leaf = group
                    .next_column()
                    .context("Parquet column")?
                    .context("Parquet schema has fewer columns than the dump")?;
                write_leaf(&mut leaf, column, channel, start..end)?;
                leaf.close().context("closing a Parquet column")?;
            }
        }
        group.close().context("closing a Parquet row group")?;
        start = end;
        if start >= rows {
            break;
        }
    }
    let mut out = writer.into_inner().context("finishing the Parquet file")?;
    out.flush().context("writing the Parquet file")?;
    Ok(())
}

/// The schema leaf of one dumped column: its physical and logical type.
fn leaf_type(column: &Column, name: &str) -> anyhow::Result<Type> {
    use ioda::Values;
    let (physical, logical) = if column.is_time {
        (
            PhysicalType::INT64,
            Some(LogicalType::timestamp(true, TimeUnit::MICROS)),
        )
    } else {
        match &column.data.values {
            Values::I8(_) => (PhysicalType::INT32, Some(LogicalType::integer(8, true))),
            Values::I16(_) => (PhysicalType::INT32, Some(LogicalType::integer(16, true))),
            Values::I32(_) => (PhysicalType::INT32, None),
            Values::U8(_) => (PhysicalType::INT32, Some(LogicalType::integer(8, false))),
            Values::U16(_) => (PhysicalType::INT32, Some(LogicalType::integer(16, false))),
            Values::U32(_) => (PhysicalType::INT32, Some(LogicalType::integer(32, false))),
            Values::I64(_) => (PhysicalType::INT64, None),
            Values::U64(_) => (PhysicalType::INT64, Some(LogicalType::integer(64, false))),
            Values::F32(_) => (PhysicalType::FLOAT, None),
            Values::F64(_) => (PhysicalType::DOUBLE, None),
            Values::Text(_) => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
            _ => anyhow::bail!("{name}: a value type Parquet output does not know"),
        }
    };
    Type::primitive_type_builder(name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical)
        .build()
        .with_context(|| format!("Parquet type of {name}"))
}

/// The present values and the definition levels of channel `channel` of `column` over the
/// locations `rows`, each value converted by `convert` (`None`: written as null).
fn gather<V, O>(
    column: &Column,
    source: &[V],
    channel: usize,
    rows: std::ops::Range<usize>,
    convert: impl Fn(&V) -> Option<O>,
) -> (Vec<O>, Vec<i16>) {
    // `rows` lies within `source`, already in memory: no size read from the file.
    #[allow(clippy::disallowed_methods)]
    let (mut values, mut levels) = (
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    );
    for row in rows {
        let index = row
            .checked_mul(column.width)
            .and_then(|i| i.checked_add(channel));
        let value = index
            .filter(|&i| !column.data.missing.get(i).copied().unwrap_or(true))
            .and_then(|i| source.get(i))
            .and_then(&convert);
        match value {
            Some(v) => {
                values.push(v);
                levels.push(PRESENT);
            }
            None => levels.push(ABSENT),
        }
    }
    (values, levels)
}

fn put<T: DataType>(
    leaf: &mut SerializedColumnWriter<'_>,
    (values, levels): (Vec<T::T>, Vec<i16>),
) -> anyhow::Result<()> {
    leaf.typed::<T>()
        .write_batch(&values, Some(&levels), None)
        .context("writing a Parquet column")?;
    Ok(())
}

fn write_leaf(
    leaf: &mut SerializedColumnWriter<'_>,
    column: &Column,
    channel: usize,
    rows: std::ops::Range<usize>,
) -> anyhow::Result<()> {
    use ioda::Values;
    let name = &column.name;
    match &column.data.values {
        // Seconds since 1970 to microseconds; an instant beyond ±292,000 years is null.
        Values::I64(v) if column.is_time => put::<Int64Type>(
            leaf,
            gather(column, v, channel, rows, |s| s.checked_mul(1_000_000)),
        ),
        _ if column.is_time => anyhow::bail!("{name}: times are not 64-bit seconds"),
        Values::I8(v) => put::<Int32Type>(
            leaf,
            gather(column, v, channel, rows, |x| Some(i32::from(*x))),
        ),
        Values::I16(v) => put::<Int32Type>(
            leaf,
            gather(column, v, channel, rows, |x| Some(i32::from(*x))),
        ),
        Values::I32(v) => put::<Int32Type>(leaf, gather(column, v, channel, rows, |x| Some(*x))),
        Values::U8(v) => put::<Int32Type>(
            leaf,
            gather(column, v, channel, rows, |x| Some(i32::from(*x))),
        ),
        Values::U16(v) => put::<Int32Type>(
            leaf,
            gather(column, v, channel, rows, |x| Some(i32::from(*x))),
        ),
        // Parquet keeps an unsigned 32/64-bit integer's bits in the signed physical type.
        Values::U32(v) => put::<Int32Type>(
            leaf,
            gather(column, v, channel, rows, |x| {
                Some(i32::from_ne_bytes(x.to_ne_bytes()))
            }),
        ),
        Values::I64(v) => put::<Int64Type>(leaf, gather(column, v, channel, rows, |x| Some(*x))),
        Values::U64(v) => put::<Int64Type>(
            leaf,
            gather(column, v, channel, rows, |x| {
                Some(i64::from_ne_bytes(x.to_ne_bytes()))
            }),
        ),
        Values::F32(v) => put::<FloatType>(leaf, gather(column, v, channel, rows, |x| Some(*x))),
        Values::F64(v) => put::<DoubleType>(leaf, gather(column, v, channel, rows, |x| Some(*x))),
        Values::Text(v) => put::<ByteArrayType>(
            leaf,
            gather(column, v, channel, rows, |s| {
                Some(ByteArray::from(s.as_bytes().to_vec()))
            }),
        ),
        _ => anyhow::bail!("{name}: a value type Parquet output does not know"),
    }
}
