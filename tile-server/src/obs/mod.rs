//! Observation layers: the IODA files and io-pool sets (and ODB-2 files) of the data
//! directories, one layer per observed variable (and channel) and quantity, served as
//! GeoJSON features (`/collections/{layer}/items`, shaped like OGC API – Features), as WMS
//! and XYZ layers of points, with `GetFeatureInfo` and statistics.
//!
//! Layer names: `{set}.{variable}[.ch{N}][.{quantity}]`:
//! - `{set}` is the file name without extension and io-pool `_NNNN` suffix
//!   (`sondes_out` for `sondes_out_0000.nc4`, `sondes_out_0001.nc4`, ...);
//! - `{variable}` the canonical (v3) name of an `ObsValue` variable;
//! - `.ch{N}` the channel number `N` of a `Location × Channel` variable;
//! - no suffix for `ObsValue`, `.ObsError`, `.HofX`, and `.OmB` for `ObsValue − HofX` (the
//!   departure from the file's own model equivalent, "O−B"), each listed only where the file
//!   has the groups it needs;
//! - `.OmF` for `ObsValue − F`, F an FST field of the data directories interpolated at each
//!   observation ([`model`]: the variable ↔ nomvar table, the interpolation, the cache),
//!   listed only where such a field exists.
//!
//! A layer is read and indexed on its first request and kept while its files keep their
//! versions; the quantities of one variable (and channel) share one index.

pub mod draw;
pub mod index;
pub mod model;
pub mod routes;
mod tile_order;
pub mod wms;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ioda::ObsDataset;

use crate::source::{list_files, FileVersion};
pub use index::{Filter, ObsIndex, Observation, QcFilter};

/// Extensions tried as observation files.
const EXTENSIONS: &[&str] = &["nc4", "nc", "h5", "hdf5", "odb"];

/// Most channels of one variable listed as layers (a hyperspectral sounder has thousands:
/// those beyond are reachable through GeoJSON only).
pub const MAX_CHANNELS: usize = 64;

/// What an observation layer draws of each observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantity {
    /// `ObsValue`, the observed value (the default layer of a variable).
    ObsValue,
    /// `ObsError`, the observation error assigned.
    ObsError,
    /// `HofX`, the model equivalent the assimilation system computed.
    HofX,
    /// `ObsValue − HofX`, the departure ("O−B").
    OmB,
    /// `ObsValue − F`, F an FST field interpolated at the observation ("O−F", [`model`]).
    OmF,
}

impl Quantity {
    /// The quantities an IODA file alone gives, default first (`OmF` needs an FST field).
    pub const ALL: [Self; 4] = [Self::ObsValue, Self::ObsError, Self::HofX, Self::OmB];

    /// The layer-name suffix (empty for `ObsValue`).
    #[must_use]
    pub fn suffix(self) -> &'static str {
        match self {
            Self::ObsValue => "",
            Self::ObsError => ".ObsError",
            Self::HofX => ".HofX",
            Self::OmB => ".OmB",
            Self::OmF => ".OmF",
        }
    }

    /// A short human description.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::ObsValue => "observed value",
            Self::ObsError => "observation error",
            Self::HofX => "model equivalent (HofX)",
            Self::OmB => "O−B departure (ObsValue − HofX)",
            Self::OmF => "O−F departure (ObsValue − FST field)",
        }
    }

    /// Whether values are differences or spreads (no unit offset applies to them).
    #[must_use]
    pub fn is_difference(self) -> bool {
        matches!(self, Self::ObsError | Self::OmB | Self::OmF)
    }
}

/// One observation layer as the catalog lists it (nothing read but metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObsLayer {
    /// `{set}.{variable}[.ch{N}][.{quantity}]`.
    pub name: String,
    /// `{set}.{variable}[.ch{N}]`: the key of the index the layer's quantities share.
    pub base: String,
    /// The files, in member order.
    pub members: Vec<PathBuf>,
    /// Canonical variable, `ObsValue/...` (or `DerivedObsValue/...` where only that holds it).
    pub variable: String,
    /// For a `Location × Channel` variable: the column (0-based) and the channel number.
    pub channel: Option<(usize, i64)>,
    /// What the layer draws.
    pub quantity: Quantity,
    /// The variable's units.
    pub units: Option<String>,
    /// For an O−F layer: the FST field layer it departs from.
    pub model: Option<String>,
}

