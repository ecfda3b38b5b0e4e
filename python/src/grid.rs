//! `Grid`: a record's grid geometry (grids crate): CRS, axes, latitude/longitude.

use std::sync::Arc;

use fst_core::record::RecordMeta;
use fst_core::{FstFile, Limits};
use grids::{Coordinates, GridOptions};
use numpy::npyffi::NPY_ORDER;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{self, Context};

/// The geometry of a grid: its CRS (PROJ definition and WKT), how its points sit in the CRS
/// (`kind`: "affine", "rectilinear", "geolocation" or "subgrids"), 1-D projection axes where
/// it is regular or rectilinear, and per-point latitude/longitude.
///
/// Thread safety: immutable; the latitude/longitude arrays are computed once, on first use.
#[pyclass(frozen, module = "fstgis._fstgis")]
pub(crate) struct Grid {
    grid: Arc<grids::Grid>,
    at: Context,
}

impl Grid {
    pub(crate) fn of_record(
        py: Python<'_>,
        file: &Arc<FstFile>,
        meta: &RecordMeta,
        at: Context,
    ) -> PyResult<Grid> {
        let built = py.detach(|| {
            let d = grids::fst::descriptor_from_record(file, meta)?;
            grids::Grid::with_limits(&d, GridOptions::default(), &Limits::DEFAULT)
        });
        match built {
            Ok(g) => Ok(Grid {
                grid: Arc::new(g),
                at,
            }),
            Err(e) => Err(errors::grid_error(&e, at)),
        }
    }

    fn err(&self, e: &grids::GridError) -> PyErr {
        errors::grid_error(e, self.at.clone())
    }
}

fn f64_array(py: Python<'_>, v: Vec<f64>) -> Bound<'_, PyAny> {
    PyArray1::from_vec(py, v).into_any()
}

fn axis_values(n: usize, x0: f64, dx: f64) -> Vec<f64> {
    (0..n).map(|i| x0 + i as f64 * dx).collect()
}

fn coordinates_dict(
    py: Python<'_>,
    c: Coordinates,
    (ni, nj): (usize, usize),
) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    match c {
        Coordinates::Affine(gt) => {
            d.set_item("kind", "affine")?;
            d.set_item("x", f64_array(py, axis_values(ni, gt.x0, gt.dx)))?;
            d.set_item("y", f64_array(py, axis_values(nj, gt.y0, gt.dy)))?;
            d.set_item("geotransform", (gt.x0, gt.dx, gt.y0, gt.dy))?;
        }
        Coordinates::Rectilinear { x, y } => {
            d.set_item("kind", "rectilinear")?;
            d.set_item("x", f64_array(py, x))?;
            d.set_item("y", f64_array(py, y))?;
        }
        Coordinates::Geolocation => d.set_item("kind", "geolocation")?,
        Coordinates::Subgrids(_) => d.set_item("kind", "subgrids")?,
    }
    Ok(d)
}

/// `positional=` of [`Grid::from_descriptor`]: the reference grid's type and ig1..ig4, and
/// the `>>` (or `^>`) and `^^` values.
type PositionalArgs = (String, [u32; 4], Vec<f64>, Vec<f64>);

#[pymethods]
impl Grid {
    /// The grid a record with these keys lies on. Grids with positional records (Z, Y, #,
    /// U) take them as `positional=(ref_grtyp, ref_ig, x, y)`: the reference grid's type and
    /// ig1..ig4 (those of the `>>`/`^^` or `^>` records) and their values (`>>` and `^^`; for
    /// U, the `^>` values and an empty `y`).
    #[staticmethod]
    #[pyo3(signature = (grtyp, ni, nj, ig, positional=None))]
    fn from_descriptor(
        py: Python<'_>,
        grtyp: &str,
        ni: u32,
        nj: u32,
        ig: [u32; 4],
        positional: Option<PositionalArgs>,
    ) -> PyResult<Grid> {
        let one_char = |t: &str| match t.as_bytes() {
            [b] => Ok(*b),
            _ => Err(errors::usage(format!("grid type {t:?}: one character"))),
        };
        let g = one_char(grtyp)?;
        let d = match positional {
            None => grids::GridDescriptor::simple(g, ni, nj, ig),
            Some((ref_grtyp, ref_ig, x, y)) => {
                let pos = grids::Positional {
                    grtyp: one_char(&ref_grtyp)?,
                    ig: ref_ig,
                    x: x.into(),
                    y: y.into(),
                };
                grids::GridDescriptor::with_positional(g, ni, nj, ig, pos)
            }
        };
        let at = Context::default();
        py.detach(|| grids::Grid::with_limits(&d, GridOptions::default(), &Limits::DEFAULT))
            .map(|g| Grid {
                grid: Arc::new(g),
                at: at.clone(),
            })
            .map_err(|e| errors::grid_error(&e, at.clone()))
    }

