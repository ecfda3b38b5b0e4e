//! Positional records written by fst-core's helpers (`FstWriter::write_positional`,
//! `write_yin_yang`) are found and read back by this crate (`fst::descriptor_from_record`):
//! Z on E, Z on L, Y on L and U grids give the latitudes and longitudes of the same grids
//! described in memory (for U, from fst-core's `yin_yang_values`, which
//! `params_and_quirks.rs` holds equal to a `^>` record librmn wrote), in both containers. With `FSTGIS_ORACLE_PY` (the librmn 19.5
//! venv, `scripts/oracle-write.sh`), librmn's `gdll` on the XDF file agrees too, within the
//! tolerance of `librmn_fixtures.rs` (1e-4°; librmn computes in float32).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::err_deg;
use fst_core::write::{
    positional_tags, FstWriter, PositionalAxes, PositionalRecords, RecordKeys, ReferenceGrid,
    WriteOptions, YinYang,
};
use fst_core::{codec::SamplesRef, record::Datyp, Container, FstFile};
use grids::params::{LatLonParams, RotatedParams};
use grids::{Grid, GridDescriptor, GridOptions, Positional};

fn out_dir(name: &str) -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join("written-positional")
        .join(name);
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    base
}

fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// A data record on a grid: what we write, and the same grid in memory.
struct Case {
    nomvar: &'static str,
    descriptor: GridDescriptor,
}

fn data_record(w: &mut FstWriter, nomvar: &str, grtyp: u8, ni: u32, nj: u32, ig: [u32; 4]) {
    let keys = RecordKeys {
        nomvar: nomvar.into(),
        grtyp,
        ig1: ig[0],
        ig2: ig[1],
        ig3: ig[2],
        ig4: ig[3],
        ni,
        nj,
        ..RecordKeys::default()
    };
    let values: Vec<f32> = (0..ni * nj).map(|k| k as f32).collect();
    w.write(&keys, SamplesRef::F32(&values), None, Datyp(5), 32)
        .unwrap();
}

