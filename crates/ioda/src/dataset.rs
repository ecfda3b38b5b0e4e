//! The view: one dataset over a file or an io-pool set, in v3 names.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::hdf5::{element_count, Catalog, Hdf5File, StoredVariable, HDF5_MAGIC};
use crate::names::VariableName;
use crate::time::{parse_iso8601, parse_yyyymmddhh, EpochUnits};
use crate::values::{find_attribute, missing_mask, AttrValue, Attribute, Values};
use crate::Limits;

/// Which generation of the IODA layout a dataset uses (or ODB-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// Flat `name@Group` variables, `nlocs`.
    V1,
    /// Groups, `snake_case` names, `nlocs`.
    V2,
    /// Groups, camelCase names, `Location`.
    V3,
    /// An ODB-2 table.
    Odb,
}

/// A dimension of the view (canonical name; size summed over a set's members for `Location`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    /// v3 name (`Location`, `Channel`, ...).
    pub name: String,
    /// Number of elements.
    pub size: u64,
}

/// What the view knows about a variable before reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableInfo {
    /// Canonical group and name.
    pub name: VariableName,
    /// Name as stored in the (first) file.
    pub stored_as: String,
    /// Storage type, as netCDF names it (`float`, `int64`, `string`, ...).
    pub type_name: &'static str,
    /// Canonical dimension names, outermost first.
    pub dims: Vec<String>,
    /// Sizes, with `Location` summed over a set's members.
    pub shape: Vec<u64>,
    /// The variable's attributes (from the first member).
    pub attributes: Vec<Attribute>,
}

impl VariableInfo {
    /// The `units` attribute.
    #[must_use]
    pub fn units(&self) -> Option<&str> {
        find_attribute(&self.attributes, "units").and_then(AttrValue::as_text)
    }
}

/// A variable read in full: typed values, their missing mask, and the shape.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableData {
    /// Canonical group and name.
    pub name: VariableName,
    /// Canonical dimension names.
    pub dims: Vec<String>,
    /// Sizes (their product is `values.len()`).
    pub shape: Vec<u64>,
    /// Values in their storage type, row-major.
    pub values: Values,
    /// `true` where the value is a fill or missing value (see [`missing_mask`]).
    pub missing: Vec<bool>,
}

impl VariableData {
    /// Values as `f64`, missing ones (and strings) as NaN.
    #[must_use]
    pub fn to_f64(&self) -> Vec<f64> {
        let mut values = self.values.to_f64_vec();
        for (i, value) in values.iter_mut().enumerate() {
            if self.missing.get(i).copied().unwrap_or(true) {
                *value = f64::NAN;
            }
        }
        values
    }

    /// Number of missing values.
    #[must_use]
    pub fn missing_count(&self) -> usize {
        self.missing.iter().filter(|m| **m).count()
    }
}

/// One member's share of a variable, with what its missing mask and times depend on.
struct Part<'a> {
    values: Values,
    /// The variable's attributes in this member (its own `_FillValue`, `units`).
    attributes: Vec<Attribute>,
    /// This member's global attributes (v1 `date_time`).
    globals: &'a [Attribute],
}

struct Member {
    file: Hdf5File,
    catalog: Catalog,
}

enum Backend {
    Hdf5(Vec<Member>),
    Odb(crate::odb::OdbTable),
}

/// An observation dataset: one IODA file, an io-pool set, or an ODB-2 file.
///
/// Opening reads the metadata only; each `read` decodes one variable in full.
/// Not `Sync`-shared state: reads take `&self` and use positional file reads, so one
/// dataset may be read from several threads at once.
pub struct ObsDataset {
    paths: Vec<PathBuf>,
    layout: Layout,
    dimensions: Vec<Dimension>,
    attributes: Vec<Attribute>,
    variables: Vec<VariableInfo>,
    backend: Backend,
    limits: Limits,
}

impl std::fmt::Debug for ObsDataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObsDataset")
            .field("paths", &self.paths)
            .field("layout", &self.layout)
            .field("dimensions", &self.dimensions)
            .finish_non_exhaustive()
    }
}

/// What the first bytes of a file say it is.
enum FileKind {
    Hdf5,
    Odb,
}

