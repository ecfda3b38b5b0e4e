//! Prints every variable of an observation file as JSON (values, missing mask, shape),
//! plus the derived `dateTime` instants and normalised longitudes: the Python comparison
//! test (`tests/ioda/`) reads this beside h5py/netCDF4/pyodc.

use std::fmt::Write as _;
use std::process::ExitCode;

use ioda::{ObsDataset, Values};
use serde_json::{json, Map, Value};

fn values_json(values: &Values) -> Value {
    match values {
        Values::I8(v) => json!(v),
        Values::I16(v) => json!(v),
        Values::I32(v) => json!(v),
        Values::I64(v) => json!(v),
        Values::U8(v) => json!(v),
        Values::U16(v) => json!(v),
        Values::U32(v) => json!(v),
        Values::U64(v) => json!(v),
        Values::F32(v) => json!(v
            .iter()
            .map(|x| f64::from(*x))
            .map(finite)
            .collect::<Vec<_>>()),
        Values::F64(v) => json!(v.iter().copied().map(finite).collect::<Vec<_>>()),
        Values::Text(v) => json!(v),
        _ => Value::Null,
    }
}

/// JSON has no NaN or infinity; they become null (the mask says they are missing).
fn finite(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn run(path: &str) -> Result<Value, ioda::Error> {
    let dataset = ObsDataset::open(path)?;
    let mut variables = Map::new();
    for info in dataset.variables() {
        let data = dataset.read(&info.name.to_string())?;
        variables.insert(
            info.name.to_string(),
            json!({
                "stored_as": info.stored_as,
                "type": data.values.type_name(),
                "dims": data.dims,
                "shape": data.shape,
                "values": values_json(&data.values),
                "missing": data.missing,
            }),
        );
    }
    let mut out = json!({
        "layout": format!("{:?}", dataset.layout()),
        "members": dataset.paths(),
        "locations": dataset.location_count(),
        "variables": variables,
    });
    if let Ok(times) = dataset.date_times() {
        out["dateTime"] = json!({"values": values_json(&times.values), "missing": times.missing});
    }
    if let Ok(lon) = dataset.longitudes() {
        out["longitude"] = json!({"values": values_json(&lon.values), "missing": lon.missing});
    }
    Ok(out)
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: ioda_json FILE");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                // Writing into a String cannot fail.
                let _ = write!(message, ": {cause}");
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