impl ObsLayer {
    /// A title for lists and capabilities.
    #[must_use]
    pub fn title(&self) -> String {
        let channel = self
            .channel
            .map(|(_, n)| format!(" channel {n}"))
            .unwrap_or_default();
        let model = self
            .model
            .as_deref()
            .map(|m| format!(", field {m}"))
            .unwrap_or_default();
        format!(
            "{}{channel}: {} ({}{model})",
            self.variable.trim_start_matches("ObsValue/"),
            self.quantity.title(),
            self.units.as_deref().unwrap_or("no units")
        )
    }
}

/// The set's name: the first member's file name without `_NNNN` and extension.
fn set_name(first: &Path) -> String {
    let stem = first
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("observations");
    match stem.rsplit_once('_') {
        Some((base, digits)) if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()) => {
            base.to_owned()
        }
        _ => stem.to_owned(),
    }
}

/// Whether `path` has the name of an observation file the layers read (IODA netCDF/HDF5,
/// ODB-2).
#[must_use]
pub fn is_observation_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

/// The observation layers of the data directories. Files that are not observation files
/// (FST files among them) are skipped; so are sets that fail to open (logged once per scan).
#[must_use]
pub fn discover(data: &[PathBuf]) -> Vec<ObsLayer> {
    let mut seen_members: Vec<PathBuf> = Vec::new();
    let mut layers = Vec::new();
    for path in list_files(data) {
        if !is_observation_path(&path) || seen_members.contains(&path) {
            continue;
        }
        let dataset = match ObsDataset::open(&path) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("not an observation layer: {e}");
                continue;
            }
        };
        seen_members.extend(dataset.paths().iter().cloned());
        let Some(first) = dataset.paths().first() else {
            continue;
        };
        let set = set_name(first);
        for v in dataset.variables() {
            // The observed values: `ObsValue`, or `DerivedObsValue` where a converter put a
            // variable only there (docs/ioda.md 1.2).
            let observed = v.name.group == "ObsValue"
                || (v.name.group == "DerivedObsValue"
                    && dataset
                        .variable(&format!("ObsValue/{}", v.name.name))
                        .is_none());
            if !observed || v.dims.first().is_none_or(|d| d != "Location") {
                continue;
            }
            let channels: Vec<Option<(usize, i64)>> = match v.dims.as_slice() {
                [_] => vec![None],
                [_, c] if c == "Channel" => {
                    let count = v.shape.get(1).copied().unwrap_or(0) as usize;
                    dataset
                        .channel_numbers(count)
                        .into_iter()
                        .enumerate()
                        .take(MAX_CHANNELS)
                        .map(Some)
                        .collect()
                }
                _ => continue,
            };
            let has = |group: &str| {
                dataset
                    .variable(&format!("{group}/{}", v.name.name))
                    .is_some()
            };
            for channel in channels {
                let base = match channel {
                    None => format!("{set}.{}", v.name.name),
                    Some((_, n)) => format!("{set}.{}.ch{n}", v.name.name),
                };
                for quantity in Quantity::ALL {
                    let offered = match quantity {
                        Quantity::ObsValue => true,
                        Quantity::ObsError => has("ObsError"),
                        Quantity::HofX | Quantity::OmB => has("HofX"),
                        Quantity::OmF => false,
                    };
                    if offered {
                        layers.push(ObsLayer {
                            name: format!("{base}{}", quantity.suffix()),
                            base: base.clone(),
                            members: dataset.paths().to_vec(),
                            variable: v.name.to_string(),
                            channel,
                            quantity,
                            units: v.units().map(str::to_owned),
                            model: None,
                        });
                    }
                }
            }
        }
    }
    layers.sort_by(|a, b| a.name.cmp(&b.name));
    layers.dedup_by(|a, b| a.name == b.name);
    layers
}

type Versions = Vec<Option<FileVersion>>;

/// The files of the data directories and their versions: the catalog's cache key.
type Listing = Vec<(PathBuf, Option<FileVersion>)>;