fn sniff(path: &Path) -> Result<FileKind> {
    let io_error = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let mut head = [0u8; 8];
    let mut filled = 0;
    while filled < head.len() {
        let n = file.read(&mut head[filled..]).map_err(io_error)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    if head.starts_with(crate::odb::ODB_MAGIC) {
        Ok(FileKind::Odb)
    } else if &head == HDF5_MAGIC || filled == head.len() {
        // HDF5 may sit behind a user block; let the HDF5 reader search for its signature.
        Ok(FileKind::Hdf5)
    } else {
        Err(Error::Format {
            path: path.to_owned(),
            variable: None,
            detail: format!("{filled}-byte file is neither HDF5 nor ODB-2"),
        })
    }
}

impl ObsDataset {
    /// Opens a file or, when `path` names an io-pool member (`*_NNNN.ext`), the whole set.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_limits(path, Limits::default())
    }

    /// [`ObsDataset::open`] with explicit limits.
    pub fn open_with_limits(path: impl AsRef<Path>, limits: Limits) -> Result<Self> {
        let members = crate::pool::io_pool_members(path.as_ref(), limits.max_set_members)?;
        Self::open_members(&members, limits)
    }

    /// Opens the given files, in order, as one dataset concatenated along `Location`.
    pub fn open_members(paths: &[PathBuf], limits: Limits) -> Result<Self> {
        let Some(first) = paths.first() else {
            return Err(Error::Usage(
                "an observation dataset needs at least one file".into(),
            ));
        };
        if paths.len() > limits.max_set_members {
            return Err(Error::Limit {
                path: first.clone(),
                variable: None,
                what: "io-pool set members",
                found: paths.len() as u64,
                limit: limits.max_set_members as u64,
            });
        }
        if let FileKind::Odb = sniff(first)? {
            if paths.len() > 1 {
                return Err(Error::Unsupported {
                    path: first.clone(),
                    variable: None,
                    what: "set of ODB-2 files (open each alone)".into(),
                });
            }
            let table = crate::odb::OdbTable::open(first, &limits)?;
            return Ok(Self::from_odb(table, first.clone(), limits));
        }
        let mut members = Vec::new();
        for path in paths {
            let file = Hdf5File::open(path, &limits)?;
            let catalog = file.catalog()?;
            members.push(Member { file, catalog });
        }
        Self::from_members(paths.to_vec(), members, limits)
    }

    fn from_members(paths: Vec<PathBuf>, members: Vec<Member>, limits: Limits) -> Result<Self> {
        let Some(first) = members.first() else {
            return Err(Error::Usage(
                "an observation dataset needs at least one file".into(),
            ));
        };
        for member in &members[1..] {
            if member.catalog.layout != first.catalog.layout {
                return Err(Error::Format {
                    path: member.file.path.clone(),
                    variable: None,
                    detail: format!(
                        "io-pool member has layout {:?}, the first member {:?}",
                        member.catalog.layout, first.catalog.layout
                    ),
                });
            }
        }
        let location_of = |m: &Member| {
            m.catalog
                .dimensions
                .iter()
                .find(|(n, _)| n == "Location")
                .map(|(_, s)| *s)
        };
        let total_locations = members
            .iter()
            .try_fold(0u64, |acc, m| acc.checked_add(location_of(m).unwrap_or(0)));
        let dimensions = first
            .catalog
            .dimensions
            .iter()
            .map(|(name, size)| Dimension {
                name: name.clone(),
                size: if name == "Location" {
                    total_locations.unwrap_or(u64::MAX)
                } else {
                    *size
                },
            })
            .collect();
        let variables = first
            .catalog
            .variables
            .iter()
            .map(|v| {
                let mut shape: Vec<u64> = v.dims.iter().map(|(_, n)| *n).collect();
                if v.dims.first().is_some_and(|(d, _)| d == "Location") {
                    let total = members.iter().try_fold(0u64, |acc, m| {
                        let n = find_stored(&m.catalog, &v.name)
                            .and_then(|s| s.dims.first())
                            .map_or(0, |(_, n)| *n);
                        acc.checked_add(n)
                    });
                    if let Some(first_len) = shape.first_mut() {
                        *first_len = total.unwrap_or(u64::MAX);
                    }
                }
                VariableInfo {
                    name: v.name.clone(),
                    stored_as: v.path_in_file.clone(),
                    type_name: type_name(&v.dtype),
                    dims: v.dims.iter().map(|(d, _)| d.clone()).collect(),
                    shape,
                    attributes: v.attributes.clone(),
                }
            })
            .collect();
        Ok(Self {
            layout: first.catalog.layout,
            attributes: first.catalog.attributes.clone(),
            dimensions,
            variables,
            paths,
            backend: Backend::Hdf5(members),
            limits,
        })
    }

    fn from_odb(table: crate::odb::OdbTable, path: PathBuf, limits: Limits) -> Self {
        let variables = table.variables();
        Self {
            paths: vec![path],
            layout: Layout::Odb,
            dimensions: vec![Dimension {
                name: "Location".into(),
                size: table.row_count(),
            }],
            attributes: table.attributes(),
            variables,
            backend: Backend::Odb(table),
            limits,
        }
    }

    /// The files, in member order.
    #[must_use]
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The layout generation.
    #[must_use]
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Root dimensions, in v3 names.
    #[must_use]
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// Global attributes (of the first member).
    #[must_use]
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// Every variable, in file order.
    #[must_use]
    pub fn variables(&self) -> &[VariableInfo] {
        &self.variables
    }

    /// The groups that hold variables, in first-seen order (`""` is the root).
    #[must_use]
    pub fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = Vec::new();
        for v in &self.variables {
            if !groups.contains(&v.name.group.as_str()) {
                groups.push(&v.name.group);
            }
        }
        groups
    }

    /// Number of locations (observations, or ODB-2 rows).
    #[must_use]
    pub fn location_count(&self) -> u64 {
        self.dimensions
            .iter()
            .find(|d| d.name == "Location")
            .map_or(0, |d| d.size)
    }

    /// Finds a variable by any of its names: `Group/name`, `name@Group`, an alias, or a
    /// bare name (searched in `MetaData`, then the root, then every group).
    #[must_use]
    pub fn variable(&self, query: &str) -> Option<&VariableInfo> {
        // The name exactly as stored first (an ODB-2 column `statid@hdr` is not renamed),
        // then the canonical spelling of any alias.
        let as_stored = VariableName::parse_as_stored(query);
        if let Some(found) = self.variables.iter().find(|v| v.name == as_stored) {
            return Some(found);
        }
        let wanted = VariableName::parse(query);
        if let Some(found) = self.variables.iter().find(|v| v.name == wanted) {
            return Some(found);
        }
        if wanted.group.is_empty() {
            let named = |group: &str| {
                self.variables
                    .iter()
                    .find(|v| v.name.name == wanted.name && v.name.group == group)
            };
            return named("MetaData")
                .or_else(|| self.variables.iter().find(|v| v.name.name == wanted.name));
        }
        None
    }

    /// The channel numbers of the `Channel` dimension (`count` channels): the root `Channel`
    /// scale, else `MetaData/sensorChannelNumber`, else 1, 2, … (a scale with a missing or
    /// negative number does not count). The tile server names its layers with them
    /// (`.ch7`) and `fst ioda dump` its columns (`name[ch7]`).
    #[must_use]
    pub fn channel_numbers(&self, count: usize) -> Vec<i64> {
        for query in ["Channel", "MetaData/sensorChannelNumber"] {
            let Some(info) = self.variable(query) else {
                continue;
            };
            if info.shape.len() != 1 || info.shape.first() != Some(&(count as u64)) {
                continue;
            }
            if let Ok(data) = self.read(&info.name.to_string()) {
                #[allow(clippy::cast_possible_truncation)] // channel numbers are small
                let numbers: Vec<i64> = data
                    .to_f64()
                    .iter()
                    .map(|v| if v.is_finite() { *v as i64 } else { -1 })
                    .collect();
                if numbers.iter().all(|n| *n >= 0) {
                    return numbers;
                }
            }
        }
        (1..=count as i64).collect()
    }

    fn require(&self, query: &str) -> Result<&VariableInfo> {
        self.variable(query).ok_or_else(|| Error::NoSuchVariable {
            path: self.first_path(),
            variable: query.to_owned(),
        })
    }

    fn first_path(&self) -> PathBuf {
        self.paths.first().cloned().unwrap_or_default()
    }

    /// Reads a variable in full, concatenated over a set's members along `Location`.
    pub fn read(&self, query: &str) -> Result<VariableData> {
        let info = self.require(query)?.clone();
        let parts = self.read_parts(&info)?;
        self.concatenate(&info, parts)
    }

    /// Reads one variable from each member (one part for a single file or ODB-2).
    fn read_parts(&self, info: &VariableInfo) -> Result<Vec<Part<'_>>> {
        match &self.backend {
            Backend::Odb(table) => {
                let values = table.read(&info.name, &self.limits)?;
                Ok(vec![Part {
                    values,
                    attributes: info.attributes.clone(),
                    globals: self.attributes.as_slice(),
                }])
            }
            Backend::Hdf5(members) => {
                let mut parts = Vec::new();
                for (index, member) in members.iter().enumerate() {
                    let stored = member_variable(member, info)?;
                    if index > 0 && !is_location_major(info) {
                        // Variables without a Location axis (channel tables) are one per set.
                        break;
                    }
                    let values = member.file.read(stored, &self.limits)?;
                    parts.push(Part {
                        values,
                        attributes: stored.attributes.clone(),
                        globals: member.catalog.attributes.as_slice(),
                    });
                }
                Ok(parts)
            }
        }
    }

    fn concatenate(&self, info: &VariableInfo, parts: Vec<Part<'_>>) -> Result<VariableData> {
        let mut values: Option<Values> = None;
        let mut missing = Vec::new();
        for part in parts {
            // Each member's own fill value marks its own missing values.
            missing.extend(missing_mask(&part.values, &part.attributes));
            match &mut values {
                None => values = Some(part.values),
                Some(all) => all
                    .extend(part.values)
                    .map_err(|(want, found)| Error::Format {
                        path: self.first_path(),
                        variable: Some(info.name.to_string()),
                        detail: format!("io-pool members disagree on its type: {want} and {found}"),
                    })?,
            }
        }
        let values = values.unwrap_or(Values::F64(Vec::new()));
        let expected = info
            .shape
            .iter()
            .try_fold(1u64, |acc, n| acc.checked_mul(*n));
        if expected != Some(values.len() as u64) {
            return Err(Error::Format {
                path: self.first_path(),
                variable: Some(info.name.to_string()),
                detail: format!(
                    "{} values read where the shape {:?} needs {expected:?}",
                    values.len(),
                    info.shape
                ),
            });
        }
        Ok(VariableData {
            name: info.name.clone(),
            dims: info.dims.clone(),
            shape: info.shape.clone(),
            values,
            missing,
        })
    }

    /// `MetaData/latitude` as `f64` degrees north; a latitude beyond ±90° is no place on
    /// Earth and is missing (it would otherwise stretch every bounding box and projection).
    pub fn latitudes(&self) -> Result<VariableData> {
        let mut data = self.read("MetaData/latitude")?;
        let latitudes = data.to_f64_raw();
        for (lat, missing) in latitudes.iter().zip(data.missing.iter_mut()) {
            if !(-90.0..=90.0).contains(lat) {
                *missing = true;
            }
        }
        data.values = Values::F64(latitudes);
        Ok(data)
    }

    /// `MetaData/longitude` as `f64` degrees east in [-180, 180) (files use 0–360 too).
    pub fn longitudes(&self) -> Result<VariableData> {
        let mut data = self.read("MetaData/longitude")?;
        let normalised = data
            .to_f64_raw()
            .into_iter()
            .zip(&data.missing)
            .map(|(lon, missing)| {
                if *missing {
                    lon
                } else {
                    normalise_longitude(lon)
                }
            })
            .collect();
        data.values = Values::F64(normalised);
        Ok(data)
    }

    /// Observation times as UTC instants (`Values::I64` seconds since 1970-01-01T00:00:00Z),
    /// named `MetaData/dateTime`, from whichever of the three time forms the file has.
    pub fn date_times(&self) -> Result<VariableData> {
        let (info, form) = if let Some(info) = self.variable("MetaData/dateTime") {
            (info.clone(), TimeForm::Epoch)
        } else if let Some(info) = self.variable("MetaData/datetime") {
            (info.clone(), TimeForm::Strings)
        } else if let Some(info) = self.variable("MetaData/time") {
            (info.clone(), TimeForm::HoursFromDateTime)
        } else {
            return Err(Error::Format {
                path: self.first_path(),
                variable: Some("MetaData/dateTime".into()),
                detail: "no time variable: none of MetaData/dateTime, datetime or time".into(),
            });
        };
        let parts = self.read_parts(&info)?;
        let mut converted = Vec::new();
        for (member_index, part) in parts.into_iter().enumerate() {
            let path = self.paths.get(member_index).cloned().unwrap_or_default();
            let mask = missing_mask(&part.values, &part.attributes);
            let seconds = to_instants(&part.values, &mask, &part.attributes, part.globals, form)
                .map_err(|detail| Error::Format {
                    path,
                    variable: Some(info.name.to_string()),
                    detail,
                })?;
            // Missing instants are `MISSING_INSTANT`, which the mask rule of an int64
            // variable without attributes recognises, so `concatenate` rebuilds the mask.
            converted.push(Part {
                values: Values::I64(seconds),
                attributes: Vec::new(),
                globals: part.globals,
            });
        }
        let mut data = self.concatenate(&info, converted)?;
        data.name = VariableName::canonical("MetaData", "dateTime");
        Ok(data)
    }
}

