//! One observation layer in memory: coordinates, times, values and their companions
//! (`HofX`, `ObsError`, QC flags, station ids), with an R*-tree over the locations.

use ioda::{ObsDataset, Values, VariableData};
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

/// A location in the tree: (lon, lat) and its index in the layer's arrays.
type Point = GeomWithData<[f64; 2], u32>;

/// Observations of one variable of one file or io-pool set.
pub struct ObsIndex {
    /// Canonical variable (`ObsValue/airTemperature`).
    pub variable: String,
    /// The variable's `units`.
    pub units: Option<String>,
    lon: Vec<f64>,
    lat: Vec<f64>,
    /// Seconds since 1970; `None` where the file has no time.
    time: Vec<Option<i64>>,
    /// NaN where missing.
    value: Vec<f64>,
    hofx: Option<Vec<f64>>,
    error: Option<Vec<f64>>,
    /// `EffectiveQC` if the file has it, else `PreQC`; `None` where missing.
    qc: Option<Vec<Option<i64>>>,
    station: Option<Vec<String>>,
    tree: RTree<Point>,
}

/// Why a layer cannot be indexed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The reader failed.
    #[error(transparent)]
    Read(#[from] ioda::Error),
    /// A companion variable does not have one value per location.
    #[error("{variable} has {found} values for {expected} locations")]
    Shape {
        /// The variable.
        variable: String,
        /// Values found.
        found: usize,
        /// Locations.
        expected: usize,
    },
    /// More locations than the index addresses (u32).
    #[error("{0} locations, above the 4,294,967,295 an index holds")]
    TooMany(usize),
}

/// Which observations a query keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// `[west, south, east, north]` in degrees; west > east crosses the antimeridian.
    pub bbox: Option<[f64; 4]>,
    /// Inclusive bounds in seconds since 1970; `None` is open.
    pub start: Option<i64>,
    /// See `start`.
    pub end: Option<i64>,
    /// Keep observations whatever their QC flag and value (else QC = 0 with a value).
    pub all_qc: bool,
}

/// One feature's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Index of the location in the file (or set).
    pub index: u32,
    /// Degrees east, in [-180, 180).
    pub lon: f64,
    /// Degrees north.
    pub lat: f64,
    /// Seconds since 1970.
    pub time: Option<i64>,
    /// `None` where missing.
    pub value: Option<f64>,
    /// `HofX` of the variable.
    pub hofx: Option<f64>,
    /// `ObsError` of the variable.
    pub error: Option<f64>,
    /// QC flag.
    pub qc: Option<i64>,
    /// Station id.
    pub station: Option<String>,
}