/// Writes one grid of each kind and returns them as described in memory.
fn write_grids(path: &Path, container: Container) -> Vec<Case> {
    let mut w = FstWriter::create(path, WriteOptions::new(container)).unwrap();
    let mut cases = Vec::new();

    // Z on a rotated E reference, uniform rotated axes.
    let e_ig = RotatedParams {
        xlat1: 45.0,
        xlon1: 260.0,
        xlat2: 45.0,
        xlon2: 270.0,
    }
    .encode()
    .unwrap();
    let ax: Vec<f32> = (0..30).map(|k| 170.0 + 0.5 * k as f32).collect();
    let ay: Vec<f32> = (0..20).map(|k| -5.0 + 0.5 * k as f32).collect();
    let reference = ReferenceGrid {
        grtyp: b'E',
        ig: e_ig,
    };
    let tags = positional_tags(&reference, &ax, &ay);
    // The same tags as this crate's own (what `from_crs` gives the GDAL driver).
    assert_eq!(
        tags,
        grids::links::positional_tags(b'E', e_ig, &f64s(&ax), &f64s(&ay))
    );
    assert!(!w.positional_tags_in_use(tags));
    w.write_positional(&PositionalRecords {
        tags,
        reference,
        axes: PositionalAxes::Z { x: &ax, y: &ay },
        etiket: "ZE",
    })
    .unwrap();
    assert!(w.positional_tags_in_use(tags));
    let ig = [tags[0], tags[1], tags[2], 0];
    data_record(&mut w, "ZE", b'Z', 30, 20, ig);
    cases.push(Case {
        nomvar: "ZE",
        descriptor: GridDescriptor::with_positional(
            b'Z',
            30,
            20,
            ig,
            Positional {
                grtyp: b'E',
                ig: e_ig,
                x: f64s(&ax).into(),
                y: f64s(&ay).into(),
            },
        ),
    });

    // Z on L (0, 0, 1, 1): irregular longitudes and latitudes in degrees.
    let l_ig = LatLonParams {
        lat0: 0.0,
        lon0: 0.0,
        dlat: 1.0,
        dlon: 1.0,
    }
    .encode()
    .unwrap();
    let lon: Vec<f32> = (0..25)
        .map(|k| 250.0 + 0.25 * (k * k) as f32 / 4.0)
        .collect();
    let lat: Vec<f32> = (0..15)
        .map(|k| 30.0 + 0.75 * k as f32 + 0.01 * (k * k) as f32)
        .collect();
    let reference = ReferenceGrid {
        grtyp: b'L',
        ig: l_ig,
    };
    let tags = positional_tags(&reference, &lon, &lat);
    w.write_positional(&PositionalRecords {
        tags,
        reference,
        axes: PositionalAxes::Z { x: &lon, y: &lat },
        etiket: "",
    })
    .unwrap();
    let ig = [tags[0], tags[1], tags[2], 0];
    data_record(&mut w, "ZL", b'Z', 25, 15, ig);
    cases.push(Case {
        nomvar: "ZL",
        descriptor: GridDescriptor::with_positional(
            b'Z',
            25,
            15,
            ig,
            Positional {
                grtyp: b'L',
                ig: l_ig,
                x: f64s(&lon).into(),
                y: f64s(&lat).into(),
            },
        ),
    });

    // Y on L: a curvilinear cloud of points.
    let (ni, nj) = (12u32, 9u32);
    let mut ylon = Vec::new();
    let mut ylat = Vec::new();
    for j in 0..nj {
        for i in 0..ni {
            ylon.push(280.0 + 1.5 * i as f32 + 0.2 * j as f32);
            ylat.push(40.0 + 1.1 * j as f32 - 0.15 * i as f32);
        }
    }
    let tags = positional_tags(&reference, &ylon, &ylat);
    w.write_positional(&PositionalRecords {
        tags,
        reference,
        axes: PositionalAxes::Y {
            ni,
            nj,
            lon: &ylon,
            lat: &ylat,
        },
        etiket: "",
    })
    .unwrap();
    let ig = [tags[0], tags[1], tags[2], 0];
    data_record(&mut w, "YL", b'Y', ni, nj, ig);
    cases.push(Case {
        nomvar: "YL",
        descriptor: GridDescriptor::with_positional(
            b'Y',
            ni,
            nj,
            ig,
            Positional {
                grtyp: b'L',
                ig: l_ig,
                x: f64s(&ylon).into(),
                y: f64s(&ylat).into(),
            },
        ),
    });

    // U: GEM's Yin-Yang geometry (nj rows, ni = 3(nj-1)+1, overlap of 2 rows' spacing).
    let nj = 13u32;
    let ni = 3 * (nj - 1) + 1;
    let dlat = 90.0 / (nj - 1) as f32 * 0.9;
    let ovl = 0.5 * dlat;
    let ay: Vec<f32> = (0..nj)
        .map(|j| -45.0 - ovl + (90.0 + 2.0 * ovl) * j as f32 / (nj - 1) as f32)
        .collect();
    let ax: Vec<f32> = (0..ni)
        .map(|i| 45.0 - 3.0 * ovl + (270.0 + 6.0 * ovl) * i as f32 / (ni - 1) as f32)
        .collect();
    let (yin, yang) = ([0.0f32, 180.0, 0.0, 270.0], [0.0f32, 0.0, 90.0, 0.0]);
    let yy = YinYang {
        ax: &ax,
        ay: &ay,
        yin,
        yang,
    };
    let values = fst_core::write::yin_yang_values(&yy);
    let tags = positional_tags(
        &ReferenceGrid {
            grtyp: b'F',
            ig: [1, 0, 0, 0],
        },
        &values,
        &[],
    );
    w.write_yin_yang(tags, &yy, "YY").unwrap();
    let ig = [tags[0], tags[1], tags[2], 0];
    data_record(&mut w, "UU", b'U', ni, 2 * nj, ig);
    let record = f64s(&values);
    cases.push(Case {
        nomvar: "UU",
        descriptor: GridDescriptor::with_positional(
            b'U',
            ni,
            2 * nj,
            ig,
            Positional {
                grtyp: b'F',
                ig: [1, 0, 0, 0],
                x: record.into(),
                y: Vec::new().into(),
            },
        ),
    });

    // What librmn cannot use is refused before anything is written.
    let mut down = ax.clone();
    down.reverse();
    assert!(w
        .write_positional(&PositionalRecords {
            tags: [1, 2, 3],
            reference: ReferenceGrid {
                grtyp: b'E',
                ig: e_ig,
            },
            axes: PositionalAxes::Z { x: &down, y: &ay },
            etiket: "",
        })
        .is_err());
    assert!(w
        .write_positional(&PositionalRecords {
            tags: [1, 2, 3],
            reference: ReferenceGrid {
                grtyp: b'Z',
                ig: e_ig,
            },
            axes: PositionalAxes::Z { x: &ax, y: &ay },
            etiket: "",
        })
        .is_err());
    assert!(!w.positional_tags_in_use([1, 2, 3]));
    w.close().unwrap();
    cases
}

