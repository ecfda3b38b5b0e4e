use super::super::tests::{kv, tmp};
use super::*;
use crate::write::{BandValues, CreateOptions, SourceInfo};

/// A smooth field with noise, different per band, so that every codec has work to do.
fn band_values(ni: usize, nj: usize, band: usize) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ band as u64;
    (0..ni * nj)
        .map(|p| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let (i, j) = ((p % ni) as f64, (p / ni) as f64);
            250.0
                + 20.0 * (i / 7.0 + band as f64).sin() * (j / 5.0).cos()
                + (state >> 40) as f64 / 2f64.powi(24)
        })
        .collect()
}

fn source(ni: usize, nj: usize) -> SourceInfo {
    SourceInfo {
        xsize: ni,
        ysize: nj,
        geotransform: Some([-10.0, 0.5, 0.0, 50.0, 0.0, -0.5]),
        crs: Some("EPSG:4326".into()),
        ..SourceInfo::default()
    }
}

/// A band's values, metadata and nodata.
type Band = (Vec<f64>, Vec<(String, String)>, Option<f64>);

/// The bands of one copy: values, metadata and nodata vary from band to band.
fn bands(ni: usize, nj: usize) -> Vec<Band> {
    (1..=5)
        .map(|b| {
            let mut v = band_values(ni, nj, b);
            let nodata = (b == 3).then(|| {
                v[7] = -999.0;
                -999.0
            });
            let md = vec![
                kv("FST_NOMVAR", &format!("V{b}")),
                kv("FST_IP2", &b.to_string()),
            ];
            (v, md, nodata)
        })
        .collect()
}

/// The bands as the shim hands them over.
fn inputs(bands: &[Band]) -> impl Iterator<Item = BandInput<'_>> {
    bands
        .iter()
        .enumerate()
        .map(|(number, (values, metadata, nodata))| BandInput {
            number: number + 1,
            gdal_type: 7,
            metadata,
            nodata: *nodata,
            values: BandValues::F64(values),
        })
}

#[test]
fn the_pipeline_writes_the_file_creator_writes() {
    let dir = tmp("pipeline-same");
    let (ni, nj) = (37, 29);
    let bands = bands(ni, nj);
    for (datyp, nbits) in [
        ("134", "16"),
        ("1", "16"),
        ("5", "32"),
        ("133", "16"),
        ("2", "16"),
    ] {
        let options = |threads: &str| {
            CreateOptions::parse([
                ("DATYP", datyp),
                ("NBITS", nbits),
                ("CONTAINER", "XDF"),
                ("NUM_THREADS", threads),
            ])
            .unwrap()
        };
        let direct = dir.join(format!("direct-{datyp}.fst"));
        let mut c = Creator::begin(&direct, source(ni, nj), options("1")).unwrap();
        for input in inputs(&bands) {
            c.write_band(input).unwrap();
        }
        c.finish().unwrap();
        let expected = std::fs::read(&direct).unwrap();
        // One encoder, two, and more encoders than bands in flight ever need.
        for threads in ["1", "2", "3", "ALL_CPUS"] {
            let piped = dir.join(format!("piped-{datyp}-{threads}.fst"));
            let creator = Creator::begin(&piped, source(ni, nj), options(threads)).unwrap();
            let mut p = Pipeline::start(creator).unwrap();
            for input in inputs(&bands) {
                p.write_band(input).unwrap();
            }
            p.finish().unwrap();
            let got = std::fs::read(&piped).unwrap();
            assert!(
                got == expected,
                "datyp {datyp}, NUM_THREADS={threads}: the files differ"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Bands in flight are bounded: a copy of many bands through two encoders holds at most three
/// buffers, however fast the caller hands bands over.
#[test]
fn bands_in_flight_stay_bounded() {
    let dir = tmp("pipeline-bound");
    let path = dir.join("b.fst");
    let (ni, nj) = (64, 48);
    let options =
        CreateOptions::parse([("NUM_THREADS", "2"), ("DATYP", "133"), ("NBITS", "32")]).unwrap();
    let mut p = Pipeline::start(Creator::begin(&path, source(ni, nj), options).unwrap()).unwrap();
    for b in 1..=40 {
        let values = band_values(ni, nj, b);
        let md = vec![kv("FST_NOMVAR", "TT"), kv("FST_IP2", &b.to_string())];
        p.write_band(BandInput {
            number: b,
            gdal_type: 7,
            metadata: &md,
            nodata: None,
            values: BandValues::F64(&values),
        })
        .unwrap();
        assert!(p.in_flight <= 3, "{} bands in flight", p.in_flight);
        assert!(
            p.spare.len() + p.in_flight <= 3,
            "{} buffers",
            p.spare.len() + p.in_flight
        );
    }
    p.finish().unwrap();
    let f = fst_core::FstFile::open(&path).unwrap();
    let ip2: Vec<u32> = f.records().iter().map(|r| r.ip2).collect();
    assert_eq!(ip2, (1..=40).collect::<Vec<u32>>(), "records in band order");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_band_error_reaches_the_caller_and_leaves_no_file() {
    let dir = tmp("pipeline-fail");
    let path = dir.join("f.fst");
    let (ni, nj) = (4, 3);
    let values = band_values(ni, nj, 1);
    let band = |number, name: &str| (number, vec![kv("FST_NOMVAR", name)]);
    let mut p =
        Pipeline::start(Creator::begin(&path, source(ni, nj), CreateOptions::default()).unwrap())
            .unwrap();
    let mut first_error = None;
    // Band 2 fails in the worker; the error comes back at a later call, naming band 2.
    for (number, md) in [
        band(1, "OK"),
        band(2, "TOOLONG"),
        band(3, "OK2"),
        band(4, "OK3"),
    ] {
        let r = p.write_band(BandInput {
            number,
            gdal_type: 7,
            metadata: &md,
            nodata: None,
            values: BandValues::F64(&values),
        });
        if let Err(e) = r {
            first_error = Some(e.to_string());
            break;
        }
    }
    let e = match first_error {
        Some(e) => {
            p.abandon();
            e
        }
        None => p.finish().unwrap_err().to_string(),
    };
    assert!(e.contains("band 2") && e.contains("FST_NOMVAR"), "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_error_of_the_last_band_comes_from_finish() {
    let dir = tmp("pipeline-last");
    let path = dir.join("l.fst");
    let mut p =
        Pipeline::start(Creator::begin(&path, source(2, 2), CreateOptions::default()).unwrap())
            .unwrap();
    // Three values for a 2 x 2 raster: the worker's error, after the hand-over succeeded.
    p.write_band(BandInput {
        number: 1,
        gdal_type: 7,
        metadata: &[],
        nodata: None,
        values: BandValues::F64(&[1.0, 2.0, 3.0]),
    })
    .unwrap();
    let e = p.finish().unwrap_err().to_string();
    assert!(e.contains("band 1") && e.contains("3 values"), "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}