#[derive(Clone, Copy)]
enum TimeForm {
    Epoch,
    Strings,
    HoursFromDateTime,
}

/// Missing instants are stored as `i64::MAX`, one of the int64 sentinels of [`missing_mask`].
const MISSING_INSTANT: i64 = i64::MAX;

fn to_instants(
    values: &Values,
    mask: &[bool],
    attributes: &[Attribute],
    globals: &[Attribute],
    form: TimeForm,
) -> std::result::Result<Vec<i64>, String> {
    let n = values.len();
    let mut out = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|e| format!("cannot allocate {n} instants: {e}"))?;
    let is_missing = |i: usize| mask.get(i).copied().unwrap_or(true);
    match (form, values) {
        (TimeForm::Strings | TimeForm::Epoch, Values::Text(strings)) => {
            for (i, s) in strings.iter().enumerate() {
                // An empty string is netCDF's default string fill: a time never written.
                if is_missing(i) || s.trim().is_empty() {
                    out.push(MISSING_INSTANT);
                } else {
                    out.push(
                        parse_iso8601(s)
                            .ok_or_else(|| format!("time {s:?} at index {i} is not ISO 8601"))?,
                    );
                }
            }
        }
        (TimeForm::Epoch, numbers) => {
            let units = find_attribute(attributes, "units")
                .and_then(AttrValue::as_text)
                .ok_or("dateTime has no units attribute")?;
            let epoch =
                EpochUnits::parse(units).ok_or_else(|| format!("unknown time units {units:?}"))?;
            if let Values::I64(stored) = numbers {
                // What every ioda writer stores: one pass over the slice, no per-element match.
                out.extend(stored.iter().enumerate().map(|(i, v)| {
                    if is_missing(i) {
                        MISSING_INSTANT
                    } else {
                        epoch.instant(*v).unwrap_or(MISSING_INSTANT)
                    }
                }));
                return Ok(out);
            }
            for i in 0..n {
                let instant = if is_missing(i) {
                    None
                } else if let Values::F32(_) | Values::F64(_) = numbers {
                    numbers.get_f64(i).and_then(|v| epoch.instant_f64(v))
                } else {
                    integer_at(numbers, i).and_then(|v| epoch.instant(v))
                };
                out.push(instant.unwrap_or(MISSING_INSTANT));
            }
        }
        (TimeForm::HoursFromDateTime, numbers) => {
            let reference = find_attribute(globals, "date_time")
                .and_then(AttrValue::as_i64)
                .ok_or("time offsets need the global attribute date_time (YYYYMMDDhh)")?;
            let start = parse_yyyymmddhh(reference)
                .ok_or_else(|| format!("date_time {reference} is not YYYYMMDDhh"))?;
            let epoch = EpochUnits {
                seconds_per_unit: 3600,
                reference: start,
            };
            for i in 0..n {
                let instant = if is_missing(i) {
                    None
                } else {
                    numbers.get_f64(i).and_then(|v| epoch.instant_f64(v))
                };
                out.push(instant.unwrap_or(MISSING_INSTANT));
            }
        }
        (TimeForm::Strings, other) => {
            return Err(format!(
                "datetime holds {} values, not strings",
                other.type_name()
            ))
        }
    }
    Ok(out)
}

