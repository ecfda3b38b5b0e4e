//! `fst ioda`: summarise and dump observation files (IODA HDF5 v1/v2/v3, io-pool sets, ODB-2)
//! through `crates/ioda`'s one view.

mod parquet_out;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand, ValueEnum};
use ioda::{ObsDataset, VariableData, VariableInfo};
use serde_json::{json, Map, Value};

#[derive(Args)]
pub(crate) struct IodaArgs {
    #[command(subcommand)]
    command: IodaCommand,
}

#[derive(Subcommand)]
enum IodaCommand {
    /// Summarise an observation file or io-pool set: layout, members, dimensions, groups,
    /// variables (type, shape, units), location count, time range and bounding box.
    Info(InfoArgs),
    /// Print selected variables, one row per location, as CSV, JSON lines or Parquet.
    Dump(DumpArgs),
}

#[derive(Args)]
struct InfoArgs {
    /// An IODA file, any member of an io-pool set (`name_0000.nc4`), or an ODB-2 file.
    path: PathBuf,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum DumpFormat {
    /// A header row, then one row per location; missing values are empty fields.
    Csv,
    /// One JSON object per location per line; missing values are null.
    Json,
    /// One Parquet file (Snappy): a typed, nullable column per value, times as UTC
    /// timestamps. Needs `--output` or a redirected standard output.
    Parquet,
}

#[derive(Args)]
struct DumpArgs {
    /// An IODA file, any member of an io-pool set, or an ODB-2 file.
    path: PathBuf,
    /// Variables, comma-separated, in any of their names (`MetaData/latitude`, `latitude`,
    /// `air_temperature@ObsValue`, `ObsValue/airTemperature`). `MetaData/dateTime` is
    /// printed as ISO-8601 UTC from whichever time form the file has. A `Location × Channel`
    /// variable gives one column per channel, named by channel number (`name[ch7]`).
    #[arg(long, value_delimiter = ',', required = true)]
    vars: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: DumpFormat,
    /// Print at most this many locations (the first ones).
    #[arg(long)]
    limit: Option<usize>,
    /// Write to this file instead of standard output (written under a temporary name in the
    /// same folder and renamed when complete, so a failed dump leaves no partial file).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: &IodaArgs) -> anyhow::Result<()> {
    match &args.command {
        IodaCommand::Info(info) => run_info(info),
        IodaCommand::Dump(dump) => run_dump(dump),
    }
}

fn open(path: &PathBuf) -> anyhow::Result<ObsDataset> {
    ObsDataset::open(path).with_context(|| format!("cannot open {}", path.display()))
}

fn iso(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0).map_or_else(
        || format!("{seconds} s since 1970"),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// Smallest and largest of the values not missing, or `None` when all are.
fn range(data: &VariableData) -> Option<(f64, f64)> {
    data.to_f64()
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

fn time_range(dataset: &ObsDataset) -> Option<(i64, i64)> {
    let times = dataset.date_times().ok()?;
    let ioda::Values::I64(seconds) = &times.values else {
        return None;
    };
    seconds
        .iter()
        .zip(&times.missing)
        .filter(|(_, missing)| !**missing)
        .map(|(s, _)| *s)
        .fold(None, |acc, s| match acc {
            None => Some((s, s)),
            Some((lo, hi)) => Some((lo.min(s), hi.max(s))),
        })
}

fn shape_text(info: &VariableInfo) -> String {
    info.dims
        .iter()
        .zip(&info.shape)
        .map(|(d, n)| format!("{d}={n}"))
        .collect::<Vec<_>>()
        .join(" × ")
}

fn run_info(args: &InfoArgs) -> anyhow::Result<()> {
    let dataset = open(&args.path)?;
    // Files without coordinates or times still have a summary; those parts are left out.
    let bbox = match (dataset.longitudes(), dataset.latitudes()) {
        (Ok(lon), Ok(lat)) => range(&lon).zip(range(&lat)),
        _ => None,
    };
    let times = time_range(&dataset);
    let groups: Vec<(&str, usize)> = dataset
        .groups()
        .into_iter()
        .map(|g| {
            let count = dataset
                .variables()
                .iter()
                .filter(|v| v.name.group == g)
                .count();
            (g, count)
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        let variables: Vec<Value> = dataset
            .variables()
            .iter()
            .map(|v| {
                json!({
                    "name": v.name.to_string(),
                    "stored_as": v.stored_as,
                    "type": v.type_name,
                    "dims": v.dims,
                    "shape": v.shape,
                    "units": v.units(),
                })
            })
            .collect();
        let summary = json!({
            "layout": format!("{:?}", dataset.layout()),
            "members": dataset.paths(),
            "locations": dataset.location_count(),
            "dimensions": dataset.dimensions().iter()
                .map(|d| (d.name.clone(), json!(d.size))).collect::<Map<_, _>>(),
            "groups": groups.iter().map(|(g, n)| (g.to_string(), json!(n))).collect::<Map<_, _>>(),
            "variables": variables,
            "time_range": times.map(|(lo, hi)| json!([iso(lo), iso(hi)])),
            "bbox": bbox.map(|((west, east), (south, north))| json!([west, south, east, north])),
        });
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        writeln!(out, "layout:     {:?}", dataset.layout())?;
        for (n, member) in dataset.paths().iter().enumerate() {
            let label = if n == 0 { "files:" } else { "" };
            writeln!(out, "{label:<11} {}", member.display())?;
        }
        writeln!(out, "locations:  {}", dataset.location_count())?;
        let dims: Vec<String> = dataset
            .dimensions()
            .iter()
            .map(|d| format!("{}={}", d.name, d.size))
            .collect();
        writeln!(out, "dimensions: {}", dims.join(", "))?;
        match times {
            Some((lo, hi)) => writeln!(out, "time:       {} .. {}", iso(lo), iso(hi))?,
            None => writeln!(out, "time:       (none)")?,
        }
        match bbox {
            Some(((west, east), (south, north))) => writeln!(
                out,
                "bbox:       lon {west} .. {east}, lat {south} .. {north}"
            )?,
            None => writeln!(out, "bbox:       (none)")?,
        }
        writeln!(out, "groups:")?;
        for (group, count) in &groups {
            let name = if group.is_empty() { "(root)" } else { group };
            writeln!(out, "  {name:<20} {count} variables")?;
        }
        writeln!(out, "variables:")?;
        for v in dataset.variables() {
            let line = format!(
                "  {:<44} {:<7} {:<28} {}",
                v.name.to_string(),
                v.type_name,
                shape_text(v),
                v.units().unwrap_or("")
            );
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// One selected variable, read, with how many columns it gives per location.
struct Column {
    name: String,
    data: VariableData,
    /// Values per location (the product of the non-`Location` dimensions).
    width: usize,
    /// Times as ISO-8601 text instead of their stored numbers.
    is_time: bool,
    /// The channel numbers of a `Location × Channel` variable's columns.
    channels: Option<Vec<i64>>,
}

fn read_column(dataset: &ObsDataset, query: &str) -> anyhow::Result<Column> {
    let wants_time = is_date_time(dataset, query);
    let (data, is_time) = if wants_time {
        (dataset.date_times()?, true)
    } else {
        (dataset.read(query)?, false)
    };
    if data.dims.first().map(String::as_str) != Some("Location") {
        bail!(
            "{query}: dimensions {:?} do not start with Location; only per-location variables can be dumped",
            data.dims
        );
    }
    let width = data
        .shape
        .iter()
        .skip(1)
        .try_fold(1usize, |acc, n| acc.checked_mul(usize::try_from(*n).ok()?))
        .with_context(|| format!("{query}: shape {:?} overflows", data.shape))?;
    let channels = match data.dims.as_slice() {
        [_, c] if c == "Channel" => Some(dataset.channel_numbers(width)),
        _ => None,
    };
    Ok(Column {
        name: data.name.to_string(),
        data,
        width,
        is_time,
        channels,
    })
}

/// Whether `query` names `MetaData/dateTime` in any spelling (`dateTime`, `dateTime@MetaData`,
/// `/MetaData/dateTime`, `metadata/dateTime`): the file's variable of that name, or, in a file
/// without one, the v1/v2 time that [`ObsDataset::date_times`] converts.
fn is_date_time(dataset: &ObsDataset, query: &str) -> bool {
    let date_time = ioda::VariableName::canonical("MetaData", "dateTime");
    if let Some(info) = dataset.variable(query) {
        return info.name == date_time;
    }
    let wanted = ioda::VariableName::parse(query);
    wanted.name == date_time.name && (wanted.group.is_empty() || wanted.group == date_time.group)
}

impl Column {
    fn headers(&self) -> Vec<String> {
        if self.width == 1 && self.data.dims.len() == 1 {
            vec![self.name.clone()]
        } else if let Some(channels) = &self.channels {
            // By channel number, as the sensor (and the tile server's `.chN` layers) name them.
            channels
                .iter()
                .map(|c| format!("{}[ch{c}]", self.name))
                .collect()
        } else {
            (0..self.width)
                .map(|i| format!("{}[{i}]", self.name))
                .collect()
        }
    }

    /// Element `index` of a time column (seconds since 1970, `date_times`) as ISO-8601.
    fn time_at(&self, index: usize) -> Option<String> {
        match &self.data.values {
            ioda::Values::I64(seconds) => seconds.get(index).map(|s| iso(*s)),
            _ => None,
        }
    }

    /// Element `index` as JSON: null when missing, strings as strings, numbers exact.
    fn json_at(&self, index: usize) -> Value {
        if self.data.missing.get(index).copied().unwrap_or(true) {
            return Value::Null;
        }
        let values = &self.data.values;
        if self.is_time {
            return self.time_at(index).map_or(Value::Null, Value::String);
        }
        match values {
            ioda::Values::Text(_) => values.get_text(index).map_or(Value::Null, Value::String),
            ioda::Values::F32(_) | ioda::Values::F64(_) => values
                .get_text(index)
                .and_then(|t| t.parse::<serde_json::Number>().ok())
                .map_or(Value::Null, Value::Number),
            _ => values
                .get_text(index)
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .unwrap_or(Value::Null),
        }
    }

    /// Element `index` as a CSV field: empty when missing.
    fn csv_at(&self, index: usize) -> String {
        if self.data.missing.get(index).copied().unwrap_or(true) {
            return String::new();
        }
        if self.is_time {
            return self.time_at(index).unwrap_or_default();
        }
        self.data
            .values
            .get_text(index)
            .map_or_else(String::new, |t| csv_quote(&t))
    }
}

/// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
fn csv_quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn run_dump(args: &DumpArgs) -> anyhow::Result<()> {
    let dataset = open(&args.path)?;
    let mut columns: Vec<Column> = Vec::new();
    for query in &args.vars {
        let column = read_column(&dataset, query.trim())?;
        // Two names of one variable (an alias, `name@Group` and `Group/name`): one column,
        // since a JSON object or a Parquet schema cannot hold the same name twice.
        if columns.iter().any(|c| c.name == column.name) {
            eprintln!(
                "note: {:?} is {} again: listed once",
                query.trim(),
                column.name
            );
            continue;
        }
        columns.push(column);
    }
    let locations = usize::try_from(dataset.location_count()).unwrap_or(usize::MAX);
    let rows = args.limit.map_or(locations, |limit| limit.min(locations));
    if let Some(path) = &args.output {
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => std::path::Path::new("."),
        };
        // Temporary files are private (0600); a dump is an ordinary output file.
        let temp = tempfile::Builder::new()
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .tempfile_in(folder)
            .with_context(|| format!("cannot create a file in {}", folder.display()))?;
        let file = temp.as_file().try_clone()?;
        write_dump(args.format, std::io::BufWriter::new(file), &columns, rows)
            .with_context(|| format!("writing {}", path.display()))?;
        temp.persist(path)
            .with_context(|| format!("cannot rename the dump to {}", path.display()))?;
    } else {
        if matches!(args.format, DumpFormat::Parquet) && std::io::stdout().is_terminal() {
            bail!("Parquet is binary: give --output FILE or redirect standard output");
        }
        write_dump(
            args.format,
            std::io::BufWriter::new(std::io::stdout()),
            &columns,
            rows,
        )?;
    }
    Ok(())
}

fn write_dump<W: Write + Send>(
    format: DumpFormat,
    mut out: W,
    columns: &[Column],
    rows: usize,
) -> anyhow::Result<()> {
    match format {
        DumpFormat::Csv => {
            let header: Vec<String> = columns
                .iter()
                .flat_map(Column::headers)
                .map(|h| csv_quote(&h))
                .collect();
            writeln!(out, "{}", header.join(","))?;
            for row in 0..rows {
                let fields: Vec<String> = columns
                    .iter()
                    .flat_map(|c| (0..c.width).map(move |k| c.csv_at(row * c.width + k)))
                    .collect();
                writeln!(out, "{}", fields.join(","))?;
            }
        }
        DumpFormat::Json => {
            for row in 0..rows {
                let mut object = Map::new();
                for c in columns {
                    for (k, header) in c.headers().into_iter().enumerate() {
                        object.insert(header, c.json_at(row * c.width + k));
                    }
                }
                serde_json::to_writer(&mut out, &object)?;
                writeln!(out)?;
            }
        }
        DumpFormat::Parquet => return parquet_out::write(out, columns, rows),
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::csv_quote;

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_quote("   96413"), "   96413");
        assert_eq!(csv_quote("a,b"), "\"a,b\"");
        assert_eq!(csv_quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_quote("two\nlines"), "\"two\nlines\"");
    }
}