fn one_per_location(data: &VariableData, locations: usize) -> Result<Vec<f64>, IndexError> {
    let values = data.to_f64();
    if values.len() == locations {
        Ok(values)
    } else {
        Err(IndexError::Shape {
            variable: data.name.to_string(),
            found: values.len(),
            expected: locations,
        })
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl ObsIndex {
    /// Reads `variable` (an `ObsValue` variable) and what goes with it, and indexes it.
    pub fn build(dataset: &ObsDataset, variable: &str) -> Result<Self, IndexError> {
        let data = dataset.read(variable)?;
        let n = data.values.len();
        if u32::try_from(n).is_err() {
            return Err(IndexError::TooMany(n));
        }
        let value = one_per_location(&data, n)?;
        let lat = one_per_location(&dataset.latitudes()?, n)?;
        let lon = one_per_location(&dataset.longitudes()?, n)?;
        let time = match dataset.date_times() {
            Ok(times) => match &times.values {
                Values::I64(seconds) if seconds.len() == n => seconds
                    .iter()
                    .zip(&times.missing)
                    .map(|(s, m)| (!m).then_some(*s))
                    .collect(),
                _ => vec![None; n],
            },
            Err(_) => vec![None; n],
        };
        let name = data.name.name.clone();
        let companion = |group: &str| -> Result<Option<Vec<f64>>, IndexError> {
            match dataset.variable(&format!("{group}/{name}")) {
                Some(info) => Ok(Some(one_per_location(
                    &dataset.read(&info.name.to_string())?,
                    n,
                )?)),
                None => Ok(None),
            }
        };
        let hofx = companion("HofX")?;
        let error = companion("ObsError")?;
        let qc = match companion("EffectiveQC")? {
            Some(flags) => Some(flags),
            None => companion("PreQC")?,
        }
        .map(|flags| {
            flags
                .into_iter()
                .map(|f| finite(f).map(|f| f as i64))
                .collect()
        });
        let station = match dataset.variable("MetaData/stationIdentification") {
            Some(info) => match dataset.read(&info.name.to_string())?.values {
                Values::Text(ids) if ids.len() == n => Some(ids),
                _ => None,
            },
            None => None,
        };
        let points: Vec<Point> = lon
            .iter()
            .zip(&lat)
            .enumerate()
            .filter(|(_, (x, y))| x.is_finite() && y.is_finite())
            .map(|(i, (x, y))| Point::new([*x, *y], i as u32))
            .collect();
        Ok(Self {
            variable: data.name.to_string(),
            units: dataset
                .variable(variable)
                .and_then(|v| v.units().map(str::to_owned)),
            lon,
            lat,
            time,
            value,
            hofx,
            error,
            qc,
            station,
            tree: RTree::bulk_load(points),
        })
    }

    /// Number of indexed locations (those with coordinates).
    #[must_use]
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// True when no location has coordinates.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn keeps(&self, i: usize, filter: &Filter) -> bool {
        let time = self.time.get(i).copied().flatten();
        let in_window = match (filter.start, filter.end) {
            (None, None) => true,
            (start, end) => {
                time.is_some_and(|t| start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e))
            }
        };
        if !in_window {
            return false;
        }
        if filter.all_qc {
            return true;
        }
        let has_value = self.value.get(i).is_some_and(|v| v.is_finite());
        let qc_ok = match &self.qc {
            Some(flags) => flags.get(i).copied().flatten() == Some(0),
            None => true,
        };
        has_value && qc_ok
    }

    /// The indices that pass `filter`, ascending, and how many passed before `limit` cut.
    #[must_use]
    pub fn query(&self, filter: &Filter, limit: usize) -> (Vec<u32>, usize) {
        let mut found: Vec<u32> = match filter.bbox {
            None => self.tree.iter().map(|p| p.data).collect(),
            Some([west, south, east, north]) => {
                let boxes = if west <= east {
                    vec![AABB::from_corners([west, south], [east, north])]
                } else {
                    vec![
                        AABB::from_corners([west, south], [180.0, north]),
                        AABB::from_corners([-180.0, south], [east, north]),
                    ]
                };
                boxes
                    .into_iter()
                    .flat_map(|b| {
                        self.tree
                            .locate_in_envelope(&b)
                            .map(|p| p.data)
                            .collect::<Vec<_>>()
                    })
                    .collect()
            }
        };
        found.sort_unstable();
        found.dedup();
        found.retain(|i| self.keeps(*i as usize, filter));
        let matched = found.len();
        found.truncate(limit);
        (found, matched)
    }

    /// The content of location `index`.
    #[must_use]
    pub fn observation(&self, index: u32) -> Option<Observation> {
        let i = index as usize;
        let at = |v: &Option<Vec<f64>>| v.as_ref().and_then(|v| v.get(i).copied()).and_then(finite);
        Some(Observation {
            index,
            lon: *self.lon.get(i)?,
            lat: *self.lat.get(i)?,
            time: self.time.get(i).copied().flatten(),
            value: self.value.get(i).copied().and_then(finite),
            hofx: at(&self.hofx),
            error: at(&self.error),
            qc: self.qc.as_ref().and_then(|q| q.get(i).copied().flatten()),
            station: self.station.as_ref().and_then(|s| s.get(i).cloned()),
        })
    }

    /// `[west, south, east, north]` of the indexed locations.
    #[must_use]
    pub fn bbox(&self) -> Option<[f64; 4]> {
        (!self.is_empty()).then(|| {
            let e = self.tree.root().envelope();
            let (lo, hi) = (e.lower(), e.upper());
            [lo[0], lo[1], hi[0], hi[1]]
        })
    }

    /// Earliest and latest observation time.
    #[must_use]
    pub fn time_range(&self) -> Option<(i64, i64)> {
        self.time.iter().flatten().fold(None, |acc, t| match acc {
            None => Some((*t, *t)),
            Some((lo, hi)) => Some((lo.min(*t), hi.max(*t))),
        })
    }
}