/// Element `i` of an integer variable, exactly (no trip through `f64`).
fn integer_at(values: &Values, i: usize) -> Option<i64> {
    match values {
        Values::I8(v) => v.get(i).map(|x| i64::from(*x)),
        Values::I16(v) => v.get(i).map(|x| i64::from(*x)),
        Values::I32(v) => v.get(i).map(|x| i64::from(*x)),
        Values::I64(v) => v.get(i).copied(),
        Values::U8(v) => v.get(i).map(|x| i64::from(*x)),
        Values::U16(v) => v.get(i).map(|x| i64::from(*x)),
        Values::U32(v) => v.get(i).map(|x| i64::from(*x)),
        Values::U64(v) => v.get(i).and_then(|x| i64::try_from(*x).ok()),
        _ => None,
    }
}

/// Longitude in [-180, 180); one already there is returned unchanged (the shift through
/// `+ 180` would round it: -4.97 would come back as -4.969999999999999).
#[must_use]
pub fn normalise_longitude(lon: f64) -> f64 {
    if (-180.0..180.0).contains(&lon) {
        lon
    } else {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    }
}

impl VariableData {
    /// Values as `f64` without masking (strings become NaN).
    fn to_f64_raw(&self) -> Vec<f64> {
        self.values.to_f64_vec()
    }
}