    #[getter]
    fn grtyp(&self) -> String {
        self.grid.grtyp().to_string()
    }

    /// Grid type of the positional records (Z, #, Y, O, U), else None.
    #[getter]
    fn ref_grtyp(&self) -> Option<String> {
        self.grid.ref_grtyp().map(String::from)
    }

    /// (ni, nj).
    #[getter]
    fn shape(&self) -> (usize, usize) {
        self.grid.shape()
    }

    /// 2 for U (Yin-Yang) grids, 1 otherwise.
    #[getter]
    fn subgrid_count(&self) -> usize {
        self.grid.subgrid_count()
    }

    /// PROJ definition of the CRS (of subgrid `k` for U grids).
    #[pyo3(signature = (k=0))]
    fn proj(&self, k: usize) -> PyResult<String> {
        self.grid.subgrid_proj_string(k).map_err(|e| self.err(&e))
    }

    /// WKT2:2019 of the CRS (of subgrid `k` for U grids), single-line, built without PROJ
    /// (the text PROJ exports for `proj(k)`), so every build gives the same string.
    #[pyo3(signature = (k=0))]
    fn crs_wkt(&self, k: usize) -> PyResult<String> {
        self.grid.subgrid_wkt(k).map_err(|e| self.err(&e))
    }

    /// Point (i, j) (0-based) at `(x0 + i·dx, y0 + j·dy)` in CRS units, or None when the
    /// grid is not regular in its CRS.
    #[getter]
    fn geotransform(&self) -> Option<(f64, f64, f64, f64)> {
        self.grid
            .geotransform()
            .map(|gt| (gt.x0, gt.dx, gt.y0, gt.dy))
    }

    /// How the points sit in the CRS: a dict with `kind` and, for "affine" and
    /// "rectilinear", the 1-D axes `x` (length ni) and `y` (length nj) in CRS units.
    fn coordinates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        coordinates_dict(py, self.grid.coordinates(), self.grid.shape())
    }

    /// Latitude and longitude of every point, degrees, each shaped (ni, nj) in Fortran
    /// order like the data (longitudes in [0, 360)).
    fn lat_lon<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let ll = py
            .detach(|| self.grid.try_lat_lon())
            .map_err(|e| self.err(&e))?;
        let dims = vec![ll.ni, ll.nj];
        let lat = PyArray1::from_slice(py, &ll.lat)
            .reshape_with_order(dims.clone(), NPY_ORDER::NPY_FORTRANORDER)?
            .into_any();
        let lon = PyArray1::from_slice(py, &ll.lon)
            .reshape_with_order(dims, NPY_ORDER::NPY_FORTRANORDER)?
            .into_any();
        Ok((lat, lon))
    }

    /// (west, south, east, north) of the grid's cells, degrees.
    /// The CF-1.11 grid-mapping attributes of subgrid `k`'s CRS (grids'
    /// `subgrid_cf_mapping`): `grid_mapping_name` and its parameters, `earth_radius`,
    /// `crs_wkt`, `spatial_ref` and `proj4_params`, in that order.
    #[pyo3(signature = (k=0))]
    fn cf_grid_mapping<'py>(&self, py: Python<'py>, k: usize) -> PyResult<Bound<'py, PyDict>> {
        let attrs = self.grid.subgrid_cf_mapping(k).map_err(|e| self.err(&e))?;
        let d = PyDict::new(py);
        for (name, value) in attrs {
            match value {
                grids::CfValue::Text(t) => d.set_item(name, t)?,
                grids::CfValue::Number(v) => d.set_item(name, v)?,
            }
        }
        Ok(d)
    }

    #[getter]
    fn bbox(&self) -> [f64; 4] {
        let b = self.grid.bbox();
        [b.west, b.south, b.east, b.north]
    }

    fn __repr__(&self) -> String {
        let (ni, nj) = self.grid.shape();
        format!("<Grid {} {}x{}>", self.grid.grtyp(), ni, nj)
    }
}

