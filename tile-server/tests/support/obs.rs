//! What an IODA file holds, read by the library: the observation tests compare the server's
//! answers with it.

use std::path::Path;

use ioda::{ObsDataset, Values};

/// The observations of one variable: location, time, value, error, `HofX`, QC flag and
/// station, one per location (NaN where missing).
pub(crate) struct Truth {
    pub(crate) lon: Vec<f64>,
    pub(crate) lat: Vec<f64>,
    pub(crate) time: Vec<i64>,
    pub(crate) value: Vec<f64>,
    pub(crate) error: Vec<f64>,
    pub(crate) hofx: Vec<f64>,
    pub(crate) qc: Vec<f64>,
    pub(crate) station: Vec<String>,
}

/// `variable` (`airTemperature`) of the file at `path`, with its `ObsValue`, `ObsError`,
/// `HofX` and `PreQC`.
pub(crate) fn truth(path: &Path, variable: &str) -> Truth {
    let d = ObsDataset::open(path).unwrap();
    let Values::I64(time) = d.date_times().unwrap().values else {
        panic!("dateTime")
    };
    let Values::Text(station) = d.read("MetaData/stationIdentification").unwrap().values else {
        panic!("station ids")
    };
    let read = |group: &str| d.read(&format!("{group}/{variable}")).unwrap().to_f64();
    Truth {
        lon: d.longitudes().unwrap().to_f64(),
        lat: d.latitudes().unwrap().to_f64(),
        time,
        value: read("ObsValue"),
        error: read("ObsError"),
        hofx: read("HofX"),
        qc: read("PreQC"),
        station,
    }
}

impl Truth {
    /// Whether observation `i` is drawn by default (QC 0 and a value), or with `qc=all`.
    pub(crate) fn kept(&self, i: usize, all_qc: bool) -> bool {
        self.value[i].is_finite() && (all_qc || self.qc[i] == 0.0)
    }
}