fn is_location_major(info: &VariableInfo) -> bool {
    info.dims.first().is_some_and(|d| d == "Location")
}

fn find_stored<'a>(catalog: &'a Catalog, name: &VariableName) -> Option<&'a StoredVariable> {
    catalog.variables.iter().find(|v| &v.name == name)
}

fn member_variable<'a>(member: &'a Member, info: &VariableInfo) -> Result<&'a StoredVariable> {
    let stored = find_stored(&member.catalog, &info.name).ok_or_else(|| Error::Format {
        path: member.file.path.clone(),
        variable: Some(info.name.to_string()),
        detail: "io-pool member lacks a variable the first member has".into(),
    })?;
    let dims: Vec<&str> = stored.dims.iter().map(|(d, _)| d.as_str()).collect();
    let inner_ok = stored.dims.iter().skip(1).map(|(_, n)| *n).eq(info
        .shape
        .iter()
        .skip(1)
        .copied());
    if dims != info.dims.iter().map(String::as_str).collect::<Vec<_>>() || !inner_ok {
        return Err(Error::Format {
            path: member.file.path.clone(),
            variable: Some(info.name.to_string()),
            detail: format!(
                "dimensions {:?} differ from the first member's {:?} {:?}",
                stored.dims, info.dims, info.shape
            ),
        });
    }
    if element_count(&stored.dims).is_none() {
        return Err(Error::Format {
            path: member.file.path.clone(),
            variable: Some(info.name.to_string()),
            detail: "element count overflows".into(),
        });
    }
    Ok(stored)
}

