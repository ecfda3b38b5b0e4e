//! One observation layer in memory: coordinates, times, values and their companions
//! (`HofX`, `ObsError`, QC flags, station ids), with an R*-tree over the locations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use ioda::{ObsDataset, Values, VariableData};
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

use super::model::ModelEquivalents;
use super::tile_order::{Flags, TileOrder};
use super::Quantity;
use crate::render::range::{data_range, DataRange};
use crate::render::{to_web_mercator, FieldValues};

/// Builds so far: each index gets its own number, so that cached tiles of a rebuilt index
/// are never served.
static BUILDS: AtomicU64 = AtomicU64::new(0);

/// A location in the tree: (lon, lat) and its index in the layer's arrays.
type Point = GeomWithData<[f64; 2], u32>;

/// Observations of one variable of one file or io-pool set. An O−F layer's index shares
/// the arrays of its variable's index and adds the model equivalents.
pub struct ObsIndex {
    /// Canonical variable (`ObsValue/airTemperature`).
    pub variable: String,
    /// The variable's `units`.
    pub units: Option<String>,
    data: Arc<ObsData>,
    /// The model equivalents of an O−F layer.
    model: Option<Arc<ModelEquivalents>>,
    /// The number of this build: every index built in this process gets its own, so that
    /// tiles cached from a rebuilt index are never served.
    pub stamp: u64,
    /// Robust extents of each quantity over the observations that pass QC, computed once.
    ranges: [OnceLock<Option<DataRange>>; 5],
    /// Time, QC and finite quantities of each location of `data.order`, in its order.
    flags: Flags,
}

/// What the file holds, once per variable (and channel).
struct ObsData {
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
    /// The located observations in tile order, with their Web Mercator (x, y): Web
    /// Mercator images project nothing per request.
    order: TileOrder,
    tree: RTree<Point>,
}

/// A layer's arrays, one value per location, as read from a file.
pub(super) struct Columns {
    pub(super) lon: Vec<f64>,
    pub(super) lat: Vec<f64>,
    pub(super) time: Vec<Option<i64>>,
    pub(super) value: Vec<f64>,
    pub(super) hofx: Option<Vec<f64>>,
    pub(super) error: Option<Vec<f64>>,
    pub(super) qc: Option<Vec<Option<i64>>>,
    pub(super) station: Option<Vec<String>>,
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
    /// Which QC flags (and missing values) are kept.
    pub qc: QcFilter,
}

/// The QC selection of a query (`QC`/`qc`). The flag is `EffectiveQC` where the file has
/// it, else `PreQC`; a file with neither has every observation with a value kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QcFilter {
    /// Observations with a value and flag 0: UFO's pass value of `EffectiveQC`, and its
    /// PreQC filter's default range (`minvalue` = `maxvalue` = 0).
    #[default]
    Passed,
    /// Observations with a value and a flag from 0 to this: the PreQC filter's `maxvalue`
    /// (3 keeps NCEP prepbufr's usable quality marks, which the default hides but 0).
    AtMost(i64),
    /// Every observation, whatever its flag, with or without a value.
    All,
}

impl QcFilter {
    /// From a query value: empty (the default), `all`, or the largest flag kept.
    ///
    /// # Errors
    /// A description of what was expected, for the caller's exception.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Self::Passed);
        }
        if text.eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        match text.parse::<i64>() {
            Ok(0) => Ok(Self::Passed),
            Ok(n) if (1..=i64::from(i32::MAX)).contains(&n) => Ok(Self::AtMost(n)),
            _ => Err(format!(
                "{:?}: expected `all` or the largest QC flag to keep (0 to {})",
                crate::params::clip(text),
                i32::MAX
            )),
        }
    }
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
    column(data, locations, None)
}