/// The extents of files and sets, by members, with the versions they were read at.
type Extents = HashMap<Vec<PathBuf>, (Versions, Option<Extent>)>;

/// The catalog with O−F layers: (the catalog, the field catalog's generation, the result).
type WithModels = (Arc<Vec<ObsLayer>>, u64, Arc<Vec<ObsLayer>>);

/// The observation catalog and the indexed layers, each kept while its files are unchanged.
pub struct ObsLayers {
    catalog: Mutex<Option<(Listing, Arc<Vec<ObsLayer>>)>>,
    /// The catalog with the O−F layers, for (the catalog above, the field catalog's
    /// generation).
    with_models: Mutex<Option<WithModels>>,
    indexed: Mutex<HashMap<String, (Versions, Arc<ObsIndex>)>>,
    extents: Mutex<Extents>,
    /// The indexes of O−F layers (their model equivalents), bounded by bytes.
    pub departures: crate::cache::ByteLru<String, Arc<ObsIndex>>,
    /// O−F computations under way, by cache key: concurrent requests join one.
    flights: Mutex<HashMap<String, Flight>>,
    /// O−F computations run (each the model equivalents of a whole layer).
    departures_computed: AtomicU64,
}

/// One O−F computation that concurrent requests wait for.
pub(crate) type Flight = Arc<tokio::sync::OnceCell<Arc<ObsIndex>>>;

impl Default for ObsLayers {
    fn default() -> Self {
        Self::new(256 * 1024 * 1024)
    }
}

/// Where and when the observations of a file or set are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    /// `[west, south, east, north]`, degrees.
    pub bbox: [f64; 4],
    /// Earliest and latest time, seconds since 1970.
    pub time: Option<(i64, i64)>,
}

/// The extent of a dataset's locations (those with both coordinates).
fn extent_of(dataset: &ObsDataset) -> Result<Option<Extent>, ioda::Error> {
    let lat = dataset.latitudes()?.to_f64();
    let lon = dataset.longitudes()?.to_f64();
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for (x, y) in lon.iter().zip(&lat) {
        if x.is_finite() && y.is_finite() {
            bbox = [
                bbox[0].min(*x),
                bbox[1].min(*y),
                bbox[2].max(*x),
                bbox[3].max(*y),
            ];
        }
    }
    if !bbox.iter().all(|v| v.is_finite()) {
        return Ok(None);
    }
    let time =
        dataset.date_times().ok().and_then(|t| match &t.values {
            ioda::Values::I64(seconds) => seconds
                .iter()
                .zip(&t.missing)
                .filter(|(_, m)| !**m)
                .fold(None, |acc, (s, _)| match acc {
                    None => Some((*s, *s)),
                    Some((lo, hi)) => Some((lo.min(*s), hi.max(*s))),
                }),
            _ => None,
        });
    Ok(Some(Extent { bbox, time }))
}

fn versions(members: &[PathBuf]) -> Versions {
    members.iter().map(|p| FileVersion::of(p).ok()).collect()
}

impl ObsLayers {
    /// Empty, the model equivalents of O−F layers bounded by `departure_bytes`.
    #[must_use]
    pub fn new(departure_bytes: usize) -> Self {
        Self {
            catalog: Mutex::default(),
            with_models: Mutex::default(),
            indexed: Mutex::default(),
            extents: Mutex::default(),
            departures: crate::cache::ByteLru::new(departure_bytes),
            flights: Mutex::default(),
            departures_computed: AtomicU64::new(0),
        }
    }

    /// The computation of O−F key `key`: the one under way, else a new one.
    pub(crate) fn flight(&self, key: &str) -> Flight {
        let mut f = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(f.entry(key.to_owned()).or_default())
    }

    /// A request of `flight` has ended (the result is cached, or it failed, or the request
    /// was dropped): later requests start anew, while those already holding the flight
    /// keep waiting on it.
    pub(crate) fn land(&self, key: &str, flight: &Flight) {
        let mut f = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if f.get(key).is_some_and(|g| Arc::ptr_eq(g, flight)) {
            f.remove(key);
        }
    }