fn type_name(dtype: &netcdf_reader::NcType) -> &'static str {
    use netcdf_reader::NcType;
    match dtype {
        NcType::Byte => "byte",
        NcType::Short => "short",
        NcType::Int => "int",
        NcType::Int64 => "int64",
        NcType::UByte => "ubyte",
        NcType::UShort => "ushort",
        NcType::UInt => "uint",
        NcType::UInt64 => "uint64",
        NcType::Float => "float",
        NcType::Double => "double",
        NcType::Char | NcType::String => "string",
        _ => "other",
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact results are the point: in-range longitudes must not move
mod tests {
    use super::{normalise_longitude, to_instants, TimeForm, MISSING_INSTANT};
    use crate::values::{missing_mask, Values};

    #[test]
    fn empty_time_strings_are_missing_not_an_error() {
        // netCDF fills unwritten strings with "": one of them must not cost every time.
        let strings = Values::Text(vec![
            "2018-04-15T00:00:00Z".into(),
            String::new(),
            "*** MISSING ***".into(),
            " ".into(),
        ]);
        let mask = missing_mask(&strings, &[]);
        let instants = to_instants(&strings, &mask, &[], &[], TimeForm::Strings).unwrap();
        assert_eq!(
            instants,
            [
                1_523_750_400,
                MISSING_INSTANT,
                MISSING_INSTANT,
                MISSING_INSTANT
            ]
        );
        let garbage = Values::Text(vec!["yesterday".into()]);
        assert!(to_instants(&garbage, &[false], &[], &[], TimeForm::Strings).is_err());
    }

    #[test]
    fn longitudes_in_range_are_untouched_and_others_wrap() {
        for lon in [-180.0, -4.97, 0.0, 127.370_002_746_582_03, 179.999_999] {
            assert_eq!(
                normalise_longitude(lon).to_bits(),
                f64::to_bits(lon),
                "{lon}"
            );
        }
        assert_eq!(normalise_longitude(180.0), -180.0);
        assert_eq!(normalise_longitude(355.03), 355.03 - 360.0);
        assert_eq!(normalise_longitude(-190.0), 170.0);
        assert_eq!(normalise_longitude(720.0), 0.0);
    }
}
