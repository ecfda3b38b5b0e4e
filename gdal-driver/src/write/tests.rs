#![allow(clippy::float_cmp)] // exact values are the point of these tests

use fst_core::codec::Samples;
use fst_core::FstFile;

use super::band::missing_mask;
use super::*;

pub(super) fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gdal-fst-write-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub(super) fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

/// A north-up EPSG:4326 raster of `ni` × `nj` 1° pixels from (−10°, 50°).
fn lat_lon_source(ni: usize, nj: usize) -> SourceInfo {
    SourceInfo {
        xsize: ni,
        ysize: nj,
        geotransform: Some([-10.0, 1.0, 0.0, 50.0, 0.0, -1.0]),
        crs: Some("EPSG:4326".into()),
        ..SourceInfo::default()
    }
}

#[test]
fn geotiff_like_bands_become_records_on_an_l_grid_south_first() {
    let dir = tmp("l");
    let path = dir.join("out.fst");
    let (ni, nj) = (4usize, 3usize);
    let src = lat_lon_source(ni, nj);
    let opts = CreateOptions::parse([("DATYP", "5"), ("CONTAINER", "XDF")]).unwrap();
    let mut c = Creator::begin(&path, src, opts).unwrap();
    assert_eq!(c.grid().unwrap().descriptor.grtyp, b'L');
    let values: Vec<f64> = (0..ni * nj).map(|v| v as f64 + 0.5).collect();
    for number in 1..=2 {
        c.write_band(BandInput {
            number,
            gdal_type: 6,
            metadata: &[],
            nodata: Some(2.5),
            values: BandValues::F64(&values),
        })
        .unwrap();
    }
    assert!(!path.exists(), "the file appears only when finished");
    c.finish().unwrap();
    let f = FstFile::open(&path).unwrap();
    let recs = f.records();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].nomvar.trimmed(), "XX");
    assert_eq!(recs[0].datyp.0, 5 + 64);
    assert_eq!(
        (recs[0].ip3, recs[1].ip3),
        (0, 2),
        "equal keys kept apart by ip3"
    );
    let d = f.decode(&recs[0]).unwrap();
    let Samples::F32(v) = d.samples else {
        panic!("f32 expected")
    };
    // Row 0 of the record is the source's last line.
    assert_eq!(v[0], 8.5);
    assert_eq!(v[ni * (nj - 1)], 0.5);
    let m = d.missing.unwrap();
    assert!(m[ni * (nj - 1) + 2] && m.iter().filter(|&&x| x).count() == 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn float32_bands_give_the_bytes_of_the_same_bands_in_float64() {
    // The shim hands float32 sources over as float32: for every packing (those that take
    // float32, the integer ones and 5/64), with nodata and NaN, the file is the same.
    let dir = tmp("f32");
    let (ni, nj) = (7usize, 5usize);
    let values32: Vec<f32> = (0..ni * nj)
        .map(|k| match k {
            3 => f32::NAN,
            8 => -999.0,
            _ => (k as f32 * 1.37).sin() * 300.0 + 250.0,
        })
        .collect();
    let values64: Vec<f64> = values32.iter().map(|&v| f64::from(v)).collect();
    for (datyp, nbits) in [
        ("1", "16"),
        ("5", "32"),
        ("5", "64"),
        ("2", "16"),
        ("4", "32"),
        ("134", "16"),
    ] {
        let mut files = Vec::new();
        for (name, values) in [
            ("f64", BandValues::F64(&values64)),
            ("f32", BandValues::F32(&values32)),
        ] {
            let path = dir.join(format!("{datyp}-{name}.fst"));
            let src = lat_lon_source(ni, nj);
            let opts =
                CreateOptions::parse([("DATYP", datyp), ("NBITS", nbits), ("CONTAINER", "RSF")])
                    .unwrap();
            let mut c = Creator::begin(&path, src, opts).unwrap();
            c.write_band(BandInput {
                number: 1,
                gdal_type: 6,
                metadata: &[],
                nodata: Some(-999.0),
                values,
            })
            .unwrap();
            c.finish().unwrap();
            files.push(std::fs::read(&path).unwrap());
        }
        assert!(
            files[0] == files[1],
            "datyp {datyp}/{nbits}: the files differ"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn fst_metadata_and_grib_metadata_give_the_keys() {
    let dir = tmp("keys");
    let path = dir.join("k.fst");
    let src = SourceInfo {
        xsize: 2,
        ysize: 2,
        ..SourceInfo::default()
    };
    let mut c = Creator::begin(&path, src, CreateOptions::default()).unwrap();
    let fst_md = [
        kv("FST_NOMVAR", "TT"),
        kv("FST_TYPVAR", "P"),
        kv("FST_ETIKET", "R1"),
        kv("FST_IP1", "41394464"),
        kv("FST_IP2", "6"),
        kv("FST_IP3", "0"),
        kv("FST_DATEO_STAMP", "488663200"),
        kv("FST_DATEV_STAMP", "488670000"),
        kv("FST_DEET", "900"),
        kv("FST_NPAS", "24"),
        kv("FST_DATYP", "1"),
        kv("FST_NBITS", "12"),
    ];
    let grib_md = [
        kv("GRIB_ELEMENT", "TMP"),
        kv("GRIB_SHORT_NAME", "85000-ISBL"),
        kv("GRIB_REF_TIME", "  1577836800 sec UTC"),
        kv("GRIB_VALID_TIME", "  1577858400 sec UTC"),
    ];
    for (number, md) in [(1, &fst_md[..]), (2, &grib_md[..])] {
        c.write_band(BandInput {
            number,
            gdal_type: 6,
            metadata: md,
            nodata: None,
            values: BandValues::F64(&[1.0, 2.0, 3.0, 4.0]),
        })
        .unwrap();
    }
    c.finish().unwrap();
    let f = FstFile::open(&path).unwrap();
    let r = &f.records()[0];
    assert_eq!(
        (r.nomvar.trimmed(), r.typvar.trimmed(), r.etiket.trimmed()),
        ("TT", "P", "R1")
    );
    assert_eq!(
        (r.ip1, r.ip2, r.deet, r.npas, r.datev),
        (41_394_464, 6, 900, 24, 488_670_000)
    );
    assert_eq!((r.datyp.0, r.nbits, r.grtyp), (1, 12, b'X'));
    let g = &f.records()[1];
    assert_eq!(g.nomvar.trimmed(), "TMP");
    assert_eq!((g.ip2, g.deet, g.npas), (6, 3600, 6));
    let l = fst_core::ip::decode_ip(g.ip1).unwrap().level();
    assert_eq!(l.value, 850.0);
    assert_eq!(
        DateStamp(g.datev).to_iso8601().as_deref(),
        Some("2020-01-01T06:00:00Z")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_band_leaves_no_file() {
    let dir = tmp("fail");
    let path = dir.join("f.fst");
    let src = SourceInfo {
        xsize: 2,
        ysize: 1,
        ..SourceInfo::default()
    };
    let mut c = Creator::begin(&path, src, CreateOptions::default()).unwrap();
    let e = c
        .write_band(BandInput {
            number: 3,
            gdal_type: 6,
            metadata: &[kv("FST_NOMVAR", "TOOLONG")],
            nodata: None,
            values: BandValues::F64(&[1.0, 2.0]),
        })
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("band 3") && e.contains("f.fst") && e.contains("FST_NOMVAR"),
        "{e}"
    );
    c.abandon();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_mask_marks_nan_and_nodata_in_record_order() {
    // 3 x 2, rows [1, NaN, -9] and [-9, 5, 6]; flipped, the second row comes first.
    let values = [1.0, f64::NAN, -9.0, -9.0, 5.0, 6.0];
    let mut m = vec![true; 11]; // a kept buffer of another length
    assert_eq!(
        missing_mask(&values, 3, 2, false, Some(-9.0), &mut m, None),
        Some(true)
    );
    assert_eq!(m, [false, true, true, true, false, false]);
    assert_eq!(
        missing_mask(&values, 3, 2, true, Some(-9.0), &mut m, None),
        Some(true)
    );
    assert_eq!(m, [true, false, false, false, true, true]);
    assert_eq!(
        missing_mask(&values, 3, 2, true, None, &mut m, None),
        Some(true)
    );
    assert_eq!(m, [false, false, false, false, true, false]);
    assert_eq!(
        missing_mask(&values[3..], 3, 1, false, None, &mut m, None),
        Some(false)
    );
    assert_eq!(m, [false, false, false]);
    assert_eq!(missing_mask(&values, 3, 3, false, None, &mut m, None), None);
    // With the f32 values: in record order, 0 where missing.
    let mut v = vec![7f32; 2];
    assert_eq!(
        missing_mask(&values, 3, 2, true, Some(-9.0), &mut m, Some(&mut v)),
        Some(true)
    );
    assert_eq!(m, [true, false, false, false, true, true]);
    assert_eq!(v, [0.0, 5.0, 6.0, 1.0, 0.0, 0.0]);
}

#[test]
fn a_rewrapped_b_grid_is_written_back_with_its_repeated_column() {
    // The reader's view of a B grid of 5 × 3 points (0°, 90°, …, 360°; −90°, 0°, 90°): four
    // columns from 180°E (rolled by 2, the 360° column left out), north up.
    let dir = tmp("b");
    let path = dir.join("out.fst");
    let src = SourceInfo {
        xsize: 4,
        ysize: 3,
        geotransform: Some([-225.0, 90.0, 0.0, 135.0, 0.0, -90.0]),
        crs: Some("EPSG:4326".into()),
        metadata: vec![
            kv("FST_COLUMNS_ROLLED", "2"),
            kv("FST_REPEATED_COLUMN_DROPPED", "YES"),
        ],
        ..SourceInfo::default()
    };
    let opts = CreateOptions::parse([("DATYP", "5"), ("NBITS", "64")]).unwrap();
    let mut c = Creator::begin(&path, src, opts).unwrap();
    assert_eq!(c.grid().unwrap().descriptor.grtyp, b'B');
    // Line l, band column c holds 10·(2 − l) + record column (c + 2) mod 4.
    let values: Vec<f64> = (0..3)
        .flat_map(|l| (0..4).map(move |c| f64::from(10 * (2 - l) + (c + 2) % 4)))
        .collect();
    c.write_band(BandInput {
        number: 1,
        gdal_type: 7,
        metadata: &[],
        nodata: None,
        values: BandValues::F64(&values),
    })
    .unwrap();
    c.finish().unwrap();
    let f = FstFile::open(&path).unwrap();
    let rec = &f.records()[0];
    assert_eq!((rec.ni, rec.nj, char::from(rec.grtyp)), (5, 3, 'B'));
    let Samples::F64(v) = f.decode(rec).unwrap().samples else {
        panic!("f64 expected")
    };
    let south_first = rec.ig2 == 0;
    for j in 0..3u32 {
        let row = if south_first { j } else { 2 - j };
        let want: Vec<f64> = [0, 1, 2, 3, 0]
            .iter()
            .map(|&i| f64::from(10 * row + i))
            .collect();
        assert_eq!(v[j as usize * 5..j as usize * 5 + 5], want[..], "row {j}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