    pub(crate) fn count_departure_computation(&self) {
        self.departures_computed.fetch_add(1, Ordering::Relaxed);
    }

    /// How many O−F computations (model equivalents of a whole layer) have run.
    #[must_use]
    pub fn departures_computed(&self) -> u64 {
        self.departures_computed.load(Ordering::Relaxed)
    }

    /// The layers of the data directories with the O−F layers whose field `snapshot` has
    /// ([`model::with_departure_layers`]; `chosen`: `obs.model_layers`). Blocking.
    pub fn catalog_with_models<S: std::hash::BuildHasher>(
        &self,
        data: &[PathBuf],
        snapshot: &crate::source::Snapshot,
        chosen: &HashMap<String, String, S>,
    ) -> Arc<Vec<ObsLayer>> {
        let base = self.catalog(data);
        let mut cached = self
            .with_models
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((seen, generation, full)) = cached.as_ref() {
            if Arc::ptr_eq(seen, &base) && *generation == snapshot.generation {
                return Arc::clone(full);
            }
        }
        let full = Arc::new(model::with_departure_layers(&base, snapshot, chosen));
        *cached = Some((Arc::clone(&base), snapshot.generation, Arc::clone(&full)));
        full
    }

    /// The layers of the data directories: [`discover`] again only when a file appeared,
    /// went or changed (a listing and a `stat` per file otherwise). Blocking.
    pub fn catalog(&self, data: &[PathBuf]) -> Arc<Vec<ObsLayer>> {
        let listing: Listing = list_files(data)
            .into_iter()
            .map(|p| {
                let version = FileVersion::of(&p).ok();
                (p, version)
            })
            .collect();
        let mut cached = self.catalog.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((seen, layers)) = cached.as_ref() {
            if *seen == listing {
                return Arc::clone(layers);
            }
        }
        let layers = Arc::new(discover(data));
        *cached = Some((listing, Arc::clone(&layers)));
        layers
    }

    /// The extent of a layer's files (shared by all its variables): coordinates and times
    /// are read once per file version, not the variables. `None` for a set without a located
    /// observation or that cannot be read (logged). Blocking.
    pub fn extent(&self, layer: &ObsLayer) -> Option<Extent> {
        let now = versions(&layer.members);
        let mut cache = self.extents.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((seen, extent)) = cache.get(&layer.members) {
            if *seen == now {
                return *extent;
            }
        }
        let extent = ObsDataset::open_members(&layer.members, ioda::Limits::default())
            .and_then(|d| extent_of(&d))
            .unwrap_or_else(|e| {
                tracing::warn!("observation layer {}: {e}", layer.name);
                None
            });
        cache.insert(layer.members.clone(), (now, extent));
        extent
    }

    /// The layer named `name`, if the data directories have it. Blocking.
    pub fn find(&self, data: &[PathBuf], name: &str) -> Option<ObsLayer> {
        self.catalog(data)
            .iter()
            .find(|l| l.name == name.trim())
            .cloned()
    }

    /// The index of `layer` (shared by the quantities of its variable and channel), built now
    /// unless its files are unchanged since the last build. Blocking: reads the files.
    pub fn index(&self, layer: &ObsLayer) -> Result<Arc<ObsIndex>, index::IndexError> {
        let now = versions(&layer.members);
        {
            let cache = self.indexed.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((built, index)) = cache.get(&layer.base) {
                if *built == now {
                    return Ok(Arc::clone(index));
                }
            }
        }
        let dataset = ObsDataset::open_members(&layer.members, ioda::Limits::default())?;
        let column = layer.channel.map(|(column, _)| column);
        let index = Arc::new(ObsIndex::build(&dataset, &layer.variable, column)?);
        let mut cache = self.indexed.lock().unwrap_or_else(PoisonError::into_inner);
        // Concurrent first requests may each have built one: the first kept serves all, so
        // that they share one stamp (and the O−F computation keyed on it).
        if let Some((built, kept)) = cache.get(&layer.base) {
            if *built == now {
                return Ok(Arc::clone(kept));
            }
        }
        cache.insert(layer.base.clone(), (now, Arc::clone(&index)));
        Ok(index)
    }
}