/// Our lat/lon of every data record of `path`, by nomvar.
fn read_back(path: &Path, opts: GridOptions) -> Vec<(String, Grid)> {
    let file = FstFile::open(path).unwrap();
    file.records()
        .iter()
        .filter(|r| {
            matches!(r.grtyp, b'Z' | b'Y' | b'U') && !r.nomvar.trimmed().starts_with(['>', '^'])
        })
        .map(|r| {
            let d = grids::fst::descriptor_from_record(&file, r).unwrap();
            (r.nomvar.trimmed().to_owned(), Grid::new(&d, opts).unwrap())
        })
        .collect()
}

#[test]
fn grids_reads_the_positional_records_fst_core_writes() {
    let dir = out_dir("ours");
    for c in [Container::Xdf, Container::Rsf] {
        let path = dir.join(format!("{c:?}.fst"));
        let cases = write_grids(&path, c);
        let read = read_back(&path, GridOptions::default());
        assert_eq!(read.len(), cases.len());
        for (case, (nomvar, grid)) in cases.iter().zip(&read) {
            assert_eq!(case.nomvar, nomvar);
            let want = Grid::new(&case.descriptor, GridOptions::default()).unwrap();
            let (a, b) = (grid.lat_lon(), want.lat_lon());
            assert_eq!((a.ni, a.nj), (b.ni, b.nj), "{nomvar}");
            assert_eq!(a.lat, b.lat, "{nomvar} ({c:?}): latitudes");
            assert_eq!(a.lon, b.lon, "{nomvar} ({c:?}): longitudes");
        }
        // The Y grid's points are the values written.
        let (_, y) = read.iter().find(|(n, _)| n == "YL").unwrap();
        let ll = y.lat_lon();
        let pos = cases[2].descriptor.positional.as_ref().unwrap();
        assert_eq!(&ll.lat[..], &pos.y[..]);
        assert_eq!(&ll.lon[..], &pos.x[..]);
    }
}

#[test]
fn librmn_reads_the_positional_records_fst_core_writes() {
    let Some(py) = std::env::var_os("FSTGIS_ORACLE_PY") else {
        println!("skipped: FSTGIS_ORACLE_PY not set (scripts/oracle-write.sh runs this test with librmn 19.5)");
        return;
    };
    let dir = out_dir("librmn");
    let path = dir.join("grids.fst");
    write_grids(&path, Container::Xdf);
    let out = dir.join("gdll");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/positional_oracle.py");
    let status = Command::new(py)
        .arg(&script)
        .arg(&path)
        .arg(&out)
        .status()
        .unwrap();
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        status.success() && man["ok"] == true,
        "librmn: {}",
        man["error"]
    );
    let ours = read_back(
        &path,
        GridOptions {
            librmn_compat: true,
        },
    );
    let recs = man["records"].as_array().unwrap();
    assert_eq!(recs.len(), ours.len(), "librmn defines every grid");
    let load = |name: &serde_json::Value| -> Vec<f64> {
        std::fs::read(out.join(name.as_str().unwrap()))
            .unwrap()
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    for (rec, (nomvar, grid)) in recs.iter().zip(&ours) {
        assert_eq!(rec["nomvar"], nomvar.as_str());
        let ll = grid.lat_lon();
        let (lat, lon) = (load(&rec["lat"]), load(&rec["lon"]));
        assert_eq!(lat.len(), ll.lat.len(), "{nomvar}: points");
        let mut worst = 0.0f64;
        for k in 0..lat.len() {
            let e = err_deg(ll.lat[k], ll.lon[k], lat[k], lon[k]);
            worst = worst.max(e);
            assert!(
                e <= 1e-4,
                "{nomvar} point {k}: ours ({}, {}), librmn ({}, {})",
                ll.lat[k],
                ll.lon[k],
                lat[k],
                lon[k]
            );
        }
        println!(
            "{nomvar}: {} points equal to librmn's gdll within {worst:.1e} degrees",
            lat.len()
        );
    }
}