/// The values of one location each: the whole variable, or its column `channel` of a
/// `Location × Channel` variable.
fn column(
    data: &VariableData,
    locations: usize,
    channel: Option<usize>,
) -> Result<Vec<f64>, IndexError> {
    let mut values = data.to_f64();
    if matches!(data.values, Values::F32(_)) {
        // The decimal a float32 stands for (307.05, as the file's own tools print it), not
        // its exact binary value widened (307.04998779296875), which every JSON answer would
        // show. The two differ by less than half a float32 step.
        for v in &mut values {
            *v = f32_decimal(*v);
        }
    }
    let width = match (channel, data.shape.as_slice()) {
        (Some(c), [_, width]) if (c as u64) < *width => Some((c, *width as usize)),
        _ => None,
    };
    match width {
        Some((c, width)) if values.len() == locations * width => {
            Ok(values.iter().skip(c).step_by(width).copied().collect())
        }
        None if values.len() == locations => Ok(values),
        _ => Err(IndexError::Shape {
            variable: data.name.to_string(),
            found: values.len(),
            expected: locations,
        }),
    }
}

/// The shortest decimal that reads back as the float32 `v` holds, as an f64.
fn f32_decimal(v: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation)] // `v` came from an f32: exact
    let single = v as f32;
    single.to_string().parse().unwrap_or(v)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl ObsIndex {
    /// Reads `variable` (an `ObsValue` variable; its column `channel` for a `Location ×
    /// Channel` variable) and what goes with it, and indexes it.
    pub fn build(
        dataset: &ObsDataset,
        variable: &str,
        channel: Option<usize>,
    ) -> Result<Self, IndexError> {
        let lat = dataset.latitudes()?;
        let n = lat.values.len();
        if u32::try_from(n).is_err() {
            return Err(IndexError::TooMany(n));
        }
        let lat = one_per_location(&lat, n)?;
        let data = dataset.read(variable)?;
        let value = column(&data, n, channel)?;
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
                Some(info) => Ok(Some(column(
                    &dataset.read(&info.name.to_string())?,
                    n,
                    channel,
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
        Ok(Self::from_columns(
            data.name.to_string(),
            dataset
                .variable(variable)
                .and_then(|v| v.units().map(str::to_owned)),
            Columns {
                lon,
                lat,
                time,
                value,
                hofx,
                error,
                qc,
                station,
            },
        ))
    }

    /// Indexes arrays of equal lengths (one value per location).
    pub(super) fn from_columns(variable: String, units: Option<String>, c: Columns) -> Self {
        let points: Vec<Point> = c
            .lon
            .iter()
            .zip(&c.lat)
            .enumerate()
            .filter(|(_, (x, y))| x.is_finite() && y.is_finite())
            .map(|(i, (x, y))| Point::new([*x, *y], i as u32))
            .collect();
        let order = TileOrder::new(&c.lon, &c.lat, &c.time);
        Self::with_flags(
            variable,
            units,
            Arc::new(ObsData {
                lon: c.lon,
                lat: c.lat,
                time: c.time,
                value: c.value,
                hofx: c.hofx,
                error: c.error,
                qc: c.qc,
                station: c.station,
                order,
                tree: RTree::bulk_load(points),
            }),
            None,
        )
    }

    /// A new build over `data` (and `model`), with its flags.
    fn with_flags(
        variable: String,
        units: Option<String>,
        data: Arc<ObsData>,
        model: Option<Arc<ModelEquivalents>>,
    ) -> Self {
        let mut index = Self {
            variable,
            units,
            data,
            model,
            stamp: BUILDS.fetch_add(1, Ordering::Relaxed),
            ranges: Default::default(),
            flags: Flags::new(),
        };
        let qc_only = Filter::default();
        index.flags = index.data.order.flags(
            |i| index.time(i).is_some(),
            |i| index.keeps(i, &qc_only),
            |q, i| index.quantity(q, i).is_finite(),
        );
        index
    }

    /// The index of an O−F layer: this one's observations with `model`'s equivalents (one
    /// per location), a build of its own (its tiles and colour ranges are its own).
    #[must_use]
    pub fn with_model(&self, model: Arc<ModelEquivalents>) -> Self {
        Self::with_flags(
            self.variable.clone(),
            self.units.clone(),
            Arc::clone(&self.data),
            Some(model),
        )
    }

    /// The model equivalents, for an O−F layer's index.
    #[must_use]
    pub fn model(&self) -> Option<&ModelEquivalents> {
        self.model.as_deref()
    }

    /// The model equivalent at location `i` (O−F layers), in the observation's units.
    #[must_use]
    pub fn model_value(&self, i: usize) -> Option<f64> {
        self.model
            .as_ref()
            .and_then(|m| m.values.get(i).copied())
            .and_then(finite)
    }

    /// Number of locations (with or without coordinates).
    #[must_use]
    pub fn locations(&self) -> usize {
        self.data.lon.len()
    }

    /// Time of location `i`, seconds since 1970.
    #[must_use]
    pub fn time(&self, i: usize) -> Option<i64> {
        self.data.time.get(i).copied().flatten()
    }

    /// How many locations that `filter` keeps (bbox, window, QC) have an observed value but
    /// no model equivalent (outside the model's grid, levels or times).
    #[must_use]
    pub fn without_model(&self, filter: &Filter) -> usize {
        let (selected, _) = self.query(filter, usize::MAX);
        selected
            .iter()
            .map(|i| *i as usize)
            .filter(|i| {
                self.data.value.get(*i).is_some_and(|v| v.is_finite())
                    && self.model_value(*i).is_none()
            })
            .count()
    }

    /// Whether the file has the companion a quantity needs.
    #[must_use]
    pub fn has(&self, quantity: Quantity) -> bool {
        match quantity {
            Quantity::ObsValue => true,
            Quantity::ObsError => self.data.error.is_some(),
            Quantity::HofX | Quantity::OmB => self.data.hofx.is_some(),
            Quantity::OmF => self.model.is_some(),
        }
    }

    /// The value of `quantity` at location `i`; NaN where missing.
    #[inline]
    #[must_use]
    pub fn quantity(&self, quantity: Quantity, i: usize) -> f64 {
        let at = |v: &Option<Vec<f64>>| {
            v.as_ref()
                .and_then(|v| v.get(i).copied())
                .unwrap_or(f64::NAN)
        };
        match quantity {
            Quantity::ObsValue => self.data.value.get(i).copied().unwrap_or(f64::NAN),
            Quantity::ObsError => at(&self.data.error),
            Quantity::HofX => at(&self.data.hofx),
            Quantity::OmB => {
                self.data.value.get(i).copied().unwrap_or(f64::NAN) - at(&self.data.hofx)
            }
            Quantity::OmF => {
                let model = self
                    .model
                    .as_ref()
                    .and_then(|m| m.values.get(i).copied())
                    .unwrap_or(f64::NAN);
                self.data.value.get(i).copied().unwrap_or(f64::NAN) - model
            }
        }
    }

    /// Longitude and latitude of location `i`, degrees.
    #[must_use]
    pub fn position(&self, i: usize) -> Option<(f64, f64)> {
        Some((*self.data.lon.get(i)?, *self.data.lat.get(i)?))
    }

    /// Web Mercator (x, y) of location `i`, metres (as [`to_web_mercator`] gives it).
    #[must_use]
    pub fn mercator(&self, i: usize) -> Option<[f64; 2]> {
        let (x, y) = to_web_mercator(*self.data.lon.get(i)?, *self.data.lat.get(i)?);
        Some([x, y])
    }

    /// The located observations in tile order and their flags (the Web Mercator scan).
    pub(super) fn tile_order(&self) -> (&TileOrder, &[u8]) {
        (&self.data.order, &self.flags)
    }

    /// Bytes of this build's own arrays beside the shared ones: its flags.
    pub(super) fn own_bytes(&self) -> usize {
        self.flags.len()
    }

    /// The robust extent (2nd–98th percentile) of `quantity` over the observations that
    /// pass QC, computed on first use: the automatic colour range of every tile of the layer.
    pub fn range(&self, quantity: Quantity) -> Option<DataRange> {
        let slot = match quantity {
            Quantity::ObsValue => &self.ranges[0],
            Quantity::ObsError => &self.ranges[1],
            Quantity::HofX => &self.ranges[2],
            Quantity::OmB => &self.ranges[3],
            Quantity::OmF => &self.ranges[4],
        };
        *slot.get_or_init(|| {
            let qc_only = Filter::default();
            let values: Vec<f32> = (0..self.data.lon.len())
                .filter(|i| self.keeps(*i, &qc_only))
                .map(|i| self.quantity(quantity, i) as f32)
                .collect();
            let ni = values.len();
            data_range(&FieldValues { ni, nj: 1, values })
        })
    }

    /// Calls `visit` with every indexed location inside `[west, south, east, north]` (degrees,
    /// west ≤ east, within [-180, 180]). A box that covers a quarter or more of the locations'
    /// envelope walks the arrays rather than the tree: a tree walk that returns most of a
    /// million points costs ten times a linear pass (the whole-world tile).
    pub fn visit_box(&self, b: [f64; 4], mut visit: impl FnMut(usize)) {
        let Some(all) = self.bbox() else {
            return;
        };
        let overlap = |lo: f64, hi: f64, a: f64, z: f64| (hi.min(z) - lo.max(a)).max(0.0);
        let area = (all[2] - all[0]).max(1e-9) * (all[3] - all[1]).max(1e-9);
        let covered = overlap(b[0], b[2], all[0], all[2]) * overlap(b[1], b[3], all[1], all[3]);
        if covered >= 0.25 * area {
            for (i, (x, y)) in self.data.lon.iter().zip(&self.data.lat).enumerate() {
                if *x >= b[0] && *x <= b[2] && *y >= b[1] && *y <= b[3] {
                    visit(i);
                }
            }
            return;
        }
        let envelope = AABB::from_corners([b[0], b[1]], [b[2], b[3]]);
        for p in self.data.tree.locate_in_envelope(&envelope) {
            visit(p.data as usize);
        }
    }

    /// Number of indexed locations (those with coordinates).
    #[must_use]
    pub fn len(&self) -> usize {
        self.data.tree.size()
    }

    /// True when no location has coordinates.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether location `i` passes the time window and the QC filter of `filter` (not its
    /// bbox).
    #[inline]
    #[must_use]
    pub fn keeps(&self, i: usize, filter: &Filter) -> bool {
        let time = self.data.time.get(i).copied().flatten();
        let in_window = match (filter.start, filter.end) {
            (None, None) => true,
            (start, end) => {
                time.is_some_and(|t| start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e))
            }
        };
        if !in_window {
            return false;
        }
        let largest = match filter.qc {
            QcFilter::All => return true,
            QcFilter::Passed => 0,
            QcFilter::AtMost(n) => n,
        };
        let has_value = self.data.value.get(i).is_some_and(|v| v.is_finite());
        has_value && self.flag_at_most(i, largest)
    }

    /// Whether location `i`'s QC flag is in `0..=largest` (true in a file without flags).
    pub(super) fn flag_at_most(&self, i: usize, largest: i64) -> bool {
        match &self.data.qc {
            Some(flags) => flags
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|f| (0..=largest).contains(&f)),
            None => true,
        }
    }

    /// The indices that pass `filter`, ascending, and how many passed before `limit` cut.
    #[must_use]
    pub fn query(&self, filter: &Filter, limit: usize) -> (Vec<u32>, usize) {
        let mut found: Vec<u32> = match filter.bbox {
            None => self.data.tree.iter().map(|p| p.data).collect(),
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
                        self.data
                            .tree
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
            lon: *self.data.lon.get(i)?,
            lat: *self.data.lat.get(i)?,
            time: self.data.time.get(i).copied().flatten(),
            value: self.data.value.get(i).copied().and_then(finite),
            hofx: at(&self.data.hofx),
            error: at(&self.data.error),
            qc: self
                .data
                .qc
                .as_ref()
                .and_then(|q| q.get(i).copied().flatten()),
            station: self.data.station.as_ref().and_then(|s| s.get(i).cloned()),
        })
    }

    /// `[west, south, east, north]` of the indexed locations.
    #[must_use]
    pub fn bbox(&self) -> Option<[f64; 4]> {
        (!self.is_empty()).then(|| {
            let e = self.data.tree.root().envelope();
            let (lo, hi) = (e.lower(), e.upper());
            [lo[0], lo[1], hi[0], hi[1]]
        })
    }

    /// Earliest and latest observation time.
    #[must_use]
    pub fn time_range(&self) -> Option<(i64, i64)> {
        self.data
            .time
            .iter()
            .flatten()
            .fold(None, |acc, t| match acc {
                None => Some((*t, *t)),
                Some((lo, hi)) => Some((lo.min(*t), hi.max(*t))),
            })
    }
}