/// A `from_crs` result as a dict: `grtyp`, `ig` (4), `flip_rows`, `max_error_deg`, `notes`
/// and `positional` (None, or the `>>`/`^^` records: `ip` (3), `grtyp`, `ig`, `x_shape`,
/// `y_shape`, `x`, `y` as float32 arrays).
fn fst_grid_dict(py: Python<'_>, g: grids::FstGrid) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("grtyp", char::from(g.descriptor.grtyp).to_string())?;
    d.set_item("ig", g.descriptor.ig)?;
    d.set_item("ni", g.descriptor.ni)?;
    d.set_item("nj", g.descriptor.nj)?;
    d.set_item("flip_rows", g.flip_rows)?;
    d.set_item("max_error_deg", g.max_error_deg)?;
    d.set_item("notes", g.notes.clone())?;
    match g.positional_records() {
        None => d.set_item("positional", py.None())?,
        Some(p) => {
            let pd = PyDict::new(py);
            pd.set_item("ip", p.ip)?;
            pd.set_item("grtyp", char::from(p.grtyp).to_string())?;
            pd.set_item("ig", p.ig)?;
            pd.set_item("x_shape", p.x_shape)?;
            pd.set_item("y_shape", p.y_shape)?;
            pd.set_item("x", PyArray1::from_vec(py, p.x_f32()))?;
            pd.set_item("y", PyArray1::from_vec(py, p.y_f32()))?;
            d.set_item("positional", pd)?;
        }
    }
    Ok(d)
}

fn from_crs_error(e: &grids::FromCrsError) -> PyErr {
    errors::raise("GridError", errors::message(e), Context::default())
}

/// The FST grid whose points are at `x[i]`, `y[j]` in `crs` (anything PROJ reads: WKT,
/// PROJ string, `AUTH:CODE`): grids' `from_crs::from_axes`.
#[cfg(feature = "proj")]
#[pyfunction]
pub(crate) fn grid_from_axes<'py>(
    py: Python<'py>,
    crs: &str,
    x: Vec<f64>,
    y: Vec<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let g = py
        .detach(|| grids::from_crs::from_axes(crs, &x, &y, &grids::FromCrsOptions::default()))
        .map_err(|e| from_crs_error(&e))?;
    fst_grid_dict(py, g)
}

/// The FST grid whose points are at `x[i]`, `y[j]` in the CRS of a CF grid-mapping variable
/// (`attrs`: its attributes; numbers are read, anything else ignored), converted by the
/// mapping's own formulas: grids' `from_crs::from_cf_axes`, no PROJ needed. None when the
/// mapping is not one of those (`latitude_longitude`, `rotated_latitude_longitude`, spherical
/// `polar_stereographic`); the caller then goes through PROJ or pyproj.
#[pyfunction]
pub(crate) fn grid_from_cf<'py>(
    py: Python<'py>,
    attrs: &Bound<'py, PyDict>,
    x: Vec<f64>,
    y: Vec<f64>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Some(name) = attrs.get_item("grid_mapping_name")? else {
        return Ok(None);
    };
    let name: String = name.extract()?;
    // Attributes read from netCDF are numpy scalars or one-element arrays: anything float()
    // takes.
    let mut numbers = Vec::new();
    for (k, v) in attrs.iter() {
        let (Ok(k), Ok(v)) = (k.extract::<String>(), v.extract::<f64>()) else {
            continue;
        };
        numbers.push((k, v));
    }
    let get = |k: &str| numbers.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let mapping = match grids::from_crs::CfGridMapping::from_attributes(&name, get) {
        Ok(m) => m,
        Err(grids::FromCrsError::CfMapping(_)) => return Ok(None),
        Err(e) => return Err(from_crs_error(&e)),
    };
    let g = py
        .detach(|| {
            grids::from_crs::from_cf_axes(&mapping, &x, &y, &grids::FromCrsOptions::default())
        })
        .map_err(|e| from_crs_error(&e))?;
    fst_grid_dict(py, g).map(Some)
}

/// The FST grid of 2-D latitude/longitude arrays (i fastest, ni·nj each): grids'
/// `from_crs::from_lat_lon`.
#[pyfunction]
pub(crate) fn grid_from_lat_lon(
    py: Python<'_>,
    ni: u32,
    nj: u32,
    lat: Vec<f64>,
    lon: Vec<f64>,
) -> PyResult<Bound<'_, PyDict>> {
    let g = py
        .detach(|| {
            grids::from_crs::from_lat_lon(ni, nj, &lat, &lon, &grids::FromCrsOptions::default())
        })
        .map_err(|e| from_crs_error(&e))?;
    fst_grid_dict(py, g)
}
