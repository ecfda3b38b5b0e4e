//! Observation layers: the IODA files and io-pool sets (and ODB-2 files) of the data
//! directories, one layer per `ObsValue` variable, served as GeoJSON features
//! (`/collections/{layer}/items`, shaped like OGC API – Features).
//!
//! Layers are named `{set}.{variable}`: `sondes_out.airTemperature` for the io-pool set
//! `sondes_out_0000.nc4`, `sondes_out_0001.nc4`, ... A layer is read and indexed on its first
//! request and kept while its files keep their versions.

pub mod index;
pub mod routes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use ioda::ObsDataset;

use crate::source::{list_files, FileVersion};
pub use index::{Filter, ObsIndex, Observation};

/// Extensions tried as observation files.
const EXTENSIONS: &[&str] = &["nc4", "nc", "h5", "hdf5", "odb"];

/// One observation layer as the catalog lists it (nothing read but metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObsLayer {
    /// `{set}.{variable}`.
    pub name: String,
    /// The files, in member order.
    pub members: Vec<PathBuf>,
    /// Canonical variable, `ObsValue/...`.
    pub variable: String,
    /// The variable's units.
    pub units: Option<String>,
}

/// The set's name: the first member's file name without `_NNNN` and extension.
fn set_name(first: &std::path::Path) -> String {
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

/// The observation layers of the data directories. Files that are not observation files
/// (FST files among them) are skipped; so are sets that fail to open (logged once per scan).
#[must_use]
pub fn discover(data: &[PathBuf]) -> Vec<ObsLayer> {
    let mut seen_members: Vec<PathBuf> = Vec::new();
    let mut layers = Vec::new();
    for path in list_files(data) {
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e));
        if !wanted || seen_members.contains(&path) {
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
            let per_location = v.dims.len() == 1 && v.dims.first().is_some_and(|d| d == "Location");
            if v.name.group == "ObsValue" && per_location {
                layers.push(ObsLayer {
                    name: format!("{set}.{}", v.name.name),
                    members: dataset.paths().to_vec(),
                    variable: v.name.to_string(),
                    units: v.units().map(str::to_owned),
                });
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

/// The observation catalog and the indexed layers, each kept while its files are unchanged.
#[derive(Default)]
pub struct ObsLayers {
    catalog: Mutex<Option<(Listing, Arc<Vec<ObsLayer>>)>>,
    indexed: Mutex<HashMap<String, (Versions, Arc<ObsIndex>)>>,
}

fn versions(members: &[PathBuf]) -> Versions {
    members.iter().map(|p| FileVersion::of(p).ok()).collect()
}

impl ObsLayers {
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

    /// The index of `layer`, built now unless its files are unchanged since the last build.
    /// Blocking: reads the files.
    pub fn index(&self, layer: &ObsLayer) -> Result<Arc<ObsIndex>, index::IndexError> {
        let now = versions(&layer.members);
        {
            let cache = self.indexed.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((built, index)) = cache.get(&layer.name) {
                if *built == now {
                    return Ok(Arc::clone(index));
                }
            }
        }
        let dataset = ObsDataset::open_members(&layer.members, ioda::Limits::default())?;
        let index = Arc::new(ObsIndex::build(&dataset, &layer.variable)?);
        self.indexed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(layer.name.clone(), (now, Arc::clone(&index)));
        Ok(index)
    }
}
